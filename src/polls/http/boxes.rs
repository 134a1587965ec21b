//! The roll for staff (view, late additions, strikes) and paper boxes (流动票箱): opening one,
//! marking voters handed a paper ballot, entering and confirming counts, recounting.

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AuthUser;
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError};
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::{clean_line, clean_text, Page, PageParams};
use crate::platform::lang::Text;
use crate::platform::state::AppState;
use crate::polls::http::manage::ReasonRequest;
use crate::polls::model::{self, RollStatus};
use crate::polls::query::{self, PollBoxResponse, RollEntry};
use crate::polls::service::tally::PaperCount;
use crate::polls::service::{self as svc, boxes, VoterRef};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RollQuery {
    pub status: Option<RollStatus>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A poll's roll for its managers and tellers, by voter key: names masked, the status of each
/// entry; how and when an entry voted only for open (not secret) polls.
#[utoipa::path(tag = "polls", security(("bearer" = [])), params(("id" = Uuid, Path), RollQuery),
    responses(
        (status = 200, body = Page<RollEntry>),
        (status = 403, description = "The caller may read the poll but neither manages it nor keeps its boxes"),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/polls/{id}/roll")]
pub async fn list_poll_roll(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: Query<RollQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    Ok(HttpResponse::Ok().json(query::roll(&state.db, &user, *id, q.status, p).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddVoterRequest {
    /// For a poll by resident: the resident (a current one of the poll's place).
    pub resident_id: Option<Uuid>,
    /// For a poll by household: the household.
    pub household_id: Option<Uuid>,
    /// 1 to 500 characters (moved in, birth date corrected…); audited.
    #[schema(max_length = 500, format = "text")]
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct VoterKeyResponse {
    pub voter_key: Uuid,
}

/// Adds a voter to an open poll's roll (a late addition, counted separately), with a reason;
/// audited.
#[utoipa::path(tag = "polls", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = AddVoterRequest,
    responses(
        (status = 201, body = VoterKeyResponse),
        (status = 400, description = "Not a current resident or household of the poll's place, or the wrong one of the two"),
        (status = 403, description = "The caller may read the poll but not manage it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not open (`poll_not_open`), or already on the roll (`already_exists`)"),
    ))]
#[post("/polls/{id}/roll")]
#[tracing::instrument(skip_all, fields(user = %user.id, poll = %id))]
pub async fn add_poll_voter(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<AddVoterRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let key = match (b.resident_id, b.household_id) {
        (Some(r), None) => VoterRef::Resident(r),
        (None, Some(h)) => VoterRef::Household(h),
        _ => {
            return Err(AppError::invalid(
                "resident_id",
                FieldCode::ExactlyOne,
                Text::new(
                    "请在 resident_id 和 household_id 中指定一个",
                    "exactly one of resident_id and household_id",
                ),
            ))
        }
    };
    let reason = clean_text("reason", &b.reason, model::REASON_MAX)?;
    let voter_key =
        svc::add_late_voter(&state.db, &user, *id, key, reason, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(VoterKeyResponse { voter_key }))
}

/// Strikes an entry from the roll (eligible or needs review; never one that voted), with a
/// reason; audited.
#[utoipa::path(tag = "polls", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("voter_key" = Uuid, Path)),
    request_body = ReasonRequest,
    responses(
        (status = 204),
        (status = 403, description = "The caller may read the poll but not manage it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "The entry voted or is struck already, or the poll is closed (`wrong_status`)"),
    ))]
#[post("/polls/{id}/roll/{voter_key}/strike")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn strike_poll_voter(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let (id, key) = path.into_inner();
    let reason = clean_text("reason", &body.reason, model::REASON_MAX)?;
    svc::strike_voter(&state.db, &user, id, key, reason, state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Admits an entry listed `needs_review` (no birth date on the roster) once staff have checked
/// it: it becomes eligible; audited.
#[utoipa::path(tag = "polls", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("voter_key" = Uuid, Path)),
    responses(
        (status = 204),
        (status = 403, description = "The caller may read the poll but not manage it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "The entry is not `needs_review`, or the poll is closed (`wrong_status`)"),
    ))]
#[post("/polls/{id}/roll/{voter_key}/admit")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn admit_poll_voter(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let (id, key) = path.into_inner();
    svc::admit_voter(&state.db, &user, id, key, state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBoxRequest {
    /// 中心会场, 流动票箱1, …: 1 to 30 characters.
    #[schema(max_length = 30, format = "text-line")]
    pub label: String,
    /// Blank paper ballots given to the box, 1 to 100,000.
    #[schema(minimum = 1, maximum = 100000)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub issued_count: i32,
    /// Where the box stands, or the route a 流动票箱 walks: at most 200 characters. Shown to
    /// the voters (`GET /api/v1/me/elections`).
    #[schema(max_length = 200, format = "text-line")]
    pub location: Option<String>,
    /// When it is there ("12月6日 9:00–11:00"): at most 200 characters, shown to the voters.
    #[schema(max_length = 200, format = "text-line")]
    pub schedule: Option<String>,
}

/// Opens a paper box for a poll not yet closed (its tellers, or staff keeping boxes).
#[utoipa::path(tag = "polls", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = CreateBoxRequest,
    responses(
        (status = 201, body = PollBoxResponse),
        (status = 400, description = "Invalid fields"),
        (status = 403, description = "Not a teller of the poll"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Closed or cancelled (`wrong_status`)"),
    ))]
#[post("/polls/{id}/boxes")]
#[tracing::instrument(skip_all, fields(user = %user.id, poll = %id))]
pub async fn create_poll_box(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<CreateBoxRequest>,
) -> AppResult<HttpResponse> {
    let label = clean_line("label", &body.label, model::BOX_LABEL_MAX)?;
    if !(1..=model::BOX_ISSUED_MAX).contains(&body.issued_count) {
        return Err(AppError::invalid(
            "issued_count",
            FieldCode::OutOfRange,
            Text::new("发出票数须在 1 到 100000 之间", "1 to 100000"),
        ));
    }
    let place = |field: &str, v: &Option<String>| {
        v.as_deref()
            .map(|v| clean_line(field, v, model::BOX_PLACE_MAX))
            .transpose()
    };
    let at = boxes::BoxPlace {
        location: place("location", &body.location)?,
        schedule: place("schedule", &body.schedule)?,
    };
    let b = boxes::create_box(
        &state.db,
        &user,
        *id,
        label,
        body.issued_count,
        at,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Created().json(PollBoxResponse::from(b)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkVoterRequest {
    /// The roll entry handed a paper ballot.
    pub voter_key: Uuid,
}

/// A teller hands a voter a paper ballot at this box: the roll entry becomes `voted` (paper),
/// exactly as a cast; refused once the poll is closed.
#[utoipa::path(tag = "polls", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = MarkVoterRequest,
    responses(
        (status = 204),
        (status = 403, description = "Not a teller of the poll; or the entry is not on the roll (`not_on_roll`)"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Already voted (`already_voted`), the poll is not open (`poll_not_open`), or the box is sealed or out of ballots (`wrong_status`)"),
    ))]
#[post("/poll-boxes/{id}/mark-voter")]
pub async fn mark_poll_voter(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<MarkVoterRequest>,
) -> AppResult<HttpResponse> {
    boxes::mark_voter(&state.db, &user, *id, body.voter_key, state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BoxCountsRequest {
    /// Votes per option counted in the box (each option at most once).
    #[schema(max_items = 500)]
    pub counts: Vec<PaperCount>,
    /// Paper ballots found in the box, at most those handed out.
    #[schema(minimum = 0, maximum = 100000)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub returned_count: i32,
}

fn counts_limit(b: &BoxCountsRequest) -> AppResult<()> {
    if b.counts.len() > 500 {
        return Err(AppError::Validation(vec![FieldError::too_many(
            "counts", 500,
        )]));
    }
    Ok(())
}

/// One teller enters a box's counts, after the poll closed.
#[utoipa::path(tag = "polls", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = BoxCountsRequest,
    responses(
        (status = 200, body = PollBoxResponse),
        (status = 400, description = "Invalid counts"),
        (status = 403, description = "Not a teller of the poll"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "The poll is not closed, or the box is counted already (`wrong_status`)"),
    ))]
#[post("/poll-boxes/{id}/tally")]
#[tracing::instrument(skip_all, fields(user = %user.id, poll_box = %id))]
pub async fn enter_box_counts(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<BoxCountsRequest>,
) -> AppResult<HttpResponse> {
    counts_limit(&body)?;
    let b = body.into_inner();
    let m = boxes::enter_counts(&state.db, &user, *id, b.counts, b.returned_count).await?;
    Ok(HttpResponse::Ok().json(PollBoxResponse::from(m)))
}

/// A second, different teller confirms a box's counts by entering them again: a mismatch is
/// 409 `guard_failed` naming `counts`. Confirmed counts join the results (a new `paper` tally).
#[utoipa::path(tag = "polls", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = BoxCountsRequest,
    responses(
        (status = 200, body = PollBoxResponse),
        (status = 400, description = "Invalid counts"),
        (status = 403, description = "Not a teller of the poll"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not counted yet or confirmed already (`wrong_status`); the same teller, or counts that differ (`guard_failed`)"),
    ))]
#[post("/poll-boxes/{id}/confirm")]
#[tracing::instrument(skip_all, fields(user = %user.id, poll_box = %id))]
pub async fn confirm_box_counts(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<BoxCountsRequest>,
) -> AppResult<HttpResponse> {
    counts_limit(&body)?;
    let b = body.into_inner();
    let m = boxes::confirm_counts(
        &state.db,
        &user,
        *id,
        b.counts,
        b.returned_count,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(PollBoxResponse::from(m)))
}

#[derive(Serialize, ToSchema)]
pub struct TallyIdResponse {
    pub tally_id: Uuid,
}

/// Recounts a closed poll from its stored ballots and confirmed boxes: a new tally (earlier
/// ones stay), which the results show from now on.
#[utoipa::path(tag = "polls", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = ReasonRequest,
    responses(
        (status = 201, body = TallyIdResponse),
        (status = 403, description = "Neither a teller nor a manager of the poll"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not closed (`wrong_status`)"),
    ))]
#[post("/polls/{id}/recount")]
#[tracing::instrument(skip_all, fields(user = %user.id, poll = %id))]
pub async fn recount_poll(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let reason = clean_text("reason", &body.reason, model::REASON_MAX)?;
    let tally_id = boxes::recount(&state.db, &user, *id, reason, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(TallyIdResponse { tally_id }))
}
