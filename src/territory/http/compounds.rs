use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AuthUser;
use crate::platform::error::AppResult;
use crate::platform::http::created;
use crate::platform::http::double_option;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::state::AppState;
use crate::territory::model::CompoundKind;
use crate::territory::query::objects::{self as query, CompoundResponse};
use crate::territory::service::objects as svc;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCompoundRequest {
    pub community_id: Uuid,
    #[schema(example = "候潮府小区", max_length = 100, format = "text-line")]
    pub name: String,
    /// Blank counts as absent.
    #[schema(max_length = 200, format = "text-line-or-blank")]
    pub address: Option<String>,
    /// The property company serving the compound (same street).
    pub property_company_id: Option<Uuid>,
    /// `residential` (住宅小区, the default), `street_front` (沿街商铺/商圈) or `mixed`.
    pub kind: Option<CompoundKind>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCompoundRequest {
    #[schema(max_length = 100, format = "text-line")]
    pub name: Option<String>,
    /// null (or blank) clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200, format = "text-line-or-blank")]
    pub address: Option<Option<String>>,
    /// null clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub property_company_id: Option<Option<Uuid>>,
    /// Not `residential` while street leaders (街面长) lead the compound (409
    /// `compound_has_street_leaders`).
    pub kind: Option<CompoundKind>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCompoundsQuery {
    pub community_id: Option<Uuid>,
    pub property_company_id: Option<Uuid>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List the compounds the caller can see.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(ListCompoundsQuery),
    responses((status = 200, body = Page<CompoundResponse>)))]
#[get("/compounds")]
pub async fn list_compounds(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListCompoundsQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let page =
        query::list_compounds(&state.db, &user, q.community_id, q.property_company_id, p).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Create a compound in a community.
#[utoipa::path(tag = "territory", security(("bearer" = [])), request_body = CreateCompoundRequest,
    responses(
        (status = 201, body = CompoundResponse, headers(("Location" = String))),
        (status = 403, description = "The caller's role may not create compounds in this community"),
        (status = 404, description = "The community is not found or outside the caller's scope"),
        (status = 409, description = "A compound with this name exists in the community"),
    ))]
#[post("/compounds")]
pub async fn create_compound(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateCompoundRequest>,
) -> AppResult<HttpResponse> {
    let new = svc::NewCompound {
        community_id: body.community_id,
        name: &body.name,
        address: body.address.as_deref(),
        property_company_id: body.property_company_id,
        kind: body.kind.unwrap_or(CompoundKind::Residential),
    };
    let r = svc::create_compound(&state.db, &user, new, state.clock.now()).await?;
    Ok(created(format!("/api/v1/compounds/{}", r.id), &r))
}

/// Get a compound.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = CompoundResponse), (status = 404, description = "Not found or outside the caller's scope")))]
#[get("/compounds/{id}")]
pub async fn get_compound(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let r = query::get::<CompoundResponse, _>(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Update a compound: name, address, serving property company, kind.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = UpdateCompoundRequest,
    responses(
        (status = 200, body = CompoundResponse),
        (status = 403, description = "The caller's role may not change compounds"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "A compound with this name exists in the community, or street leaders lead it and it would become residential"),
    ))]
#[patch("/compounds/{id}")]
pub async fn update_compound(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<UpdateCompoundRequest>,
) -> AppResult<HttpResponse> {
    let change = svc::CompoundChange {
        name: body.name.as_deref(),
        address: body.address.as_ref().map(Option::as_deref),
        property_company_id: body.property_company_id,
        kind: body.kind,
    };
    let r = svc::update_compound(&state.db, &user, *id, change, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Delete a compound that has no buildings, grid coverage or role assignments left.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The caller's role may not delete compounds"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "The compound still has buildings, is covered by a grid, or has role assignments"),
    ))]
#[delete("/compounds/{id}")]
pub async fn delete_compound(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    svc::delete::<CompoundResponse, _>(&state.db, &user, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
