use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AuthUser;
use crate::platform::error::AppResult;
use crate::platform::http::created;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::state::AppState;
use crate::territory::query::grids as query;
pub use crate::territory::query::grids::GridResponse;
use crate::territory::service::grids as svc;

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
    let page = query::list(&state.db, &user, q.community_id, p).await?;
    Ok(HttpResponse::Ok().json(page))
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
    let r = svc::create(
        &state.db,
        &user,
        body.community_id,
        &body.name,
        &body.compound_ids,
        &body.building_ids,
        state.clock.now(),
    )
    .await?;
    Ok(created(format!("/api/v1/grids/{}", r.id), &r))
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
    Ok(HttpResponse::Ok().json(query::get(&state.db, &user, *id).await?))
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
    let r = svc::update(
        &state.db,
        &user,
        *id,
        body.name.as_deref(),
        body.compound_ids.as_deref(),
        body.building_ids.as_deref(),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(r))
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
    svc::delete(&state.db, &user, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
