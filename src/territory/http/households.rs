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
use crate::territory::model::HouseholdKind;
use crate::territory::query::objects::{self as query, HouseholdResponse};
use crate::territory::service::objects as svc;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHouseholdRequest {
    pub building_id: Uuid,
    /// Unit (单元); empty or absent for buildings without units.
    #[schema(example = "2单元", max_length = 20, format = "text-line-or-blank")]
    pub unit: Option<String>,
    /// Room number.
    #[schema(example = "301", max_length = 20, format = "text-line")]
    pub room: String,
    /// `dwelling` (住户, the default) or `shop` (商铺).
    pub kind: Option<HouseholdKind>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateHouseholdRequest {
    /// Blank for buildings without units.
    #[schema(max_length = 20, format = "text-line-or-blank")]
    pub unit: Option<String>,
    #[schema(max_length = 20, format = "text-line")]
    pub room: Option<String>,
    pub kind: Option<HouseholdKind>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListHouseholdsQuery {
    pub building_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List the households the caller can see.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(ListHouseholdsQuery),
    responses((status = 200, body = Page<HouseholdResponse>)))]
#[get("/households")]
pub async fn list_households(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListHouseholdsQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let mut within = Vec::new();
    if let Some(v) = q.building_id {
        within.push((Level::Building, v));
    }
    if let Some(v) = q.compound_id {
        within.push((Level::Compound, v));
    }
    if let Some(v) = q.community_id {
        within.push((Level::Community, v));
    }
    let page = query::list::<HouseholdResponse, _>(&state.db, &user, &within, p).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Create a household (unit and room) in a building.
#[utoipa::path(tag = "territory", security(("bearer" = [])), request_body = CreateHouseholdRequest,
    responses(
        (status = 201, body = HouseholdResponse, headers(("Location" = String))),
        (status = 403, description = "The caller's role may not create households in this building"),
        (status = 404, description = "The building is not found or outside the caller's scope"),
        (status = 409, description = "This unit and room exist in the building"),
    ))]
#[post("/households")]
pub async fn create_household(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateHouseholdRequest>,
) -> AppResult<HttpResponse> {
    let r = svc::create_household(
        &state.db,
        &user,
        body.building_id,
        body.unit.as_deref(),
        &body.room,
        body.kind.unwrap_or(HouseholdKind::Dwelling),
        state.clock.now(),
    )
    .await?;
    Ok(created(format!("/api/v1/households/{}", r.id), &r))
}

/// Get a household.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = HouseholdResponse), (status = 404, description = "Not found or outside the caller's scope")))]
#[get("/households/{id}")]
pub async fn get_household(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let r = query::get::<HouseholdResponse, _>(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Change a household's unit or room.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = UpdateHouseholdRequest,
    responses(
        (status = 200, body = HouseholdResponse),
        (status = 403, description = "The caller's role may not change households"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "This unit and room exist in the building"),
    ))]
#[patch("/households/{id}")]
pub async fn update_household(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<UpdateHouseholdRequest>,
) -> AppResult<HttpResponse> {
    let r = svc::update_household(
        &state.db,
        &user,
        *id,
        body.unit.as_deref(),
        body.room.as_deref(),
        body.kind,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Delete a household that has no residents, binding requests or role assignments left.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The caller's role may not delete households"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "The household still has residents, binding requests or role assignments"),
    ))]
#[delete("/households/{id}")]
pub async fn delete_household(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    svc::delete::<HouseholdResponse, _>(&state.db, &user, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
