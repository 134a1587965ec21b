//! Self-governance funds (自治金, 协商资金; participation design §A5): accounts on a community or
//! a compound, their append-only hash-chained entries (the `platform::ledger` convention under
//! the funds' own column names), expense requests and their approvals.
//!
//! - `fund_accounts` keeps `0 ≤ reserved_fen ≤ balance_fen` as CHECK constraints on both
//!   databases, so no write path, however wrong, can store a negative balance or reserve money
//!   the account does not hold. `last_seq`/`last_hash` start at 0 and 64 zeros (the ledger's
//!   genesis).
//! - `fund_entries` is never updated or deleted: `UNIQUE(account_id, seq)` orders the chain,
//!   the UNIQUE `reverses_entry_id` lets an entry be reversed once. The ledger page walks
//!   `(account_id, seq)` backwards; a page of one kind `(account_id, kind, seq)`.
//! - `proposal_id` (entries, expenses), `pledge_id` and `allocation_id` (entries) are kept
//!   without a foreign key: proposals, pledges and allocations arrive with the consultation.

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

fn at(name: &str, null: bool) -> ColumnDef {
    let mut c = col(name);
    c.timestamp_with_time_zone();
    if null {
        c.null();
    } else {
        c.not_null();
    }
    c
}

fn uuid(name: &str, null: bool) -> ColumnDef {
    let mut c = col(name);
    c.uuid();
    if null {
        c.null();
    } else {
        c.not_null();
    }
    c
}

fn text(name: &str, len: u32, null: bool) -> ColumnDef {
    let mut c = col(name);
    c.string_len(len);
    if null {
        c.null();
    } else {
        c.not_null();
    }
    c
}

fn fen(name: &str) -> ColumnDef {
    col(name).big_integer().not_null().to_owned()
}

/// `fund_entries` as this migration made it, with `amount_check` as its CHECK on the amount
/// (`amount_fen <> 0` here; migration 034 rebuilds it on SQLite with the release kind's rule).
pub(crate) fn entries_table(amount_check: SimpleExpr) -> TableCreateStatement {
    Table::create()
        .table(a("fund_entries"))
        .col(uuid("id", false).primary_key())
        .col(uuid("account_id", false))
        .col(col("seq").big_integer().not_null())
        .col(fen("amount_fen"))
        .col(fen("balance_after_fen"))
        .col(uuid("reverses_entry_id", true))
        .col(text("prev_hash", 64, false))
        .col(text("hash", 64, false))
        .col(at("created_at", false))
        // The domain's columns, covered by the hash in this order (funds::model::BOOK).
        .col(text("kind", 16, false))
        .col(uuid("street_id", false))
        .col(uuid("community_id", false))
        .col(uuid("compound_id", true))
        .col(uuid("proposal_id", true))
        .col(uuid("pledge_id", true))
        .col(uuid("expense_id", true))
        .col(uuid("allocation_id", true))
        .col(uuid("counter_account_id", true))
        .col(text("counterparty_kind", 16, true))
        .col(text("counterparty_name", 50, true))
        .col(text("public_name", 50, true))
        .col(text("memo", 500, true))
        .col(col("occurred_on").date().null())
        .col(uuid("recorded_by", false))
        .col(text("recorded_by_name", 100, false))
        .col(uuid("approved_by_1", true))
        .col(uuid("approved_by_2", true))
        .check(amount_check)
        .foreign_key(&mut fk(
            "fund_entries",
            "account_id",
            "fund_accounts",
            false,
        ))
        .to_owned()
}

/// The indexes of `fund_entries`.
pub(crate) fn entries_indexes() -> Vec<IndexCreateStatement> {
    vec![
        index("fund_entries", &["account_id", "seq"], true),
        index("fund_entries", &["reverses_entry_id"], true),
        index("fund_entries", &["account_id", "kind", "seq"], false),
        index("fund_entries", &["proposal_id"], false),
        index("fund_entries", &["community_id", "created_at"], false),
        index("fund_entries", &["expense_id"], false),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let c = |n: &str| Expr::col(a(n));
        m.create_table(
            Table::create()
                .table(a("fund_accounts"))
                .col(uuid("id", false).primary_key())
                .col(uuid("street_id", false))
                .col(uuid("community_id", false))
                .col(uuid("compound_id", true))
                .col(text("scope_type", 16, false))
                .col(uuid("scope_id", false))
                .col(text("name", 40, false))
                .col(text("kind", 16, false))
                .col(col("fiscal_year").integer().null())
                .col(fen("balance_fen").default(0))
                .col(fen("reserved_fen").default(0))
                .col(col("last_seq").big_integer().not_null().default(0))
                .col(text("last_hash", 64, false))
                .col(text("status", 16, false))
                .col(col("version").integer().not_null().default(1))
                .col(uuid("created_by", false))
                .col(at("created_at", false))
                .col(at("updated_at", false))
                .check(c("balance_fen").gte(0))
                .check(c("reserved_fen").gte(0))
                .check(c("reserved_fen").lte(c("balance_fen")))
                .foreign_key(&mut fk("fund_accounts", "street_id", "streets", false))
                .foreign_key(&mut fk(
                    "fund_accounts",
                    "community_id",
                    "communities",
                    false,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(entries_table(c("amount_fen").ne(0))).await?;
        m.create_table(
            Table::create()
                .table(a("fund_expenses"))
                .col(uuid("id", false).primary_key())
                .col(uuid("account_id", false))
                .col(uuid("street_id", false))
                .col(uuid("community_id", false))
                .col(uuid("compound_id", true))
                .col(uuid("proposal_id", true))
                .col(uuid("allocation_id", true))
                .col(fen("amount_fen"))
                .col(text("payee_kind", 16, false))
                .col(text("payee_name", 50, false))
                .col(text("public_name", 50, false))
                .col(text("purpose", 200, false))
                .col(text("status", 16, false))
                .col(uuid("requested_by", false))
                .col(text("requested_by_name", 100, false))
                .col(uuid("paid_entry_id", true))
                .col(col("paid_on").date().null())
                .col(text("reason", 500, true))
                .col(col("version").integer().not_null().default(1))
                .col(at("created_at", false))
                .col(at("updated_at", false))
                .check(c("amount_fen").gt(0))
                .foreign_key(&mut fk(
                    "fund_expenses",
                    "account_id",
                    "fund_accounts",
                    false,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("fund_expense_approvals"))
                .col(uuid("expense_id", false))
                .col(uuid("user_id", false))
                .col(text("user_name", 100, false))
                .col(text("role", 32, false))
                .col(text("decision", 16, false))
                .col(text("note", 500, true))
                .col(at("created_at", false))
                .primary_key(Index::create().col(a("expense_id")).col(a("user_id")))
                .foreign_key(&mut fk(
                    "fund_expense_approvals",
                    "expense_id",
                    "fund_expenses",
                    true,
                ))
                .to_owned(),
        )
        .await?;
        for i in [
            index("fund_accounts", &["street_id", "id"], false),
            index("fund_accounts", &["community_id", "id"], false),
            index("fund_accounts", &["compound_id", "id"], false),
            index("fund_accounts", &["scope_id", "id"], false),
            index("fund_expenses", &["account_id", "id"], false),
            index("fund_expenses", &["account_id", "status", "id"], false),
        ]
        .into_iter()
        .chain(entries_indexes())
        {
            m.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "fund_expense_approvals",
            "fund_expenses",
            "fund_entries",
            "fund_accounts",
        ] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        Ok(())
    }
}
