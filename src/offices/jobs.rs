//! The expiry of term-bound roles: exactly once across replicas.
//!
//! An expired grant already authorizes nothing (`Actor::as_of` drops it at use); this job
//! removes the row and records the end on its term. Several replicas may run it at once: each
//! grant is deleted in its own transaction with `valid_until <= now` as the condition, and
//! only the runner whose DELETE removed the row goes on to end the term (itself a conditional
//! update on `ended_on IS NULL`) and write the audit event. The holder's authorization epoch
//! changes around the transaction, so no replica keeps the removed role in memory either.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::access::epoch;
use crate::identity::service::users as roles;
use crate::offices::service;
use crate::platform::cache::SharedCache;
use crate::platform::error::AppResult;

/// How many grants one round looks at; the rest wait for the next round.
const JOB_BATCH: u64 = 200;

/// What one round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Expiry {
    /// Expired grants this runner removed.
    pub grants_removed: u64,
    /// Terms this runner ended because their grant expired.
    pub terms_ended: u64,
}

/// Removes the grants expired at `now` and ends their terms.
pub async fn expire_due(
    db: &DatabaseConnection,
    cache: &SharedCache,
    now: DateTime<Utc>,
) -> AppResult<Expiry> {
    let mut out = Expiry::default();
    for g in roles::expired_grants(db, now, JOB_BATCH).await? {
        let ended = epoch::changing(cache, &[g.user_id], async {
            let txn = db.begin().await?;
            if !roles::delete_expired_grant(&txn, g.id, now).await? {
                // Another runner removed it (and recorded the end).
                txn.rollback().await?;
                return Ok(None);
            }
            let mut ended = false;
            if let Some(term_id) = g.source_term_id {
                if let Some(t) = service::record_expiry(&txn, term_id, g.valid_until, now).await? {
                    service::audit_expiry(&txn, &t, g.id, now).await?;
                    ended = true;
                }
            }
            txn.commit().await?;
            Ok(Some(ended))
        })
        .await?;
        if let Some(ended) = ended {
            out.grants_removed += 1;
            if ended {
                out.terms_ended += 1;
                tracing::info!(assignment = %g.id, user_id = %g.user_id, "term-bound role expired; term ended");
            }
        }
    }
    Ok(out)
}
