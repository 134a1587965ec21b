//! Where the money of a proposal (funds, pledges) joins its steps. The proposals service calls
//! these inside the transaction of the move; the bodies are the funds' and pledges' services.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, TransactionTrait};
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
/// (their reservations freed, the balances untouched) and, for Refund, refund leftover
/// contributions (`refund` entries). Errors abort the close (e.g. 409 `guard_failed`,
/// `expenses`, while an expense under an allocation is unpaid).
pub async fn on_closing_in<C: ConnectionTrait + TransactionTrait>(
    conn: &C,
    proposal_id: Uuid,
    leftover: Leftover,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<()> {
    crate::funds::service::allocations::release_all_in(conn, proposal_id, actor, now).await?;
    if leftover == Leftover::Refund {
        crate::funds::service::refunds::refund_leftover_in(conn, proposal_id, actor, now).await?;
    }
    Ok(())
}

/// Inside the transaction of EVERY move to a terminal step (closed, cancelled, failed,
/// withdrawn, rejected, referred, merged) — exactly once because the move is conditional:
/// release its approved allocations (a `release` entry each, recorded by `actor`, or by the
/// system for a move the polls' job made; the close has released them already) and lapse
/// unfulfilled pledges. An expense still unpaid under an allocation stops the move (409
/// `guard_failed`, `expenses`).
pub async fn on_ended_in<C: ConnectionTrait + TransactionTrait>(
    conn: &C,
    proposal_id: Uuid,
    actor: Option<&Actor>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut system = Actor::new(Uuid::nil(), Vec::new());
    system.display_name = "系统".into();
    let actor = actor.unwrap_or(&system);
    crate::funds::service::allocations::release_all_in(conn, proposal_id, actor, now).await?;
    crate::pledges::service::lapse_in(conn, proposal_id, now).await?;
    Ok(())
}
