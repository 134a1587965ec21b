//! A resident's tags kept on its row as well (`residents.tags_joined`: the tags joined by the
//! unit separator U+001F, null when there are none), so a page of residents reads them with the
//! row instead of one aggregate over `resident_tags` per row (issue 12: that aggregate was most
//! of a page's PostgreSQL work). `resident_tags` stays the truth the tag filter walks; every
//! writer of it refreshes the column in the same transaction. Filled here from `resident_tags`.

use sea_orm_migration::prelude::*;

use crate::util::{add_columns, drop_columns, nullable};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(m, "residents", [nullable("tags_joined", ColumnDef::text)]).await?;
        let joined = match m.get_database_backend() {
            sea_orm::DbBackend::Postgres => "string_agg(t.tag, chr(31))",
            _ => "group_concat(t.tag, char(31))",
        };
        m.get_connection()
            .execute_unprepared(&format!(
                "UPDATE residents SET tags_joined = (SELECT {joined} FROM resident_tags t \
                 WHERE t.resident_id = residents.id) \
                 WHERE EXISTS (SELECT 1 FROM resident_tags t WHERE t.resident_id = residents.id)"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(m, "residents", &["tags_joined"]).await
    }
}
