//! Background work, run every `LINLI_JOB_INTERVAL_SECS` while the server runs. Every job is safe
//! to run on several replicas at once.

pub mod outbox;

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};

use crate::platform::error::AppResult;
use crate::platform::state::AppState;
use entity::{idempotency_key, refresh_token};

/// How long spent, revoked or expired refresh tokens are kept (reuse detection needs spent ones
/// for as long as the family could still be presented).
const SPENT_TOKENS_KEPT_DAYS: i64 = 1;

/// What one round removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Housekeeping {
    pub idempotency_keys: u64,
    pub refresh_tokens: u64,
    /// Failed sign-ins older than the failure window.
    pub login_failures: u64,
    /// Message-centre messages read longer ago than `LINLI_INBOX_RETENTION_DAYS`.
    pub inbox_messages: u64,
}

/// Deletes expired idempotency records, refresh tokens that can no longer be used, failed
/// sign-ins that no longer count, and read messages past their retention.
pub async fn housekeeping(state: &AppState) -> AppResult<Housekeeping> {
    let now = state.clock.now();
    let keys = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::ExpiresAt.lt(now))
        .exec(&state.db)
        .await?
        .rows_affected;
    let cutoff = now - chrono::Duration::days(SPENT_TOKENS_KEPT_DAYS);
    // A token past its expiry is useless; a spent or revoked one only matters for reuse detection
    // within its family, whose live members expire on their own.
    let tokens = refresh_token::Entity::delete_many()
        .filter(
            Condition::any()
                .add(refresh_token::Column::ExpiresAt.lt(cutoff))
                .add(
                    Condition::all()
                        .add(refresh_token::Column::RevokedAt.lt(cutoff))
                        .add(refresh_token::Column::RevokedAt.is_not_null()),
                ),
        )
        .exec(&state.db)
        .await?
        .rows_affected;
    Ok(Housekeeping {
        idempotency_keys: keys,
        refresh_tokens: tokens,
        login_failures: crate::access::durable::forget_old_failures(state).await?,
        inbox_messages: crate::platform::inbox::purge_read(
            &state.db,
            now - state.settings.inbox_retention,
        )
        .await?,
    })
}

/// What one round of the ticket jobs did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TicketRound {
    pub escalated: u64,
    pub auto_closed: u64,
}

/// Escalates overdue tickets one level and closes resolved ones nobody confirmed in time.
pub async fn tickets(state: &AppState) -> AppResult<TicketRound> {
    let now = state.clock.now();
    Ok(TicketRound {
        escalated: crate::tickets::service::escalation::escalate_due(&state.db, now).await?,
        auto_closed: crate::tickets::service::escalation::auto_close_due(&state.db, now).await?,
    })
}

/// Removes uploads never attached to a ticket.
pub async fn attachments(state: &AppState) -> AppResult<u64> {
    let cutoff = state.clock.now() - crate::platform::attachments::unattached_lifetime();
    crate::platform::attachments::purge_unattached(&state.db, state.storage.as_ref(), cutoff).await
}

/// One round of every job; a failing job is logged and does not stop the others.
pub async fn round(state: &AppState) {
    let started = Utc::now();
    match housekeeping(state).await {
        Ok(done) if done != Housekeeping::default() => {
            tracing::info!(
                idempotency_keys = done.idempotency_keys,
                refresh_tokens = done.refresh_tokens,
                inbox_messages = done.inbox_messages,
                took_ms = (Utc::now() - started).num_milliseconds(),
                "housekeeping removed expired records"
            );
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "housekeeping failed; retrying at the next tick"),
    }
    match tickets(state).await {
        Ok(done) if done != TicketRound::default() => tracing::info!(
            escalated = done.escalated,
            auto_closed = done.auto_closed,
            "ticket deadlines processed"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "ticket jobs failed; retrying at the next tick"),
    }
    match crate::notices::jobs::publish_due(&state.db, state.clock.now()).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(published = n, "scheduled notices published"),
        Err(e) => {
            tracing::warn!(error = %e, "publishing notices failed; retrying at the next tick")
        }
    }
    match crate::elections::jobs::count_due(&state.db, state.clock.now()).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(moved = n, "elections moved to counting"),
        Err(e) => {
            tracing::warn!(error = %e, "moving elections to counting failed; retrying at the next tick")
        }
    }
    match crate::offices::jobs::expire_due(&state.db, &state.cache, state.clock.now()).await {
        Ok(done) if done != crate::offices::jobs::Expiry::default() => tracing::info!(
            grants_removed = done.grants_removed,
            terms_ended = done.terms_ended,
            "term-bound roles expired"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "term expiry failed; retrying at the next tick"),
    }
    match crate::polls::jobs::run_due(&state.db, state.clock.now()).await {
        Ok(done) if done != crate::polls::jobs::Round::default() => tracing::info!(
            opened = done.opened,
            closed = done.closed,
            "polls opened and closed on time"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "poll jobs failed; retrying at the next tick"),
    }
    match crate::proposals::jobs::review_due(&state.db, state.clock.now()).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(reminded = n, "proposal reviews (回头看) fell due"),
        Err(e) => {
            tracing::warn!(error = %e, "proposal review reminders failed; retrying at the next tick")
        }
    }
    if let Err(e) = attachments(state).await {
        tracing::warn!(error = %e, "purging unattached uploads failed; retrying at the next tick");
    }
    // Last, so notifications queued by this round's escalations go out in it.
    if let Err(e) = outbox::deliver_due(state).await {
        tracing::warn!(error = %e, "outbox delivery failed; retrying at the next tick");
    }
}

/// Runs the jobs every `interval` until the task is dropped. A failed round is logged and
/// retried at the next tick.
pub async fn run(state: AppState, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        round(&state).await;
    }
}
