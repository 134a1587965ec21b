//! The accounts list (`GET /users`) as two index walks merged by id, instead of a walk of every
//! account tested against the role assignments:
//!
//! - the accounts with a role in the caller's street: `DISTINCT user_id` of a range of
//!   `role_assignments (street_id, user_id)`, which comes out in id order;
//! - the staff accounts without any role yet: a walk of the partial index `users (id)` over the
//!   accounts that are neither a resident's WeChat account nor the deployment administrator
//!   (residents' accounts are the bulk of `users` and are never in this branch).
//!
//! The partial index's predicate is written as literals, and the query states the same
//! literals: a planner uses a partial index only when it can prove the query's condition implies
//! the index's, which it cannot for a bound parameter.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::util::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The predicate of the partial index per database; `src/identity/query/users.rs` repeats it
/// word for word.
fn staff_without_role(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Sqlite => "coalesce(wechat_openid, '') = '' AND is_superadmin = FALSE",
        _ => "wechat_openid IS NULL AND is_superadmin = FALSE",
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index("role_assignments", &["street_id", "user_id"], false))
            .await?;
        let predicate = staff_without_role(m.get_database_backend());
        m.get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX ix_users_staff_id ON users (id) WHERE {predicate}"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX ix_users_staff_id")
            .await?;
        m.drop_index(
            Index::drop()
                .name("ix_role_assignments_street_id_user_id")
                .table(Alias::new("role_assignments"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
