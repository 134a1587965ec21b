//! What a timeline step decided, as fields rather than inside its free-text note: the priority
//! triage set, the rating a confirmation gave, the level an escalation went to. The note keeps
//! only what a person wrote. Older rows keep their notes as they were.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [&str; 3] = ["priority", "rating", "escalated_to"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for col in COLUMNS {
            let mut def = ColumnDef::new(Alias::new(col));
            if col == "rating" {
                def.integer();
            } else {
                def.string();
            }
            m.alter_table(
                Table::alter()
                    .table(Alias::new("ticket_events"))
                    .add_column(def.null())
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in COLUMNS.into_iter().rev() {
            m.alter_table(
                Table::alter()
                    .table(Alias::new("ticket_events"))
                    .drop_column(Alias::new(col))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
