//! The verbs of 决 and 办: open and cancel the decision, name the lead, start the work, post
//! updates and milestones, complete, accept (验收), close, mark 金点子.

use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::answer;
use super::verbs::ReasonRequest;
use crate::access::AuthUser;
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError};
use crate::platform::http::extract::Json;
use crate::platform::http::{clean_line, clean_optional, clean_text, if_match};
use crate::platform::lang::Text;
use crate::platform::state::AppState;
use crate::polls::model::{Eligibility, Preset, Rules, Secrecy, VoterUnit};
use crate::proposals::model::{self as m, UpdateKind, Verdict};
use crate::proposals::query::{ProposalResponse, UpdateResponse};
use crate::proposals::service::hooks::Leftover;
use crate::proposals::service::{closing, decision, implementation as imp};

const IF_MATCH: &str = "The proposal's ETag; a stale one answers 412";

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DecisionPollRequest {
    /// Default `secret` (无记名).
    pub secrecy: Option<Secrecy>,
    /// Default `household` (one vote per household).
    pub unit: Option<VoterUnit>,
    /// Default the consultation policy's `decision_preset`.
    pub preset: Option<Preset>,
    /// The rules of a `custom` preset.
    pub rules: Option<Rules>,
    pub eligibility: Option<Eligibility>,
    /// Days open, 1–60; default the policy's `poll_days`.
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    #[schema(minimum = 1, maximum = 60)]
    pub days: Option<i32>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct OpenDecisionRequest {
    /// How the poll is set up; everything defaults to the consultation policy.
    #[serde(default)]
    pub poll: DecisionPollRequest,
}

/// Open the decision (deliberating → deciding): the current revision is frozen and a poll on it
/// opens now (subject `proposal_decision`, the proposal's place; the revision's sha256 in its
/// description; secret, per household and the policy's preset and days unless given).
#[utoipa::path(tag = "proposals", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = IF_MATCH)),
    request_body = OpenDecisionRequest,
    responses(
        (status = 200, body = ProposalResponse, headers(("ETag" = String))),
        (status = 400, description = "An invalid poll spec"),
        (status = 403, description = "The caller may read the proposal but not move it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not `deliberating` (`wrong_step`); unmet guards (`guard_failed`: `deliberation_ends_at`, `revision`)"),
        (status = 412, description = "If-Match does not match the proposal's current ETag"),
    ))]
#[post("/proposals/{id}/open-decision")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn open_proposal_decision(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Option<Json<OpenDecisionRequest>>,
) -> AppResult<HttpResponse> {
    let p = body.map(|b| b.into_inner()).unwrap_or_default().poll;
    decision::check_days(p.days)?;
    let spec = decision::DecisionSpec {
        secrecy: p.secrecy,
        unit: p.unit,
        preset: p.preset,
        rules: p.rules,
        eligibility: p.eligibility,
        days: p.days,
    };
    let now = state.clock.now();
    decision::open_decision(&state.db, &user, *id, if_match(&req)?, spec, now).await?;
    answer(&state, &user, *id).await
}

/// Cancel the decision (deciding → deliberating) before the first ballot, with a reason: the
/// poll is cancelled, the text thawed.
#[utoipa::path(tag = "proposals", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = IF_MATCH)),
    request_body = ReasonRequest,
    responses(
        (status = 200, body = ProposalResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the proposal but not move it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not `deciding` (`wrong_step`); ballots cast (`guard_failed`: `ballots_cast`)"),
        (status = 412, description = "If-Match does not match the proposal's current ETag"),
    ))]
#[post("/proposals/{id}/cancel-decision")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn cancel_proposal_decision(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let r = clean_text("reason", &body.reason, m::REASON_MAX)?;
    let now = state.clock.now();
    decision::cancel_decision(&state.db, &user, *id, if_match(&req)?, r, now).await?;
    answer(&state, &user, *id).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetLeadRequest {
    /// The lead's roster entry (one of these two).
    pub resident_id: Option<Uuid>,
    /// The lead's account (a resident of the community).
    pub user_id: Option<Uuid>,
}

/// Name the lead (领办人): a resident of the proposal's community, from deliberation on.
#[utoipa::path(tag = "proposals", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = IF_MATCH)),
    request_body = SetLeadRequest,
    responses(
        (status = 200, body = ProposalResponse, headers(("ETag" = String))),
        (status = 400, description = "Neither or both given, or not a resident of the community"),
        (status = 403, description = "The caller may read the proposal but not move it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Wrong step (`wrong_step`)"),
        (status = 412, description = "If-Match does not match the proposal's current ETag"),
    ))]
