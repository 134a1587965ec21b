//! What a compound and a household are (participation design §0.5): a compound is `residential`
//! (住宅小区), `street_front` (沿街商铺/商圈, which street leaders lead) or `mixed`; a household
//! is a `dwelling` (住户) or a `shop` (商铺, its contact persons kept as its residents). So shops
//! and shopping areas are modelled without a new territory level. Every existing row is a
//! residential compound or a dwelling, as before.

use sea_orm_migration::prelude::*;

use crate::util::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn kind(default: &str) -> ColumnDef {
    ColumnDef::new(Alias::new("kind"))
        .string_len(16)
        .not_null()
        .default(default)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(m, "compounds", [kind("residential")]).await?;
        add_columns(m, "households", [kind("dwelling")]).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(m, "households", &["kind"]).await?;
        drop_columns(m, "compounds", &["kind"]).await
    }
}
