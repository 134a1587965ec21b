//! Places by id, as other domains need them: a community or compound and where it lies, the
//! names of compounds and buildings, the compound of a household, whether a building or a
//! property company belongs where it is named, the grids covering a place, and whether a
//! community lies in a scope. Nothing about who lives anywhere.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::access::policy::{self, Action, Scope};
use crate::access::Actor;
use crate::platform::error::AppResult;
use entity::{building, community, compound, grid_area, household, property_company};

/// How many ids go into one `IN (…)` list.
const LOOKUP_CHUNK: usize = 1000;

/// A community and the street it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommunityRef {
    pub id: Uuid,
    pub street_id: Uuid,
}

/// The community `id`, if there is one.
pub async fn community<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<Option<CommunityRef>> {
    Ok(community::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|c| CommunityRef {
            id: c.id,
            street_id: c.street_id,
        }))
}

/// Whether the community `id` lies in `scope`, itself or through one of its compounds.
pub async fn community_in_scope<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    id: Uuid,
) -> AppResult<bool> {
    let direct = community::Entity::find_by_id(id)
        .filter(scope.condition::<community::Entity>())
        .count(db)
        .await?;
    let via_compound = compound::Entity::find()
        .filter(compound::Column::CommunityId.eq(id))
        .filter(scope.condition::<compound::Entity>())
        .count(db)
        .await?;
    Ok(direct + via_compound > 0)
}

/// Whether `action` of `user` reaches the community `id` (see `access::policy::reaches`).
pub async fn community_reached<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    action: Action,
    id: Uuid,
) -> AppResult<bool> {
    policy::reaches::<community::Entity, _>(db, user, action, id).await
}

/// Whether any of `households` lies in the community `community_id`.
pub async fn any_household_in<C: ConnectionTrait>(
    db: &C,
    households: Vec<Uuid>,
    community_id: Uuid,
) -> AppResult<bool> {
    if households.is_empty() {
        return Ok(false);
    }
    Ok(household::Entity::find()
        .filter(household::Column::Id.is_in(households))
        .filter(household::Column::CommunityId.eq(community_id))
        .count(db)
        .await?
        > 0)
}

/// The compound of the household `id`, if there is such a household.
pub async fn household_compound<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<Option<Uuid>> {
    Ok(household::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|h| h.compound_id))
}

/// The household `id` with the places it lies in (`id` is the household's, `building_id` its
/// building), if there is such a household.
pub async fn household_place<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<Option<PlaceRef>> {
    Ok(household::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|h| PlaceRef {
            level: policy::Level::Household,
            id: h.id,
            street_id: h.street_id,
            community_id: Some(h.community_id),
            compound_id: Some(h.compound_id),
            building_id: Some(h.building_id),
        }))
}

/// Whether the property company `id` works in the street `street_id`.
pub async fn property_company_in_street<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    street_id: Uuid,
) -> AppResult<bool> {
    Ok(property_company::Entity::find_by_id(id)
        .filter(property_company::Column::StreetId.eq(street_id))
        .count(db)
        .await?
        > 0)
}

/// The names of the compounds `ids` (those that exist).
pub async fn compound_names<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = Uuid>,
) -> AppResult<HashMap<Uuid, String>> {
    names_of::<_, compound::Entity>(db, ids, compound::Column::Id, compound::Column::Name).await
}

/// The names of the buildings `ids` (those that exist).
pub async fn building_names<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = Uuid>,
) -> AppResult<HashMap<Uuid, String>> {
    names_of::<_, building::Entity>(db, ids, building::Column::Id, building::Column::Name).await
}

async fn names_of<C, E>(
    db: &C,
    ids: impl IntoIterator<Item = Uuid>,
    id_col: E::Column,
    name_col: E::Column,
) -> AppResult<HashMap<Uuid, String>>
where
    C: ConnectionTrait,
    E: EntityTrait,
{
    let mut ids: Vec<Uuid> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        let found: Vec<(Uuid, String)> = E::find()
            .select_only()
            .column(id_col)
            .column(name_col)
            .filter(id_col.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(found);
    }
    Ok(out)
}

/// A compound and the community and street it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompoundRef {
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
}

impl From<compound::Model> for CompoundRef {
    fn from(c: compound::Model) -> Self {
        CompoundRef {
            id: c.id,
            street_id: c.street_id,
            community_id: c.community_id,
        }
    }
}

/// The compound `id`, if there is one.
pub async fn compound<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<Option<CompoundRef>> {
    Ok(compound::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(Into::into))
}

/// The compound `id` if `user` may do `action` under it: 404 unless `read` reaches it, 403
/// unless `action` does (see `access::policy::authorize_parent`).
pub async fn authorize_compound<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    read: Action,
    action: Action,
    id: Uuid,
) -> AppResult<CompoundRef> {
    Ok(
        policy::authorize_parent::<compound::Entity, _>(db, user, read, action, id)
            .await?
            .into(),
    )
}

