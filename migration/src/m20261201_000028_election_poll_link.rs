//! An election's poll is a real reference, and a paper box (流动票箱) says where and when it goes.
//!
//! - `elections.poll_id` references `polls(id)` (RESTRICT: polls are never deleted). PostgreSQL
//!   adds the constraint in place. SQLite cannot add a foreign key to a table, so the table is
//!   rebuilt with it: the rows of `elections` and of the tables that reference it (positions,
//!   officers, candidates, their nominators, roll objections) are copied aside, `elections` is
//!   dropped (its children's rows go with it, `ON DELETE CASCADE`), created again with the
//!   constraint, and every row is put back, ids and all. The migration runs inside the
//!   migrator's transaction (`lock::up_exclusive`), so a failure leaves the old tables.
//! - `poll_boxes.location` (where the box is, or the route it walks) and `poll_boxes.schedule`
//!   (when: "12月6日 9:00–11:00"), both free text, shown to the voters the box serves
//!   (`GET /api/v1/me/elections`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::m20261201_000025_elections::{election_indexes, elections_table};
use crate::util::{add_columns, drop_columns, fk, nullable};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `elections` first, then its children parents before children (the order rows go back in).
const TABLES: [&str; 6] = [
    "elections",
    "election_positions",
    "election_officers",
    "candidates",
    "candidate_nominators",
    "roll_objections",
];

fn aside(t: &str) -> String {
    format!("m028_{t}")
}

/// SQLite: recreates `elections` with or without the foreign key to `polls`, keeping every row
/// of it and of the tables that reference it.
async fn rebuild_sqlite(m: &SchemaManager<'_>, poll_fk: bool) -> Result<(), DbErr> {
    let db = m.get_connection();
    for t in TABLES {
        db.execute_unprepared(&format!("CREATE TABLE {} AS SELECT * FROM {t}", aside(t)))
            .await?;
    }
    m.drop_table(Table::drop().table(Alias::new("elections")).to_owned())
        .await?;
    m.create_table(elections_table(poll_fk)).await?;
    for i in election_indexes() {
        m.create_index(i).await?;
    }
    for t in TABLES {
        // The children that survived the drop (none, with cascading keys) would collide.
        db.execute_unprepared(&format!("DELETE FROM {t}")).await?;
    }
    for t in TABLES {
        db.execute_unprepared(&format!("INSERT INTO {t} SELECT * FROM {}", aside(t)))
            .await?;
        db.execute_unprepared(&format!("DROP TABLE {}", aside(t)))
            .await?;
    }
    Ok(())
}

fn text(c: &mut ColumnDef) -> &mut ColumnDef {
    c.string_len(200)
}

fn box_columns() -> [ColumnDef; 2] {
    [nullable("location", text), nullable("schedule", text)]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        match m.get_database_backend() {
            DbBackend::Sqlite => rebuild_sqlite(m, true).await?,
            _ => {
                m.create_foreign_key(fk("elections", "poll_id", "polls", false))
                    .await?
            }
        }
        add_columns(m, "poll_boxes", box_columns()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(m, "poll_boxes", &["location", "schedule"]).await?;
        match m.get_database_backend() {
            DbBackend::Sqlite => rebuild_sqlite(m, false).await,
            _ => {
                m.drop_foreign_key(
                    ForeignKey::drop()
                        .name("fk_elections_poll_id")
                        .table(Alias::new("elections"))
                        .to_owned(),
                )
                .await
            }
        }
    }
}
