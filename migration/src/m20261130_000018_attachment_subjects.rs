//! An attachment belongs to a subject (`subject_type`, `subject_id`), not only a ticket
//! (participation design §0.2): notices, proposals and their updates, fund entries' receipts will
//! attach photos the same way. Rows attached to a ticket get `subject_type = 'ticket'` with the
//! ticket's id; an upload not yet attached has neither. `ticket_id` is no longer written (its
//! foreign key stays, for the rows that have it); `down` writes it back from the subject.

use sea_orm_migration::prelude::*;

use crate::util::{add_columns, drop_columns, index, nullable};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "attachments";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            m,
            TABLE,
            [
                nullable("subject_type", ColumnDef::string),
                nullable("subject_id", ColumnDef::uuid),
            ],
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table(Alias::new(TABLE))
                .value(Alias::new("subject_type"), "ticket")
                .value(Alias::new("subject_id"), Expr::col(Alias::new("ticket_id")))
                .and_where(Expr::col(Alias::new("ticket_id")).is_not_null())
                .to_owned(),
        )
        .await?;
        for i in [
            index(TABLE, &["subject_type", "subject_id", "id"], false),
            // The uploader's uploads waiting for a subject (the limit of 20).
            index(TABLE, &["uploader_user_id", "subject_id"], false),
        ] {
            m.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.exec_stmt(
            Query::update()
                .table(Alias::new(TABLE))
                .value(Alias::new("ticket_id"), Expr::col(Alias::new("subject_id")))
                .and_where(Expr::col(Alias::new("subject_type")).eq("ticket"))
                .to_owned(),
        )
        .await?;
        for name in [
            "ix_attachments_subject_type_subject_id_id",
            "ix_attachments_uploader_user_id_subject_id",
        ] {
            m.drop_index(Index::drop().name(name).table(Alias::new(TABLE)).to_owned())
                .await?;
        }
        drop_columns(m, TABLE, &["subject_id", "subject_type"]).await
    }
}
