//! The household picker: 社区 → 小区 → 楼栋 → 单元/房号, for a signed-in resident who is not bound
//! yet and asks to join a household (`POST /api/v1/me/binding-requests`). Names, units and rooms
//! only: never who lives anywhere. Any signed-in account may read it, at most
//! `DIRECTORY_READS_PER_HOUR` times an hour.

use std::time::Duration;

use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::access::AuthUser;
use crate::platform::error::{AppError, AppResult, FieldError};
use crate::platform::http::extract::Query;
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::state::AppState;
use crate::territory::query::directory as svc;
pub use crate::territory::query::directory::{
    DirectoryCommunity, DirectoryHousehold, DirectoryPlace,
};

/// Reads of the picker per account per hour: a person choosing a home needs a few dozen; a
/// script mapping the territory is slowed down.
pub const DIRECTORY_READS_PER_HOUR: u64 = 300;

async fn allow(state: &AppState, caller: &AuthUser) -> AppResult<()> {
    let (n, left) = state
        .cache
        .incr_window(
            &format!("directory:reads:{}", caller.id),
            Duration::from_secs(3600),
        )
        .await?;
    if n > DIRECTORY_READS_PER_HOUR {
        return Err(AppError::rate_limited(left));
    }
    Ok(())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommunitiesQuery {
    pub street_id: Option<Uuid>,
    /// Part of the community's name (at most 50 characters).
    #[param(max_length = 50)]
    pub q: Option<String>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Communities, to start picking a home.
#[utoipa::path(tag = "me", security(("bearer" = [])), params(CommunitiesQuery),
    responses(
        (status = 200, body = Page<DirectoryCommunity>),
        (status = 429, description = "Too many picker reads this hour"),
    ))]
#[get("/directory/communities")]
pub async fn directory_communities(
    state: web::Data<AppState>,
    caller: AuthUser,
    q: Query<CommunitiesQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let text = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if text.is_some_and(|t| t.chars().count() > 50) {
        return Err(AppError::InvalidQuery(vec![FieldError::too_long("q", 50)]));
    }
    allow(&state, &caller).await?;
    Ok(HttpResponse::Ok().json(svc::communities(&state.db, q.street_id, text, p).await?))
}

macro_rules! child_query {
    ($name:ident, $parent:ident, $doc:literal) => {
        #[derive(Deserialize, IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            #[doc = $doc]
            pub $parent: Uuid,
            /// Page size, 1–100 (larger is clamped to 100). Default 20.
            pub limit: Option<i64>,
            /// `next_cursor` of the previous page.
            pub cursor: Option<String>,
        }
    };
}
child_query!(CompoundsQuery, community_id, "The community picked.");
child_query!(BuildingsQuery, compound_id, "The compound picked.");
child_query!(HouseholdsQuery, building_id, "The building picked.");

/// The compounds (小区) of a community.
#[utoipa::path(tag = "me", security(("bearer" = [])), params(CompoundsQuery),
    responses(
        (status = 200, body = Page<DirectoryPlace>),
        (status = 429, description = "Too many picker reads this hour"),
    ))]
#[get("/directory/compounds")]
pub async fn directory_compounds(
    state: web::Data<AppState>,
    caller: AuthUser,
    q: Query<CompoundsQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    allow(&state, &caller).await?;
    Ok(HttpResponse::Ok().json(svc::compounds(&state.db, q.community_id, p).await?))
}

/// The buildings (楼栋) of a compound.
#[utoipa::path(tag = "me", security(("bearer" = [])), params(BuildingsQuery),
    responses(
        (status = 200, body = Page<DirectoryPlace>),
        (status = 429, description = "Too many picker reads this hour"),
    ))]
#[get("/directory/buildings")]
pub async fn directory_buildings(
    state: web::Data<AppState>,
    caller: AuthUser,
    q: Query<BuildingsQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    allow(&state, &caller).await?;
    Ok(HttpResponse::Ok().json(svc::buildings(&state.db, q.compound_id, p).await?))
}

/// The households (单元, 房号) of a building: where to ask to join, never who lives there.
#[utoipa::path(tag = "me", security(("bearer" = [])), params(HouseholdsQuery),
    responses(
        (status = 200, body = Page<DirectoryHousehold>),
        (status = 429, description = "Too many picker reads this hour"),
    ))]
#[get("/directory/households")]
pub async fn directory_households(
    state: web::Data<AppState>,
    caller: AuthUser,
    q: Query<HouseholdsQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    allow(&state, &caller).await?;
    Ok(HttpResponse::Ok().json(svc::households(&state.db, q.building_id, p).await?))
}
