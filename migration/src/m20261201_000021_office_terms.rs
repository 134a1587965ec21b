//! Offices and terms (participation design §0.4): one registry of who holds which office
//! (居委会成员, 楼组长, 街面长, 议事员, 邻里大管家, 队长, 值班长) for which part of the territory and
//! which period. A term may grant a role assignment that ends with it: `role_assignments` gets
//! `valid_until` (the grant stops authorizing from that instant; a job removes it) and
//! `source_term_id` (the term that made it).
//!
//! `office_terms` carries the usual `street_id, community_id, compound_id?, building_id?` for the
//! staff scope filter, and `scope_type`/`scope_id` for the node the office is on.

use sea_orm_migration::prelude::*;

use crate::util::{add_columns, drop_columns, index, nullable};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "office_terms";

fn a(name: &str) -> Alias {
    Alias::new(name)
}

fn term_indexes() -> [IndexCreateStatement; 7] {
    [
        index(TABLE, &["scope_id", "body", "ends_on"], false),
        index(TABLE, &["resident_id"], false),
        index(TABLE, &["user_id"], false),
        // The keyset pages of the staff scope filter: one index per scope column and id.
        index(TABLE, &["street_id", "id"], false),
        index(TABLE, &["community_id", "id"], false),
        index(TABLE, &["compound_id", "id"], false),
        index(TABLE, &["building_id", "id"], false),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a(TABLE))
                .col(ColumnDef::new(a("id")).uuid().not_null().primary_key())
                .col(ColumnDef::new(a("street_id")).uuid().not_null())
                // Null only for an office on a whole street.
                .col(ColumnDef::new(a("community_id")).uuid().null())
                .col(ColumnDef::new(a("compound_id")).uuid().null())
                .col(ColumnDef::new(a("building_id")).uuid().null())
                .col(ColumnDef::new(a("scope_type")).string_len(16).not_null())
                .col(ColumnDef::new(a("scope_id")).uuid().not_null())
                .col(ColumnDef::new(a("body")).string_len(32).not_null())
                .col(ColumnDef::new(a("body_ref_id")).uuid().null())
                .col(ColumnDef::new(a("position")).string_len(80).not_null())
                .col(ColumnDef::new(a("resident_id")).uuid().null())
                .col(ColumnDef::new(a("user_id")).uuid().null())
                .col(ColumnDef::new(a("display_name")).string_len(100).not_null())
                .col(ColumnDef::new(a("source")).string_len(16).not_null())
                .col(ColumnDef::new(a("election_id")).uuid().null())
                .col(ColumnDef::new(a("starts_on")).date().not_null())
                .col(ColumnDef::new(a("ends_on")).date().null())
                .col(ColumnDef::new(a("ended_on")).date().null())
                .col(ColumnDef::new(a("end_reason")).string_len(500).null())
                .col(ColumnDef::new(a("role_assignment_id")).uuid().null())
                .col(ColumnDef::new(a("created_by")).uuid().not_null())
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
                .to_owned(),
        )
        .await?;
        for i in term_indexes() {
            m.create_index(i).await?;
        }
        add_columns(
            m,
            "role_assignments",
            [
                nullable("valid_until", ColumnDef::timestamp_with_time_zone),
                nullable("source_term_id", ColumnDef::uuid),
            ],
        )
        .await?;
        m.create_index(index("role_assignments", &["valid_until"], false))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_role_assignments_valid_until")
                .table(a("role_assignments"))
                .to_owned(),
        )
        .await?;
        drop_columns(m, "role_assignments", &["source_term_id", "valid_until"]).await?;
        m.drop_table(Table::drop().table(a(TABLE)).to_owned()).await
    }
}