/// A place of the territory (a street, community, compound or building) with the places above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaceRef {
    pub level: policy::Level,
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
}

/// The place `(level, id)` if the caller may do `action` there: 404 unless they can see it (the
/// level's read action), 403 unless `action` reaches it. Streets, communities, compounds and
/// buildings; any other level is 404.
pub async fn authorize_place<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    level: policy::Level,
    id: Uuid,
    action: Action,
) -> AppResult<PlaceRef> {
    use policy::Level as L;
    let place = |street_id, community_id, compound_id, building_id| PlaceRef {
        level,
        id,
        street_id,
        community_id,
        compound_id,
        building_id,
    };
    Ok(match level {
        L::Street => {
            let s = policy::authorize_parent::<entity::street::Entity, _>(
                db,
                actor,
                Action::StreetRead,
                action,
                id,
            )
            .await?;
            place(s.id, None, None, None)
        }
        L::Community => {
            let c = policy::authorize_parent::<community::Entity, _>(
                db,
                actor,
                Action::CommunityRead,
                action,
                id,
            )
            .await?;
            place(c.street_id, Some(c.id), None, None)
        }
        L::Compound => {
            let c = policy::authorize_parent::<compound::Entity, _>(
                db,
                actor,
                Action::CompoundRead,
                action,
                id,
            )
            .await?;
            place(c.street_id, Some(c.community_id), Some(c.id), None)
        }
        L::Building => {
            let b = policy::authorize_parent::<building::Entity, _>(
                db,
                actor,
                Action::BuildingRead,
                action,
                id,
            )
            .await?;
            place(
                b.street_id,
                Some(b.community_id),
                Some(b.compound_id),
                Some(b.id),
            )
        }
        _ => return Err(crate::platform::error::AppError::NotFound),
    })
}

/// The place `(level, id)` with the places above it, if it exists, whoever asks: for a domain
/// that has authorized its caller another way (an election creating its poll). Streets,
/// communities, compounds and buildings; any other level is None.
pub async fn place<C: ConnectionTrait>(
    db: &C,
    level: policy::Level,
    id: Uuid,
) -> AppResult<Option<PlaceRef>> {
    use policy::Level as L;
    let place = |street_id, community_id, compound_id, building_id| PlaceRef {
        level,
        id,
        street_id,
        community_id,
        compound_id,
        building_id,
    };
    Ok(match level {
        L::Street => entity::street::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|s| place(s.id, None, None, None)),
        L::Community => community::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|c| place(c.street_id, Some(c.id), None, None)),
        L::Compound => compound::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|c| place(c.street_id, Some(c.community_id), Some(c.id), None)),
        L::Building => building::Entity::find_by_id(id).one(db).await?.map(|b| {
            place(
                b.street_id,
                Some(b.community_id),
                Some(b.compound_id),
                Some(b.id),
            )
        }),
        _ => None,
    })
}

/// Whether `action` reaches the place `(level, id)` for the caller.
pub async fn place_reached<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    level: policy::Level,
    id: Uuid,
    action: Action,
) -> AppResult<bool> {
    use policy::Level as L;
    match level {
        L::Street => policy::reaches::<entity::street::Entity, _>(db, actor, action, id).await,
        L::Community => policy::reaches::<community::Entity, _>(db, actor, action, id).await,
        L::Compound => policy::reaches::<compound::Entity, _>(db, actor, action, id).await,
        L::Building => policy::reaches::<building::Entity, _>(db, actor, action, id).await,
        _ => Ok(false),
    }
}