#[post("/proposals/{id}/set-lead")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn set_proposal_lead(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<SetLeadRequest>,
) -> AppResult<HttpResponse> {
    let lead = match (body.resident_id, body.user_id) {
        (Some(r), None) => imp::LeadRef::Resident(r),
        (None, Some(u)) => imp::LeadRef::User(u),
        _ => {
            return Err(AppError::invalid(
                "resident_id",
                FieldCode::ExactlyOne,
                Text::new("居民与账号二选一", "give resident_id or user_id"),
            ))
        }
    };
    imp::set_lead(
        &state.db,
        &user,
        *id,
        if_match(&req)?,
        lead,
        state.clock.now(),
    )
    .await?;
    answer(&state, &user, *id).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneRequest {
    /// 1 to 50 characters, one line.
    #[schema(max_length = 50, format = "text-line")]
    pub title: String,
    pub planned_on: Option<NaiveDate>,
}

fn milestones(given: Vec<MilestoneRequest>) -> AppResult<Vec<imp::NewMilestone>> {
    if given.len() > m::MILESTONES_MAX {
        return Err(AppError::Validation(vec![FieldError::too_many(
            "milestones",
            m::MILESTONES_MAX,
        )]));
    }
    given
        .into_iter()
        .enumerate()
        .map(|(i, ms)| {
            Ok(imp::NewMilestone {
                title: clean_line(
                    &format!("milestones[{i}].title"),
                    &ms.title,
                    m::MILESTONE_TITLE_MAX,
                )?,
                planned_on: ms.planned_on,
            })
        })
        .collect()
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct StartImplementationRequest {
    /// The planned milestones (at most 20).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub milestones: Vec<MilestoneRequest>,
}

/// Start the work (raising → implementing). Guards: the decision poll passed (`poll`), a lead
/// (`lead`), and for a budget the money committed (approved allocations + contributions
/// received) covers it (`committed`).
#[utoipa::path(tag = "proposals", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = IF_MATCH)),
    request_body = StartImplementationRequest,
    responses(
        (status = 200, body = ProposalResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the proposal but not move it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not `raising` or `deciding` (`wrong_step`); unmet guards (`guard_failed`: `poll`, `lead`, `committed`)"),
        (status = 412, description = "If-Match does not match the proposal's current ETag"),
    ))]
#[post("/proposals/{id}/start-implementation")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn start_proposal_implementation(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Option<Json<StartImplementationRequest>>,
) -> AppResult<HttpResponse> {
    let ms = milestones(body.map(|b| b.into_inner()).unwrap_or_default().milestones)?;
    imp::start(
        &state.db,
        &user,
        *id,
        if_match(&req)?,
        ms,
        state.clock.now(),
    )
    .await?;
    answer(&state, &user, *id).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUpdateRequest {
    pub kind: UpdateKind,
    /// 0–100; without it a proposal with milestones shows done/total.
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    #[schema(minimum = 0, maximum = 100)]
    #[schema(value_type = Option<i32>)]
    pub progress_pct: Option<i16>,
    /// 1 to 1000 characters.
    #[schema(max_length = 1000, format = "text")]
    pub note: String,
    /// The poster's own uploads, at most 9.
    #[serde(default)]
    #[schema(max_items = 9)]
    pub attachment_ids: Vec<Uuid>,
    /// A milestone this update marks done.
    pub milestone_id: Option<Uuid>,
}

/// Report on the work while `implementing` (the lead or community staff): progress, a
/// milestone reached, an issue, or the completion (with photos: the evidence `complete` needs).
#[utoipa::path(tag = "proposals", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = CreateUpdateRequest,
    responses(
        (status = 201, body = UpdateResponse),
        (status = 400, description = "Invalid fields, more than 9 photos, photos not the caller's own uploads"),
        (status = 403, description = "Neither the lead nor staff of the place"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not `implementing` (`wrong_step`)"),
    ))]
