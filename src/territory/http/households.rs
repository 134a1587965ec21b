use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{Condition, IntoActiveModel, Set};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

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
use entity::{binding_request, building, household, resident};

const PART_MAX: usize = 20;

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
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateHouseholdRequest {
    /// Blank for buildings without units.
    #[schema(max_length = 20, format = "text-line-or-blank")]
    pub unit: Option<String>,
    #[schema(max_length = 20, format = "text-line")]
    pub room: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct HouseholdResponse {
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Uuid,
    pub building_id: Uuid,
    /// Empty when the building has no units.
    pub unit: String,
    pub room: String,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

impl From<household::Model> for HouseholdResponse {
    fn from(m: household::Model) -> Self {
        Self {
            id: m.id,
            street_id: m.street_id,
            community_id: m.community_id,
            compound_id: m.compound_id,
            building_id: m.building_id,
            unit: m.unit,
            room: m.room,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
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

const DUPLICATE: crate::platform::lang::Text = crate::platform::lang::Text::fixed(
    "这栋楼里已有相同单元和房号的住户",
    "a household with this unit and room already exists in the building",
);

fn clean_unit(v: Option<&str>) -> AppResult<String> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(String::new()),
        Some(v) => clean_name("unit", v, PART_MAX),
    }
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
    let filter = Condition::all();
    let mut within = Vec::new();
    if let Some(b) = q.building_id {
        within.push((Level::Building, b));
    }
    if let Some(c) = q.compound_id {
        within.push((Level::Compound, c));
    }
    if let Some(c) = q.community_id {
        within.push((Level::Community, c));
    }
    let (rows, next_cursor) = svc::list_page::<household::Entity, _>(
        &state.db,
        &user,
        Action::HouseholdRead,
        &within,
        filter,
        p,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page {
        items: rows
            .into_iter()
            .map(HouseholdResponse::from)
            .collect::<Vec<_>>(),
        next_cursor,
    }))
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
    let unit = clean_unit(body.unit.as_deref())?;
    let room = clean_name("room", &body.room, PART_MAX)?;
    let parent = policy::authorize_parent::<building::Entity, _>(
        &state.db,
        &user,
        Action::BuildingRead,
        Action::HouseholdWrite,
        body.building_id,
    )
    .await?;
    let now = Utc::now();
    let m = svc::insert(
        &state.db,
        household::ActiveModel {
            id: Set(Uuid::now_v7()),
            street_id: Set(parent.street_id),
            community_id: Set(parent.community_id),
            compound_id: Set(parent.compound_id),
            building_id: Set(parent.id),
            unit: Set(unit),
            room: Set(room),
            created_at: Set(now),
            updated_at: Set(now),
        },
        &DUPLICATE,
    )
    .await?;
    Ok(created(
        format!("/api/v1/households/{}", m.id),
        &HouseholdResponse::from(m),
    ))
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
    let m =
        policy::find_visible::<household::Entity, _>(&state.db, &user, Action::HouseholdRead, *id)
            .await?;
    Ok(HttpResponse::Ok().json(HouseholdResponse::from(m)))
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
    let m = policy::authorize_object::<household::Entity, _>(
        &state.db,
        &user,
        Action::HouseholdRead,
        Action::HouseholdWrite,
        *id,
    )
    .await?;
    let mut am = m.into_active_model();
    if let Some(unit) = &body.unit {
        am.unit = Set(clean_unit(Some(unit))?);
    }
    if let Some(room) = &body.room {
        am.room = Set(clean_name("room", room, PART_MAX)?);
    }
    am.updated_at = Set(Utc::now());
    let m = svc::update(&state.db, am, &DUPLICATE).await?;
    Ok(HttpResponse::Ok().json(HouseholdResponse::from(m)))
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
    let db = &state.db;
    let children = [
        (
            "residents",
            svc::count::<resident::Entity, _>(db, resident::Column::HouseholdId, *id).await?,
        ),
        (
            "binding requests",
            svc::count::<binding_request::Entity, _>(db, binding_request::Column::HouseholdId, *id)
                .await?,
        ),
    ];
    svc::delete_checked::<household::Entity, _>(
        db,
        &user,
        Action::HouseholdRead,
        Action::HouseholdWrite,
        *id,
        &children,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