/// Whether any of `buildings` or `compounds` lies under the place `(level, place)`.
pub async fn any_under<C: ConnectionTrait>(
    db: &C,
    level: policy::Level,
    place: Uuid,
    buildings: Vec<Uuid>,
    compounds: Vec<Uuid>,
) -> AppResult<bool> {
    if !buildings.is_empty() {
        if let Some(col) = <building::Entity as policy::Scoped>::column(level) {
            let n = building::Entity::find()
                .filter(building::Column::Id.is_in(buildings))
                .filter(col.eq(place))
                .count(db)
                .await?;
            if n > 0 {
                return Ok(true);
            }
        }
    }
    if !compounds.is_empty() {
        if let Some(col) = <compound::Entity as policy::Scoped>::column(level) {
            let n = compound::Entity::find()
                .filter(compound::Column::Id.is_in(compounds))
                .filter(col.eq(place))
                .count(db)
                .await?;
            if n > 0 {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Whether the building `id` lies at or under the place `(level, place)` of the territory.
pub async fn building_under<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    level: policy::Level,
    place: Uuid,
) -> AppResult<bool> {
    let Some(col) = <building::Entity as policy::Scoped>::column(level) else {
        return Ok(false);
    };
    Ok(building::Entity::find_by_id(id)
        .filter(col.eq(place))
        .count(db)
        .await?
        > 0)
}

/// The compound the building `id` stands in, if there is such a building.
pub async fn building_compound<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<Option<Uuid>> {
    Ok(building::Entity::find_by_id(id)
        .select_only()
        .column(building::Column::CompoundId)
        .into_tuple()
        .one(db)
        .await?)
}

/// Whether the building `id` stands in the compound `compound_id`.
pub async fn building_in_compound<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    compound_id: Uuid,
) -> AppResult<bool> {
    Ok(building::Entity::find_by_id(id)
        .filter(building::Column::CompoundId.eq(compound_id))
        .count(db)
        .await?
        > 0)
}

/// The grids whose areas cover the compound `compound_id` as a whole or the building
/// `building_id` in it.
pub async fn grids_covering<C: ConnectionTrait>(
    db: &C,
    compound_id: Uuid,
    building_id: Option<Uuid>,
) -> AppResult<Vec<Uuid>> {
    let mut cond = Condition::any().add(grid_area::Column::CompoundId.eq(compound_id));
    if let Some(b) = building_id {
        cond = cond.add(grid_area::Column::BuildingId.eq(b));
    }
    Ok(grid_area::Entity::find()
        .select_only()
        .column(grid_area::Column::GridId)
        .filter(cond)
        .into_tuple()
        .all(db)
        .await?)
}

/// Whether the street `id` exists.
pub async fn street_exists<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<bool> {
    Ok(entity::street::Entity::find_by_id(id).count(db).await? > 0)
}

/// A street, community, compound or building and the places above it, with its name (and,
/// for a compound, its kind): what a record placed *on* a territory node (an office term)
/// stores and checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub level: policy::Level,
    pub id: Uuid,
    pub name: String,
    pub street_id: Uuid,
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub compound_kind: Option<crate::territory::model::CompoundKind>,
}

impl Node {
    /// The `(level, id)` places the node lies at, itself included (for `Scope::contains`).
    pub fn places(&self) -> Vec<(policy::Level, Uuid)> {
        use policy::Level as L;
        let mut at = vec![(L::Street, self.street_id)];
        at.extend(self.community_id.map(|c| (L::Community, c)));
        at.extend(self.compound_id.map(|c| (L::Compound, c)));
        at.extend(self.building_id.map(|b| (L::Building, b)));
        at
    }
}

/// The node `id` at `level` (street, community, compound or building), if there is one.
pub async fn node<C: ConnectionTrait>(
    db: &C,
    level: policy::Level,
    id: Uuid,
) -> AppResult<Option<Node>> {
    use policy::Level as L;
    let blank = |name: String, street_id: Uuid| Node {
        level,
        id,
        name,
        street_id,
        community_id: None,
        compound_id: None,
        building_id: None,
        compound_kind: None,
    };
    Ok(match level {
        L::Street => entity::street::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|s| blank(s.name, s.id)),
        L::Community => community::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|c| Node {
                community_id: Some(c.id),
                ..blank(c.name, c.street_id)
            }),
        L::Compound => compound::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|c| Node {
                community_id: Some(c.community_id),
                compound_id: Some(c.id),
                compound_kind: Some(c.kind),
                ..blank(c.name, c.street_id)
            }),
        L::Building => building::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|b| Node {
                community_id: Some(b.community_id),
                compound_id: Some(b.compound_id),
                building_id: Some(b.id),
                ..blank(b.name, b.street_id)
            }),
        _ => None,
    })
}

/// The names of the nodes `ids` (street, community, compound or building ids, by level), one
/// statement per level present.
pub async fn node_names<C: ConnectionTrait>(
    db: &C,
    ids: &[(policy::Level, Uuid)],
) -> AppResult<HashMap<Uuid, String>> {
    use policy::Level as L;
    let at = |level: L| {
        ids.iter()
            .filter(move |(l, _)| *l == level)
            .map(|(_, id)| *id)
            .collect::<Vec<_>>()
    };
    let mut out = HashMap::new();
    let streets = at(L::Street);
    if !streets.is_empty() {
        use entity::street::{Column, Entity};
        out.extend(names_of::<_, Entity>(db, streets, Column::Id, Column::Name).await?);
    }
    let communities = at(L::Community);
    if !communities.is_empty() {
        out.extend(
            names_of::<_, community::Entity>(
                db,
                communities,
                community::Column::Id,
                community::Column::Name,
            )
            .await?,
        );
    }
    let compounds = at(L::Compound);
    if !compounds.is_empty() {
        out.extend(compound_names(db, compounds).await?);
    }
    let buildings = at(L::Building);
    if !buildings.is_empty() {
        out.extend(building_names(db, buildings).await?);
    }
    Ok(out)
}
