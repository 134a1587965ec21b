//! What must survive a cache that restarts empty: token revocations and sign-in slow-downs.
//!
//! The database is the record (a revoked refresh family has `revoked_at`; every failed sign-in
//! is a `login_failures` row); the cache is the fast path. A sentinel key marks the cache as
//! loaded. Checking a token is one cache round trip (`MGET sentinel, jti, family`): a hit on
//! either revocation refuses it, the sentinel alone accepts it, and no sentinel means the cache
//! lost its data — the database answers, and the cache is loaded again from it. The same round
//! trip reads the account's authorization epoch (`access::epoch`), so a caller kept in memory
//! costs nothing more.

use std::net::IpAddr;
use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use crate::access::bearer::{revoked_family_key, revoked_jti_key};
use crate::access::epoch::{self, Epoch};
use crate::platform::error::AppResult;
use crate::platform::state::AppState;
use entity::{login_failure, refresh_token};

const LOADED: &str = "durable:loaded";
/// How long the sentinel lives before the cache is reloaded anyway (cheap: only what is still
/// in force is loaded).
const LOADED_TTL: Duration = Duration::from_secs(6 * 3600);

/// How long a family revocation matters: an access token of the family issued just before it
/// was revoked lives this long.
fn revocation_ttl(state: &AppState) -> Duration {
    state.settings.access_token_ttl + Duration::from_secs(60)
}

/// Whether the access token `jti` of refresh family `family` was revoked.
pub async fn is_revoked(state: &AppState, jti: Uuid, family: Uuid) -> AppResult<bool> {
    let jti_key = revoked_jti_key(jti);
    let fam_key = revoked_family_key(family);
    let got = state.cache.get_many(&[LOADED, &jti_key, &fam_key]).await?;
    decide(state, family, &got).await
}

/// Whether the access token `jti` of refresh family `family` was revoked, and the
/// authorization epoch of its account `user`, in the same cache round trip
/// (`MGET sentinel, jti, family, epoch, changing`).
pub async fn check_token(
    state: &AppState,
    jti: Uuid,
    family: Uuid,
    user: Uuid,
) -> AppResult<(bool, Epoch)> {
    let jti_key = revoked_jti_key(jti);
    let fam_key = revoked_family_key(family);
    let epoch_key = epoch::epoch_key(user);
    let changing_key = epoch::changing_key(user);
    let got = state
        .cache
        .get_many(&[LOADED, &jti_key, &fam_key, &epoch_key, &changing_key])
        .await?;
    let epoch = Epoch::from_values(
        got.get(3).and_then(Option::as_deref),
        got.get(4).and_then(Option::as_deref),
    );
    Ok((decide(state, family, &got).await?, epoch))
}

/// The revocation verdict from the values of `[sentinel, jti, family, ..]`.
async fn decide(state: &AppState, family: Uuid, got: &[Option<String>]) -> AppResult<bool> {
    let (loaded, jti_hit, fam_hit) = (
        got.first().is_some_and(Option::is_some),
        got.get(1).is_some_and(Option::is_some),
        got.get(2).is_some_and(Option::is_some),
    );
    if jti_hit || fam_hit {
        return Ok(true);
    }
    if loaded {
        return Ok(false);
    }
    // The cache lost its data (or never had it): the database decides, then reloads the cache.
    // A logout revokes the token's whole family, so the family answers for the token too.
    let revoked = refresh_token::Entity::find()
        .filter(refresh_token::Column::FamilyId.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_not_null())
        .count(&state.db)
        .await?
        > 0;
    reload(state).await?;
    Ok(revoked)
}

/// Makes sure the cache holds the slow-down counters before a sign-in is counted.
pub async fn ensure_loaded(state: &AppState) -> AppResult<()> {
    if state.cache.get(LOADED).await?.is_none() {
        reload(state).await?;
    }
    Ok(())
}

/// Loads what is in force into the cache: families revoked within the last access-token
/// lifetime, and the failed sign-ins of the current window per key. Idempotent; several
/// replicas may run it at once.
pub async fn reload(state: &AppState) -> AppResult<()> {
    let now = state.clock.now();
    let ttl = revocation_ttl(state);
    let since = now - chrono::Duration::from_std(ttl).unwrap_or_default();
    let families: Vec<(Uuid, Option<chrono::DateTime<Utc>>)> = refresh_token::Entity::find()
        .select_only()
        .column(refresh_token::Column::FamilyId)
        .column_as(
            Expr::col(refresh_token::Column::RevokedAt).max(),
            "revoked_at",
        )
        .filter(refresh_token::Column::RevokedAt.gt(since))
        .group_by(refresh_token::Column::FamilyId)
        .into_tuple()
        .all(&state.db)
        .await?;
    for (family, revoked_at) in families {
        let left = revoked_at
            .map(|at| ttl.saturating_sub((now - at).to_std().unwrap_or_default()))
            .unwrap_or(ttl)
            .max(Duration::from_secs(1));
        state
            .cache
            .set(&revoked_family_key(family), "1", left)
            .await?;
    }
    let window = state.settings.login_failure_window;
    let start = now - chrono::Duration::from_std(window).unwrap_or_default();
    let counts: Vec<(String, i64, Option<chrono::DateTime<Utc>>)> = login_failure::Entity::find()
        .select_only()
        .column(login_failure::Column::Key)
        .column_as(Expr::col(login_failure::Column::Id).count(), "n")
        .column_as(Expr::col(login_failure::Column::FailedAt).min(), "first")
        .filter(login_failure::Column::FailedAt.gt(start))
        .group_by(login_failure::Column::Key)
        .into_tuple()
        .all(&state.db)
        .await?;
    for (key, n, first) in counts {
        let left = first
            .map(|at| window.saturating_sub((now - at).to_std().unwrap_or_default()))
            .unwrap_or(window)
            .max(Duration::from_secs(1));
        // Only ever raise a counter: attempts counted since the cache came back stay counted.
        let (current, _) = state.cache.peek_window(&key).await?;
        if (n.max(0) as u64) > current {
            state.cache.set(&key, &n.to_string(), left).await?;
        }
    }
    state.cache.set(LOADED, "1", LOADED_TTL).await?;
    Ok(())
}

/// Records a failed sign-in against each of `keys` (the cache counted it already).
pub async fn record_failure(state: &AppState, keys: &[String]) -> AppResult<()> {
    let now = state.clock.now();
    for key in keys {
        login_failure::ActiveModel {
            id: Set(Uuid::now_v7()),
            key: Set(key.clone()),
            failed_at: Set(now),
        }
        .insert(&state.db)
        .await?;
    }
    Ok(())
}

/// Deletes failures older than the window (housekeeping).
pub async fn forget_old_failures(state: &AppState) -> AppResult<u64> {
    let cutoff = state.clock.now()
        - chrono::Duration::from_std(state.settings.login_failure_window).unwrap_or_default();
    Ok(login_failure::Entity::delete_many()
        .filter(login_failure::Column::FailedAt.lt(cutoff))
        .exec(&state.db)
        .await?
        .rows_affected)
}

/// The keys a failed sign-in of `username` from `ip` counts against.
pub fn failure_keys(
    user_key: &str,
    ip: Option<IpAddr>,
    ip_key: impl Fn(IpAddr) -> String,
) -> Vec<String> {
    let mut keys = vec![user_key.to_string()];
    if let Some(ip) = ip {
        keys.push(ip_key(ip));
    }
    keys
}
