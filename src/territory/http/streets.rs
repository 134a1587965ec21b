use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{Condition, IntoActiveModel, Set};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::NAME_MAX;
use crate::access::policy::{self, Action};
use crate::access::AuthUser;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http::clean_name;
use crate::platform::http::created;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::state::AppState;
use crate::territory::service::tree as svc;
use entity::{community, property_company, street};

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

#[derive(Serialize, ToSchema)]
pub struct StreetResponse {
    pub id: Uuid,
    pub name: String,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

impl From<street::Model> for StreetResponse {
    fn from(m: street::Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
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

const DUPLICATE: crate::platform::lang::Text =
    crate::platform::lang::Text::fixed("已有同名街道", "a street with this name already exists");

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
    let (rows, next_cursor) = svc::list_page::<street::Entity, _>(
        &state.db,
        &user,
        Action::StreetRead,
        &[],
        Condition::all(),
        p,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page {
        items: rows
            .into_iter()
            .map(StreetResponse::from)
            .collect::<Vec<_>>(),
        next_cursor,
    }))
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
    if !user.is_superadmin {
        return Err(AppError::Forbidden);
    }
    let name = clean_name("name", &body.name, NAME_MAX)?;
    let now = Utc::now();
    let m = svc::insert(
        &state.db,
        street::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(name),
            created_at: Set(now),
            updated_at: Set(now),
        },
        &DUPLICATE,
    )
    .await?;
    Ok(created(
        format!("/api/v1/streets/{}", m.id),
        &StreetResponse::from(m),
    ))
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
    let m = policy::find_visible::<street::Entity, _>(&state.db, &user, Action::StreetRead, *id)
        .await?;
    Ok(HttpResponse::Ok().json(StreetResponse::from(m)))
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
    let m = policy::authorize_object::<street::Entity, _>(
        &state.db,
        &user,
        Action::StreetRead,
        Action::StreetWrite,
        *id,
    )
    .await?;
    let mut am = m.into_active_model();
    if let Some(name) = &body.name {
        am.name = Set(clean_name("name", name, NAME_MAX)?);
    }
    am.updated_at = Set(Utc::now());
    let m = svc::update(&state.db, am, &DUPLICATE).await?;
    Ok(HttpResponse::Ok().json(StreetResponse::from(m)))
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
    let db = &state.db;
    let children = [
        (
            "communities",
            svc::count::<community::Entity, _>(db, community::Column::StreetId, *id).await?,
        ),
        (
            "property companies",
            svc::count::<property_company::Entity, _>(db, property_company::Column::StreetId, *id)
                .await?,
        ),
    ];
    svc::delete_checked::<street::Entity, _>(
        db,
        &user,
        Action::StreetRead,
        Action::StreetWrite,
        *id,
        &children,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
