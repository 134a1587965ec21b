//! Database connection pool, configured deliberately for each backend.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::platform::config::Settings;

/// Opens the pool.
///
/// - No ping before each acquire (unless `LINLI_DB_PING_BEFORE_ACQUIRE=true`): measured with
///   `benches/list_throughput.rs` on a 2-core machine, it costs a quarter of the throughput of a
///   simple authenticated list on PostgreSQL (4191 → 3179 req/s) and an eighth on SQLite; a dead connection surfaces as an error on
///   use, which maps to 503, and `max_lifetime`/`idle_timeout` recycle connections anyway.
/// - A bounded acquire timeout, so an exhausted pool answers 503 quickly instead of hanging.
/// - PostgreSQL: a server-side `statement_timeout` on every connection.
/// - SQLite: WAL, a busy timeout, foreign keys on, and by default a single connection: SQLite has
///   one writer, and one connection avoids the immediate SQLITE_BUSY that two deferred
///   transactions upgrading to write at once would get.
pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let sqlite = settings.is_sqlite();
    let opt = options(settings, max_connections(settings), 1);
    if !sqlite {
        return Database::connect(opt).await;
    }
    // Turning a fresh SQLite file into WAL needs an exclusive lock that SQLite does not wait for
    // (the busy timeout does not apply), so processes opening one new file together — replicas
    // or `linli migrate` started at once — can get SQLITE_BUSY from the connect itself. The
    // window is the moment of the conversion, so trying again shortly is enough.
    let deadline = tokio::time::Instant::now() + SQLITE_BUSY_PATIENCE;
    let mut pause = Duration::from_millis(20);
    loop {
        match Database::connect(opt.clone()).await {
            Err(e) if is_sqlite_busy(&e) && tokio::time::Instant::now() + pause < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(500));
            }
            other => return other,
        }
    }
}

/// The pool size on PostgreSQL when `LINLI_DB_MAX_CONNECTIONS` is not set.
const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// On PostgreSQL, the size of the pool the HTTP workers do not use (background jobs, start-up).
const BACKGROUND_MAX_CONNECTIONS: u32 = 4;

/// `LINLI_DB_MAX_CONNECTIONS`, or its default for the backend.
fn max_connections(settings: &Settings) -> u32 {
    match settings.db_max_connections {
        0 if settings.is_sqlite() => 1,
        0 => DEFAULT_MAX_CONNECTIONS,
        n => n,
    }
}

/// The settings of the application's shared pool: on PostgreSQL, where the HTTP workers have
/// pools of their own ([`worker_pool`]), it serves the background jobs and start-up and holds at
/// most [`BACKGROUND_MAX_CONNECTIONS`]; on SQLite it is the one pool.
pub fn background(settings: &Settings) -> Settings {
    let mut shared = settings.clone();
    if !settings.is_sqlite() {
        shared.db_max_connections = max_connections(settings).min(BACKGROUND_MAX_CONNECTIONS);
    }
    shared
}

/// How the pools are set up: sizes apart, the same for every pool of the process.
fn options(settings: &Settings, max: u32, min: u32) -> ConnectOptions {
    let mut opt = ConnectOptions::new(settings.database_url.clone());
    opt.max_connections(max)
        .min_connections(min)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(settings.db_acquire_timeout)
        .idle_timeout(Duration::from_secs(600))
        .max_lifetime(Duration::from_secs(1800))
        .test_before_acquire(settings.db_ping_before_acquire)
        .sqlx_logging(false);
    if settings.is_sqlite() {
        opt.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                .create_if_missing(true)
        });
    } else {
        let ms = settings.db_statement_timeout.as_millis().to_string();
        opt.map_sqlx_postgres_opts(move |o| {
            o.options([("statement_timeout", ms.as_str())])
                .application_name("linli")
        });
    }
    opt
}

/// On PostgreSQL, the pool of one HTTP worker, made in the worker's own runtime: its share of
/// `LINLI_DB_MAX_CONNECTIONS` (at least one connection), opened as requests need them. A pool
/// shared by every worker hands a connection freed on one worker's thread to a request waiting
/// on the other's, a wake-up across threads per statement: on the bench (`../shared/bench`,
/// 2 workers) the hand-written limit loses 17 % of its throughput that way, and linli kept the
/// machine 82 % busy instead of 99 %. `None` on SQLite (one writer: the one shared pool), or
/// if the pool cannot be made here (the worker then uses the shared one).
pub fn worker_pool(settings: &Settings, workers: usize) -> Option<DatabaseConnection> {
    use futures_util::FutureExt;
    if settings.is_sqlite() {
        return None;
    }
    let share = (max_connections(settings) / workers.max(1) as u32).max(1);
    let mut opt = options(settings, share, 0);
    opt.connect_lazy(true);
    // A lazy pool connects nothing: the future is ready at once.
    match Database::connect(opt).now_or_never() {
        Some(Ok(db)) => Some(db),
        Some(Err(e)) => {
            tracing::warn!(error = %e, "a worker's pool could not be made; it uses the shared one");
            None
        }
        None => None,
    }
}

/// The pools the workers of one server made, for whoever must reach the connections requests
/// use (the tests that hold them all).
#[derive(Clone, Default)]
pub struct WorkerPools(std::sync::Arc<std::sync::Mutex<Vec<DatabaseConnection>>>);

impl WorkerPools {
    pub(crate) fn add(&self, pool: DatabaseConnection) {
        if let Ok(mut pools) = self.0.lock() {
            pools.push(pool);
        }
    }

    pub fn all(&self) -> Vec<DatabaseConnection> {
        self.0.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

/// How long opening a SQLite database keeps trying while another process holds the lock that
/// the WAL conversion needs.
const SQLITE_BUSY_PATIENCE: Duration = Duration::from_secs(30);

/// SQLITE_BUSY (5) or one of its extended codes (`5 | n << 8`).
fn is_sqlite_busy(e: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    let sqlx = match e {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    sqlx.as_database_error()
        .and_then(|d| d.code())
        .and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| c & 0xff == 5)
}
