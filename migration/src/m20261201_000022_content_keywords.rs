//! The local content check's keyword list (§0.3): per street, words staff maintain, each with
//! the verdict a text containing it gets (`review` keeps it for a moderator, `risky` refuses it).
//! Words are stored normalised (lowercase, trimmed, inner whitespace collapsed), so the unique
//! index refuses the same word twice whatever its spelling.
//!
//! `created_by` carries no foreign key, like the ticket tables: erasing an account does not
//! erase the street's list. A street's words go with the street.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(s: &str) -> Alias {
    Alias::new(s)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a("content_keywords"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("street_id")))
                .col(string_len(a("word"), 40))
                .col(string_len(a("verdict"), 10))
                .col(uuid(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .foreign_key(&mut fk("content_keywords", "street_id", "streets", true))
                .to_owned(),
        )
        .await?;
        for i in [
            // One word once per street.
            index("content_keywords", &["street_id", "word"], true),
            // The list page (by id within a street), the check (all of a street) and the count.
            index("content_keywords", &["street_id", "id"], false),
        ] {
            m.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(a("content_keywords")).to_owned())
            .await
    }
}
