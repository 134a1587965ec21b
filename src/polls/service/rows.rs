//! Reading a poll's own rows, shared by the engine, the tally and the read models.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::platform::error::{AppError, AppResult};
use crate::polls::model::{Eligibility, RollStatus};
use entity::{poll, poll_roll};

/// The poll `id` (404 when there is none).
pub async fn load<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<poll::Model> {
    poll::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The eligibility stored with a poll.
pub fn eligibility_of(p: &poll::Model) -> AppResult<Eligibility> {
    serde_json::from_str(&p.eligibility).map_err(|e| {
        AppError::internal(anyhow::anyhow!(
            "poll {}: unreadable eligibility: {e}",
            p.id
        ))
    })
}

/// Roll entries of `poll_id` in any of `statuses`.
pub async fn count_status<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    statuses: &[RollStatus],
) -> AppResult<i64> {
    Ok(poll_roll::Entity::find()
        .filter(poll_roll::Column::PollId.eq(poll_id))
        .filter(poll_roll::Column::Status.is_in(statuses.iter().copied()))
        .count(conn)
        .await? as i64)
}
