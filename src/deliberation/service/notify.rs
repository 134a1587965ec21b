//! Who hears of a comment once it is published (at once, or when a moderator approves it): the
//! author of the comment it answers, or the author of the proposal it is about. Never the one
//! who wrote it. Comments on notices tell nobody (a notice's author is staff, who read the
//! moderation queue and the counts).

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};
use uuid::Uuid;

use super::subject::Subject;
use crate::deliberation::model::SubjectKind;
use crate::platform::error::AppResult;
use crate::platform::inbox;
use crate::platform::notifications::{self, About, Event, Payload};
use entity::comment;

/// The characters of a comment's beginning a notification quotes.
const QUOTE_CHARS: usize = 20;

/// Queues the notification of `c`, just published on `s`, in the caller's transaction.
pub async fn published<C: ConnectionTrait>(
    txn: &C,
    s: &Subject,
    c: &comment::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if s.kind != SubjectKind::Proposal {
        return Ok(());
    }
    let (to, status) = match c.parent_id {
        Some(parent) => {
            let author: Option<Uuid> = comment::Entity::find_by_id(parent)
                .select_only()
                .column(comment::Column::AuthorUserId)
                .into_tuple()
                .one(txn)
                .await?;
            (author, "新回复")
        }
        None => (s.author_user_id, "新评论"),
    };
    let Some(to) = to.filter(|u| *u != c.author_user_id) else {
        return Ok(());
    };
    let quote: String = c.body.trim().chars().take(QUOTE_CHARS).collect();
    let payload = Payload {
        title: s.title.clone(),
        status: status.to_string(),
        note: Some(format!("{}：{quote}", c.author_display)),
        at: now,
    };
    let about = About {
        subject: inbox::Subject::Proposal(s.id),
        street_id: s.street_id,
        community_id: s.community_id,
    };
    notifications::enqueue_about(txn, Event::ProposalCommented, about, &[to], &payload, now).await
}
