//! A notification is about a subject (`subject_type`, `subject_id`), not only a ticket: notices,
//! polls and the rest will notify through the same outbox. Tickets' rows keep `ticket_id` (the
//! API filters and shows it) and get `subject_type = 'ticket'` with the same id.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        m.alter_table(
            Table::alter()
                .table(Alias::new("notifications"))
                .add_column(ColumnDef::new(Alias::new("subject_type")).string().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Alias::new("notifications"))
                .add_column(ColumnDef::new(Alias::new("subject_id")).uuid().null())
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table(Alias::new("notifications"))
                .value(Alias::new("subject_type"), "ticket")
                .value(Alias::new("subject_id"), Expr::col(Alias::new("ticket_id")))
                .and_where(Expr::col(Alias::new("ticket_id")).is_not_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in ["subject_id", "subject_type"] {
            m.alter_table(
                Table::alter()
                    .table(Alias::new("notifications"))
                    .drop_column(Alias::new(col))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
