//! 决: opening the decision poll on a frozen revision, cancelling it before the first ballot,
//! and the move when it closes (in the poll-close transaction, exactly once).

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use crate::platform::error::AppResult;
use crate::polls::service::engine;
use entity::proposal;

/// Cancels the decision poll of `p` (before any ballot; 409 `guard_failed` otherwise).
pub async fn cancel_poll_in<C: ConnectionTrait>(
    conn: &C,
    p: &proposal::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if let Some(poll) = p.decision_poll_id {
        engine::cancel_in(conn, poll, reason, now).await?;
    }
    Ok(())
}
