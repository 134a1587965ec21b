//! Who holds a role where: the accounts to tell of something that happened in a place.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::access::policy::Role;
use crate::platform::error::AppResult;
use entity::role_assignment;

/// The users holding `role` on any of `scopes`.
pub async fn holders<C: ConnectionTrait>(
    db: &C,
    role: Role,
    scopes: &[Uuid],
) -> AppResult<Vec<Uuid>> {
    if scopes.is_empty() {
        return Ok(Vec::new());
    }
    Ok(role_assignment::Entity::find()
        .select_only()
        .column(role_assignment::Column::UserId)
        .filter(role_assignment::Column::Role.eq(role.as_str()))
        .filter(role_assignment::Column::ScopeId.is_in(scopes.iter().copied()))
        .into_tuple()
        .all(db)
        .await?)
}

/// Those of `users` holding any role but `role` anywhere (staff and leaders among residents).
pub async fn users_with_other_roles<C: ConnectionTrait>(
    db: &C,
    role: Role,
    users: &[Uuid],
) -> AppResult<Vec<Uuid>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    Ok(role_assignment::Entity::find()
        .select_only()
        .column(role_assignment::Column::UserId)
        .filter(role_assignment::Column::Role.ne(role.as_str()))
        .filter(role_assignment::Column::UserId.is_in(users.iter().copied()))
        .into_tuple()
        .all(db)
        .await?)
}
