use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{Condition, IntoActiveModel, Set};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::NAME_MAX;
use crate::access::policy::{self, Action, Level};
use crate::access::AuthUser;
use crate::platform::error::FieldCode;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http::clean_name;
use crate::platform::http::created;
use crate::platform::http::double_option;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::state::AppState;
use crate::territory::service::tree as svc;
use entity::{compound, property_company, street};

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

#[derive(Serialize, ToSchema)]
pub struct PropertyCompanyResponse {
    pub id: Uuid,
    pub street_id: Uuid,
    pub name: String,
    pub contact_phone: Option<String>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

impl From<property_company::Model> for PropertyCompanyResponse {
    fn from(m: property_company::Model) -> Self {
        Self {
            id: m.id,
            street_id: m.street_id,
            name: m.name,
            contact_phone: m.contact_phone,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
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

const DUPLICATE: crate::platform::lang::Text = crate::platform::lang::Text::fixed(
    "这个街道里已有同名物业公司",
    "a property company with this name already exists in the street",
);

fn clean_phone(v: Option<&str>) -> AppResult<Option<String>> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let ok = v.len() <= 32
        && v.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-'));
    if ok {
        Ok(Some(v.to_string()))
    } else {
        Err(AppError::invalid(
            "contact_phone",
            FieldCode::Invalid,
            crate::platform::lang::Text::new(
                "联系电话只能包含数字、空格、+ 和 -，最多 32 个字符",
                "digits, spaces, '+' and '-', at most 32 characters",
            ),
        ))
    }
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
    let filter = Condition::all();
    let mut within = Vec::new();
    if let Some(s) = q.street_id {
        within.push((Level::Street, s));
    }
    let (rows, next_cursor) = svc::list_page::<property_company::Entity, _>(
        &state.db,
        &user,
        Action::PropertyCompanyRead,
        &within,
        filter,
        p,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page {
        items: rows
            .into_iter()
            .map(PropertyCompanyResponse::from)
            .collect::<Vec<_>>(),
        next_cursor,
    }))
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
    let name = clean_name("name", &body.name, NAME_MAX)?;
    let phone = clean_phone(body.contact_phone.as_deref())?;
    let parent = policy::authorize_parent::<street::Entity, _>(
        &state.db,
        &user,
        Action::StreetRead,
        Action::PropertyCompanyWrite,
        body.street_id,
    )
    .await?;
    let now = Utc::now();
    let m = svc::insert(
        &state.db,
        property_company::ActiveModel {
            id: Set(Uuid::now_v7()),
            street_id: Set(parent.id),
            name: Set(name),
            contact_phone: Set(phone),
            created_at: Set(now),
            updated_at: Set(now),
        },
        &DUPLICATE,
    )
    .await?;
    Ok(created(
        format!("/api/v1/property-companies/{}", m.id),
        &PropertyCompanyResponse::from(m),
    ))
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
    let m = policy::find_visible::<property_company::Entity, _>(
        &state.db,
        &user,
        Action::PropertyCompanyRead,
        *id,
    )
    .await?;
    Ok(HttpResponse::Ok().json(PropertyCompanyResponse::from(m)))
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
    let m = policy::authorize_object::<property_company::Entity, _>(
        &state.db,
        &user,
        Action::PropertyCompanyRead,
        Action::PropertyCompanyWrite,
        *id,
    )
    .await?;
    let mut am = m.into_active_model();
    if let Some(name) = &body.name {
        am.name = Set(clean_name("name", name, NAME_MAX)?);
    }
    if let Some(phone) = &body.contact_phone {
        am.contact_phone = Set(clean_phone(phone.as_deref())?);
    }
    am.updated_at = Set(Utc::now());
    let m = svc::update(&state.db, am, &DUPLICATE).await?;
    Ok(HttpResponse::Ok().json(PropertyCompanyResponse::from(m)))
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
    let db = &state.db;
    let children = [(
        "compounds served",
        svc::count::<compound::Entity, _>(db, compound::Column::PropertyCompanyId, *id).await?,
    )];
    svc::delete_checked::<property_company::Entity, _>(
        db,
        &user,
        Action::PropertyCompanyRead,
        Action::PropertyCompanyWrite,
        *id,
        &children,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
