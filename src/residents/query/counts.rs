//! How much of the roster hangs off a place, for the territory's deletion guard.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::platform::error::AppResult;
use entity::resident;

/// How many residents the roster holds in the household `id`.
pub async fn residents_in_household<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<u64> {
    Ok(resident::Entity::find()
        .filter(resident::Column::HouseholdId.eq(id))
        .count(db)
        .await?)
}
