//! Failed sign-ins, kept in the database as well as counted in the cache: a cache that restarts
//! empty must not lift a slow-down (the counters are rebuilt from here).

use sea_orm_migration::prelude::*;

use crate::util::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("login_failures"))
                .col(
                    ColumnDef::new(Alias::new("id"))
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                // The cache key the failure counts against (username and address, or address).
                .col(ColumnDef::new(Alias::new("key")).string().not_null())
                .col(
                    ColumnDef::new(Alias::new("failed_at"))
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("login_failures", &["failed_at"], false))
            .await?;
        m.create_index(index("login_failures", &["key", "failed_at"], false))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("login_failures")).to_owned())
            .await
    }
}
