//! Where a ticket is, as the mini-program's `wx.chooseLocation` gives it (GCJ-02 latitude and
//! longitude; the address text stays in `location`), and which ticket a duplicate was merged
//! into, and on the timeline the other ticket a step concerns (both sides of a merge).
//! `(category_id, latitude, longitude)` serves the nearby search: one category, then a
//! latitude band of the bounding box; `merged_into_id` lists a ticket's merged duplicates.
//!
//! `merged_into_id` has no foreign key: SQLite cannot add one to an existing table. The service
//! only ever sets it to a ticket it has just read, and tickets are never deleted.

use sea_orm_migration::prelude::*;

use crate::util::{add_columns, drop_columns, index, nullable};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "tickets";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            m,
            TABLE,
            [
                nullable("latitude", ColumnDef::double),
                nullable("longitude", ColumnDef::double),
                nullable("merged_into_id", ColumnDef::uuid),
            ],
        )
        .await?;
        add_columns(
            m,
            "ticket_events",
            [nullable("related_ticket_id", ColumnDef::uuid)],
        )
        .await?;
        m.create_index(index(
            TABLE,
            &["category_id", "latitude", "longitude"],
            false,
        ))
        .await?;
        m.create_index(index(TABLE, &["merged_into_id"], false))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for ix in [
            "ix_tickets_merged_into_id",
            "ix_tickets_category_id_latitude_longitude",
        ] {
            m.drop_index(Index::drop().name(ix).table(Alias::new(TABLE)).to_owned())
                .await?;
        }
        drop_columns(m, "ticket_events", &["related_ticket_id"]).await?;
        drop_columns(m, TABLE, &["merged_into_id", "longitude", "latitude"]).await
    }
}
