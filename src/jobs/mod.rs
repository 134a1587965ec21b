//! Background work, run every `LINLI_JOB_INTERVAL_SECS` while the server runs. Every job is safe
//! to run on several replicas at once.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};

use crate::error::AppResult;
use crate::state::AppState;
use entity::{idempotency_key, refresh_token};

/// How long spent, revoked or expired refresh tokens are kept (reuse detection needs spent ones
/// for as long as the family could still be presented).
const SPENT_TOKENS_KEPT_DAYS: i64 = 1;

/// What one round removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Housekeeping {
    pub idempotency_keys: u64,
    pub refresh_tokens: u64,
}

/// Deletes expired idempotency records and refresh tokens that can no longer be used.
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
    })
}

/// Runs the jobs every `interval` until the task is dropped. A failed round is logged and
/// retried at the next tick.
pub async fn run(state: AppState, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let started = Utc::now();
        match housekeeping(&state).await {
            Ok(done) if done != Housekeeping::default() => {
                tracing::info!(
                    idempotency_keys = done.idempotency_keys,
                    refresh_tokens = done.refresh_tokens,
                    took_ms = (Utc::now() - started).num_milliseconds(),
                    "housekeeping removed expired records"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "housekeeping failed; retrying at the next tick"),
        }
    }
}
