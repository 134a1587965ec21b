//! Stored responses of creating POSTs sent with an `Idempotency-Key`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("idempotency_keys"))
                .col(uuid(Alias::new("id")).primary_key())
                .col(uuid(Alias::new("user_id")))
                .col(string_len(Alias::new("idem_key"), 255))
                .col(string_len(Alias::new("request_path"), 512))
                .col(string_len(Alias::new("request_hash"), 64))
                // NULL while the first request is still being handled.
                .col(integer_null(Alias::new("status_code")))
                .col(text_null(Alias::new("response_body")))
                .col(string_len_null(Alias::new("content_type"), 128))
                .col(string_len_null(Alias::new("location"), 512))
                .col(timestamp_with_time_zone(Alias::new("created_at")))
                .col(timestamp_with_time_zone(Alias::new("expires_at")))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_idempotency_keys_user_id")
                        .from(Alias::new("idempotency_keys"), Alias::new("user_id"))
                        .to(Alias::new("users"), Alias::new("id"))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_idempotency_keys_user_id_idem_key")
                .table(Alias::new("idempotency_keys"))
                .col(Alias::new("user_id"))
                .col(Alias::new("idem_key"))
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_idempotency_keys_expires_at")
                .table(Alias::new("idempotency_keys"))
                .col(Alias::new("expires_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table(Alias::new("idempotency_keys"))
                .to_owned(),
        )
        .await
    }
}
