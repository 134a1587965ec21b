//! The verbs of 提 and 议: support, accept, reject, refer, merge, withdraw, cancel, hold,
//! resume. Each answers the proposal as the caller now sees it, with its ETag.

use actix_web::{delete, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::answer;
use crate::access::AuthUser;
use crate::platform::error::{AppError, AppResult, FieldCode};
use crate::platform::http::extract::Json;
use crate::platform::http::{clean_optional, clean_text, if_match};
use crate::platform::lang::Text;
use crate::platform::state::AppState;
use crate::proposals::model::{Tier, DELIBERATION_DAYS_MAX, REASON_MAX};
use crate::proposals::query::ProposalResponse;
use crate::proposals::service::referral::{self as svc_referral, ReferTo};
use crate::proposals::service::verbs::{self as svc, Acceptance};

/// Support (附议) a proposal for the caller's household: once per household (a second press,
/// by any member, changes nothing). Only while `proposed`, before the support deadline, never
/// the author's own household. No body.
#[utoipa::path(tag = "proposals", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "The household supports it"),
        (status = 403, description = "Not a resident with a household"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not `proposed` (`wrong_step`); the window ended or the author's own household (`guard_failed`: `support_deadline`, `household`)"),
    ))]
#[post("/proposals/{id}/support")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn support_proposal(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    svc::support(&state.db, &user, *id, state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Take the household's support back while `proposed`. No body.
#[utoipa::path(tag = "proposals", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "The household no longer supports it"),
        (status = 403, description = "Not a resident with a household"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not `proposed` (`wrong_step`)"),
    ))]
#[delete("/proposals/{id}/support")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn unsupport_proposal(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    svc::unsupport(&state.db, &user, *id, state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptProposalRequest {
    /// 小事/普通事/大事 (required unless set before with PATCH).
    pub tier: Option<Tier>,
    /// Days of deliberation; at least the policy's (7 by default), at most 90.
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    #[schema(minimum = 1, maximum = 90)]
    pub deliberation_days: Option<i32>,
    /// 议事会受理: why it is accepted with fewer supporters than the policy asks (500 chars).
    #[schema(max_length = 500, format = "text-or-blank")]
    pub note: Option<String>,
}

/// Accept a proposal for deliberation (proposed → deliberating) with its tier. Council members
/// and community staff; building and street leaders for small matters of their building or
/// compound.
#[utoipa::path(tag = "proposals", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The proposal's ETag; a stale one answers 412")),
    request_body = AcceptProposalRequest,
    responses(
        (status = 200, body = ProposalResponse, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields"),
        (status = 403, description = "The caller may read the proposal but not move it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not `proposed` (`wrong_step`); unmet guards (`guard_failed`: `tier`, `supporters`)"),
        (status = 412, description = "If-Match does not match the proposal's current ETag"),
    ))]
#[post("/proposals/{id}/accept")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn accept_proposal(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<AcceptProposalRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    if b.deliberation_days
        .is_some_and(|d| !(1..=DELIBERATION_DAYS_MAX).contains(&d))
    {
        return Err(AppError::invalid(
            "deliberation_days",
            FieldCode::OutOfRange,
            Text::new("协商天数须在 1 到 90 之间", "1 to 90 days"),
        ));
    }
    let a = Acceptance {
        tier: b.tier,
        deliberation_days: b.deliberation_days,
        note: clean_optional("note", &b.note, REASON_MAX)?,
    };
    svc::accept(&state.db, &user, *id, if_match(&req)?, a, state.clock.now()).await?;
    answer(&state, &user, *id).await
}

pub use crate::platform::http::ReasonRequest;

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct OptionalReasonRequest {
    /// Why, up to 500 characters.
    #[schema(max_length = 500, format = "text-or-blank")]
    pub reason: Option<String>,
}

fn reason(r: &str) -> AppResult<String> {
    clean_text("reason", r, REASON_MAX)
}

/// Reject a proposal (proposed → rejected) with the answer the author reads.
#[utoipa::path(tag = "proposals", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The proposal's ETag; a stale one answers 412")),
    request_body = ReasonRequest,
    responses(
        (status = 200, body = ProposalResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the proposal but not move it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not `proposed` (`wrong_step`)"),
        (status = 412, description = "If-Match does not match the proposal's current ETag"),
    ))]
#[post("/proposals/{id}/reject")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn reject_proposal(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let r = reason(&body.reason)?;
    svc::reject(&state.db, &user, *id, if_match(&req)?, r, state.clock.now()).await?;
    answer(&state, &user, *id).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferProposalRequest {
    /// `street`: 街道兜底, the ticket stands at the street administrator's level and the street
    /// is told; `ticket`: a red ticket in the community's own ticket flow.
    pub to: ReferTo,
    /// Why it is referred, for the timeline and the ticket (500 chars).
    #[schema(max_length = 500, format = "text-or-blank")]
    pub note: Option<String>,
    /// The compound the ticket is for; only for a community-wide proposal (a building's or
    /// compound's goes to its own compound).
    pub compound_id: Option<Uuid>,
}

/// Refer a 大事 to the street (proposed|deliberating → referred): a red ticket (诉求) of the
/// proposal's place is filed, already triaged, with the proposal's title and text; its id is
/// the proposal's `referred_ticket_id`. Council members and community staff (who may accept).
#[utoipa::path(tag = "proposals", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The proposal's ETag; a stale one answers 412")),
    request_body = ReferProposalRequest,
    responses(
        (status = 200, body = ProposalResponse, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields"),
        (status = 403, description = "The caller may read the proposal but not move it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not `proposed` or `deliberating` (`wrong_step`); unmet guards (`guard_failed`: `tier` not major, `compound_id` missing for a community-wide proposal or not of its community)"),
        (status = 412, description = "If-Match does not match the proposal's current ETag"),
    ))]
