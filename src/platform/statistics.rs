//! Planner statistics after bulk writes.
//!
//! PostgreSQL plans from statistics that autovacuum refreshes, eventually; a server whose database
//! runs without it (or before it gets round to it) plans a table that grew by thousands of rows in
//! one transaction as if it were still small, and can fall off a cliff (a ticket list at 30–70 ms
//! a page until an ANALYZE, 0.3 ms after). Bulk writers therefore analyze what they filled. SQLite
//! plans without statistics unless ANALYZE was run once, so there is nothing to refresh there.

use sea_orm::{ConnectionTrait, DbBackend, DbErr};

/// `ANALYZE` of `tables` on PostgreSQL (all tables when empty); nothing on SQLite.
pub async fn refresh<C: ConnectionTrait>(db: &C, tables: &[&'static str]) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let list: Vec<String> = tables.iter().map(|t| format!("\"{t}\"")).collect();
    let sql = if list.is_empty() {
        "ANALYZE".to_string()
    } else {
        format!("ANALYZE {}", list.join(", "))
    };
    db.execute_unprepared(&sql).await?;
    Ok(())
}
