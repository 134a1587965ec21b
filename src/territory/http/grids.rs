use std::collections::{BTreeSet, HashMap};

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::NAME_MAX;
use crate::access::policy::{self, Action, Level};
use crate::access::AuthUser;
use crate::platform::error::{AppError, AppResult};
use crate::platform::error::{FieldCode, FieldError};
use crate::platform::http::clean_name;
use crate::platform::http::created;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::state::AppState;
use crate::territory::service::tree as svc;
use entity::{building, community, compound, grid, grid_area};

/// How many compounds plus buildings one grid may cover.
pub const MAX_AREAS: usize = 500;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGridRequest {
    pub community_id: Uuid,
    #[schema(example = "第一网格", max_length = 100, format = "text-line")]
    pub name: String,
    /// Whole compounds the grid covers (in the same community); with `building_ids` at most
    /// 500 areas.
    #[serde(default)]
    #[schema(max_items = 500)]
    pub compound_ids: Vec<Uuid>,
    /// Single buildings the grid covers (in the same community); with `compound_ids` at most
    /// 500 areas.
    #[serde(default)]
    #[schema(max_items = 500)]
    pub building_ids: Vec<Uuid>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGridRequest {
    #[schema(max_length = 100, format = "text-line")]
    pub name: Option<String>,
    /// Replaces the covered compounds.
    #[schema(max_items = 500)]
    pub compound_ids: Option<Vec<Uuid>>,
    /// Replaces the covered buildings.
    #[schema(max_items = 500)]
    pub building_ids: Option<Vec<Uuid>>,
}

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
struct Areas {
    compounds: Vec<Uuid>,
    buildings: Vec<Uuid>,
}

fn respond(m: grid::Model, areas: Areas) -> GridResponse {
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
async fn load_areas<C: ConnectionTrait>(db: &C, grids: &[Uuid]) -> AppResult<HashMap<Uuid, Areas>> {
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

/// Checks that the areas exist in `community_id`, then replaces the grid's areas with them.
async fn set_areas<C: ConnectionTrait>(
    db: &C,
    grid_id: Uuid,
    community_id: Uuid,
    compounds: Option<&[Uuid]>,
    buildings: Option<&[Uuid]>,
) -> AppResult<()> {
    let total = compounds.map_or(0, <[Uuid]>::len) + buildings.map_or(0, <[Uuid]>::len);
    if total > MAX_AREAS {
        return Err(AppError::Validation(vec![FieldError::of(
            "compound_ids",
            FieldCode::TooMany,
            crate::text!(
                "一个网格最多覆盖 {MAX_AREAS} 个小区和楼栋",
                "a grid covers at most {MAX_AREAS} compounds and buildings"
            ),
        )
        .with_limit(MAX_AREAS)]));
    }
    if let Some(ids) = compounds {
        let ids: BTreeSet<Uuid> = ids.iter().copied().collect();
        let found = compound::Entity::find()
            .filter(compound::Column::Id.is_in(ids.iter().copied()))
            .filter(compound::Column::CommunityId.eq(community_id))
            .count(db)
            .await?;
        if found as usize != ids.len() {
            return Err(AppError::invalid(
                "compound_ids",
                FieldCode::NotFound,
                crate::platform::lang::Text::new(
                    "有小区不存在，或不属于该网格所在的社区",
                    "every compound must exist in the grid's community",
                ),
            ));
        }
        grid_area::Entity::delete_many()
            .filter(grid_area::Column::GridId.eq(grid_id))
            .filter(grid_area::Column::CompoundId.is_not_null())
            .exec(db)
            .await?;
        insert_areas(db, grid_id, ids.into_iter().map(|c| (Some(c), None))).await?;
    }
    if let Some(ids) = buildings {
        let ids: BTreeSet<Uuid> = ids.iter().copied().collect();
        let found = building::Entity::find()
            .filter(building::Column::Id.is_in(ids.iter().copied()))
            .filter(building::Column::CommunityId.eq(community_id))
            .count(db)
            .await?;
        if found as usize != ids.len() {
            return Err(AppError::invalid(
                "building_ids",
                FieldCode::NotFound,
                crate::platform::lang::Text::new(
                    "有楼栋不存在，或不属于该网格所在的社区",
                    "every building must exist in the grid's community",
                ),
            ));
        }
        grid_area::Entity::delete_many()
            .filter(grid_area::Column::GridId.eq(grid_id))
            .filter(grid_area::Column::BuildingId.is_not_null())
            .exec(db)
            .await?;
        insert_areas(db, grid_id, ids.into_iter().map(|b| (None, Some(b)))).await?;
    }
    Ok(())
}

async fn insert_areas<C: ConnectionTrait>(
    db: &C,
    grid_id: Uuid,
    areas: impl Iterator<Item = (Option<Uuid>, Option<Uuid>)>,
) -> AppResult<()> {
    let models: Vec<grid_area::ActiveModel> = areas
        .map(|(c, b)| grid_area::ActiveModel {
            id: Set(Uuid::now_v7()),
            grid_id: Set(grid_id),
            compound_id: Set(c),
            building_id: Set(b),
        })
        .collect();
    if !models.is_empty() {
        grid_area::Entity::insert_many(models).exec(db).await?;
    }
    Ok(())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListGridsQuery {
    pub community_id: Option<Uuid>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const DUPLICATE: crate::platform::lang::Text = crate::platform::lang::Text::fixed(
    "这个社区里已有同名网格",
    "a grid with this name already exists in the community",
);

/// List the grids the caller can see, with the compounds and buildings they cover.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(ListGridsQuery),
    responses((status = 200, body = Page<GridResponse>)))]
#[get("/grids")]
pub async fn list_grids(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListGridsQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let filter = Condition::all();
    let mut within = Vec::new();
    if let Some(c) = q.community_id {
        within.push((Level::Community, c));
    }
    let (rows, next_cursor) =
        svc::list_page::<grid::Entity, _>(&state.db, &user, Action::GridRead, &within, filter, p)
            .await?;
    let ids: Vec<Uuid> = rows.iter().map(|g| g.id).collect();
    let mut areas = load_areas(&state.db, &ids).await?;
    let items = rows
        .into_iter()
        .map(|g| {
            let a = areas.remove(&g.id).unwrap_or_default();
            respond(g, a)
        })
        .collect::<Vec<_>>();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// Create a grid in a community, covering compounds and/or buildings of that community.
#[utoipa::path(tag = "territory", security(("bearer" = [])), request_body = CreateGridRequest,
    responses(
        (status = 201, body = GridResponse, headers(("Location" = String))),
        (status = 403, description = "The caller's role may not create grids in this community"),
        (status = 404, description = "The community is not found or outside the caller's scope"),
        (status = 409, description = "A grid with this name exists in the community"),
    ))]
#[post("/grids")]
pub async fn create_grid(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateGridRequest>,
) -> AppResult<HttpResponse> {
    let name = clean_name("name", &body.name, NAME_MAX)?;
    let parent = policy::authorize_parent::<community::Entity, _>(
        &state.db,
        &user,
        Action::CommunityRead,
        Action::GridWrite,
        body.community_id,
    )
    .await?;
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let m = svc::insert(
        &txn,
        grid::ActiveModel {
            id: Set(Uuid::now_v7()),
            street_id: Set(parent.street_id),
            community_id: Set(parent.id),
            name: Set(name),
            created_at: Set(now),
            updated_at: Set(now),
        },
        &DUPLICATE,
    )
    .await?;
    set_areas(
        &txn,
        m.id,
        parent.id,
        Some(&body.compound_ids),
        Some(&body.building_ids),
    )
    .await?;
    let areas = load_areas(&txn, &[m.id])
        .await?
        .remove(&m.id)
        .unwrap_or_default();
    txn.commit().await?;
    Ok(created(
        format!("/api/v1/grids/{}", m.id),
        &respond(m, areas),
    ))
}

/// Get a grid with the compounds and buildings it covers.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = GridResponse), (status = 404, description = "Not found or outside the caller's scope")))]
#[get("/grids/{id}")]
pub async fn get_grid(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let m =
        policy::find_visible::<grid::Entity, _>(&state.db, &user, Action::GridRead, *id).await?;
    let areas = load_areas(&state.db, &[m.id])
        .await?
        .remove(&m.id)
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(respond(m, areas)))
}

/// Update a grid: its name and the compounds and buildings it covers.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = UpdateGridRequest,
    responses(
        (status = 200, body = GridResponse),
        (status = 403, description = "The caller's role may not change grids"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "A grid with this name exists in the community"),
    ))]