#[post("/proposals/{id}/refer")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn refer_proposal(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<ReferProposalRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let note = clean_optional("note", &b.note, REASON_MAX)?;
    let now = state.clock.now();
    svc_referral::refer(
        &state.db,
        &user,
        *id,
        if_match(&req)?,
        b.to,
        note,
        b.compound_id,
        now,
    )
    .await?;
    answer(&state, &user, *id).await
}

/// Cancel a proposal in any open step (staff), with a reason; an open decision poll nobody has
/// voted in is cancelled with it. Past the decision (raising, implementing, evaluating) it takes
/// two: the first cancel is a request (202, `cancel_requested_at` set, the step unchanged), and
/// a council member of the community other than the requester co-signs it with a second cancel
/// (200, cancelled). Any move of the step drops a pending request.
#[utoipa::path(tag = "proposals", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The proposal's ETag; a stale one answers 412")),
    request_body = ReasonRequest,
    responses(
        (status = 200, body = ProposalResponse, headers(("ETag" = String)), description = "Cancelled"),
        (status = 202, body = ProposalResponse, headers(("ETag" = String)), description = "Past the decision: the cancel waits for a council member's co-signature"),
        (status = 403, description = "The caller may read the proposal but not move it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Ended already (`wrong_step`); its decision poll has ballots (`guard_failed`: `ballots_cast`); the co-signer is the requester or not on the community's council (`guard_failed`: `cosign`)"),
        (status = 412, description = "If-Match does not match the proposal's current ETag"),
    ))]
#[post("/proposals/{id}/cancel")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn cancel_proposal(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let r = reason(&body.reason)?;
    match svc::cancel(&state.db, &user, *id, if_match(&req)?, r, state.clock.now()).await? {
        svc::Cancelled::Ended => answer(&state, &user, *id).await,
        svc::Cancelled::AwaitingCosign => {
            let r = crate::proposals::query::detail(&state.db, &user, *id).await?;
            Ok(super::with_etag(HttpResponse::Accepted(), &r))
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeProposalRequest {
    /// The open proposal of the same community this one joins.
    pub into_id: Uuid,
}

/// Merge a proposal into another open one of the same community (proposed|deliberating →
/// merged).
#[utoipa::path(tag = "proposals", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The proposal's ETag; a stale one answers 412")),
    request_body = MergeProposalRequest,
    responses(
        (status = 200, body = ProposalResponse, headers(("ETag" = String))),
        (status = 400, description = "No such proposal to merge into"),
        (status = 403, description = "The caller may read the proposal but not move it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Wrong step (`wrong_step`); the target is itself, of another community or ended (`guard_failed`: `into_id`)"),
        (status = 412, description = "If-Match does not match the proposal's current ETag"),
    ))]
#[post("/proposals/{id}/merge")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn merge_proposal(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<MergeProposalRequest>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    svc::merge(&state.db, &user, *id, if_match(&req)?, body.into_id, now).await?;
    answer(&state, &user, *id).await
}

/// The author withdraws their proposal (proposed|deliberating → withdrawn).
#[utoipa::path(tag = "proposals", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The proposal's ETag; a stale one answers 412")),
    request_body = OptionalReasonRequest,
    responses(
        (status = 200, body = ProposalResponse, headers(("ETag" = String))),
        (status = 403, description = "Not the author"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Past deliberation (`wrong_step`)"),
        (status = 412, description = "If-Match does not match the proposal's current ETag"),
    ))]
#[post("/proposals/{id}/withdraw")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn withdraw_proposal(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Option<Json<OptionalReasonRequest>>,
) -> AppResult<HttpResponse> {
    let b = body.map(|b| b.into_inner()).unwrap_or_default();
    let r = clean_optional("reason", &b.reason, REASON_MAX)?;
    svc::withdraw(&state.db, &user, *id, if_match(&req)?, r, state.clock.now()).await?;
    answer(&state, &user, *id).await
}

/// Hold an implementation (the step stays `implementing`, flagged on hold) with a reason.
#[utoipa::path(tag = "proposals", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The proposal's ETag; a stale one answers 412")),
    request_body = ReasonRequest,
    responses(
        (status = 200, body = ProposalResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the proposal but not move it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not `implementing`, or on hold already (`wrong_step`)"),
        (status = 412, description = "If-Match does not match the proposal's current ETag"),
    ))]
#[post("/proposals/{id}/hold")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn hold_proposal(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let r = reason(&body.reason)?;
    svc::hold(
        &state.db,
        &user,
        *id,
        if_match(&req)?,
        Some(r),
        state.clock.now(),
    )
    .await?;
    answer(&state, &user, *id).await
}

/// Resume an implementation on hold. No body.
#[utoipa::path(tag = "proposals", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The proposal's ETag; a stale one answers 412")),
    responses(
        (status = 200, body = ProposalResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the proposal but not move it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not `implementing`, or not on hold (`wrong_step`)"),
        (status = 412, description = "If-Match does not match the proposal's current ETag"),
    ))]
#[post("/proposals/{id}/resume")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn resume_proposal(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    svc::hold(
        &state.db,
        &user,
        *id,
        if_match(&req)?,
        None,
        state.clock.now(),
    )
    .await?;
    answer(&state, &user, *id).await
}
