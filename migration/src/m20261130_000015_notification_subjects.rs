//! A notification is about a subject (`subject_type`, `subject_id`), not only a ticket: notices,
//! polls and the rest will notify through the same outbox. Tickets' rows keep `ticket_id` (the
//! API filters and shows it) and get `subject_type = 'ticket'` with the same id.

use sea_orm_migration::prelude::*;

use crate::util::{add_columns, drop_columns, nullable};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            m,
            "notifications",
            [
                nullable("subject_type", ColumnDef::string),
                nullable("subject_id", ColumnDef::uuid),
            ],
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
        drop_columns(m, "notifications", &["subject_id", "subject_type"]).await
    }
}
