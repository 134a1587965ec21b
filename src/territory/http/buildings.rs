use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{Condition, IntoActiveModel, Set};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::NAME_MAX;
use crate::access::policy::{self, Action, Level};
use crate::access::AuthUser;
use crate::platform::error::AppResult;
use crate::platform::http::clean_name;
use crate::platform::http::created;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::state::AppState;
use crate::territory::service::tree as svc;
use entity::{building, compound, grid_area, household};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBuildingRequest {
    pub compound_id: Uuid,
    #[schema(example = "1幢", max_length = 100, format = "text-line")]
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBuildingRequest {
    #[schema(max_length = 100, format = "text-line")]
    pub name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BuildingResponse {
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Uuid,
    pub name: String,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

impl From<building::Model> for BuildingResponse {
    fn from(m: building::Model) -> Self {
        Self {
            id: m.id,
            street_id: m.street_id,
            community_id: m.community_id,
            compound_id: m.compound_id,
            name: m.name,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListBuildingsQuery {
    pub compound_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const DUPLICATE: crate::platform::lang::Text = crate::platform::lang::Text::fixed(
    "这个小区里已有同名楼栋",
    "a building with this name already exists in the compound",
);

/// List the buildings the caller can see.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(ListBuildingsQuery),
    responses((status = 200, body = Page<BuildingResponse>)))]
#[get("/buildings")]
pub async fn list_buildings(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListBuildingsQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let filter = Condition::all();
    let mut within = Vec::new();
    if let Some(c) = q.compound_id {
        within.push((Level::Compound, c));
    }
    if let Some(c) = q.community_id {
        within.push((Level::Community, c));
    }
    let (rows, next_cursor) = svc::list_page::<building::Entity, _>(
        &state.db,
        &user,
        Action::BuildingRead,
        &within,
        filter,
        p,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page {
        items: rows
            .into_iter()
            .map(BuildingResponse::from)
            .collect::<Vec<_>>(),
        next_cursor,
    }))
}

/// Create a building in a compound.
#[utoipa::path(tag = "territory", security(("bearer" = [])), request_body = CreateBuildingRequest,
    responses(
        (status = 201, body = BuildingResponse, headers(("Location" = String))),
        (status = 403, description = "The caller's role may not create buildings in this compound"),
        (status = 404, description = "The compound is not found or outside the caller's scope"),
        (status = 409, description = "A building with this name exists in the compound"),
    ))]
#[post("/buildings")]
pub async fn create_building(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateBuildingRequest>,
) -> AppResult<HttpResponse> {
    let name = clean_name("name", &body.name, NAME_MAX)?;
    let parent = policy::authorize_parent::<compound::Entity, _>(
        &state.db,
        &user,
        Action::CompoundRead,
        Action::BuildingWrite,
        body.compound_id,
    )
    .await?;
    let now = Utc::now();
    let m = svc::insert(
        &state.db,
        building::ActiveModel {
            id: Set(Uuid::now_v7()),
            street_id: Set(parent.street_id),
            community_id: Set(parent.community_id),
            compound_id: Set(parent.id),
            name: Set(name),
            created_at: Set(now),
            updated_at: Set(now),
        },
        &DUPLICATE,
    )
    .await?;
    Ok(created(
        format!("/api/v1/buildings/{}", m.id),
        &BuildingResponse::from(m),
    ))
}

/// Get a building.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = BuildingResponse), (status = 404, description = "Not found or outside the caller's scope")))]
#[get("/buildings/{id}")]
pub async fn get_building(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let m =
        policy::find_visible::<building::Entity, _>(&state.db, &user, Action::BuildingRead, *id)
            .await?;
    Ok(HttpResponse::Ok().json(BuildingResponse::from(m)))
}

/// Rename a building.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = UpdateBuildingRequest,
    responses(
        (status = 200, body = BuildingResponse),
        (status = 403, description = "The caller's role may not change buildings"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "A building with this name exists in the compound"),
    ))]
#[patch("/buildings/{id}")]
pub async fn update_building(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<UpdateBuildingRequest>,
) -> AppResult<HttpResponse> {
    let m = policy::authorize_object::<building::Entity, _>(
        &state.db,
        &user,
        Action::BuildingRead,
        Action::BuildingWrite,
        *id,
    )
    .await?;
    let mut am = m.into_active_model();
    if let Some(name) = &body.name {
        am.name = Set(clean_name("name", name, NAME_MAX)?);
    }
    am.updated_at = Set(Utc::now());
    let m = svc::update(&state.db, am, &DUPLICATE).await?;
    Ok(HttpResponse::Ok().json(BuildingResponse::from(m)))
}

/// Delete a building that has no households, grid coverage or role assignments left.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The caller's role may not delete buildings"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "The building still has households, is covered by a grid, or has role assignments"),
    ))]
#[delete("/buildings/{id}")]
pub async fn delete_building(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let db = &state.db;
    let children = [
        (
            "households",
            svc::count::<household::Entity, _>(db, household::Column::BuildingId, *id).await?,
        ),
        (
            "grid areas",
            svc::count::<grid_area::Entity, _>(db, grid_area::Column::BuildingId, *id).await?,
        ),
    ];
    svc::delete_checked::<building::Entity, _>(
        db,
        &user,
        Action::BuildingRead,
        Action::BuildingWrite,
        *id,
        &children,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
