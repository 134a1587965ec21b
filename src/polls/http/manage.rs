//! Managing polls: list, create, read, edit, schedule, open, close, cancel.

use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AuthUser;
use crate::platform::error::{AppError, AppResult, FieldError};
use crate::platform::http::extract::{Json, JsonOrEmpty, Query};
use crate::platform::http::{clean_line, clean_text, etag, if_match, Page, PageParams};
use crate::platform::state::AppState;
use crate::polls::model::{
    self, Eligibility, PollScope, Preset, QuestionKind, ResultsVisibility, Rules, Secrecy, Status,
    Subject, VoterUnit,
};
use crate::polls::query::{self, PollResponse, PollSummary};
use crate::polls::service::{self as svc, Changes, NewOption, NewPoll, NewQuestion};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionRequest {
    /// 1 to 50 characters, one line.
    #[schema(max_length = 50, format = "text-line")]
    pub label: String,
    /// For a `candidates` question: the candidate (an election's).
    pub candidate_id: Option<Uuid>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionRequest {
    /// 1 to 80 characters, one line.
    #[schema(max_length = 80, format = "text-line")]
    pub title: String,
    pub kind: QuestionKind,
    /// Default 1 (`multiple`, `rating`, `candidates`: 0 allowed).
    #[schema(minimum = 0, maximum = 50)]
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    pub min_choices: Option<i32>,
    /// Default 1 (`single`: 1; `candidates`: at most `seats`).
    #[schema(minimum = 1, maximum = 50)]
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    pub max_choices: Option<i32>,
    /// `candidates` only: the seats to fill.
    #[schema(minimum = 1, maximum = 50)]
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    pub seats: Option<i32>,
    /// 2 to 50 for `single`; ignored for `yes_no_abstain` (同意, 反对, 弃权 are made).
    #[serde(default)]
    #[schema(max_items = 50)]
    pub options: Vec<OptionRequest>,
}

fn questions_of(qs: Vec<QuestionRequest>) -> AppResult<Vec<NewQuestion>> {
    if qs.len() > model::QUESTIONS_MAX {
        return Err(AppError::Validation(vec![FieldError::too_many(
            "questions",
            model::QUESTIONS_MAX,
        )]));
    }
    let mut out = Vec::with_capacity(qs.len());
    for (i, q) in qs.into_iter().enumerate() {
        if q.options.len() > model::OPTIONS_MAX {
            return Err(AppError::Validation(vec![FieldError::too_many(
                format!("questions[{i}].options"),
                model::OPTIONS_MAX,
            )]));
        }
        let mut options = Vec::with_capacity(q.options.len());
        if q.kind != QuestionKind::YesNoAbstain {
            for (j, o) in q.options.into_iter().enumerate() {
                options.push(NewOption {
                    label: clean_line(
                        &format!("questions[{i}].options[{j}].label"),
                        &o.label,
                        model::LABEL_MAX,
                    )?,
                    candidate_id: o.candidate_id,
                });
            }
        }
        let max = q
            .max_choices
            .unwrap_or(if q.kind == QuestionKind::Candidates {
                q.seats.unwrap_or(1)
            } else {
                1
            });
        out.push(NewQuestion {
            title: clean_line(&format!("questions[{i}].title"), &q.title, model::TITLE_MAX)?,
            kind: q.kind,
            min_choices: q
                .min_choices
                .unwrap_or(if q.kind == QuestionKind::Candidates {
                    0
                } else {
                    1
                }),
            max_choices: max,
            seats: q.seats,
            options,
        });
    }
    Ok(out)
}

fn clean_eligibility(mut e: Eligibility) -> AppResult<Eligibility> {
    for (name, tags) in [("tags_any", &mut e.tags_any), ("tags_all", &mut e.tags_all)] {
        if tags.len() > model::TAGS_MAX {
            return Err(AppError::Validation(vec![FieldError::too_many(
                format!("eligibility.{name}"),
                model::TAGS_MAX,
            )]));
        }
        let mut out: Vec<String> = Vec::new();
        for (i, t) in tags.iter().enumerate() {
            let t = clean_line(&format!("eligibility.{name}[{i}]"), t, model::TAG_MAX)?;
            if !out.contains(&t) {
                out.push(t);
            }
        }
        *tags = out;
    }
    Ok(e)
}

fn clean_description(d: Option<&str>) -> AppResult<String> {
    match d.map(str::trim) {
        None | Some("") => Ok(String::new()),
        Some(d) => clean_text("description", d, model::DESCRIPTION_MAX),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePollRequest {
    /// The level of the place whose residents (or households) are on the roll.
    pub scope_type: PollScope,
    pub scope_id: Uuid,
    /// 1 to 80 characters, one line.
    #[schema(max_length = 80, format = "text-line")]
    pub title: String,
    /// Up to 5,000 characters.
    #[schema(max_length = 5000, format = "text")]
    pub description: Option<String>,
    pub secrecy: Secrecy,
    pub unit: VoterUnit,
    /// Default: any age, no tags, no shops.
    #[serde(default)]
    pub eligibility: Eligibility,
    /// `residents_meeting` (居民会议: 过半数 take part, 过半数 of them agree), `simple_majority`,
    /// `two_thirds` (三分之二以上, inclusive) or `custom` (then `rules` is required).
    pub preset: Preset,
    /// For `custom`: the rules, integer fractions with their strictness (`strict`: 过半数 /
    /// 超过, more than; not strict: 以上, at least).
    pub rules: Option<Rules>,
    /// Default `after_close`; `live` for open polls only.
    pub results_visibility: Option<ResultsVisibility>,
    /// Kept to the minute. At most 366 days ahead.
    pub opens_at: DateTime<Utc>,
    /// After `opens_at`, at most 366 days later.
    pub closes_at: DateTime<Utc>,
    /// At most 10.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub questions: Vec<QuestionRequest>,
}

fn with_etag(mut res: actix_web::HttpResponseBuilder, p: &PollResponse) -> HttpResponse {
    res.insert_header((header::ETAG, etag(p.version))).json(p)
}

/// Creates a stand-alone poll in `draft` for a place the caller manages polls in (staff; a
/// building leader for their building; a street leader for their compound).
#[utoipa::path(tag = "polls", security(("bearer" = [])),
    request_body = CreatePollRequest,
    responses(
        (status = 201, body = PollResponse, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Invalid fields (`errors[]` names each)"),
        (status = 403, description = "The caller sees the place but may not manage polls there"),
        (status = 404, description = "The place is not found or outside the caller's scope"),
    ))]
#[post("/polls")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn create_poll(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreatePollRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let p = NewPoll {
        scope_type: b.scope_type,
        scope_id: b.scope_id,
        subject_type: Subject::Standalone,
        subject_id: None,
        title: clean_line("title", &b.title, model::TITLE_MAX)?,
        description: clean_description(b.description.as_deref())?,
        secrecy: b.secrecy,
        unit: b.unit,
        eligibility: clean_eligibility(b.eligibility)?,
        preset: b.preset,
        rules: svc::rules_for(b.preset, b.rules)?,
        results_visibility: b
            .results_visibility
            .unwrap_or(ResultsVisibility::AfterClose),
        opens_at: b.opens_at,
        closes_at: b.closes_at,
        questions: questions_of(b.questions)?,
        created_by_name: String::new(),
    };
    let now = state.clock.now();
    let id = svc::create(&state.db, &user, p, now).await?;
    tracing::info!(poll = %id, "poll drafted");
    let r = query::get(&state.db, &user, id, now).await?;
    Ok(with_etag(
        HttpResponse::Created()
            .insert_header((header::LOCATION, format!("/api/v1/polls/{id}")))
            .take(),
        &r,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListPollsQuery {
    pub status: Option<Status>,
    pub community_id: Option<Uuid>,
    /// Only polls addressed to exactly this place.
    pub scope_id: Option<Uuid>,
    pub subject_type: Option<Subject>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The polls the caller may read, newest first: staff and leaders every poll down their reach
/// (drafts included); residents, and leaders for the places above them, the scheduled, open and
/// closed polls addressed to their building, compound, community and street.
#[utoipa::path(tag = "polls", security(("bearer" = [])), params(ListPollsQuery),
    responses((status = 200, body = Page<PollSummary>)))]
#[get("/polls")]
pub async fn list_polls(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListPollsQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let f = query::Filters {
        status: q.status,
        community_id: q.community_id,
        scope_id: q.scope_id,
        subject_type: q.subject_type,
    };
    Ok(HttpResponse::Ok().json(query::list(&state.db, &user, f, p).await?))
}

/// One poll: its questions, turnout so far (`ballots_cast`), where the caller stands
/// (`my_status`), and per-option counts once visible — after close, or live for an open
/// (not secret) poll with `results_visibility = live`; never before close for a secret poll,
/// whoever asks.
#[utoipa::path(tag = "polls", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = PollResponse, headers(("ETag" = String))),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/polls/{id}")]
pub async fn get_poll(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let r = query::get(&state.db, &user, *id, state.clock.now()).await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePollRequest {
    #[schema(max_length = 80, format = "text-line")]
    pub title: Option<String>,
    #[schema(max_length = 5000, format = "text")]
    pub description: Option<String>,
    pub secrecy: Option<Secrecy>,
    pub unit: Option<VoterUnit>,
    pub eligibility: Option<Eligibility>,
    pub preset: Option<Preset>,
    pub rules: Option<Rules>,
    pub results_visibility: Option<ResultsVisibility>,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    /// Replaces every question.
    #[schema(max_items = 10)]
    pub questions: Option<Vec<QuestionRequest>>,
}

/// Edits a draft or scheduled stand-alone poll. Once open nothing changes (409
/// `wrong_status`): secrecy, unit, rules and results visibility are fixed from then on. From
/// the mini-program: `POST` with `X-HTTP-Method-Override: PATCH`.
#[utoipa::path(tag = "polls", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The poll's ETag; a stale one answers 412")),
    request_body = UpdatePollRequest,
    responses(
        (status = 200, body = PollResponse, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields"),
        (status = 403, description = "The caller may read the poll but not manage it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Open, closed or cancelled (`wrong_status`), or driven by its subject (`guard_failed`)"),
        (status = 412, description = "If-Match does not match the poll's current ETag"),
    ))]
#[patch("/polls/{id}")]
#[tracing::instrument(skip_all, fields(user = %user.id, poll = %id))]
pub async fn update_poll(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<UpdatePollRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let c = Changes {
        title: b
            .title
            .as_deref()
            .map(|t| clean_line("title", t, model::TITLE_MAX))
            .transpose()?,
        description: b
            .description
            .as_deref()
            .map(|d| clean_description(Some(d)))
            .transpose()?,
        secrecy: b.secrecy,
        unit: b.unit,
        eligibility: b.eligibility.map(clean_eligibility).transpose()?,
        preset: b.preset,
        rules: b.rules,
        results_visibility: b.results_visibility,
        opens_at: b.opens_at,
        closes_at: b.closes_at,
        questions: b.questions.map(questions_of).transpose()?,
    };
    let now = state.clock.now();
    svc::update(&state.db, &user, *id, if_match(&req)?, c, now).await?;
    let r = query::get(&state.db, &user, *id, now).await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}

/// Schedules a draft: the job opens it at `opens_at` (and closes it at `closes_at`).
#[utoipa::path(tag = "polls", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The poll's ETag; a stale one answers 412")),
    responses(
        (status = 200, body = PollResponse, headers(("ETag" = String))),
        (status = 400, description = "The closing time has passed"),
        (status = 403, description = "The caller may read the poll but not manage it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not a draft (`wrong_status`), no question or driven by its subject (`guard_failed`)"),
        (status = 412, description = "If-Match does not match the poll's current ETag"),
    ))]
