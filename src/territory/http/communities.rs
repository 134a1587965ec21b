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
use entity::{community, compound, grid, street};

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

#[derive(Serialize, ToSchema)]
pub struct CommunityResponse {
    pub id: Uuid,
    pub street_id: Uuid,
    pub name: String,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

impl From<community::Model> for CommunityResponse {
    fn from(m: community::Model) -> Self {
        Self {
            id: m.id,
            street_id: m.street_id,
            name: m.name,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
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

const DUPLICATE: crate::platform::lang::Text = crate::platform::lang::Text::fixed(
    "这个街道里已有同名社区",
    "a community with this name already exists in the street",
);

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
    let filter = Condition::all();
    let mut within = Vec::new();
    if let Some(s) = q.street_id {
        within.push((Level::Street, s));
    }
    let (rows, next_cursor) = svc::list_page::<community::Entity, _>(
        &state.db,
        &user,
        Action::CommunityRead,
        &within,
        filter,
        p,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page {
        items: rows
            .into_iter()
            .map(CommunityResponse::from)
            .collect::<Vec<_>>(),
        next_cursor,
    }))
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
    let name = clean_name("name", &body.name, NAME_MAX)?;
    let parent = policy::authorize_parent::<street::Entity, _>(
        &state.db,
        &user,
        Action::StreetRead,
        Action::CommunityWrite,
        body.street_id,
    )
    .await?;
    let now = Utc::now();
    let m = svc::insert(
        &state.db,
        community::ActiveModel {
            id: Set(Uuid::now_v7()),
            street_id: Set(parent.id),
            name: Set(name),
            created_at: Set(now),
            updated_at: Set(now),
        },
        &DUPLICATE,
    )
    .await?;
    Ok(created(
        format!("/api/v1/communities/{}", m.id),
        &CommunityResponse::from(m),
    ))
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
    let m =
        policy::find_visible::<community::Entity, _>(&state.db, &user, Action::CommunityRead, *id)
            .await?;
    Ok(HttpResponse::Ok().json(CommunityResponse::from(m)))
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
    let m = policy::authorize_object::<community::Entity, _>(
        &state.db,
        &user,
        Action::CommunityRead,
        Action::CommunityWrite,
        *id,
    )
    .await?;
    let mut am = m.into_active_model();
    if let Some(name) = &body.name {
        am.name = Set(clean_name("name", name, NAME_MAX)?);
    }
    am.updated_at = Set(Utc::now());
    let m = svc::update(&state.db, am, &DUPLICATE).await?;
    Ok(HttpResponse::Ok().json(CommunityResponse::from(m)))
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
    let db = &state.db;
    let children = [
        (
            "compounds",
            svc::count::<compound::Entity, _>(db, compound::Column::CommunityId, *id).await?,
        ),
        (
            "grids",
            svc::count::<grid::Entity, _>(db, grid::Column::CommunityId, *id).await?,
        ),
    ];
    svc::delete_checked::<community::Entity, _>(
        db,
        &user,
        Action::CommunityRead,
        Action::CommunityWrite,
        *id,
        &children,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
