//! Reading a poll's own rows, shared by the engine, the tally and the read models.

use chrono::{DateTime, DurationRound, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::platform::error::{AppError, AppResult, FieldError, ProblemCode};
use crate::platform::lang::Text;
use crate::polls::model::{self, Eligibility, RollStatus, Status};
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

/// A time as polls keep it: to the minute.
pub fn to_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(chrono::Duration::minutes(1)).unwrap_or(t)
}
pub(crate) fn wrong_status(s: Status, doing: &str) -> AppError {
    AppError::conflict(
        ProblemCode::WrongStatus,
        crate::text!(
            "投票当前为「{}」，不能{}",
            "the poll is {:?}; it cannot be {}",
            model::status_label(s),
            doing
        ),
    )
}

pub(crate) fn not_open() -> AppError {
    AppError::conflict(
        ProblemCode::PollNotOpen,
        Text::new(
            "投票尚未开始、已经结束或已取消",
            "the poll is not open: not yet started, closed or cancelled",
        ),
    )
}

pub(crate) fn invalid(errors: Vec<FieldError>) -> AppResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

pub(crate) fn before_open(p: &poll::Model, doing: &str) -> AppResult<()> {
    if matches!(p.status, Status::Draft | Status::Scheduled) {
        Ok(())
    } else {
        Err(wrong_status(p.status, doing))
    }
}

pub(crate) async fn bump_version<C: ConnectionTrait>(conn: &C, poll_id: Uuid) -> AppResult<()> {
    poll::Entity::update_many()
        .col_expr(
            poll::Column::Version,
            Expr::col(poll::Column::Version).add(1),
        )
        .filter(poll::Column::Id.eq(poll_id))
        .exec(conn)
        .await?;
    Ok(())
}
