use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::policy::Level;
use crate::access::AuthUser;
use crate::platform::error::AppResult;
use crate::platform::http::created;
use crate::platform::http::double_option;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::state::AppState;
use crate::territory::query::objects::{self as query, PropertyCompanyResponse};
use crate::territory::service::objects as svc;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePropertyCompanyRequest {
    pub street_id: Uuid,
    #[schema(example = "绿城物业", max_length = 100, format = "text-line")]
    pub name: String,
    /// Digits, spaces, `+` and `-`; at most 32 characters. Blank counts as absent.
    #[schema(example = "0571-87000000", format = "contact-phone-or-blank")]
    pub contact_phone: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePropertyCompanyRequest {
    #[schema(max_length = 100, format = "text-line")]
    pub name: Option<String>,
    /// null (or blank) clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = "contact-phone-or-blank")]
    pub contact_phone: Option<Option<String>>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListPropertyCompaniesQuery {
    pub street_id: Option<Uuid>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List the property companies the caller can see.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(ListPropertyCompaniesQuery),
    responses((status = 200, body = Page<PropertyCompanyResponse>)))]
#[get("/property-companies")]
pub async fn list_property_companies(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListPropertyCompaniesQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let mut within = Vec::new();
    if let Some(v) = q.street_id {
        within.push((Level::Street, v));
    }
    let page = query::list::<PropertyCompanyResponse, _>(&state.db, &user, &within, p).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Register a property company in a street.
#[utoipa::path(tag = "territory", security(("bearer" = [])), request_body = CreatePropertyCompanyRequest,
    responses(
        (status = 201, body = PropertyCompanyResponse, headers(("Location" = String))),
        (status = 403, description = "The caller's role may not register property companies in this street"),
        (status = 404, description = "The street is not found or outside the caller's scope"),
        (status = 409, description = "A property company with this name exists in the street"),
    ))]
#[post("/property-companies")]
pub async fn create_property_company(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreatePropertyCompanyRequest>,
) -> AppResult<HttpResponse> {
    let r = svc::create_property_company(
        &state.db,
        &user,
        body.street_id,
        &body.name,
        body.contact_phone.as_deref(),
        state.clock.now(),
    )
    .await?;
    Ok(created(format!("/api/v1/property-companies/{}", r.id), &r))
}

/// Get a property company.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = PropertyCompanyResponse), (status = 404, description = "Not found or outside the caller's scope")))]
#[get("/property-companies/{id}")]
pub async fn get_property_company(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let r = query::get::<PropertyCompanyResponse, _>(&state.db, &user, *id).await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Update a property company.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = UpdatePropertyCompanyRequest,
    responses(
        (status = 200, body = PropertyCompanyResponse),
        (status = 403, description = "The caller's role may not change property companies"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "A property company with this name exists in the street"),
    ))]
#[patch("/property-companies/{id}")]
pub async fn update_property_company(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<UpdatePropertyCompanyRequest>,
) -> AppResult<HttpResponse> {
    let r = svc::update_property_company(
        &state.db,
        &user,
        *id,
        body.name.as_deref(),
        body.contact_phone.as_ref().map(Option::as_deref),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Delete a property company that serves no compounds and has no role assignments left.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The caller's role may not delete property companies"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "The company still serves compounds or has role assignments"),
    ))]
#[delete("/property-companies/{id}")]
pub async fn delete_property_company(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    svc::delete::<PropertyCompanyResponse, _>(&state.db, &user, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
