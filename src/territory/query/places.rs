//! The territory as the roster reads it: households and compounds residents live in, the
//! buildings a roster file names, and the names of where someone lives.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::access::policy::{self, Action};
use crate::access::Actor;
use crate::platform::error::AppResult;
use crate::territory::model::{Compound, Household, HouseholdNames};
use entity::{building, community, compound, household};

/// Ids per `IN (...)` list.
const LOOKUP_CHUNK: usize = 500;

/// A household to put someone in: 404 unless `read` reaches it, 403 unless `write` does.
pub async fn authorize_household<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    read: Action,
    write: Action,
    id: Uuid,
) -> AppResult<Household> {
    policy::authorize_parent::<household::Entity, _>(db, actor, read, write, id)
        .await
        .map(Household::from)
}

/// A household by id, whoever may see it (`None` when there is none).
pub async fn household<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<Option<Household>> {
    Ok(household::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(Household::from))
}

/// A compound to write under: 404 unless `read` reaches it, 403 unless `write` does.
pub async fn authorize_compound<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    read: Action,
    write: Action,
    id: Uuid,
) -> AppResult<Compound> {
    let c = policy::authorize_parent::<compound::Entity, _>(db, actor, read, write, id).await?;
    Ok(Compound {
        id: c.id,
        street_id: c.street_id,
        community_id: c.community_id,
    })
}

/// The community `id` if `action` lets the caller see it, else 404.
pub async fn visible_community<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    action: Action,
    id: Uuid,
) -> AppResult<Uuid> {
    Ok(
        policy::find_visible::<community::Entity, _>(db, actor, action, id)
            .await?
            .id,
    )
}

/// Whether `action` reaches the community `id` for the caller.
pub async fn reaches_community<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    action: Action,
    id: Uuid,
) -> AppResult<bool> {
    policy::reaches::<community::Entity, _>(db, actor, action, id).await
}

/// The buildings of a compound by name (trimmed).
pub async fn buildings_by_name<C: ConnectionTrait>(
    db: &C,
    compound_id: Uuid,
) -> AppResult<HashMap<String, Uuid>> {
    Ok(building::Entity::find()
        .filter(building::Column::CompoundId.eq(compound_id))
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.name.trim().to_string(), b.id))
        .collect())
}

/// The households of `buildings`, by (building, 单元, 房号).
pub async fn households_of_buildings<C: ConnectionTrait>(
    db: &C,
    mut buildings: Vec<Uuid>,
) -> AppResult<HashMap<(Uuid, String, String), Uuid>> {
    buildings.sort_unstable();
    buildings.dedup();
    let mut households: HashMap<(Uuid, String, String), Uuid> = HashMap::new();
    for chunk in buildings.chunks(LOOKUP_CHUNK) {
        let found: Vec<(Uuid, Uuid, String, String)> = household::Entity::find()
            .select_only()
            .column(household::Column::Id)
            .column(household::Column::BuildingId)
            .column(household::Column::Unit)
            .column(household::Column::Room)
            .filter(household::Column::BuildingId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        for (id, b, unit, room) in found {
            households.insert((b, unit, room), id);
        }
    }
    Ok(households)
}

/// The 单元 and 房号 of the households `ids`, by household id.
pub async fn units_and_rooms<C: ConnectionTrait>(
    db: &C,
    mut ids: Vec<Uuid>,
) -> AppResult<HashMap<Uuid, (String, String)>> {
    ids.sort_unstable();
    ids.dedup();
    let mut households: HashMap<Uuid, (String, String)> = HashMap::new();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        let found: Vec<(Uuid, String, String)> = household::Entity::find()
            .select_only()
            .column(household::Column::Id)
            .column(household::Column::Unit)
            .column(household::Column::Room)
            .filter(household::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        households.extend(found.into_iter().map(|(id, u, r)| (id, (u, r))));
    }
    Ok(households)
}

/// The names of the buildings `ids`, by building id.
pub async fn building_names<C: ConnectionTrait>(
    db: &C,
    mut ids: Vec<Uuid>,
) -> AppResult<HashMap<Uuid, String>> {
    ids.sort_unstable();
    ids.dedup();
    let mut buildings: HashMap<Uuid, String> = HashMap::new();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        let found: Vec<(Uuid, String)> = building::Entity::find()
            .select_only()
            .column(building::Column::Id)
            .column(building::Column::Name)
            .filter(building::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        buildings.extend(found);
    }
    Ok(buildings)
}

/// The street and community of the deepest of a building, a compound and a community that
/// exists (`None`s when none does).
pub async fn street_and_community<C: ConnectionTrait>(
    db: &C,
    building_id: Option<Uuid>,
    compound_id: Option<Uuid>,
    community_id: Option<Uuid>,
) -> AppResult<(Option<Uuid>, Option<Uuid>)> {
    if let Some(id) = building_id {
        if let Some(b) = building::Entity::find_by_id(id).one(db).await? {
            return Ok((Some(b.street_id), Some(b.community_id)));
        }
    }
    if let Some(id) = compound_id {
        if let Some(c) = compound::Entity::find_by_id(id).one(db).await? {
            return Ok((Some(c.street_id), Some(c.community_id)));
        }
    }
    if let Some(id) = community_id {
        if let Some(c) = community::Entity::find_by_id(id).one(db).await? {
            return Ok((Some(c.street_id), Some(c.id)));
        }
    }
    Ok((None, None))
}

/// Where the households `ids` lie, by name, by household id: four statements, whatever the
/// count.
pub async fn household_names<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, HouseholdNames>> {
    let households: Vec<(Uuid, Uuid, Uuid, Uuid, String, String)> = household::Entity::find()
        .select_only()
        .column(household::Column::Id)
        .column(household::Column::CommunityId)
        .column(household::Column::CompoundId)
        .column(household::Column::BuildingId)
        .column(household::Column::Unit)
        .column(household::Column::Room)
        .filter(household::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    let names = |rows: Vec<(Uuid, String)>| rows.into_iter().collect::<HashMap<Uuid, String>>();
    let communities = names(
        community::Entity::find()
            .select_only()
            .column(community::Column::Id)
            .column(community::Column::Name)
            .filter(community::Column::Id.is_in(households.iter().map(|h| h.1)))
            .into_tuple()
            .all(db)
            .await?,
    );
    let compounds = names(
        compound::Entity::find()
            .select_only()
            .column(compound::Column::Id)
            .column(compound::Column::Name)
            .filter(compound::Column::Id.is_in(households.iter().map(|h| h.2)))
            .into_tuple()
            .all(db)
            .await?,
    );
    let buildings = names(
        building::Entity::find()
            .select_only()
            .column(building::Column::Id)
            .column(building::Column::Name)
            .filter(building::Column::Id.is_in(households.iter().map(|h| h.3)))
            .into_tuple()
            .all(db)
            .await?,
    );
    Ok(households
        .into_iter()
        .map(|(id, community, compound, building, unit, room)| {
            let name = |m: &HashMap<Uuid, String>, k: Uuid| m.get(&k).cloned().unwrap_or_default();
            (
                id,
                HouseholdNames {
                    community_name: name(&communities, community),
                    compound_name: name(&compounds, compound),
                    building_name: name(&buildings, building),
                    unit,
                    room,
                },
            )
        })
        .collect())
}
