//! The caller of a request, from memory when the cache says the kept one is current.
//!
//! Each replica keeps the [`Actor`]s of recent callers in process (not in Redis: an entry is
//! used on every request, so reading it costs nothing and nothing is serialised; what makes it
//! shareable is the epoch, which *is* in the shared cache). An entry is keyed by the account and
//! remembers the epoch read before the database read that built it; it is used only while the
//! account's epoch, read in the same cache round trip as the token's revocation state, still
//! has that value and no change of the account is in flight (`access::epoch` has the argument).
//! The map is bounded ([`CAPACITY`]) and an entry lives at most [`ENTRY_TTL`] whatever the
//! epoch says: a backstop for what the epoch cannot see (a change written into the database by
//! hand, or a cache restored with an older value of the epoch).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::access::actor::{load_caller, Actor};
use crate::access::epoch::{self, Epoch, CHANGE_TTL, EPOCH_TTL};
use crate::platform::error::{AppError, AppResult};
use crate::platform::state::AppState;
use crate::platform::tokens::Claims;

/// Most entries a replica keeps (an `Actor` is a few hundred bytes).
pub const CAPACITY: usize = 10_000;
/// Longest an entry is used, whatever its epoch says.
pub const ENTRY_TTL: Duration = Duration::from_secs(60);

// An entry kept before a change was marked must be gone before a mark that was never cleared
// expires (`access::epoch`): then the first entry kept after that was read after the change.
const _: () = assert!(ENTRY_TTL.as_secs() < CHANGE_TTL.as_secs());

struct Entry {
    epoch: String,
    actor: Actor,
    kept_at: Instant,
}

/// The callers a replica keeps, shared by its workers.
#[derive(Default)]
pub struct Callers {
    map: Mutex<HashMap<Uuid, Entry>>,
}

impl Callers {
    pub fn new() -> Self {
        Self::default()
    }

    fn get(&self, user: Uuid, current: &str) -> Option<Actor> {
        let map = self.map.lock().ok()?;
        map.get(&user)
            .filter(|e| e.epoch == current && e.kept_at.elapsed() < ENTRY_TTL)
            .map(|e| e.actor.clone())
    }

    fn keep(&self, epoch: String, actor: &Actor) {
        let Ok(mut map) = self.map.lock() else {
            return;
        };
        if map.len() >= CAPACITY && !map.contains_key(&actor.id) {
            map.retain(|_, e| e.kept_at.elapsed() < ENTRY_TTL);
            if map.len() >= CAPACITY {
                // Still full of live entries: start again rather than track recency.
                map.clear();
            }
        }
        map.insert(
            actor.id,
            Entry {
                epoch,
                actor: actor.clone(),
                kept_at: Instant::now(),
            },
        );
    }
}

/// The active account the token `claims` stands for, with its role assignments still valid at
/// the request's clock (a kept `Actor` may hold one that expired since it was read); `InvalidToken`
/// when the token was revoked or the account is gone or deactivated. One cache round trip
/// (revocation and epoch together); no database statement when this replica keeps a current
/// `Actor` of the account, else one (`load_caller`). A cache that cannot be reached answers 503,
/// as the revocation check always has: never an unchecked token, never an unchecked `Actor`.
pub async fn caller(state: &AppState, callers: &Callers, claims: &Claims) -> AppResult<Actor> {
    let (revoked, epoch) =
        crate::access::durable::check_token(state, claims.jti, claims.fam, claims.sub).await?;
    if revoked {
        return Err(AppError::InvalidToken);
    }
    let user = claims.sub;
    let keep_as = match epoch {
        Epoch::Current(e) => {
            if let Some(actor) = callers.get(user, &e) {
                return Ok(actor.as_of(state.clock.now()));
            }
            Some(e)
        }
        // Set one before reading the database, so a change committed meanwhile replaces it.
        // Only the request that set it may keep what it reads under it.
        Epoch::Missing => {
            let e = epoch::fresh();
            match state
                .cache
                .set_nx(&epoch::epoch_key(user), &e, EPOCH_TTL)
                .await
            {
                Ok(true) => Some(e),
                Ok(false) => None,
                Err(err) => {
                    tracing::warn!(error = %err, "could not set an authorization epoch");
                    None
                }
            }
        }
        Epoch::Changing => None,
    };
    let actor = load_caller(&state.db, user)
        .await?
        .ok_or(AppError::InvalidToken)?;
    if let Some(e) = keep_as {
        callers.keep(e, &actor);
    }
    Ok(actor.as_of(state.clock.now()))
}
