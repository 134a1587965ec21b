//! An election's people: officers, candidates and their joint nominators, roll objections.

use actix_web::{delete, get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AuthUser;
use crate::elections::model::{CandidateStatus, NominationKind, ObjectionKind, OfficerRole};
use crate::elections::query::{self, CandidateResponse, ObjectionResponse, OfficerResponse};
use crate::elections::service::objections;
use crate::elections::service::people::{self, Nomination};
use crate::platform::error::AppResult;
use crate::platform::http::created;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::{Page, PageParams};
use crate::platform::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddOfficerRequest {
    pub user_id: Uuid,
    pub role: OfficerRole,
}

/// Appoint an officer (chair, teller, scrutineer) until voting opens; never a candidate.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = AddOfficerRequest,
    responses(
        (status = 201, body = OfficerResponse),
        (status = 400, description = "No such active account"),
        (status = 403, description = "The caller may read the election but not run it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Voting has opened (`wrong_status`), already an officer (`already_exists`), or a candidate (`guard_failed`)"),
    ))]
#[post("/elections/{id}/officers")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn add_election_officer(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<AddOfficerRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let o =
        people::add_officer(&state.db, &user, *id, b.user_id, b.role, state.clock.now()).await?;
    Ok(created(
        format!("/api/v1/elections/{}/officers/{}", o.election_id, o.user_id),
        &query::officer(o),
    ))
}

/// Remove an officer (until voting opens).
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 204),
        (status = 403, description = "The caller may read the election but not run it"),
        (status = 404, description = "Not found, not the caller's to see, or not an officer"),
        (status = 409, description = "Voting has opened (`wrong_status`)"),
    ))]
#[delete("/elections/{id}/officers/{user_id}")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn remove_election_officer(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let (id, officer) = path.into_inner();
    people::remove_officer(&state.db, &user, id, officer, state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCandidatesQuery {
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The candidates of an election (name, statement, photo; never a phone or ID number).
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path), ListCandidatesQuery),
    responses(
        (status = 200, body = Page<CandidateResponse>),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/elections/{id}/candidates")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn list_candidates(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: Query<ListCandidatesQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.0.limit, q.0.cursor.as_deref())?;
    Ok(HttpResponse::Ok().json(query::candidates(&state.db, &user, *id, p).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NominateRequest {
    pub position_id: Uuid,
    /// The candidate: absent (or oneself) for a self nomination (自荐); a neighbour for a joint
    /// nomination (联名, the proposer its first nominator); required when staff nominate.
    pub resident_id: Option<Uuid>,
    /// What the candidate stands for. 1 to 500 characters.
    #[schema(max_length = 500, format = "text")]
    pub statement: String,
    /// An uploaded photo.
    pub photo_attachment_id: Option<Uuid>,
    /// Staff only, and then required: `group` (居民小组) or `council`.
    pub kind: Option<NominationKind>,
}

/// Nominate a candidate while nominations are open (self, joint, or by staff for a group or the council).
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = NominateRequest,
    responses(
        (status = 201, body = CandidateResponse),
        (status = 400, description = "Invalid values: no such position, resident outside the election's scope, kind"),
        (status = 403, description = "A resident nominating who does not live within the election's scope, or an account without a resident"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Nominations are not open (`wrong_status`), already a candidate (`already_exists`), or an officer (`guard_failed`)"),
    ))]
#[post("/elections/{id}/candidates")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn nominate_candidate(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<NominateRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let n = Nomination {
        position_id: b.position_id,
        resident_id: b.resident_id,
        statement: b.statement,
        photo_attachment_id: b.photo_attachment_id,
        kind: b.kind,
    };
    let c = people::nominate(&state.db, &user, *id, n, state.clock.now()).await?;
    let r = query::candidate_of(&state.db, c).await?;
    Ok(created(format!("/api/v1/candidates/{}", r.id), &r))
}

/// Join a joint nomination (联名推荐) as a resident within the election's scope; counts once per resident.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = CandidateResponse),
        (status = 403, description = "The caller does not live within the election's scope"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not a standing joint nomination or nominations closed (`wrong_status`), or already joined (`already_exists`)"),
    ))]
