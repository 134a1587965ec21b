//! Where a ticket is, as the mini-program's `wx.chooseLocation` gives it (GCJ-02 latitude and
//! longitude; the address text stays in `location`), and which ticket a duplicate was merged
//! into, and on the timeline the other ticket a step concerns (both sides of a merge).
//! `(category_id, latitude, longitude)` serves the nearby search: one category, then a
//! latitude band of the bounding box; `merged_into_id` lists a ticket's merged duplicates.
//!
//! `merged_into_id` has no foreign key: SQLite cannot add one to an existing table. The service
//! only ever sets it to a ticket it has just read, and tickets are never deleted.

use sea_orm_migration::prelude::*;

use crate::util::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "tickets";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for col in ["latitude", "longitude"] {
            m.alter_table(
                Table::alter()
                    .table(Alias::new(TABLE))
                    .add_column(ColumnDef::new(Alias::new(col)).double().null())
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Alias::new(TABLE))
                .add_column(ColumnDef::new(Alias::new("merged_into_id")).uuid().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Alias::new("ticket_events"))
                .add_column(
                    ColumnDef::new(Alias::new("related_ticket_id"))
                        .uuid()
                        .null(),
                )
                .to_owned(),
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
        m.alter_table(
            Table::alter()
                .table(Alias::new("ticket_events"))
                .drop_column(Alias::new("related_ticket_id"))
                .to_owned(),
        )
        .await?;
        for col in ["merged_into_id", "longitude", "latitude"] {
            m.alter_table(
                Table::alter()
                    .table(Alias::new(TABLE))
                    .drop_column(Alias::new(col))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
