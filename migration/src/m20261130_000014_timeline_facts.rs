//! What a timeline step decided, as fields rather than inside its free-text note: the priority
//! triage set, the rating a confirmation gave, the level an escalation went to. The note keeps
//! only what a person wrote. Older rows keep their notes as they were.

use sea_orm_migration::prelude::*;

use crate::util::{add_columns, drop_columns, nullable};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            m,
            "ticket_events",
            [
                nullable("priority", ColumnDef::string),
                nullable("rating", ColumnDef::integer),
                nullable("escalated_to", ColumnDef::string),
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(m, "ticket_events", &["escalated_to", "rating", "priority"]).await
    }
}
