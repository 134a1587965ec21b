//! Indexes that let a page of tickets walk one index per scope term in sort order: for every
//! column a scope can name, `(column, id)` (newest first) and `(column, deadline_at, id)` (by due
//! date). They replace the single-column indexes they start with.

use sea_orm_migration::prelude::*;

use crate::util::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SCOPE_COLUMNS: [&str; 6] = [
    "street_id",
    "community_id",
    "compound_id",
    "building_id",
    "assigned_company_id",
    "requester_user_id",
];

/// Single-column indexes of the tickets migration that the composites make redundant.
const REPLACED: [&str; 5] = [
    "street_id",
    "compound_id",
    "building_id",
    "assigned_company_id",
    "requester_user_id",
];

fn drop(col: &str) -> IndexDropStatement {
    Index::drop()
        .name(format!("ix_tickets_{col}"))
        .table(Alias::new("tickets"))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in SCOPE_COLUMNS {
            m.create_index(index("tickets", &[col, "id"], false))
                .await?;
            m.create_index(index("tickets", &[col, "deadline_at", "id"], false))
                .await?;
        }
        for col in REPLACED {
            m.drop_index(drop(col)).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in REPLACED {
            m.create_index(index("tickets", &[col], false)).await?;
        }
        for col in SCOPE_COLUMNS {
            for name in [
                format!("ix_tickets_{col}_id"),
                format!("ix_tickets_{col}_deadline_at_id"),
            ] {
                m.drop_index(
                    Index::drop()
                        .name(name)
                        .table(Alias::new("tickets"))
                        .to_owned(),
                )
                .await?;
            }
        }
        Ok(())
    }
}
