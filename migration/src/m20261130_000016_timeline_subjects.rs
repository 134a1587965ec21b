//! The timeline is about a subject (`subject_type`, `subject_id`), not only a ticket: proposals,
//! polls and the rest will keep their steps in the same table, through `platform::timeline`.
//!
//! `ticket_events` becomes `timeline_events`. Its rows move over in one statement with
//! `subject_type = 'ticket'` and `subject_id` = the ticket; the ticket-only fields (priority,
//! rating, escalated_to) move into `facts`, a JSON object of what the step decided (null when it
//! decided none of them); `from_status`/`to_status` become `from_state`/`to_state` and
//! `related_ticket_id` becomes `related_id`. Ids and times are kept, so the ticket API reads
//! exactly what it read before. Tickets are never deleted, so the foreign key to `tickets` goes
//! with the old table; an entry's subject is checked by the service that writes it.
//!
//! `down` moves the rows about tickets back (entries about other subjects cannot be kept there).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(s: &str) -> Alias {
    Alias::new(s)
}

const NEW: &str = "timeline_events";
const OLD: &str = "ticket_events";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a(NEW))
                .col(uuid(a("id")).primary_key())
                .col(string_len(a("subject_type"), 24))
                .col(uuid(a("subject_id")))
                .col(uuid(a("street_id")))
                .col(uuid(a("community_id")))
                .col(uuid_null(a("actor_user_id")))
                .col(string_len_null(a("actor_name"), 50))
                .col(string_len(a("kind"), 20))
                .col(string_len_null(a("from_state"), 16))
                .col(string_len_null(a("to_state"), 16))
                .col(string_len_null(a("note"), 1000))
                .col(uuid_null(a("related_id")))
                .col(text_null(a("facts")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        for i in [
            index(NEW, &["subject_type", "subject_id", "id"], false),
            // Erasing an account forgets it as the actor of its steps.
            index(NEW, &["actor_user_id"], false),
        ] {
            m.create_index(i).await?;
        }
        let facts = match m.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                "json_strip_nulls(json_build_object('priority', priority, 'rating', rating, \
                 'escalated_to', escalated_to))::text"
            }
            // A JSON merge patch drops the members whose value is null.
            _ => {
                "json_patch('{}', json_object('priority', priority, 'rating', rating, \
                 'escalated_to', escalated_to))"
            }
        };
        m.get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO {NEW} (id, subject_type, subject_id, street_id, community_id, \
                 actor_user_id, actor_name, kind, from_state, to_state, note, related_id, facts, \
                 created_at) \
                 SELECT id, 'ticket', ticket_id, street_id, community_id, actor_user_id, \
                 actor_name, kind, from_status, to_status, note, related_ticket_id, \
                 CASE WHEN priority IS NULL AND rating IS NULL AND escalated_to IS NULL \
                 THEN NULL ELSE {facts} END, created_at FROM {OLD}"
            ))
            .await?;
        m.drop_table(Table::drop().table(a(OLD)).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a(OLD))
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
                .col(uuid_null(a("related_ticket_id")))
                .col(string_null(a("priority")))
                .col(integer_null(a("rating")))
                .col(string_null(a("escalated_to")))
                .foreign_key(&mut fk(OLD, "ticket_id", "tickets", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index(OLD, &["ticket_id", "id"], false))
            .await?;
        let (priority, rating, escalated_to) = match m.get_database_backend() {
            sea_orm::DbBackend::Postgres => (
                "(facts::json ->> 'priority')",
                "(facts::json ->> 'rating')::integer",
                "(facts::json ->> 'escalated_to')",
            ),
            _ => (
                "json_extract(facts, '$.priority')",
                "json_extract(facts, '$.rating')",
                "json_extract(facts, '$.escalated_to')",
            ),
        };
        m.get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO {OLD} (id, ticket_id, street_id, community_id, actor_user_id, \
                 actor_name, kind, from_status, to_status, note, created_at, related_ticket_id, \
                 priority, rating, escalated_to) \
                 SELECT id, subject_id, street_id, community_id, actor_user_id, actor_name, kind, \
                 from_state, to_state, note, created_at, related_id, {priority}, {rating}, \
                 {escalated_to} FROM {NEW} WHERE subject_type = 'ticket'"
            ))
            .await?;
        m.drop_table(Table::drop().table(a(NEW)).to_owned()).await
    }
}
