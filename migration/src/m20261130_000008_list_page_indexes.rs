//! Indexes that make every keyset list cost one page, whatever the filter and the caller's scope.
//!
//! A list page is `<filter> AND <column> = ? AND id > ? ORDER BY id LIMIT n` (one branch per
//! scope term, or on the territory filter, see `services::territory::keyset_page_as`). With a
//! `(column, id)` index for every column a scope term or an equality filter can name, each branch
//! is one index range read in order and stops after `n` rows; with a single-column index the database either walks the primary key
//! filtering rows or sorts every row of the range. Status filters of the outboxes get
//! `(scope column, status, id)`. The composites replace the single-column indexes they start with.

use sea_orm_migration::prelude::*;

use crate::util::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(table, leading columns)`: an index on the columns followed by `id` is created.
const COMPOSITES: &[(&str, &[&str])] = &[
    ("residents", &["street_id"]),
    ("residents", &["community_id"]),
    ("residents", &["compound_id"]),
    ("residents", &["building_id"]),
    ("residents", &["household_id"]),
    ("residents", &["phone_hash"]),
    ("households", &["street_id"]),
    ("households", &["community_id"]),
    ("households", &["compound_id"]),
    ("households", &["building_id"]),
    ("buildings", &["street_id"]),
    ("buildings", &["community_id"]),
    ("buildings", &["compound_id"]),
    ("compounds", &["street_id"]),
    ("compounds", &["community_id"]),
    ("compounds", &["property_company_id"]),
    ("grids", &["street_id"]),
    ("grids", &["community_id"]),
    ("communities", &["street_id"]),
    ("property_companies", &["street_id"]),
    ("role_assignments", &["street_id"]),
    ("role_assignments", &["scope_id"]),
    ("role_assignments", &["user_id"]),
    ("audit_events", &["street_id"]),
    ("audit_events", &["community_id"]),
    ("audit_events", &["resident_id"]),
    ("audit_events", &["actor_id"]),
    ("notifications", &["street_id"]),
    ("notifications", &["community_id"]),
    ("notifications", &["ticket_id"]),
    ("notifications", &["street_id", "status"]),
    ("notifications", &["community_id", "status"]),
    ("binding_requests", &["street_id"]),
    ("binding_requests", &["community_id"]),
    ("binding_requests", &["compound_id"]),
    ("binding_requests", &["building_id"]),
    ("binding_requests", &["household_id"]),
    ("binding_requests", &["user_id"]),
    ("binding_requests", &["street_id", "status"]),
    ("binding_requests", &["community_id", "status"]),
];

/// Non-unique indexes of earlier migrations that a composite above starts with: `(table, name)`.
const REPLACED: &[(&str, &[&str])] = &[
    ("residents", &["street_id"]),
    ("residents", &["community_id"]),
    ("residents", &["compound_id"]),
    ("residents", &["building_id"]),
    ("residents", &["household_id"]),
    ("residents", &["phone_hash"]),
    ("households", &["street_id"]),
    ("households", &["community_id"]),
    ("households", &["compound_id"]),
    ("buildings", &["street_id"]),
    ("buildings", &["community_id"]),
    ("compounds", &["street_id"]),
    ("compounds", &["property_company_id"]),
    ("grids", &["street_id"]),
    ("role_assignments", &["street_id"]),
    ("role_assignments", &["scope_id"]),
    ("audit_events", &["street_id"]),
    ("audit_events", &["community_id"]),
    ("audit_events", &["resident_id"]),
    ("notifications", &["street_id"]),
    ("notifications", &["community_id"]),
    ("notifications", &["ticket_id"]),
    ("binding_requests", &["household_id"]),
    ("binding_requests", &["user_id"]),
    ("binding_requests", &["community_id", "status"]),
];

fn with_id(cols: &[&str]) -> Vec<String> {
    cols.iter()
        .map(|c| String::from(*c))
        .chain([String::from("id")])
        .collect()
}

fn drop(table: &str, cols: &[&str]) -> IndexDropStatement {
    Index::drop()
        .name(format!("ix_{table}_{}", cols.join("_")))
        .table(Alias::new(table))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, cols) in COMPOSITES {
            let cols = with_id(cols);
            let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
            m.create_index(index(table, &cols, false)).await?;
        }
        for (table, cols) in REPLACED {
            m.drop_index(drop(table, cols)).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, cols) in REPLACED {
            m.create_index(index(table, cols, false)).await?;
        }
        for (table, cols) in COMPOSITES {
            let cols = with_id(cols);
            let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
            m.drop_index(drop(table, &cols)).await?;
        }
        Ok(())
    }
}
