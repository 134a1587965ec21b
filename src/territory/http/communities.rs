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
use crate::territory::query::objects::{self as query, CommunityResponse};
use crate::territory::service::objects as svc;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCommunityRequest {
    pub street_id: Uuid,
    #[schema(example = "上羊市街社区", max_length = 100, format = "text-line")]
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCommunityRequest {
    #[schema(max_length = 100, format = "text-line")]
    pub name: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCommunitiesQuery {
    pub street_id: Option<Uuid>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List the communities the caller can see.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(ListCommunitiesQuery),
    responses((status = 200, body = Page<CommunityResponse>)))]
#[get("/communities")]
pub async fn list_communities(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListCommunitiesQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let mut within = Vec::new();
    if let Some(v) = q.street_id {
        within.push((Level::Street, v));
    }
    let page = query::list::<CommunityResponse, _>(&state.db, &user, &within, p).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Create a community in a street.
#[utoipa::path(tag = "territory", security(("bearer" = [])), request_body = CreateCommunityRequest,
    responses(
        (status = 201, body = CommunityResponse, headers(("Location" = String))),
        (status = 403, description = "The caller's role may not create communities in this street"),
        (status = 404, description = "The street is not found or outside the caller's scope"),
        (status = 409, description = "A community with this name exists in the street"),
    ))]
#[post("/communities")]
pub async fn create_community(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateCommunityRequest>,
) -> AppResult<HttpResponse> {
    let r = svc::create_community(
        &state.db,
        &user,
        body.street_id,
        &body.name,
        state.clock.now(),
    )
    .await?;
    Ok(created(format!("/api/v1/communities/{}", r.id), &r))
}

/// Get a community.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = CommunityResponse), (status = 404, description = "Not found or outside the caller's scope")))]
#[get("/communities/{id}")]
pub async fn get_community(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let r = query::get::<CommunityResponse, _>(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Rename a community.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = UpdateCommunityRequest,
    responses(
        (status = 200, body = CommunityResponse),
        (status = 403, description = "The caller's role may not change communities"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "A community with this name exists in the street"),
    ))]
#[patch("/communities/{id}")]
pub async fn update_community(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<UpdateCommunityRequest>,
) -> AppResult<HttpResponse> {
    let r = svc::update_community(
        &state.db,
        &user,
        *id,
        body.name.as_deref(),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Delete a community that has no compounds, grids or role assignments left.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The caller's role may not delete communities"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "The community still has compounds, grids or role assignments"),
    ))]
#[delete("/communities/{id}")]
pub async fn delete_community(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    svc::delete::<CommunityResponse, _>(&state.db, &user, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
