//! The moderation queue: comments waiting for a decision (held by the content check, reported,
//! or hidden by reports) where the caller moderates, privacy reports first, then oldest first.

use sea_orm::QuerySelect;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::{respond, CommentResponse};
use crate::access::Actor;
use crate::deliberation::policy;
use crate::platform::error::AppResult;
use crate::platform::paging::{cut_page, Page, PageParams};
use entity::comment;

/// A page of the queue of `actor` (of one community when `community_id` is given). Empty for
/// whoever moderates nowhere.
pub async fn queue<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    community_id: Option<Uuid>,
    p: PageParams,
) -> AppResult<Page<CommentResponse>> {
    let scope = policy::moderation(db, actor).await?;
    if scope.is_empty() {
        return Ok(Page {
            items: Vec::new(),
            next_cursor: None,
        });
    }
    let mut q = comment::Entity::find()
        .filter(comment::Column::QueueRank.is_not_null())
        .filter(policy::covered(&scope));
    if let Some(c) = community_id {
        q = q.filter(comment::Column::CommunityId.eq(c));
    }
    if let Some(after) = p.after {
        // The queue's order is (rank, id): continue after the last row's place in it.
        let rank: Option<Option<i16>> = comment::Entity::find_by_id(after)
            .select_only()
            .column(comment::Column::QueueRank)
            .into_tuple()
            .one(db)
            .await?;
        let rank = rank
            .flatten()
            .unwrap_or(crate::deliberation::model::RANK_OTHER);
        q = q.filter(
            Condition::any()
                .add(comment::Column::QueueRank.gt(rank))
                .add(
                    Condition::all()
                        .add(comment::Column::QueueRank.eq(rank))
                        .add(comment::Column::Id.gt(after)),
                ),
        );
    }
    let rows = q
        .order_by_asc(comment::Column::QueueRank)
        .order_by_asc(comment::Column::Id)
        .limit(p.limit + 1)
        .all(db)
        .await?;
    let (rows, next_cursor) = cut_page(rows, p.limit, |c| c.id);
    Ok(Page {
        items: rows
            .into_iter()
            .map(|c| respond(c, actor.id, true, None))
            .collect(),
        next_cursor,
    })
}
