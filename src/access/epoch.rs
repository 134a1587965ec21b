//! The authorization epoch of an account: what lets a replica keep the caller's [`Actor`] in
//! memory without ever serving one that a committed change made stale.
//!
//! Two keys per account in the shared cache:
//!
//! - `authz:epoch:<user>`: a fresh random value, set *after* every commit that changes what
//!   `Actor` holds (name, username, superadmin, role assignments) or whether the account may act
//!   (deactivation, erasure, a password change or reset). Random, not a counter: a cache that
//!   restarts empty or is flushed cannot bring back a value an entry was stored with (a counter
//!   would start again at 1), and a missing epoch means "read the database", never "trust".
//! - `authz:changing:<user>`: how many such changes are in flight. Incremented *before* the
//!   change, decremented after the new epoch is set. While it is above zero nobody uses or keeps
//!   a cached `Actor` of the account. It is what makes a lost epoch write safe: if setting the
//!   epoch after the commit fails (the cache went away for a moment, the process died), the
//!   count stays up and the account is read from the database until the count expires
//!   ([`CHANGE_TTL`], a day, far longer than a cached entry lives).
//!
//! A replica keeps an `Actor` together with the epoch it read *before* the database read that
//! built it (see `access::callers`). The argument that it is never stale: take any change C,
//! committed at time t, whose epoch write E follows its commit. A request that reads the cache
//! after C's response was sent sees either C's count still up (no cached `Actor` is used), or
//! E's value or a later one. Any entry stored with that value was built from a database read
//! that began after its epoch was read, hence after E was written, hence after t: it includes C.
//! An entry built before t carries an older value, which no longer matches. The epoch and the
//! count come in the same cache round trip as the token's revocation state (`access::durable`).

use std::future::Future;
use std::time::Duration;

use uuid::Uuid;

use crate::platform::cache::{CacheResult, SharedCache};
use crate::platform::error::AppResult;

/// How long an account's epoch lives without a change (then it is missing, and the next request
/// reads the database and sets a new one).
pub const EPOCH_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long a change in flight keeps the account out of the cache if its end is never recorded.
pub const CHANGE_TTL: Duration = Duration::from_secs(24 * 3600);

pub fn epoch_key(user: Uuid) -> String {
    format!("authz:epoch:{user}")
}

pub fn changing_key(user: Uuid) -> String {
    format!("authz:changing:{user}")
}

/// What the cache says about an account's epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Epoch {
    /// No change in flight; cached entries carrying this value are current.
    Current(String),
    /// No epoch (never set, expired, or the cache lost it): read the database.
    Missing,
    /// A change is in flight: read the database and keep nothing.
    Changing,
}

impl Epoch {
    /// From the values of [`epoch_key`] and [`changing_key`].
    pub fn from_values(epoch: Option<&str>, changing: Option<&str>) -> Epoch {
        let in_flight = changing.is_some_and(|n| n.parse::<u64>().map_or(true, |n| n > 0));
        match (in_flight, epoch) {
            (true, _) => Epoch::Changing,
            (false, Some(e)) => Epoch::Current(e.to_string()),
            (false, None) => Epoch::Missing,
        }
    }
}

/// A new epoch value: 128 bits from the OS's random source.
pub fn fresh() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Runs `change` (which commits a change to the accounts `users` or their role assignments)
/// between the two halves of the protocol: the accounts are marked as changing before it, and
/// get a fresh epoch after it, whatever it returned. Failing to mark them fails the call before
/// anything changed (503, as any request needing the cache while it is gone). Failing to set
/// the new epoch afterwards is logged and not the caller's error: the mark stays, so the
/// accounts are read from the database until it expires.
pub async fn changing<T>(
    cache: &SharedCache,
    users: &[Uuid],
    change: impl Future<Output = AppResult<T>>,
) -> AppResult<T> {
    for user in users {
        cache.incr_expire(&changing_key(*user), CHANGE_TTL).await?;
    }
    let out = change.await;
    for user in users {
        if let Err(e) = changed(cache, *user).await {
            tracing::warn!(user_id = %user, error = %e, "could not set a new authorization epoch; the account is read from the database until its change mark expires");
        }
    }
    out
}

async fn changed(cache: &SharedCache, user: Uuid) -> CacheResult<()> {
    cache.set(&epoch_key(user), &fresh(), EPOCH_TTL).await?;
    cache.decr_window(&changing_key(user)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_in_flight_outranks_the_epoch() {
        assert_eq!(Epoch::from_values(Some("a"), Some("1")), Epoch::Changing);
        assert_eq!(Epoch::from_values(None, Some("2")), Epoch::Changing);
        assert_eq!(Epoch::from_values(Some("a"), Some("junk")), Epoch::Changing);
        assert_eq!(
            Epoch::from_values(Some("a"), Some("0")),
            Epoch::Current("a".into())
        );
        assert_eq!(
            Epoch::from_values(Some("a"), None),
            Epoch::Current("a".into())
        );
        assert_eq!(Epoch::from_values(None, Some("0")), Epoch::Missing);
        assert_eq!(Epoch::from_values(None, None), Epoch::Missing);
    }

    #[test]
    fn fresh_epochs_differ() {
        assert_ne!(fresh(), fresh());
        assert_eq!(fresh().len(), 32);
    }
}
