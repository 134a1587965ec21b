//! Households and the places above them, as other domains show where someone lives.

use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};
use uuid::Uuid;

use crate::access::policy::{self, Action};
use crate::access::Actor;
use crate::platform::error::AppResult;
use entity::{building, community, compound, household, street};

/// A household: its unit and room, and the places above it.
pub type Household = household::Model;

/// The household `id`, if there is one.
pub async fn household<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<Option<Household>> {
    Ok(household::Entity::find_by_id(id).one(db).await?)
}

/// The household `id` if `actor` may do `action` on it (404 otherwise).
pub async fn visible_household<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    action: Action,
    id: Uuid,
) -> AppResult<Household> {
    policy::find_visible::<household::Entity, _>(db, actor, action, id).await
}

/// Names of the places above a household, for screens that show where someone lives.
#[derive(Debug, Clone, Default)]
pub struct PlaceNames {
    pub street_name: String,
    pub community_name: String,
    pub compound_name: String,
    pub building_name: String,
}

/// The names of a household's street, community, compound and building (empty where a row is
/// missing, which the foreign keys forbid).
pub async fn place_names<C: ConnectionTrait>(db: &C, h: &Household) -> AppResult<PlaceNames> {
    let name = |o: Option<String>| o.unwrap_or_default();
    Ok(PlaceNames {
        street_name: name(
            street::Entity::find_by_id(h.street_id)
                .select_only()
                .column(street::Column::Name)
                .into_tuple()
                .one(db)
                .await?,
        ),
        community_name: name(
            community::Entity::find_by_id(h.community_id)
                .select_only()
                .column(community::Column::Name)
                .into_tuple()
                .one(db)
                .await?,
        ),
        compound_name: name(
            compound::Entity::find_by_id(h.compound_id)
                .select_only()
                .column(compound::Column::Name)
                .into_tuple()
                .one(db)
                .await?,
        ),
        building_name: name(
            building::Entity::find_by_id(h.building_id)
                .select_only()
                .column(building::Column::Name)
                .into_tuple()
                .one(db)
                .await?,
        ),
    })
}
