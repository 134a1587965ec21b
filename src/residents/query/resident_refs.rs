//! A resident as another domain names one: who they are on the roster, where they live, and
//! their account. Nothing else of the record.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::platform::error::AppResult;
use entity::resident;

/// A resident's roster entry, as far as naming and placing them goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentRef {
    pub id: Uuid,
    pub name: String,
    pub household_id: Uuid,
    /// Their account, when one is bound.
    pub user_id: Option<Uuid>,
}

impl From<resident::Model> for ResidentRef {
    fn from(r: resident::Model) -> Self {
        ResidentRef {
            id: r.id,
            name: r.name,
            household_id: r.household_id,
            user_id: r.user_id,
        }
    }
}

/// The resident bound to the account `user_id`, if any.
pub async fn of_account<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> AppResult<Option<ResidentRef>> {
    Ok(resident::Entity::find()
        .filter(resident::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .map(Into::into))
}

/// The resident `id` if they live in the compound `compound_id`.
pub async fn in_compound<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    compound_id: Uuid,
) -> AppResult<Option<ResidentRef>> {
    Ok(resident::Entity::find_by_id(id)
        .filter(resident::Column::CompoundId.eq(compound_id))
        .one(db)
        .await?
        .map(Into::into))
}

/// A resident and the places they live in (for checking that they live under a node).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedResident {
    pub id: Uuid,
    pub name: String,
    pub user_id: Option<Uuid>,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Uuid,
    pub building_id: Uuid,
    pub household_id: Uuid,
    pub gender: Option<resident::Gender>,
}

/// The resident `id` and where they live, if there is one.
pub async fn placed<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<Option<PlacedResident>> {
    Ok(resident::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|r| PlacedResident {
            id: r.id,
            name: r.name,
            user_id: r.user_id,
            street_id: r.street_id,
            community_id: r.community_id,
            compound_id: r.compound_id,
            building_id: r.building_id,
            household_id: r.household_id,
            gender: r.gender,
        }))
}
