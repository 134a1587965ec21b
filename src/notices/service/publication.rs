//! Going public: the one move that writes a notice's recipients, counts its households and
//! queues its messages, exactly once whoever (verb or job) gets there first.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::audience::{self, Audience};
use super::{reload, tags_of};
use crate::notices::model::{self, Status};
use crate::platform::error::AppResult;
use crate::platform::notifications::{self, Event};
use entity::{notice, notice_recipient as recipient};

/// Makes the notice `id` public, exactly once: moves it from `from` to `published` (when `from`
/// is `published`, the caller already moved it in this transaction), writes its recipients in
/// one statement, counts its households and queues one subscribe message per recipient.
/// Returns false when another transaction got there first.
pub(crate) async fn go_public<C: ConnectionTrait>(
    txn: &C,
    id: Uuid,
    from: Status,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let sort_key = Uuid::now_v7();
    let claimed = notice::Entity::update_many()
        .col_expr(notice::Column::Status, Expr::value(Status::Published))
        .col_expr(notice::Column::PublishedAt, Expr::value(Some(now)))
        .col_expr(notice::Column::SortKey, Expr::value(Some(sort_key)))
        .col_expr(notice::Column::UpdatedAt, Expr::value(now))
        .filter(notice::Column::Id.eq(id))
        .filter(notice::Column::Status.eq(from))
        .filter(notice::Column::SortKey.is_null())
        .exec(txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(false);
    }
    let n = reload(txn, id).await?;
    let a = Audience::of(&n, tags_of(&n)?);
    let recipients = audience::write_recipients(txn, id, sort_key, &a, now).await?;
    let households: i64 = audience::households_per_building(txn, &a)
        .await?
        .iter()
        .map(|b| b.households)
        .sum();
    notice::Entity::update_many()
        .col_expr(
            notice::Column::RecipientsCount,
            Expr::value(i32::try_from(recipients).unwrap_or(i32::MAX)),
        )
        .col_expr(
            notice::Column::HouseholdsTotal,
            Expr::value(i32::try_from(households).unwrap_or(i32::MAX)),
        )
        .filter(notice::Column::Id.eq(id))
        .exec(txn)
        .await?;
    let users: Vec<Uuid> = recipient::Entity::find()
        .select_only()
        .column(recipient::Column::UserId)
        .filter(recipient::Column::NoticeId.eq(id))
        .order_by_asc(recipient::Column::UserId)
        .into_tuple()
        .all(txn)
        .await?;
    let payload = notifications::Payload {
        title: n.title.clone(),
        status: model::category_label(n.category).to_string(),
        note: n.published_by_name.clone(),
        at: now,
    };
    let about = notifications::About {
        subject: crate::platform::inbox::Subject::Notice(id),
        street_id: n.street_id,
        community_id: n.community_id,
    };
    notifications::enqueue_outbox(txn, Event::NoticePublished, about, &users, &payload, now)
        .await?;
    Ok(true)
}