#[post("/polls/{id}/schedule")]
#[tracing::instrument(skip_all, fields(user = %user.id, poll = %id))]
pub async fn schedule_poll(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    svc::schedule(&state.db, &user, *id, if_match(&req)?, now).await?;
    let r = query::get(&state.db, &user, *id, now).await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}

/// Opens a draft or scheduled poll now: freezes its roll from the roster (size and hash) and
/// notifies the accounts on it.
#[utoipa::path(tag = "polls", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The poll's ETag; a stale one answers 412")),
    responses(
        (status = 200, body = PollResponse, headers(("ETag" = String))),
        (status = 400, description = "The closing time has passed"),
        (status = 403, description = "The caller may read the poll but not manage it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Already open, closed or cancelled (`wrong_status`), no question or driven by its subject (`guard_failed`)"),
        (status = 412, description = "If-Match does not match the poll's current ETag"),
    ))]
#[post("/polls/{id}/open")]
#[tracing::instrument(skip_all, fields(user = %user.id, poll = %id))]
pub async fn open_poll(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    svc::open(&state.db, &user, *id, if_match(&req)?, now).await?;
    let r = query::get(&state.db, &user, *id, now).await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ClosePollRequest {
    /// Why it closes before `closes_at`, up to 500 characters.
    #[schema(max_length = 500, format = "text")]
    pub reason: Option<String>,
}

/// Closes an open poll now: tallies it in the same transaction, computes the outcome, and
/// notifies the accounts on the roll.
#[utoipa::path(tag = "polls", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The poll's ETag; a stale one answers 412")),
    request_body(content = Option<ClosePollRequest>, description = "Optional"),
    responses(
        (status = 200, body = PollResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the poll but not manage it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not open (`wrong_status`), or driven by its subject (`guard_failed`)"),
        (status = 412, description = "If-Match does not match the poll's current ETag"),
    ))]
