//! The territory as a resident who is not bound yet may see it, to pick their home: names of
//! communities, compounds and buildings, and the unit and room of households. Never who lives
//! anywhere, and never anything else of a household.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::platform::error::AppResult;
use crate::platform::state::AppState;
use entity::{building, community, compound, household, street};

/// One page (`limit` + 1 rows, after `after`) of communities, optionally of one street and
/// with `q` in the name; with each its street's name.
pub async fn communities(
    state: &AppState,
    street_id: Option<Uuid>,
    q: Option<&str>,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<Vec<(community::Model, String)>> {
    let mut sel = community::Entity::find().order_by_asc(community::Column::Id);
    if let Some(s) = street_id {
        sel = sel.filter(community::Column::StreetId.eq(s));
    }
    if let Some(q) = q {
        sel = sel.filter(crate::platform::text::column_contains(
            community::Column::Name,
            q,
        ));
    }
    if let Some(a) = after {
        sel = sel.filter(community::Column::Id.gt(a));
    }
    let rows = sel.limit(limit + 1).all(&state.db).await?;
    let street_ids: Vec<Uuid> = rows.iter().map(|c| c.street_id).collect();
    let streets: std::collections::HashMap<Uuid, String> = street::Entity::find()
        .filter(street::Column::Id.is_in(street_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|c| {
            let s = streets.get(&c.street_id).cloned().unwrap_or_default();
            (c, s)
        })
        .collect())
}

pub async fn compounds(
    state: &AppState,
    community_id: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<Vec<compound::Model>> {
    let mut sel = compound::Entity::find()
        .filter(compound::Column::CommunityId.eq(community_id))
        .order_by_asc(compound::Column::Id);
    if let Some(a) = after {
        sel = sel.filter(compound::Column::Id.gt(a));
    }
    Ok(sel.limit(limit + 1).all(&state.db).await?)
}

pub async fn buildings(
    state: &AppState,
    compound_id: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<Vec<building::Model>> {
    let mut sel = building::Entity::find()
        .filter(building::Column::CompoundId.eq(compound_id))
        .order_by_asc(building::Column::Id);
    if let Some(a) = after {
        sel = sel.filter(building::Column::Id.gt(a));
    }
    Ok(sel.limit(limit + 1).all(&state.db).await?)
}

pub async fn households(
    state: &AppState,
    building_id: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<Vec<household::Model>> {
    let mut sel = household::Entity::find()
        .filter(household::Column::BuildingId.eq(building_id))
        .order_by_asc(household::Column::Id);
    if let Some(a) = after {
        sel = sel.filter(household::Column::Id.gt(a));
    }
    Ok(sel.limit(limit + 1).all(&state.db).await?)
}