#[post("/proposals/{id}/updates")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn create_proposal_update(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<CreateUpdateRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    if b.attachment_ids.len() > m::PHOTOS_MAX {
        return Err(AppError::Validation(vec![FieldError::too_many(
            "attachment_ids",
            m::PHOTOS_MAX,
        )]));
    }
    if b.progress_pct.is_some_and(|p| !(0..=100).contains(&p)) {
        return Err(AppError::invalid(
            "progress_pct",
            FieldCode::OutOfRange,
            Text::new("进度须在 0 到 100 之间", "0 to 100"),
        ));
    }
    let u = imp::NewUpdate {
        kind: b.kind,
        progress_pct: b.progress_pct,
        note: clean_text("note", &b.note, m::NOTE_MAX)?,
        attachment_ids: b.attachment_ids,
        milestone_id: b.milestone_id,
    };
    let row = imp::post_update(&state.db, &user, *id, u, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(crate::proposals::query::update_response(row)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMilestonesRequest {
    pub milestones: Vec<MilestoneRequest>,
}

/// Add milestones (the lead or staff) while raising or implementing. 204.
#[utoipa::path(tag = "proposals", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = AddMilestonesRequest,
    responses(
        (status = 204, description = "Added after those there are"),
        (status = 400, description = "Invalid fields or more than 20 in all"),
        (status = 403, description = "Neither the lead nor staff of the place"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Wrong step (`wrong_step`)"),
    ))]
#[post("/proposals/{id}/milestones")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn add_proposal_milestones(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<AddMilestonesRequest>,
) -> AppResult<HttpResponse> {
    let ms = milestones(body.into_inner().milestones)?;
    imp::add_milestones(&state.db, &user, *id, ms, state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Complete the work (implementing → evaluating; the lead or staff) and open the evaluation poll
/// (满意/基本满意/不满意 + 1–5 stars, per resident, the policy's days). Guards: a completion
/// update with a photo (`completion`), no unpaid expense (`expenses`), not on hold (`on_hold`).
/// No body.
#[utoipa::path(tag = "proposals", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = IF_MATCH)),
    responses(
        (status = 200, body = ProposalResponse, headers(("ETag" = String))),
        (status = 403, description = "Neither the lead nor staff of the place"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not `implementing` (`wrong_step`); unmet guards (`guard_failed`: `completion`, `expenses`, `on_hold`)"),
        (status = 412, description = "If-Match does not match the proposal's current ETag"),
    ))]
#[post("/proposals/{id}/complete")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn complete_proposal(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    closing::complete(&state.db, &user, *id, if_match(&req)?, state.clock.now()).await?;
    answer(&state, &user, *id).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptanceRequest {
    pub verdict: Verdict,
    /// Required for `fail` (what is to be redone), up to 500 characters.
    #[schema(max_length = 500, format = "text-or-blank")]
    pub note: Option<String>,
}

/// Give a 验收 verdict while `evaluating` (council members and staff; once per person and
/// round). Two passes by distinct people allow the close; a fail sends the work back to
/// `implementing`.
#[utoipa::path(tag = "proposals", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = AcceptanceRequest,
    responses(
        (status = 200, body = ProposalResponse, headers(("ETag" = String))),
        (status = 400, description = "A fail without a note"),
        (status = 403, description = "The caller may read the proposal but not move it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not `evaluating` (`wrong_step`); a second verdict by the same person (`guard_failed`: `acceptance`)"),
    ))]
#[post("/proposals/{id}/acceptances")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn create_proposal_acceptance(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<AcceptanceRequest>,
) -> AppResult<HttpResponse> {
    let note = clean_optional("note", &body.note, m::REASON_MAX)?;
    if body.verdict == Verdict::Fail && note.is_none() {
        return Err(AppError::Validation(vec![FieldError::required("note")]));
    }
    let now = state.clock.now();
    closing::accept_work(&state.db, &user, *id, body.verdict, note, now).await?;
    answer(&state, &user, *id).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseProposalRequest {
    /// Mark it 金点子 (the street's case list). Default false.
    #[serde(default)]
    pub golden: bool,
    /// What becomes of contributions not spent: kept (memo) or refunded. Default `keep`.
    pub leftover: Option<Leftover>,
}

/// Close a proposal (evaluating → closed). Guards: the evaluation poll closed (`evaluation`),
/// two 验收 passes by distinct people (`acceptances`). Unused allocations are released and
/// leftovers kept or refunded in the same transaction; the 回头看 review falls due after the
/// policy's days.
#[utoipa::path(tag = "proposals", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = IF_MATCH)),
    request_body = CloseProposalRequest,
    responses(
        (status = 200, body = ProposalResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the proposal but not move it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not `evaluating` (`wrong_step`); unmet guards (`guard_failed`: `evaluation`, `acceptances`)"),
        (status = 412, description = "If-Match does not match the proposal's current ETag"),
    ))]
#[post("/proposals/{id}/close")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn close_proposal(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<CloseProposalRequest>,
) -> AppResult<HttpResponse> {
    let leftover = body.leftover.unwrap_or(Leftover::Keep);
    let now = state.clock.now();
    closing::close(
        &state.db,
        &user,
        *id,
        if_match(&req)?,
        body.golden,
        leftover,
        now,
    )
    .await?;
    answer(&state, &user, *id).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoldenRequest {
    pub golden: bool,
}

/// Mark or unmark a closed proposal as 金点子.
#[utoipa::path(tag = "proposals", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = IF_MATCH)),
    request_body = GoldenRequest,
    responses(
        (status = 200, body = ProposalResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the proposal but not move it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not `closed` (`wrong_step`)"),
        (status = 412, description = "If-Match does not match the proposal's current ETag"),
    ))]
#[post("/proposals/{id}/golden")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn mark_proposal_golden(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<GoldenRequest>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    closing::set_golden(&state.db, &user, *id, if_match(&req)?, body.golden, now).await?;
    answer(&state, &user, *id).await
}
