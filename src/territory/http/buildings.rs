use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::policy::Level;
use crate::access::AuthUser;
use crate::platform::error::AppResult;
use crate::platform::http::created;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::state::AppState;
use crate::territory::query::objects::{self as query, BuildingResponse};
use crate::territory::service::objects as svc;

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
    let mut within = Vec::new();
    if let Some(v) = q.compound_id {
        within.push((Level::Compound, v));
    }
    if let Some(v) = q.community_id {
        within.push((Level::Community, v));
    }
    let page = query::list::<BuildingResponse, _>(&state.db, &user, &within, p).await?;
    Ok(HttpResponse::Ok().json(page))
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
    let r = svc::create_building(
        &state.db,
        &user,
        body.compound_id,
        &body.name,
        state.clock.now(),
    )
    .await?;
    Ok(created(format!("/api/v1/buildings/{}", r.id), &r))
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
    let r = query::get::<BuildingResponse, _>(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(r))
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
    let r = svc::update_building(
        &state.db,
        &user,
        *id,
        body.name.as_deref(),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(r))
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
    svc::delete::<BuildingResponse, _>(&state.db, &user, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
