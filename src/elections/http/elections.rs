//! The election itself: create, list, read, edit the draft, its results, and mine.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::with_etag;
use crate::access::AuthUser;
use crate::elections::model::{ElectionBody, ElectionScope, Method, Rules, Status};
use crate::elections::query::{
    self, ElectionFilter, ElectionResponse, ElectionResultsResponse, MyElectionResponse,
};
use crate::elections::service::{self as svc, DraftChange, NewElection, NewPosition};
use crate::platform::error::AppResult;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::{double_option, if_match, Page, PageParams};
use crate::platform::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionRequest {
    /// 主任, 副主任, 委员, 楼组长, 街面长 … 1 to 20 characters; the office terms' position.
    #[schema(max_length = 20, format = "text-line")]
    pub position: String,
    /// Shown on the ballot; the position when absent. At most 80 characters.
    #[schema(max_length = 80, format = "text-line")]
    pub title: Option<String>,
    #[schema(minimum = 1, maximum = 20)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub seats: i32,
    /// Qualified candidates needed to publish them: at least `seats`; by default `seats`, plus
    /// one when contested (差额).
    #[schema(minimum = 1, maximum = 60)]
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    pub min_candidates: Option<i32>,
}

fn positions(ps: Vec<PositionRequest>) -> Vec<NewPosition> {
    ps.into_iter()
        .map(|p| NewPosition {
            position: p.position,
            title: p.title,
            seats: p.seats,
            min_candidates: p.min_candidates,
        })
        .collect()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateElectionRequest {
    /// building_leader → building; street_leader → compound (a `street_front` or `mixed` one);
    /// residents_committee and council → community; neighbour_steward any.
    pub scope_type: ElectionScope,
    pub scope_id: Uuid,
    pub body: ElectionBody,
    /// 1 to 80 characters.
    #[schema(max_length = 80, format = "text-line")]
    pub title: String,
    /// `direct`: every eligible resident votes; `household_rep`: one vote per household.
    pub method: Method,
    /// 1 to 10 (a 居委会's term is 5 years).
    #[schema(minimum = 1, maximum = 10)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub term_years: i32,
    /// The terms' first day; the day the results are published when absent.
    pub term_starts_on: Option<NaiveDate>,
    /// In the future.
    pub voting_starts_at: DateTime<Utc>,
    /// After `voting_starts_at`, at most 31 days later.
    pub voting_ends_at: DateTime<Utc>,
    /// The rules; the defaults of §A4.1 when absent.
    pub rules: Option<Rules>,
    /// 1 to 10 positions.
    #[schema(min_items = 1, max_items = 10)]
    pub positions: Vec<PositionRequest>,
}

/// Create an election (draft) on a node the caller runs elections on.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    request_body = CreateElectionRequest,
    responses(
        (status = 201, body = ElectionResponse, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Invalid values: the body does not sit on this kind of scope, times, rules or positions out of range"),
        (status = 403, description = "The caller sees the node but may not run elections there"),
        (status = 404, description = "The node is not found or outside the caller's reach"),
        (status = 409, description = "A street leader election on a compound that is not `street_front` or `mixed` (`compound_not_street_front`)"),
    ))]
#[post("/elections")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn create_election(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateElectionRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let n = NewElection {
        scope_type: b.scope_type,
        scope_id: b.scope_id,
        body: b.body,
        title: b.title,
        method: b.method,
        term_years: b.term_years,
        term_starts_on: b.term_starts_on,
        voting_starts_at: b.voting_starts_at,
        voting_ends_at: b.voting_ends_at,
        rules: b.rules,
        positions: positions(b.positions),
    };
    let e = svc::create(&state.db, &user, n, state.clock.now()).await?;
    let r = query::respond(&state.db, e).await?;
    let mut res = HttpResponse::Created();
    res.insert_header((
        actix_web::http::header::LOCATION,
        format!("/api/v1/elections/{}", r.id),
    ));
    Ok(with_etag(res, &r))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListElectionsQuery {
    pub community_id: Option<Uuid>,
    /// The node the election is on.
    pub scope_id: Option<Uuid>,
    pub status: Option<Status>,
    pub body: Option<ElectionBody>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List the elections the caller may see, newest first.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(ListElectionsQuery),
    responses((status = 200, body = Page<ElectionResponse>)))]
#[get("/elections")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn list_elections(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListElectionsQuery>,
) -> AppResult<HttpResponse> {
    let q = q.0;
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let f = ElectionFilter {
        community_id: q.community_id,
        scope_id: q.scope_id,
        status: q.status,
        body: q.body,
    };
    Ok(HttpResponse::Ok().json(query::list(&state.db, &user, f, p).await?))
}

/// The elections above my home (published roll on), with whether I am on each roll and my paper box.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    responses((status = 200, body = Vec<MyElectionResponse>),
        (status = 409, description = "The poll engine is not available (`guard_failed`)")))]
#[get("/me/elections")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn list_my_elections(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(query::mine(&state.db, &user, state.clock.now()).await?))
}

/// One election with its positions and officers.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ElectionResponse, headers(("ETag" = String))),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/elections/{id}")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn get_election(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let r = query::get(&state.db, &user, *id).await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateElectionRequest {
    #[schema(max_length = 80, format = "text-line")]
    pub title: Option<String>,
    pub method: Option<Method>,
    #[schema(minimum = 1, maximum = 10)]
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    pub term_years: Option<i32>,
    /// null clears it (the terms then start on the day of publication).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub term_starts_on: Option<Option<NaiveDate>>,
    pub voting_starts_at: Option<DateTime<Utc>>,
    pub voting_ends_at: Option<DateTime<Utc>>,
    pub rules: Option<Rules>,
    /// Replaces every position.
    #[schema(min_items = 1, max_items = 10)]
    pub positions: Option<Vec<PositionRequest>>,
}

/// Edit a draft election (If-Match).
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The election's ETag; a stale one answers 412")),
    request_body = UpdateElectionRequest,
    responses(
        (status = 200, body = ElectionResponse, headers(("ETag" = String))),
        (status = 400, description = "Invalid values"),
        (status = 403, description = "The caller may read the election but not run it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not a draft (`wrong_status`), or changed at the same moment (`concurrent_change`)"),
        (status = 412, description = "If-Match does not match the election's current ETag"),
    ))]
#[patch("/elections/{id}")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn update_election(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<UpdateElectionRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let c = DraftChange {
        title: b.title,
        method: b.method,
        term_years: b.term_years,
        term_starts_on: b.term_starts_on,
        voting_starts_at: b.voting_starts_at,
        voting_ends_at: b.voting_ends_at,
        rules: b.rules,
        positions: b.positions.map(positions),
    };
    let e = svc::update(&state.db, &user, *id, if_match(&req)?, c, state.clock.now()).await?;
    let r = query::respond(&state.db, e).await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}

/// The published results: per position the candidates with votes, rank and whether elected; E, P and validity.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ElectionResultsResponse),
        (status = 404, description = "Not found, not the caller's to see, or not published yet"),
    ))]
#[get("/elections/{id}/results")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn get_election_results(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(query::results(&state.db, &user, *id).await?))
}
