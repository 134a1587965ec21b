//! The verbs of an election (§A4.3). Each unmet guard answers 409 `guard_failed` with one
//! entry of `errors[]` per guard (`field` names the guard, `code` why); a verb from the wrong
//! status answers 409 `wrong_status`.

use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::with_etag;
use crate::access::AuthUser;
use crate::elections::query::{self, ElectionResponse};
use crate::elections::service::count;
use crate::elections::service::verbs::{self, Verb};
use crate::platform::error::AppResult;
use crate::platform::http::extract::Json;
use crate::platform::http::if_match;
use crate::platform::state::AppState;

async fn answer(state: &AppState, e: query::Election) -> AppResult<HttpResponse> {
    let r = query::respond(&state.db, e).await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}

async fn run(
    state: &AppState,
    user: &AuthUser,
    req: &HttpRequest,
    id: Uuid,
    verb: Verb,
) -> AppResult<HttpResponse> {
    let e = verbs::run(&state.db, user, id, if_match(req)?, verb, state.clock.now()).await?;
    answer(state, e).await
}

/// Publish the voter roll (draft → roll_published): creates the election's secret poll and builds its roll.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The election's ETag; a stale one answers 412")),
    responses(
        (status = 200, body = ElectionResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the election but not run it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "`wrong_status`; `guard_failed`: `roll_publish_days` (too late: at least that many days before voting), `roll` (no residents in scope), `poll` (the poll engine unavailable)"),
        (status = 412, description = "If-Match does not match the election's current ETag"),
    ))]
#[post("/elections/{id}/publish-roll")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn publish_roll(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    run(&state, &user, &req, *id, Verb::PublishRoll).await
}

/// Open nominations (roll_published → nominating).
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The election's ETag; a stale one answers 412")),
    responses(
        (status = 200, body = ElectionResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the election but not run it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "`wrong_status`"),
        (status = 412, description = "If-Match does not match the election's current ETag"),
    ))]
#[post("/elections/{id}/open-nominations")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn open_nominations(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    run(&state, &user, &req, *id, Verb::OpenNominations).await
}

/// Publish the candidates (nominating → candidates_published).
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The election's ETag; a stale one answers 412")),
    responses(
        (status = 200, body = ElectionResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the election but not run it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "`wrong_status`; `guard_failed`: `positions[i]` (too few qualified candidates; more than seats when contested), `officers` (an officer is a candidate), `candidates_publish_days` (too late)"),
        (status = 412, description = "If-Match does not match the election's current ETag"),
    ))]
#[post("/elections/{id}/publish-candidates")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn publish_candidates(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    run(&state, &user, &req, *id, Verb::PublishCandidates).await
}

/// Open voting (candidates_published → voting): the poll gets one question per position and its officers, and opens.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The election's ETag; a stale one answers 412")),
    responses(
        (status = 200, body = ElectionResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the election but not run it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "`wrong_status`; `guard_failed`: `objections` (undecided), `officers` (fewer than 2), `scrutineer` (none), `poll`"),
        (status = 412, description = "If-Match does not match the election's current ETag"),
    ))]
#[post("/elections/{id}/open-voting")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn open_voting(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    run(&state, &user, &req, *id, Verb::OpenVoting).await
}

/// Close voting now (voting → counting): the poll closes and is tallied in the same transaction.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The election's ETag; a stale one answers 412")),
    responses(
        (status = 200, body = ElectionResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the election but not run it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "`wrong_status`; `guard_failed`: `poll`"),
        (status = 412, description = "If-Match does not match the election's current ETag"),
    ))]
#[post("/elections/{id}/close-voting")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn close_voting(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    run(&state, &user, &req, *id, Verb::CloseVoting).await
}

/// Certify the count as an officer: the first of two distinct officers records it, the second completes it (counting → certified).
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The election's ETag; a stale one answers 412")),
    responses(
        (status = 200, body = ElectionResponse, headers(("ETag" = String))),
        (status = 403, description = "Neither an officer nor running the election"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "`wrong_status`; `guard_failed`: `officer` (not an officer), `officers` (the same officer twice), `candidate` (a candidate), `poll` (not closed), `boxes` (unconfirmed), `reconciliation` and `paper_returned` (ballots do not reconcile)"),
        (status = 412, description = "If-Match does not match the election's current ETag"),
    ))]
#[post("/elections/{id}/certify")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn certify_election(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let e = count::certify(&state.db, &user, *id, if_match(&req)?, state.clock.now()).await?;
    answer(&state, e).await
}

/// Publish the results (certified → published, or void when the turnout misses the validity rule); starts the office terms and their roles.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The election's ETag; a stale one answers 412")),
    responses(
        (status = 200, body = ElectionResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the election but not run it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "`wrong_status`; `guard_failed`: `positions[i]` (`runoff_required`: a tie at the cut-off or unfilled seats), `min_women` (not met); `role_already_assigned`"),
        (status = 412, description = "If-Match does not match the election's current ETag"),
    ))]
#[post("/elections/{id}/publish-results")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn publish_results(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let e =
        count::publish_results(&state.db, &state.cache, &user, *id, if_match(&req)?, now).await?;
    answer(&state, e).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunoffRequest {
    /// The position whose open seats the runoff fills.
    pub position_id: Uuid,
    /// When the runoff's voting ends: in the future, at most 31 days ahead.
    pub voting_ends_at: DateTime<Utc>,
}

/// Start a runoff (另行选举) for one position (counting or certified → voting): a new poll with the tied or best-placed candidates opens now.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The election's ETag; a stale one answers 412")),
    request_body = RunoffRequest,
    responses(
        (status = 200, body = ElectionResponse, headers(("ETag" = String))),
        (status = 400, description = "No such position, or `voting_ends_at` out of range"),
        (status = 403, description = "The caller may read the election but not run it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "`wrong_status`; `guard_failed`: `poll` (not closed), `validity` (turnout too low), `position_id` (every seat filled)"),
        (status = 412, description = "If-Match does not match the election's current ETag"),
    ))]
#[post("/elections/{id}/runoff")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn start_runoff(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<RunoffRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let now = state.clock.now();
    let e = count::runoff(
        &state.db,
        &user,
        *id,
        if_match(&req)?,
        b.position_id,
        b.voting_ends_at,
        now,
    )
    .await?;
    answer(&state, e).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndElectionRequest {
    /// 1 to 500 characters.
    #[schema(max_length = 500, format = "text")]
    pub reason: String,
}

/// Void an election after voting (counting or certified → void), with the reason.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The election's ETag; a stale one answers 412")),
    request_body = EndElectionRequest,
    responses(
        (status = 200, body = ElectionResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the election but not run it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "`wrong_status`"),
        (status = 412, description = "If-Match does not match the election's current ETag"),
    ))]
#[post("/elections/{id}/void")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn void_election(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<EndElectionRequest>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let e = verbs::end(
        &state.db,
        &user,
        *id,
        if_match(&req)?,
        true,
        body.into_inner().reason,
        now,
    )
    .await?;
    answer(&state, e).await
}

/// Cancel an election before voting, with the reason.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The election's ETag; a stale one answers 412")),
    request_body = EndElectionRequest,
    responses(
        (status = 200, body = ElectionResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the election but not run it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "`wrong_status`"),
        (status = 412, description = "If-Match does not match the election's current ETag"),
    ))]
#[post("/elections/{id}/cancel")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn cancel_election(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<EndElectionRequest>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let e = verbs::end(
        &state.db,
        &user,
        *id,
        if_match(&req)?,
        false,
        body.into_inner().reason,
        now,
    )
    .await?;
    answer(&state, e).await
}
