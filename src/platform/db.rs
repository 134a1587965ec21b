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
    let max = match settings.db_max_connections {
        0 if sqlite => 1,
        0 => 10,
        n => n,
    };
    let mut opt = ConnectOptions::new(settings.database_url.clone());
    opt.max_connections(max)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(settings.db_acquire_timeout)
        .idle_timeout(Duration::from_secs(600))
        .max_lifetime(Duration::from_secs(1800))
        .test_before_acquire(settings.db_ping_before_acquire)
        .sqlx_logging(false);
    if sqlite {
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
