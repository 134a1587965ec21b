//! The in-app message centre (站内消息): one row per recipient of every notification event, kept
//! whether or not the WeChat subscribe message can be sent; and the short conversation (留言)
//! between a ticket's requester and the staff handling it.
//!
//! User ids carry no foreign key, like the ticket tables: an erased account's inbox is deleted
//! and its conversation messages are anonymised, not cascaded away with the ticket's record.

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
                .table(a("inbox_messages"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("recipient_user_id")))
                .col(string_len(a("event"), 40))
                .col(string_len(a("subject_type"), 20))
                .col(uuid(a("subject_id")))
                .col(string_len(a("title"), 60))
                .col(string_len(a("body"), 200))
                .col(timestamp_with_time_zone_null(a("read_at")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        // The list, newest first; the unread ones of a user, newest first, and their count (a
        // partial index: `read_at IS NULL` as a key column would not give the order of `id`
        // on PostgreSQL, and most of an inbox is read); retention (read before the cut-off).
        let mut unread = index("inbox_messages", &["recipient_user_id", "id"], false);
        unread
            .name("ix_inbox_messages_unread_recipient_user_id_id")
            .and_where(Expr::col(a("read_at")).is_null());
        for i in [
            index("inbox_messages", &["recipient_user_id", "id"], false),
            unread,
            index("inbox_messages", &["read_at"], false),
        ] {
            m.create_index(i).await?;
        }

        m.create_table(
            Table::create()
                .table(a("ticket_messages"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("ticket_id")))
                .col(uuid_null(a("author_user_id")))
                .col(string_len_null(a("author_name"), 100))
                .col(string_len(a("side"), 12))
                .col(string_len(a("body"), 500))
                .col(timestamp_with_time_zone(a("created_at")))
                .foreign_key(&mut fk("ticket_messages", "ticket_id", "tickets", true))
                .to_owned(),
        )
        .await?;
        for i in [
            // The conversation, oldest first.
            index("ticket_messages", &["ticket_id", "id"], false),
            // The per-author rate limit.
            index(
                "ticket_messages",
                &["author_user_id", "ticket_id", "created_at"],
                false,
            ),
        ] {
            m.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["ticket_messages", "inbox_messages"] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        Ok(())
    }
}
