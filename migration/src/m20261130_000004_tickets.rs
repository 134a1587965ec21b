//! Tickets (诉求): categories and deadline policy per community, the tickets with their timeline,
//! attachments, and the notification outbox.
//!
//! User ids on these tables carry no foreign key: an erased account (DELETE /me) leaves the
//! community's ledger intact, with the requester's name and id cleared.

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
                .table(a("ticket_categories"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("street_id")))
                .col(uuid(a("community_id")))
                .col(string_len(a("name"), 30))
                .col(integer(a("sort_order")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .foreign_key(&mut fk(
                    "ticket_categories",
                    "community_id",
                    "communities",
                    true,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ticket_categories", &["community_id", "name"], true))
            .await?;

        m.create_table(
            Table::create()
                .table(a("ticket_policies"))
                .col(uuid(a("community_id")).primary_key())
                .col(uuid(a("street_id")))
                .col(integer(a("green_days")))
                .col(integer(a("orange_days")))
                .col(integer(a("red_follow_up_days")))
                .col(integer(a("escalation_interval_hours")))
                .col(integer(a("auto_close_days")))
                .col(uuid_null(a("updated_by")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .foreign_key(&mut fk(
                    "ticket_policies",
                    "community_id",
                    "communities",
                    true,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("tickets"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("street_id")))
                .col(uuid(a("community_id")))
                .col(uuid(a("compound_id")))
                .col(uuid_null(a("building_id")))
                .col(uuid_null(a("household_id")))
                .col(uuid(a("category_id")))
                .col(string_len(a("title"), 50))
                .col(text(a("description")))
                .col(string_len_null(a("location"), 200))
                .col(string_len(a("channel"), 20))
                .col(boolean(a("anonymous")))
                .col(uuid_null(a("requester_user_id")))
                .col(string_len_null(a("requester_name"), 50))
                .col(uuid_null(a("requester_resident_id")))
                .col(uuid(a("created_by")))
                .col(string_len_null(a("idempotency_key"), 255))
                .col(string_len(a("status"), 16))
                .col(string_len_null(a("priority"), 8))
                .col(timestamp_with_time_zone_null(a("triaged_at")))
                .col(timestamp_with_time_zone_null(a("due_at")))
                .col(timestamp_with_time_zone_null(a("next_follow_up_at")))
                .col(timestamp_with_time_zone_null(a("deadline_at")))
                .col(timestamp_with_time_zone_null(a("escalate_at")))
                .col(integer(a("escalation_level")))
                .col(uuid_null(a("assigned_company_id")))
                .col(uuid_null(a("handler_user_id")))
                .col(timestamp_with_time_zone_null(a("assigned_at")))
                .col(timestamp_with_time_zone_null(a("accepted_at")))
                .col(timestamp_with_time_zone_null(a("resolved_at")))
                .col(timestamp_with_time_zone_null(a("auto_close_at")))
                .col(timestamp_with_time_zone_null(a("closed_at")))
                .col(boolean(a("auto_closed")))
                .col(integer_null(a("rating")))
                .col(string_len_null(a("feedback"), 500))
                .col(string_len_null(a("reason"), 500))
                .col(timestamp_with_time_zone_null(a("last_urged_at")))
                .col(integer(a("urge_count")))
                .col(integer(a("reopen_count")))
                .col(integer(a("version")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .foreign_key(&mut fk("tickets", "community_id", "communities", false))
                .foreign_key(&mut fk("tickets", "compound_id", "compounds", false))
                .foreign_key(&mut fk(
                    "tickets",
                    "category_id",
                    "ticket_categories",
                    false,
                ))
                .to_owned(),
        )
        .await?;
        for i in [
            index("tickets", &["street_id"], false),
            index("tickets", &["community_id", "status"], false),
            index("tickets", &["compound_id"], false),
            index("tickets", &["building_id"], false),
            index("tickets", &["requester_user_id"], false),
            index("tickets", &["assigned_company_id"], false),
            index("tickets", &["handler_user_id"], false),
            index("tickets", &["escalate_at"], false),
            index("tickets", &["auto_close_at"], false),
            // A retried filing finds the ticket its first attempt created, whatever happened to
            // the stored response (see services::idempotency).
            index("tickets", &["created_by", "idempotency_key"], true),
            index("tickets", &["deadline_at", "id"], false),
        ] {
            m.create_index(i).await?;
        }

        m.create_table(
            Table::create()
                .table(a("ticket_events"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("ticket_id")))
                .col(uuid(a("street_id")))
                .col(uuid(a("community_id")))
                .col(uuid_null(a("actor_user_id")))
                .col(string_len_null(a("actor_name"), 50))
                .col(string_len(a("kind"), 20))
                .col(string_len_null(a("from_status"), 16))
                .col(string_len_null(a("to_status"), 16))
                .col(string_len_null(a("note"), 1000))
                .col(timestamp_with_time_zone(a("created_at")))
                .foreign_key(&mut fk("ticket_events", "ticket_id", "tickets", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ticket_events", &["ticket_id", "id"], false))
            .await?;

        m.create_table(
            Table::create()
                .table(a("attachments"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("uploader_user_id")))
                .col(string_len(a("content_type"), 40))
                .col(big_integer(a("size_bytes")))
                .col(string_len(a("sha256"), 64))
                .col(string_len(a("storage_key"), 200))
                .col(uuid_null(a("ticket_id")))
                .col(uuid_null(a("event_id")))
                .col(timestamp_with_time_zone(a("created_at")))
                .foreign_key(&mut fk("attachments", "ticket_id", "tickets", true))
                .to_owned(),
        )
        .await?;
        for i in [
            index("attachments", &["ticket_id"], false),
            index("attachments", &["uploader_user_id", "ticket_id"], false),
            index("attachments", &["created_at"], false),
        ] {
            m.create_index(i).await?;
        }

        m.create_table(
            Table::create()
                .table(a("notifications"))
                .col(uuid(a("id")).primary_key())
                .col(string_len(a("event_type"), 40))
                .col(uuid_null(a("ticket_id")))
                .col(uuid(a("recipient_user_id")))
                .col(uuid_null(a("street_id")))
                .col(uuid_null(a("community_id")))
                .col(text(a("payload")))
                .col(string_len(a("status"), 12))
                .col(integer(a("attempts")))
                .col(timestamp_with_time_zone(a("next_attempt_at")))
                .col(timestamp_with_time_zone_null(a("locked_until")))
                .col(string_len_null(a("last_error"), 500))
                .col(timestamp_with_time_zone_null(a("sent_at")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        for i in [
            index("notifications", &["status", "next_attempt_at"], false),
            index("notifications", &["ticket_id"], false),
            index("notifications", &["community_id"], false),
            index("notifications", &["street_id"], false),
            index("notifications", &["recipient_user_id"], false),
        ] {
            m.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "notifications",
            "attachments",
            "ticket_events",
            "tickets",
            "ticket_policies",
            "ticket_categories",
        ] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        Ok(())
    }
}
