//! A smaller copy of each photo, made on upload, for lists and previews in the mini-program.
//! Null for photos it could not be made of (WebP, photos uploaded before this migration, or
//! files the decoder refused).

use sea_orm_migration::prelude::*;

use crate::util::{add_columns, drop_columns, nullable};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            m,
            "attachments",
            [
                nullable("thumbnail_key", ColumnDef::string),
                nullable("thumbnail_content_type", ColumnDef::string),
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            m,
            "attachments",
            &["thumbnail_content_type", "thumbnail_key"],
        )
        .await
    }
}
