//! Migrating while other processes migrate the same database.
//!
//! Several replicas start together (`docker compose up --scale api=3`, a rolling deploy), and
//! each migrates on start. Without a lock two of them see the same migration pending and both
//! run it: on PostgreSQL the loser dies on a duplicate key in the catalogue
//! (`pg_type_typname_nsp_index`), on SQLite on "table already exists". So one migrates at a
//! time, and the others, once they get their turn, find nothing pending.

use std::time::Duration;

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

use crate::Migrator;

/// Key of the PostgreSQL advisory lock held while migrating: "linlimig" in ASCII. Any fixed
/// number works as long as nothing else in the database uses it.
pub const ADVISORY_LOCK_KEY: i64 = 0x6c69_6e6c_696d_6967;

/// Applies every pending migration while holding a database-wide lock, waiting at most
/// `wait` for another process that holds it.
///
/// `db` must be a pool of exactly one connection: the lock belongs to a PostgreSQL session
/// (and on SQLite to the connection's open transaction), and a larger pool could run the
/// migration, or the unlock, on another connection than the one holding the lock.
pub async fn up_exclusive(db: &DatabaseConnection, wait: Duration) -> Result<(), DbErr> {
    let wait_ms = wait.as_millis().max(1);
    match db.get_database_backend() {
        DbBackend::Postgres => {
            if db
                .get_postgres_connection_pool()
                .options()
                .get_max_connections()
                != 1
            {
                return Err(DbErr::Custom(
                    "migrating under the lock needs a pool of one connection".into(),
                ));
            }
            // The wait is bounded by the statement timeout of the lock call alone. The migration
            // itself runs without one: the configured `statement_timeout` is for requests, and a
            // migration that rewrites a table of a million rows (filling a new column) takes
            // longer than any request may; killing it halfway would fail the upgrade.
            db.execute_unprepared(&format!("SET statement_timeout = {wait_ms}"))
                .await?;
            let locked = db
                .execute_unprepared(&format!("SELECT pg_advisory_lock({ADVISORY_LOCK_KEY})"))
                .await;
            db.execute_unprepared("SET statement_timeout = 0").await?;
            locked.map_err(|e| {
                DbErr::Custom(format!(
                    "waited {}s for another process migrating this database: {e}",
                    wait.as_secs()
                ))
            })?;
            let migrated = up_unless_ahead(db).await;
            // Also on failure: the lock must not outlive the attempt (closing the connection
            // would release it too, but the caller may keep the pool).
            let unlocked = db
                .execute_unprepared(&format!("SELECT pg_advisory_unlock({ADVISORY_LOCK_KEY})"))
                .await;
            db.execute_unprepared("RESET statement_timeout").await?;
            migrated?;
            unlocked.map(|_| ())
        }
        DbBackend::Sqlite => {
            if db
                .get_sqlite_connection_pool()
                .options()
                .get_max_connections()
                != 1
            {
                return Err(DbErr::Custom(
                    "migrating under the lock needs a pool of one connection".into(),
                ));
            }
            // SQLite has one writer: BEGIN IMMEDIATE takes the write lock at once (waiting up
            // to the busy timeout for another writer), so a second process reads the list of
            // applied migrations only after the first has committed. sea-orm runs SQLite
            // migrations without a transaction of their own, so this one makes the whole run
            // atomic as well (SQLite's DDL is transactional).
            db.execute_unprepared(&format!("PRAGMA busy_timeout = {wait_ms}"))
                .await?;
            db.execute_unprepared("BEGIN IMMEDIATE").await?;
            match up_unless_ahead(db).await {
                Ok(()) => db.execute_unprepared("COMMIT").await.map(|_| ()),
                Err(e) => {
                    // The migration's error is the one worth reporting.
                    let _ = db.execute_unprepared("ROLLBACK").await;
                    Err(e)
                }
            }
        }
        DbBackend::MySql => up_unless_ahead(db).await,
    }
}

/// Applies what is pending, unless the database is ahead of this binary: a newer release has
/// applied migrations this one does not know, as after rolling back to the previous version.
/// Migrations only add, so an older binary runs on a newer schema; it then migrates nothing and
/// says so. An unknown migration *older* than this binary's newest is a different database (or
/// a removed migration) and stops the start, as sea-orm would.
async fn up_unless_ahead(db: &DatabaseConnection) -> Result<(), DbErr> {
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let applied = applied_versions(db).await?;
    let unknown: Vec<&String> = applied.iter().filter(|v| !known.contains(v)).collect();
    if unknown.is_empty() {
        return Migrator::up(db, None).await;
    }
    let newest_known = known.iter().max().cloned().unwrap_or_default();
    let all_known_applied = known.iter().all(|k| applied.contains(k));
    if all_known_applied && unknown.iter().all(|u| **u > newest_known) {
        tracing::warn!(
            newer = ?unknown,
            "the database has migrations from a newer release; running on it without migrating"
        );
        return Ok(());
    }
    Err(DbErr::Custom(format!(
        "the database has migrations this release does not know and that are not newer than          its own ({}): is DATABASE_URL the right database?",
        unknown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// The versions recorded as applied; none when the table does not exist yet.
async fn applied_versions(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    use sea_orm_migration::sea_orm::{FromQueryResult, Statement};

    #[derive(FromQueryResult)]
    struct Row {
        version: String,
    }
    if !SchemaManager::new(db).has_table("seaql_migrations").await? {
        return Ok(Vec::new());
    }
    let rows = Row::find_by_statement(Statement::from_string(
        db.get_database_backend(),
        "SELECT version FROM seaql_migrations",
    ))
    .all(db)
    .await?;
    Ok(rows.into_iter().map(|r| r.version).collect())
}
