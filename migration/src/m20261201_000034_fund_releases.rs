//! A release of an allocation's unused money is a ledger entry of its own (issue 15): kind
//! `release`, amount 0 (the balance does not move) and the new `fund_entries.released_fen`, the
//! reserved fen it freed. The CHECK on the amount becomes: a `release` has amount 0 and
//! `released_fen > 0`; every other kind keeps `amount_fen <> 0` and a NULL `released_fen`.
//!
//! - PostgreSQL: the column is added and the CHECK replaced in place (the old one, unnamed in
//!   migration 027, is found in `pg_constraint`; the new one is `ck_fund_entries_amount`).
//! - SQLite cannot change a CHECK, so `fund_entries` is rebuilt: its rows are copied aside, the
//!   table dropped and made again (027's definition with the new CHECK and column), its indexes
//!   made again, and every row put back as it was. No table references `fund_entries` by a
//!   foreign key (reversals, expenses and pledges name entries by id without one), so nothing
//!   else moves. The migration runs inside the migrator's transaction (`lock::up_exclusive`).
//!
//! Down refuses while `release` entries exist: the old CHECK cannot hold them, and they are links
//! of the accounts' hash chains, so dropping them would break every later hash.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::m20261201_000027_funds::{entries_indexes, entries_table};
use crate::util::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

const ASIDE: &str = "m034_fund_entries";

/// 027's columns, in its order (what both shapes of the table share).
const COLUMNS: &str = "id, account_id, seq, amount_fen, balance_after_fen, reverses_entry_id, \
    prev_hash, hash, created_at, kind, street_id, community_id, compound_id, proposal_id, \
    pledge_id, expense_id, allocation_id, counter_account_id, counterparty_kind, \
    counterparty_name, public_name, memo, occurred_on, recorded_by, recorded_by_name, \
    approved_by_1, approved_by_2";

const RELEASE_RULE: &str = "(kind = 'release' AND amount_fen = 0 AND released_fen > 0) \
    OR (kind <> 'release' AND amount_fen <> 0 AND released_fen IS NULL)";

fn released() -> ColumnDef {
    ColumnDef::new(Alias::new("released_fen"))
        .big_integer()
        .null()
        .to_owned()
}

/// SQLite: makes `fund_entries` again, with the release rule and `released_fen` (`release`) or
/// as 027 made it, keeping every row.
async fn rebuild_sqlite(m: &SchemaManager<'_>, release: bool) -> Result<(), DbErr> {
    let db = m.get_connection();
    db.execute_unprepared(&format!(
        "CREATE TABLE {ASIDE} AS SELECT * FROM fund_entries"
    ))
    .await?;
    m.drop_table(Table::drop().table(Alias::new("fund_entries")).to_owned())
        .await?;
    let table = if release {
        entries_table(Expr::cust(RELEASE_RULE))
            .col(released())
            .to_owned()
    } else {
        entries_table(Expr::col(Alias::new("amount_fen")).ne(0))
    };
    m.create_table(table).await?;
    for i in entries_indexes() {
        m.create_index(i).await?;
    }
    // Rows go back in their chains' order; `released_fen` is NULL on every row written before.
    db.execute_unprepared(&format!(
        "INSERT INTO fund_entries ({COLUMNS}) SELECT {COLUMNS} FROM {ASIDE} ORDER BY account_id, seq"
    ))
    .await?;
    db.execute_unprepared(&format!("DROP TABLE {ASIDE}"))
        .await?;
    Ok(())
}

/// PostgreSQL: the names of `fund_entries`' CHECK constraints.
async fn checks_pg(m: &SchemaManager<'_>) -> Result<Vec<String>, DbErr> {
    let db = m.get_connection();
    let rows = db
        .query_all(Statement::from_string(
            DbBackend::Postgres,
            "SELECT conname FROM pg_constraint \
             WHERE conrelid = 'fund_entries'::regclass AND contype = 'c'",
        ))
        .await?;
    rows.iter().map(|r| r.try_get("", "conname")).collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        match m.get_database_backend() {
            DbBackend::Sqlite => rebuild_sqlite(m, true).await,
            _ => {
                let db = m.get_connection();
                for name in checks_pg(m).await? {
                    db.execute_unprepared(&format!(
                        "ALTER TABLE fund_entries DROP CONSTRAINT \"{name}\""
                    ))
                    .await?;
                }
                add_columns(m, "fund_entries", [released()]).await?;
                db.execute_unprepared(&format!(
                    "ALTER TABLE fund_entries ADD CONSTRAINT ck_fund_entries_amount \
                     CHECK ({RELEASE_RULE})"
                ))
                .await?;
                Ok(())
            }
        }
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let releases = db
            .query_one(Statement::from_string(
                m.get_database_backend(),
                "SELECT 1 AS one FROM fund_entries WHERE kind = 'release' LIMIT 1",
            ))
            .await?;
        if releases.is_some() {
            return Err(DbErr::Migration(
                "fund_entries holds release entries (amount 0), which the old CHECK \
                 amount_fen <> 0 refuses; they are links of the hash chains and are kept"
                    .into(),
            ));
        }
        match m.get_database_backend() {
            DbBackend::Sqlite => rebuild_sqlite(m, false).await,
            _ => {
                db.execute_unprepared(
                    "ALTER TABLE fund_entries DROP CONSTRAINT ck_fund_entries_amount",
                )
                .await?;
                drop_columns(m, "fund_entries", &["released_fen"]).await?;
                db.execute_unprepared(
                    "ALTER TABLE fund_entries ADD CONSTRAINT fund_entries_amount_fen_check \
                     CHECK (amount_fen <> 0)",
                )
                .await?;
                Ok(())
            }
        }
    }
}
