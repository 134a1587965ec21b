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
            // The wait is bounded by the statement timeout of the lock call alone; the
            // migration itself runs under the session's configured timeout again.
            db.execute_unprepared(&format!("SET statement_timeout = {wait_ms}"))
                .await?;
            let locked = db
                .execute_unprepared(&format!("SELECT pg_advisory_lock({ADVISORY_LOCK_KEY})"))
                .await;
            db.execute_unprepared("RESET statement_timeout").await?;
            locked.map_err(|e| {
                DbErr::Custom(format!(
                    "waited {}s for another process migrating this database: {e}",
                    wait.as_secs()
                ))
            })?;
            let migrated = Migrator::up(db, None).await;
            // Also on failure: the lock must not outlive the attempt (closing the connection
            // would release it too, but the caller may keep the pool).
            let unlocked = db
                .execute_unprepared(&format!("SELECT pg_advisory_unlock({ADVISORY_LOCK_KEY})"))
                .await;
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
            match Migrator::up(db, None).await {
                Ok(()) => db.execute_unprepared("COMMIT").await.map(|_| ()),
                Err(e) => {
                    // The migration's error is the one worth reporting.
                    let _ = db.execute_unprepared("ROLLBACK").await;
                    Err(e)
                }
            }
        }
        DbBackend::MySql => Migrator::up(db, None).await,
    }
}
