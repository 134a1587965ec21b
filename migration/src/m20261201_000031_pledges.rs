//! Money and pledges of the consultation (participation design §A5.1, §A6): earmarked
//! allocations of a fund account to a proposal, each approved by two people of different roles,
//! and the pledges (民筹) of money, labour and materials residents make to a proposal.
//!
//! - `fund_allocations` keeps `0 ≤ spent_fen`, `0 ≤ released_fen` and `spent_fen + released_fen ≤
//!   amount_fen` as CHECK constraints: an expense never spends past its allocation and a release
//!   never frees more than is left, however a write path errs.
//! - `pledges` carries the place of its proposal (street, community, compound) so the staff
//!   scope filter works on it, and the pledger's own display choice (`public_display`).

use sea_orm_migration::prelude::*;

use crate::util::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(name: &str) -> Alias {
    Alias::new(name)
}

fn col(name: &str) -> ColumnDef {
    ColumnDef::new(a(name))
}

fn nullable(mut c: ColumnDef, null: bool) -> ColumnDef {
    if null {
        c.null();
    } else {
        c.not_null();
    }
    c
}

fn at(name: &str, null: bool) -> ColumnDef {
    nullable(col(name).timestamp_with_time_zone().to_owned(), null)
}

fn uuid(name: &str, null: bool) -> ColumnDef {
    nullable(col(name).uuid().to_owned(), null)
}

fn text(name: &str, len: u32, null: bool) -> ColumnDef {
    nullable(col(name).string_len(len).to_owned(), null)
}

fn big(name: &str, null: bool) -> ColumnDef {
    nullable(col(name).big_integer().to_owned(), null)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let c = |n: &str| Expr::col(a(n));
        m.create_table(
            Table::create()
                .table(a("fund_allocations"))
                .col(uuid("id", false).primary_key())
                .col(uuid("account_id", false))
                .col(uuid("street_id", false))
                .col(uuid("community_id", false))
                .col(uuid("compound_id", true))
                .col(uuid("proposal_id", false))
                .col(big("amount_fen", false))
                .col(big("spent_fen", false).default(0))
                .col(big("released_fen", false).default(0))
                .col(text("status", 16, false))
                .col(uuid("requested_by", false))
                .col(text("requested_by_name", 100, false))
                .col(uuid("poll_id", true))
                .col(text("reason", 500, true))
                .col(col("version").integer().not_null().default(1))
                .col(at("created_at", false))
                .col(at("updated_at", false))
                .check(c("amount_fen").gt(0))
                .check(c("spent_fen").gte(0))
                .check(c("released_fen").gte(0))
                .check(c("spent_fen").add(c("released_fen")).lte(c("amount_fen")))
                .foreign_key(&mut fk(
                    "fund_allocations",
                    "account_id",
                    "fund_accounts",
                    false,
                ))
                .foreign_key(&mut fk(
                    "fund_allocations",
                    "proposal_id",
                    "proposals",
                    false,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("fund_allocation_approvals"))
                .col(uuid("allocation_id", false))
                .col(uuid("user_id", false))
                .col(text("user_name", 100, false))
                .col(text("role", 32, false))
                .col(text("decision", 16, false))
                .col(text("note", 500, true))
                .col(at("created_at", false))
                .primary_key(Index::create().col(a("allocation_id")).col(a("user_id")))
                .foreign_key(&mut fk(
                    "fund_allocation_approvals",
                    "allocation_id",
                    "fund_allocations",
                    true,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("pledges"))
                .col(uuid("id", false).primary_key())
                .col(uuid("proposal_id", false))
                .col(uuid("street_id", false))
                .col(uuid("community_id", false))
                .col(uuid("compound_id", true))
                .col(uuid("building_id", true))
                .col(text("pledger_kind", 16, false))
                .col(uuid("pledger_user_id", true))
                .col(uuid("pledger_resident_id", true))
                .col(uuid("household_id", true))
                .col(text("pledger_name", 100, false))
                .col(text("public_display", 16, false))
                .col(text("kind", 16, false))
                .col(big("amount_fen", true))
                .col(col("minutes").integer().null())
                .col(text("skill", 20, true))
                .col(text("item", 40, true))
                .col(col("quantity").integer().null())
                .col(text("unit", 10, true))
                .col(big("est_value_fen", true))
                .col(text("note", 200, true))
                .col(text("status", 24, false))
                .col(big("fulfilled_amount_fen", true))
                .col(col("fulfilled_minutes").integer().null())
                .col(col("fulfilled_quantity").integer().null())
                .col(uuid("fund_entry_id", true))
                .col(uuid("received_by", true))
                .col(at("received_at", true))
                .col(uuid("created_by", false))
                .col(col("version").integer().not_null().default(1))
                .col(at("created_at", false))
                .col(at("updated_at", false))
                .check(c("amount_fen").is_null().or(c("amount_fen").gt(0)))
                .check(c("minutes").is_null().or(c("minutes").gt(0)))
                .check(c("est_value_fen").is_null().or(c("est_value_fen").gte(0)))
                .foreign_key(&mut fk("pledges", "proposal_id", "proposals", false))
                .to_owned(),
        )
        .await?;
        for i in [
            index("fund_allocations", &["account_id", "id"], false),
            index("fund_allocations", &["proposal_id", "id"], false),
            index("pledges", &["proposal_id", "status", "id"], false),
            index("pledges", &["proposal_id", "id"], false),
            index("pledges", &["pledger_user_id", "id"], false),
            index("fund_expenses", &["allocation_id"], false),
            index("fund_expenses", &["proposal_id", "status"], false),
        ] {
            m.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (t, i) in [
            ("fund_expenses", "ix_fund_expenses_allocation_id"),
            ("fund_expenses", "ix_fund_expenses_proposal_id_status"),
        ] {
            m.drop_index(Index::drop().name(i).table(a(t)).to_owned())
                .await?;
        }
        for t in ["pledges", "fund_allocation_approvals", "fund_allocations"] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        Ok(())
    }
}
