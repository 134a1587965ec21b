//! Grids as screens show them: with the compounds and buildings each covers.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::policy::{self, Action, Level};
use crate::access::Actor;
use crate::platform::error::AppResult;
use crate::platform::paging::{Page, PageParams};
use crate::territory::service::tree;
use entity::{grid, grid_area};

#[derive(Serialize, ToSchema)]
pub struct GridResponse {
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub name: String,
    pub compound_ids: Vec<Uuid>,
    pub building_ids: Vec<Uuid>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct Areas {
    compounds: Vec<Uuid>,
    buildings: Vec<Uuid>,
}

pub fn respond(m: grid::Model, areas: Areas) -> GridResponse {
    GridResponse {
        id: m.id,
        street_id: m.street_id,
        community_id: m.community_id,
        name: m.name,
        compound_ids: areas.compounds,
        building_ids: areas.buildings,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// The areas of `grids`, in one query.
pub async fn load_areas<C: ConnectionTrait>(
    db: &C,
    grids: &[Uuid],
) -> AppResult<HashMap<Uuid, Areas>> {
    if grids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = grid_area::Entity::find()
        .filter(grid_area::Column::GridId.is_in(grids.iter().copied()))
        .all(db)
        .await?;
    let mut map: HashMap<Uuid, Areas> = HashMap::new();
    for r in rows {
        let e = map.entry(r.grid_id).or_default();
        if let Some(c) = r.compound_id {
            e.compounds.push(c);
        }
        if let Some(b) = r.building_id {
            e.buildings.push(b);
        }
    }
    Ok(map)
}

/// One page of the grids the caller can see (of a community, when given), with the compounds
/// and buildings they cover.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    community_id: Option<Uuid>,
    p: PageParams,
) -> AppResult<Page<GridResponse>> {
    let mut within = Vec::new();
    if let Some(c) = community_id {
        within.push((Level::Community, c));
    }
    let (rows, next_cursor) = tree::list_page::<grid::Entity, _>(
        db,
        actor,
        Action::GridRead,
        &within,
        Condition::all(),
        p,
    )
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|g| g.id).collect();
    let mut areas = load_areas(db, &ids).await?;
    let items = rows
        .into_iter()
        .map(|g| {
            let a = areas.remove(&g.id).unwrap_or_default();
            respond(g, a)
        })
        .collect::<Vec<_>>();
    Ok(Page { items, next_cursor })
}

/// A grid the caller can see, with the compounds and buildings it covers; else 404.
pub async fn get<C: ConnectionTrait>(db: &C, actor: &Actor, id: Uuid) -> AppResult<GridResponse> {
    let m = policy::find_visible::<grid::Entity, _>(db, actor, Action::GridRead, id).await?;
    respond_loaded(db, m).await
}

/// [`respond`] with the grid's areas as they are now.
pub async fn respond_loaded<C: ConnectionTrait>(db: &C, m: grid::Model) -> AppResult<GridResponse> {
    let areas = load_areas(db, &[m.id])
        .await?
        .remove(&m.id)
        .unwrap_or_default();
    Ok(respond(m, areas))
}
