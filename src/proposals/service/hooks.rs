//! Where the money of a proposal (funds, pledges) joins its steps. The proposals service calls
//! these inside the transaction of the move; the pledges and funds services fill the bodies.
//! Until they do, they do nothing: a proposal without money has nothing to release, refund or
//! lapse.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::error::AppResult;

/// What becomes of money contributed and not spent when a proposal closes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[schema(as = ProposalLeftover)]
pub enum Leftover {
    /// Kept in the account (recorded in the memo).
    Keep,
    /// Refunded to the contributors (`refund` entries).
    Refund,
}

/// Inside the close verb's transaction, before the step moves: release unused allocations
/// (release entries) and, for Refund, refund leftover contributions. Errors abort the close.
pub async fn on_closing_in<C: ConnectionTrait>(
    _conn: &C,
    _proposal_id: Uuid,
    _leftover: Leftover,
    _actor: &Actor,
    _now: DateTime<Utc>,
) -> AppResult<()> {
    Ok(())
}

/// Inside the transaction of EVERY move to a terminal step (closed, cancelled, failed,
/// withdrawn, rejected, referred, merged) — exactly once because the move is conditional:
/// lapse unfulfilled pledges.
pub async fn on_ended_in<C: ConnectionTrait>(
    _conn: &C,
    _proposal_id: Uuid,
    _now: DateTime<Utc>,
) -> AppResult<()> {
    Ok(())
}
