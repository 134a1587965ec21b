use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::platform::cache::SharedCache;
use crate::platform::clock::Clock;
use crate::platform::config::Settings;
use crate::platform::pii::Pii;
use crate::platform::slots::Slots;
use crate::platform::storage::Storage;
use crate::platform::tokens::JwtKeys;
use crate::platform::wechat::WeChatClient;

/// Everything a handler needs, shared by all workers.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub cache: SharedCache,
    pub settings: Arc<Settings>,
    pub jwt: Arc<JwtKeys>,
    pub clock: Arc<dyn Clock>,
    pub wechat: Arc<WeChatClient>,
    pub pii: Arc<Pii>,
    pub storage: Arc<dyn Storage>,
    /// Set when SIGTERM arrives: `/ready` answers 503 so the proxy takes this replica out of
    /// rotation while it still serves what reaches it (see `Application::run_until_stopped`).
    pub draining: Arc<AtomicBool>,
    /// Roster imports that may run at once in this process.
    pub imports: Slots,
    /// The HTTP workers' own pools (PostgreSQL, `db::worker_pool`), as the workers made them:
    /// in a worker's state `db` is its pool; in the application's, `db` is the background pool
    /// and these are the workers'.
    pub worker_pools: crate::platform::db::WorkerPools,
}
