//! What of identity hangs off a territory object, for the territory's deletion guard: binding
//! requests naming a household, role assignments on a place.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::platform::error::AppResult;
use entity::{binding_request, role_assignment};

/// How many binding requests (of any status) name the household `id`.
pub async fn binding_requests_for_household<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> AppResult<u64> {
    Ok(binding_request::Entity::find()
        .filter(binding_request::Column::HouseholdId.eq(id))
        .count(db)
        .await?)
}

/// How many role assignments are scoped to the object `id` (of any territory table).
pub async fn role_assignments_on<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<u64> {
    Ok(role_assignment::Entity::find()
        .filter(role_assignment::Column::ScopeId.eq(id))
        .count(db)
        .await?)
}
