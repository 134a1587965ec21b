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
use crate::territory::query::objects::{self as query, StreetResponse};
use crate::territory::service::objects as svc;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStreetRequest {
    #[schema(example = "紫阳街道", max_length = 100, format = "text-line")]
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateStreetRequest {
    #[schema(max_length = 100, format = "text-line")]
    pub name: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListStreetsQuery {
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List the streets the caller can see.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(ListStreetsQuery),
    responses((status = 200, body = Page<StreetResponse>)))]
#[get("/streets")]
pub async fn list_streets(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListStreetsQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let page = query::list::<StreetResponse, _>(&state.db, &user, &[], p).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Create a street (deployment administrators only).
#[utoipa::path(tag = "territory", security(("bearer" = [])), request_body = CreateStreetRequest,
    responses(
        (status = 201, body = StreetResponse, headers(("Location" = String))),
        (status = 403, description = "Only the deployment administrator creates streets"),
        (status = 409, description = "A street with this name exists"),
    ))]
#[post("/streets")]
pub async fn create_street(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateStreetRequest>,
) -> AppResult<HttpResponse> {
    let r = svc::create_street(&state.db, &user, &body.name, state.clock.now()).await?;
    Ok(created(format!("/api/v1/streets/{}", r.id), &r))
}

/// Get a street.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = StreetResponse), (status = 404, description = "Not found or outside the caller's scope")))]
#[get("/streets/{id}")]
pub async fn get_street(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let r = query::get::<StreetResponse, _>(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Rename a street.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = UpdateStreetRequest,
    responses(
        (status = 200, body = StreetResponse),
        (status = 403, description = "The caller's role may not change streets"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "A street with this name exists"),
    ))]
#[patch("/streets/{id}")]
pub async fn update_street(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<UpdateStreetRequest>,
) -> AppResult<HttpResponse> {
    let r = svc::update_street(
        &state.db,
        &user,
        *id,
        body.name.as_deref(),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Delete a street that has no communities, property companies or role assignments left.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The caller's role may not delete streets"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "The street still has communities, property companies or role assignments"),
    ))]
#[delete("/streets/{id}")]
pub async fn delete_street(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    svc::delete::<StreetResponse, _>(&state.db, &user, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