#[post("/polls/{id}/close")]
#[tracing::instrument(skip_all, fields(user = %user.id, poll = %id))]
pub async fn close_poll(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonOrEmpty<ClosePollRequest>,
) -> AppResult<HttpResponse> {
    let reason = match body.0.reason.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(r) => Some(clean_text("reason", r, model::REASON_MAX)?),
    };
    let now = state.clock.now();
    svc::close(&state.db, &user, *id, if_match(&req)?, reason, now).await?;
    let r = query::get(&state.db, &user, *id, now).await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}

pub use crate::platform::http::ReasonRequest;

/// Cancels a draft or scheduled poll, or an open one before anyone voted, with a reason.
#[utoipa::path(tag = "polls", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The poll's ETag; a stale one answers 412")),
    request_body = ReasonRequest,
    responses(
        (status = 200, body = PollResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the poll but not manage it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Closed or cancelled (`wrong_status`); ballots were cast, or driven by its subject (`guard_failed`)"),
        (status = 412, description = "If-Match does not match the poll's current ETag"),
    ))]
#[post("/polls/{id}/cancel")]
#[tracing::instrument(skip_all, fields(user = %user.id, poll = %id))]
pub async fn cancel_poll(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let reason = clean_text("reason", &body.reason, model::REASON_MAX)?;
    let now = state.clock.now();
    svc::cancel(&state.db, &user, *id, if_match(&req)?, reason, now).await?;
    let r = query::get(&state.db, &user, *id, now).await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}
