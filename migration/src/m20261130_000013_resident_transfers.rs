//! Transfers of a resident between households, usually between communities (迁出 from one,
//! 迁入 to the other): filed by staff of the resident's current community, accepted or refused
//! by staff of the receiving one.
//!
//! `pending_resident_id` is the resident's id while the transfer is pending and NULL after: its
//! unique index allows one pending transfer per resident on both backends (NULLs never clash),
//! where a partial index would need backend-specific SQL.

use sea_orm_migration::prelude::*;

use crate::util::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "resident_transfers";

fn a(name: &str) -> Alias {
    Alias::new(name)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(a(TABLE))
            .col(ColumnDef::new(a("id")).uuid().not_null().primary_key())
            .col(ColumnDef::new(a("resident_id")).uuid().not_null())
            .col(ColumnDef::new(a("pending_resident_id")).uuid().null())
            .col(ColumnDef::new(a("status")).string_len(16).not_null());
        for end in ["from", "to"] {
            for level in ["street", "community", "compound", "building", "household"] {
                t.col(
                    ColumnDef::new(a(&format!("{end}_{level}_id")))
                        .uuid()
                        .not_null(),
                );
            }
        }
        t.col(ColumnDef::new(a("resident_name")).string().not_null())
            .col(ColumnDef::new(a("phone_masked")).string_len(32).null())
            .col(ColumnDef::new(a("id_number_masked")).string_len(32).null())
            .col(ColumnDef::new(a("note")).string_len(500).null())
            .col(ColumnDef::new(a("reason")).string_len(500).null())
            .col(ColumnDef::new(a("filed_by")).uuid().not_null())
            .col(ColumnDef::new(a("filed_by_name")).string().not_null())
            .col(ColumnDef::new(a("decided_by")).uuid().null())
            .col(ColumnDef::new(a("decided_by_name")).string().null())
            .col(
                ColumnDef::new(a("decided_at"))
                    .timestamp_with_time_zone()
                    .null(),
            )
            .col(
                ColumnDef::new(a("created_at"))
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .col(
                ColumnDef::new(a("updated_at"))
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .foreign_key(&mut fk(TABLE, "resident_id", "residents", true))
            .foreign_key(&mut fk(TABLE, "from_household_id", "households", true))
            .foreign_key(&mut fk(TABLE, "to_household_id", "households", true));
        m.create_table(t.to_owned()).await?;
        for i in [
            index(TABLE, &["pending_resident_id"], true),
            index(TABLE, &["resident_id"], false),
            index(TABLE, &["from_community_id", "id"], false),
            index(TABLE, &["to_community_id", "id"], false),
            index(TABLE, &["from_household_id"], false),
            index(TABLE, &["to_household_id"], false),
        ] {
            m.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(a(TABLE)).to_owned()).await
    }
}
