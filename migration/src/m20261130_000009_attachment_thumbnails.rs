//! A smaller copy of each photo, made on upload, for lists and previews in the mini-program.
//! Null for photos it could not be made of (WebP, photos uploaded before this migration, or
//! files the decoder refused).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        m.alter_table(
            Table::alter()
                .table(Alias::new("attachments"))
                .add_column(ColumnDef::new(Alias::new("thumbnail_key")).string().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Alias::new("attachments"))
                .add_column(
                    ColumnDef::new(Alias::new("thumbnail_content_type"))
                        .string()
                        .null(),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in ["thumbnail_content_type", "thumbnail_key"] {
            m.alter_table(
                Table::alter()
                    .table(Alias::new("attachments"))
                    .drop_column(Alias::new(col))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
