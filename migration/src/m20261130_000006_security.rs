//! Security hardening:
//! - audit events keep a snapshot of who acted (display name and username at the time), so an
//!   erased staff account leaves a log that still says who did what;
//! - an ID number is unique per community (each 居委会 keeps its own roster) instead of across
//!   the deployment, so a `409` or an import's conflict cannot tell a community's staff that a
//!   number is registered in another community or street.

use sea_orm_migration::prelude::*;

use crate::util::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in ["actor_name", "actor_username"] {
            m.alter_table(
                Table::alter()
                    .table(Alias::new("audit_events"))
                    .add_column(ColumnDef::new(Alias::new(col)).string().null())
                    .to_owned(),
            )
            .await?;
        }
        m.get_connection()
            .execute_unprepared(
                "UPDATE audit_events SET \
                 actor_name = (SELECT display_name FROM users WHERE users.id = audit_events.actor_id), \
                 actor_username = (SELECT username FROM users WHERE users.id = audit_events.actor_id)",
            )
            .await?;
        m.drop_index(
            Index::drop()
                .name("ix_residents_id_number_hash")
                .table(Alias::new("residents"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "residents",
            &["community_id", "id_number_hash"],
            true,
        ))
        .await?;
        // Exact-match lookups by ID number (the import) still need the hash alone.
        m.create_index(index("residents", &["id_number_hash"], false))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "ix_residents_id_number_hash",
            "ix_residents_community_id_id_number_hash",
        ] {
            m.drop_index(
                Index::drop()
                    .name(name)
                    .table(Alias::new("residents"))
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(index("residents", &["id_number_hash"], true))
            .await?;
        for col in ["actor_name", "actor_username"] {
            m.alter_table(
                Table::alter()
                    .table(Alias::new("audit_events"))
                    .drop_column(Alias::new(col))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
