//! A resident reads the proposals addressed to their building, compound and community: one
//! branch per place, `scope_id = ?` newest first. `(scope_id, step, id)` answers that only by
//! sorting every proposal of the place; `(scope_id, id)` walks a page of it backward. (The step
//! filter keeps `(scope_id, step, id)`.)

use sea_orm_migration::prelude::*;

use crate::util::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index("proposals", &["scope_id", "id"], false))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_proposals_scope_id_id")
                .table(Alias::new("proposals"))
                .to_owned(),
        )
        .await
    }
}