#[post("/candidates/{id}/nominate")]
#[tracing::instrument(skip_all, fields(user = %user.id, candidate = %id))]
pub async fn join_nomination(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let c = people::join(&state.db, &user, *id, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(query::candidate_of(&state.db, c).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CandidateReasonRequest {
    /// 1 to 500 characters.
    #[schema(max_length = 500, format = "text")]
    pub reason: String,
}

async fn decide(
    state: &AppState,
    user: &AuthUser,
    id: Uuid,
    to: CandidateStatus,
    reason: Option<String>,
) -> AppResult<HttpResponse> {
    let c = people::decide(&state.db, user, id, to, reason, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(query::candidate_of(&state.db, c).await?))
}

/// Qualify a nominated candidate (资格审查通过); a joint nomination needs its nominators.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = CandidateResponse),
        (status = 403, description = "The caller may read the election but not run it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not nominated or nominations closed (`wrong_status`); too few joint nominators or an officer (`guard_failed`)"),
    ))]
#[post("/candidates/{id}/qualify")]
#[tracing::instrument(skip_all, fields(user = %user.id, candidate = %id))]
pub async fn qualify_candidate(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    decide(&state, &user, *id, CandidateStatus::Qualified, None).await
}

/// Disqualify a candidate before voting, with the reason.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = CandidateReasonRequest,
    responses(
        (status = 200, body = CandidateResponse),
        (status = 403, description = "The caller may read the election but not run it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not standing, or voting has opened (`wrong_status`)"),
    ))]
#[post("/candidates/{id}/disqualify")]
#[tracing::instrument(skip_all, fields(user = %user.id, candidate = %id))]
pub async fn disqualify_candidate(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<CandidateReasonRequest>,
) -> AppResult<HttpResponse> {
    let reason = body.into_inner().reason;
    decide(
        &state,
        &user,
        *id,
        CandidateStatus::Disqualified,
        Some(reason),
    )
    .await
}

/// Withdraw a candidacy before voting (the candidate, or staff), with the reason.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = CandidateReasonRequest,
    responses(
        (status = 200, body = CandidateResponse),
        (status = 403, description = "Neither the candidate nor running the election"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not standing, or voting has opened (`wrong_status`)"),
    ))]
#[post("/candidates/{id}/withdraw")]
#[tracing::instrument(skip_all, fields(user = %user.id, candidate = %id))]
pub async fn withdraw_candidate(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<CandidateReasonRequest>,
) -> AppResult<HttpResponse> {
    let reason = body.into_inner().reason;
    decide(&state, &user, *id, CandidateStatus::Withdrawn, Some(reason)).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileObjectionRequest {
    /// The resident the objection is about (living within the election's scope).
    pub resident_id: Uuid,
    /// `add` a missing voter, `remove` one who should not vote, `correct` an entry held for review.
    pub kind: ObjectionKind,
    /// 1 to 500 characters.
    #[schema(max_length = 500, format = "text")]
    pub reason: String,
}

/// Object to the voter roll while it is published and voting has not opened.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = FileObjectionRequest,
    responses(
        (status = 201, body = ObjectionResponse),
        (status = 400, description = "The resident does not live within the election's scope"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "The roll is not open for objections (`wrong_status`)"),
    ))]
#[post("/elections/{id}/objections")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn file_roll_objection(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<FileObjectionRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let o = objections::file(
        &state.db,
        &user,
        *id,
        b.resident_id,
        b.kind,
        b.reason,
        state.clock.now(),
    )
    .await?;
    Ok(created(
        format!("/api/v1/roll-objections/{}", o.id),
        &ObjectionResponse::from(o),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideObjectionRequest {
    /// Accepting edits the roll (adds, strikes or admits the entry), audited.
    pub accept: bool,
    /// At most 500 characters.
    #[schema(max_length = 500, format = "text")]
    pub note: Option<String>,
}

/// Decide a roll objection: accepted (the roll is edited through the poll engine) or rejected.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = DecideObjectionRequest,
    responses(
        (status = 200, body = ObjectionResponse),
        (status = 403, description = "The caller may read the election but not run it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Already decided or the roll is frozen (`wrong_status`); the roll cannot take the edit"),
    ))]
#[post("/roll-objections/{id}/decide")]
#[tracing::instrument(skip_all, fields(user = %user.id, objection = %id))]
pub async fn decide_roll_objection(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<DecideObjectionRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let o = objections::decide(&state.db, &user, *id, b.accept, b.note, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(ObjectionResponse::from(o)))
}
