//! Cancelling a proposal past its decision (raising, implementing, evaluating: money pledged,
//! work begun on a community's vote) takes two people: the first cancel records the request
//! (`cancel_requested_by`, `cancel_requested_at`), a council member of the community other than
//! the requester co-signs it. Any move of the proposal's step clears a pending request.

use sea_orm_migration::prelude::*;

use crate::util::{add_columns, drop_columns, nullable};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            m,
            "proposals",
            [
                nullable("cancel_requested_by", ColumnDef::uuid),
                nullable("cancel_requested_at", ColumnDef::timestamp_with_time_zone),
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            m,
            "proposals",
            &["cancel_requested_at", "cancel_requested_by"],
        )
        .await
    }
}
