use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, IntoActiveModel, Set};
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
use entity::{building, community, compound, grid_area, property_company};

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
}

#[derive(Serialize, ToSchema)]
pub struct CompoundResponse {
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub property_company_id: Option<Uuid>,
    pub name: String,
    pub address: Option<String>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

impl From<compound::Model> for CompoundResponse {
    fn from(m: compound::Model) -> Self {
        Self {
            id: m.id,
            street_id: m.street_id,
            community_id: m.community_id,
            property_company_id: m.property_company_id,
            name: m.name,
            address: m.address,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
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

const DUPLICATE: crate::platform::lang::Text = crate::platform::lang::Text::fixed(
    "这个社区里已有同名小区",
    "a compound with this name already exists in the community",
);

fn clean_address(v: Option<&str>) -> AppResult<Option<String>> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => clean_name("address", v, 200).map(Some),
    }
}

/// The company must be one the caller can see, in the compound's street. Invisible and
/// non-existent answer alike, so the check reveals nothing.
async fn check_company<C: ConnectionTrait>(
    db: &C,
    user: &AuthUser,
    street_id: Uuid,
    id: Option<Uuid>,
) -> AppResult<()> {
    let Some(id) = id else { return Ok(()) };
    let found = match policy::find_visible::<property_company::Entity, _>(
        db,
        user,
        Action::PropertyCompanyRead,
        id,
    )
    .await
    {
        Ok(c) => c.street_id == street_id,
        Err(AppError::NotFound) => false,
        Err(e) => return Err(e),
    };
    if found {
        Ok(())
    } else {
        Err(AppError::invalid(
            "property_company_id",
            FieldCode::NotFound,
            crate::platform::lang::Text::new(
                "本街道没有这家物业公司",
                "no such property company in this street",
            ),
        ))
    }
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
    let mut filter = Condition::all();
    let mut within = Vec::new();
    if let Some(c) = q.community_id {
        within.push((Level::Community, c));
    }
    if let Some(c) = q.property_company_id {
        filter = filter.add(compound::Column::PropertyCompanyId.eq(c));
    }
    let (rows, next_cursor) = svc::list_page::<compound::Entity, _>(
        &state.db,
        &user,
        Action::CompoundRead,
        &within,
        filter,
        p,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page {
        items: rows
            .into_iter()
            .map(CompoundResponse::from)
            .collect::<Vec<_>>(),
        next_cursor,
    }))
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
    let name = clean_name("name", &body.name, NAME_MAX)?;
    let address = clean_address(body.address.as_deref())?;
    let parent = policy::authorize_parent::<community::Entity, _>(
        &state.db,
        &user,
        Action::CommunityRead,
        Action::CompoundWrite,
        body.community_id,
    )
    .await?;
    check_company(&state.db, &user, parent.street_id, body.property_company_id).await?;
    let now = Utc::now();
    let m = svc::insert(
        &state.db,
        compound::ActiveModel {
            id: Set(Uuid::now_v7()),
            street_id: Set(parent.street_id),
            community_id: Set(parent.id),
            property_company_id: Set(body.property_company_id),
            name: Set(name),
            address: Set(address),
            created_at: Set(now),
            updated_at: Set(now),
        },
        &DUPLICATE,
    )
    .await?;
    Ok(created(
        format!("/api/v1/compounds/{}", m.id),
        &CompoundResponse::from(m),
    ))
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
    let m =
        policy::find_visible::<compound::Entity, _>(&state.db, &user, Action::CompoundRead, *id)
            .await?;
    Ok(HttpResponse::Ok().json(CompoundResponse::from(m)))
}

/// Update a compound: name, address, serving property company.
#[utoipa::path(tag = "territory", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = UpdateCompoundRequest,
    responses(
        (status = 200, body = CompoundResponse),
        (status = 403, description = "The caller's role may not change compounds"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "A compound with this name exists in the community"),
    ))]
#[patch("/compounds/{id}")]
pub async fn update_compound(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<UpdateCompoundRequest>,
) -> AppResult<HttpResponse> {
    let m = policy::authorize_object::<compound::Entity, _>(
        &state.db,
        &user,
        Action::CompoundRead,
        Action::CompoundWrite,
        *id,
    )
    .await?;
    let street_id = m.street_id;
    let mut am = m.into_active_model();
    if let Some(name) = &body.name {
        am.name = Set(clean_name("name", name, NAME_MAX)?);
    }
    if let Some(address) = &body.address {
        am.address = Set(clean_address(address.as_deref())?);
    }
    if let Some(company) = body.property_company_id {
        check_company(&state.db, &user, street_id, company).await?;
        am.property_company_id = Set(company);
    }
    am.updated_at = Set(Utc::now());
    let m = svc::update(&state.db, am, &DUPLICATE).await?;
    Ok(HttpResponse::Ok().json(CompoundResponse::from(m)))
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
    let db = &state.db;
    let children = [
        (
            "buildings",
            svc::count::<building::Entity, _>(db, building::Column::CompoundId, *id).await?,
        ),
        (
            "grid areas",
            svc::count::<grid_area::Entity, _>(db, grid_area::Column::CompoundId, *id).await?,
        ),
    ];
    svc::delete_checked::<compound::Entity, _>(
        db,
        &user,
        Action::CompoundRead,
        Action::CompoundWrite,
        *id,
        &children,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