#[patch("/grids/{id}")]
pub async fn update_grid(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<UpdateGridRequest>,
) -> AppResult<HttpResponse> {
    let m = policy::authorize_object::<grid::Entity, _>(
        &state.db,
        &user,
        Action::GridRead,
        Action::GridWrite,
        *id,
    )
    .await?;
    let community_id = m.community_id;
    let mut am = m.into_active_model();
    if let Some(name) = &body.name {
        am.name = Set(clean_name("name", name, NAME_MAX)?);
    }
    am.updated_at = Set(Utc::now());
    let txn = state.db.begin().await?;
    let m = svc::update(&txn, am, &DUPLICATE).await?;
    set_areas(
        &txn,
        m.id,
        community_id,
        body.compound_ids.as_deref(),
        body.building_ids.as_deref(),
    )
    .await?;
    let areas = load_areas(&txn, &[m.id])
        .await?
        .remove(&m.id)
        .unwrap_or_default();
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(respond(m, areas)))
}

/// Delete a grid (its coverage goes with it) that has no role assignments left.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The caller's role may not delete grids"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "A grid manager is still assigned to the grid"),
    ))]
#[delete("/grids/{id}")]
pub async fn delete_grid(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    svc::delete_checked::<grid::Entity, _>(
        &state.db,
        &user,
        Action::GridRead,
        Action::GridWrite,
        *id,
        &[],
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
