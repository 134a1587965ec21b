//! Deliberation (participation design §A2): comments on a subject (a proposal, a notice) with
//! one level of replies, and the reports residents file against them.
//!
//! - `comments` keeps where its subject lies (`street_id`, `community_id`, …) so moderators'
//!   reach filters it like any scoped table; `subject_type`/`subject_id` carry no foreign key
//!   (one column names rows of several tables). `parent_id` references a comment of the same
//!   subject (the service checks it is not itself a reply).
//! - `queue_rank` is not null exactly while a moderator's decision is waiting (0: reported for
//!   privacy, first; 1: the rest), so the queue is one index range per community or street.
//! - `replies_count` is the number of a comment's published replies, kept by every move of a
//!   reply in the same transaction: a hidden or deleted comment with replies still shows (as a
//!   placeholder) without a subquery per row.
//! - `comment_reports` is one row per user and comment (its primary key): a user reports a
//!   comment once.
//! - `author_user_id` carries no foreign key, like the ticket tables: erasing an account does
//!   not erase what it said in a deliberation (its display was masked when written).

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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let c = |n: &str| Expr::col(a(n));
        m.create_table(
            Table::create()
                .table(a("comments"))
                .col(uuid("id", false).primary_key())
                .col(uuid("street_id", false))
                .col(uuid("community_id", true))
                .col(uuid("compound_id", true))
                .col(uuid("building_id", true))
                .col(text("subject_type", 16, false))
                .col(uuid("subject_id", false))
                .col(uuid("parent_id", true))
                .col(uuid("author_user_id", false))
                .col(text("author_kind", 16, false))
                .col(text("author_display", 20, false))
                .col(col("alignment").small_integer().not_null().default(0))
                .col(text("body", 1000, false))
                .col(text("status", 16, false))
                .col(text("check_label", 32, true))
                .col(text("check_trace_id", 64, true))
                .col(col("reports_count").integer().not_null().default(0))
                .col(col("replies_count").integer().not_null().default(0))
                .col(col("queue_rank").small_integer().null())
                .col(text("hidden_reason", 500, true))
                .col(uuid("hidden_by", true))
                .col(at("hidden_at", true))
                .col(col("version").integer().not_null().default(1))
                .col(at("created_at", false))
                .col(at("updated_at", false))
                .check(c("alignment").between(-1, 1))
                .check(c("reports_count").gte(0))
                .check(c("replies_count").gte(0))
                .foreign_key(&mut fk("comments", "street_id", "streets", true))
                .foreign_key(&mut fk("comments", "community_id", "communities", true))
                .foreign_key(&mut fk("comments", "parent_id", "comments", true))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("comment_reports"))
                .col(uuid("comment_id", false))
                .col(uuid("user_id", false))
                .col(text("reason", 16, false))
                .col(text("note", 500, true))
                .col(at("created_at", false))
                .primary_key(Index::create().col(a("comment_id")).col(a("user_id")))
                .foreign_key(&mut fk("comment_reports", "comment_id", "comments", true))
                .to_owned(),
        )
        .await?;
        for i in [
            // A subject's top-level page, newest first (replies filtered out on the way: PostgreSQL
            // does not take `parent_id IS NULL` as an equality that keeps the index's order).
            index("comments", &["subject_type", "subject_id", "id"], false),
            // A comment's replies, oldest first; the reply counts of a page of parents.
            index("comments", &["parent_id", "status", "id"], false),
            // The counts by alignment of what is visible.
            index(
                "comments",
                &["subject_type", "subject_id", "status", "alignment"],
                false,
            ),
            // The hourly limit of an author.
            index("comments", &["author_user_id", "created_at"], false),
            // The moderation queue, per community and per street.
            index("comments", &["community_id", "queue_rank", "id"], false),
            index("comments", &["street_id", "queue_rank", "id"], false),
        ] {
            m.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(a("comment_reports")).to_owned())
            .await?;
        m.drop_table(Table::drop().table(a("comments")).to_owned())
            .await
    }
}
