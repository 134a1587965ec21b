//! Proposals: list, propose, read, edit, revisions.

use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::with_etag;
use crate::access::AuthUser;
use crate::platform::content::{self, Scene};
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError};
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::{clean_line, clean_optional, clean_text, if_match, Page, PageParams};
use crate::platform::lang::Text;
use crate::platform::state::AppState;
use crate::proposals::model::{
    self as m, Channel, ScopeType, Step, TargetKind, Tier, BODY_MAX, CATEGORY_MAX, TITLE_MAX,
};
use crate::proposals::query::{self, ProposalResponse, ProposalSummary};
use crate::proposals::service::intake::{self as svc, Changes, NewProposal};
use crate::proposals::service::revisions::{self, Target};

/// A target as a request gives it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetRequest {
    pub kind: TargetKind,
    /// Materials: what (`花苗`); labour: the skill. Up to 40 characters.
    #[schema(max_length = 40, format = "text-line")]
    pub item: Option<String>,
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    #[schema(minimum = 1, maximum = 1000000)]
    pub quantity: Option<i32>,
    #[schema(max_length = 10, format = "text-line")]
    pub unit: Option<String>,
    /// Money: fen, ≥ 1.
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    #[schema(minimum = 1, maximum = 10000000000_i64)]
    pub amount_fen: Option<i64>,
    /// Labour: minutes, ≥ 1.
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    #[schema(minimum = 1, maximum = 10000000)]
    pub minutes: Option<i32>,
}

/// The targets, validated (money: amount; labour: minutes; materials: item and quantity).
pub fn targets(given: Vec<TargetRequest>) -> AppResult<Vec<Target>> {
    if given.len() > m::TARGETS_MAX {
        return Err(AppError::Validation(vec![FieldError::too_many(
            "targets",
            m::TARGETS_MAX,
        )]));
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, t) in given.into_iter().enumerate() {
        let f = |x: &str| format!("targets[{i}].{x}");
        let item = clean_optional(&f("item"), &t.item, 40)?
            .map(|v| clean_line(&f("item"), &v, 40))
            .transpose()?;
        let unit = clean_optional(&f("unit"), &t.unit, 10)?
            .map(|v| clean_line(&f("unit"), &v, 10))
            .transpose()?;
        let range = |ok: bool, field: &str| {
            (!ok).then(|| {
                FieldError::of(
                    f(field),
                    FieldCode::OutOfRange,
                    Text::new("须为正数且在范围内", "a positive number in range"),
                )
            })
        };
        let needed = |field: &str| FieldError::required(f(field));
        match t.kind {
            TargetKind::Money => match t.amount_fen {
                None => errors.push(needed("amount_fen")),
                Some(a) => errors.extend(range((1..=m::BUDGET_MAX_FEN).contains(&a), "amount_fen")),
            },
            TargetKind::Labour => match t.minutes {
                None => errors.push(needed("minutes")),
                Some(v) => errors.extend(range((1..=10_000_000).contains(&v), "minutes")),
            },
            TargetKind::Material => {
                if item.is_none() {
                    errors.push(needed("item"));
                }
                match t.quantity {
                    None => errors.push(needed("quantity")),
                    Some(q) => errors.extend(range((1..=1_000_000).contains(&q), "quantity")),
                }
            }
        }
        out.push(Target {
            kind: t.kind,
            item,
            quantity: t.quantity,
            unit,
            amount_fen: t.amount_fen,
            minutes: t.minutes,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(AppError::Validation(errors))
    }
}

fn budget(v: Option<i64>) -> AppResult<Option<i64>> {
    match v {
        Some(b) if !(0..=m::BUDGET_MAX_FEN).contains(&b) => Err(AppError::invalid(
            "budget_fen",
            FieldCode::OutOfRange,
            crate::text!(
                "预算须在 0 到 {} 分之间",
                "the budget is 0 to {} fen",
                m::BUDGET_MAX_FEN
            ),
        )),
        other => Ok(other),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProposalRequest {
    /// The level of the place the proposal is for.
    pub scope_type: ScopeType,
    /// The building, compound or community (residents: their own).
    pub scope_id: Uuid,
    /// 1 to 50 characters, one line.
    #[schema(max_length = 50, format = "text-line")]
    pub title: String,
    /// 1 to 5000 characters.
    #[schema(max_length = 5000, format = "text")]
    pub body: String,
    /// 1 to 20 characters (`环境`, `停车`, `加装电梯` …).
    #[schema(max_length = 20, format = "text-line")]
    pub category: String,
    /// The caller's own uploads (at most 9 photos).
    #[serde(default)]
    #[schema(max_items = 9)]
    pub attachment_ids: Vec<Uuid>,
    /// The request (诉求) the proposal grew out of: one the caller can see, of the same
    /// community (400 `not_found` / `mismatch` otherwise).
    pub source_ticket_id: Option<Uuid>,
    /// Staff: the resident the proposal is recorded for (they must live in the place).
    pub on_behalf_of_resident_id: Option<Uuid>,
    /// Staff: how it came in (required on behalf).
    pub channel: Option<Channel>,
    /// The money it needs, fen (0: none). The decision poll is opened on the text with it.
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    #[schema(minimum = 0, maximum = 10000000000_i64)]
    pub budget_fen: Option<i64>,
    /// Money, labour and materials it needs (§A6), at most 20.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub targets: Vec<TargetRequest>,
}

/// Propose a matter (提): residents for their own building, compound or community (at most the
/// policy's number a day, 3 by default); staff on a resident's behalf with the channel. The
/// text goes through the content check (`content_rejected` when risky). An `Idempotency-Key`
/// makes a retry answer the first proposal.
#[utoipa::path(tag = "proposals", security(("bearer" = [])), request_body = CreateProposalRequest,
    responses(
        (status = 201, body = ProposalResponse, headers(("ETag" = String), ("Location" = String))),
        (status = 400, description = "Invalid fields, a place that is not the resident's own, or a risky text (`content_rejected`)"),
        (status = 403, description = "Neither a resident with a household nor staff who may propose on behalf here"),
        (status = 404, description = "The place is outside the caller's scope"),
        (status = 429, description = "The policy's proposals per 24 hours already made (`daily_filing_limit`, see Retry-After)"),
    ))]
#[post("/proposals")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn create_proposal(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: Json<CreateProposalRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    if b.attachment_ids.len() > m::PHOTOS_MAX {
        return Err(AppError::Validation(vec![FieldError::too_many(
            "attachment_ids",
            m::PHOTOS_MAX,
        )]));
    }
    let n = NewProposal {
        scope_type: b.scope_type,
        scope_id: b.scope_id,
        title: clean_line("title", &b.title, TITLE_MAX)?,
        body: clean_text("body", &b.body, BODY_MAX)?,
        category: clean_line("category", &b.category, CATEGORY_MAX)?,
        attachment_ids: b.attachment_ids,
        source_ticket_id: b.source_ticket_id,
        on_behalf_of_resident_id: b.on_behalf_of_resident_id,
        channel: b.channel,
        budget_fen: budget(b.budget_fen)?.unwrap_or(0),
        targets: targets(b.targets)?,
        // Validated by the idempotency middleware (1–255 visible characters) before we get here.
        idempotency_key: req
            .headers()
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    let street = svc::street_of(&state.db, n.scope_type, n.scope_id).await?;
    let author = crate::access::author_of(&state.db, user.id, street).await?;
    let verdict =
        content::check_text(&state, &author, Scene::Forum, Some(&n.title), &n.body).await?;
    content::reject_risky(verdict)?;
    let p = svc::create(&state.db, &user, n, state.clock.now()).await?;
    tracing::info!(proposal = %p.id, "proposal created");
    let r = query::detail(&state.db, &user, p.id).await?;
    Ok(with_etag(
        HttpResponse::Created()
            .insert_header((header::LOCATION, format!("/api/v1/proposals/{}", p.id)))
            .take(),
        &r,
    ))
}

/// Whose proposals by lead: `me`, the caller's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeadFilter {
    Me,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListProposalsQuery {
    pub step: Option<Step>,
    pub tier: Option<Tier>,
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub category: Option<String>,
    /// Only the caller's own proposals.
    pub mine: Option<bool>,
    /// `me`: only the proposals the caller leads.
    #[param(inline)]
    pub lead: Option<LeadFilter>,
    /// Only 金点子 (or only the others).
    pub golden: Option<bool>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The proposals the caller may read, newest first: staff and leaders down their reach,
/// residents those addressed to their building, compound and community.
#[utoipa::path(tag = "proposals", security(("bearer" = [])), params(ListProposalsQuery),
    responses(
        (status = 200, body = Page<ProposalSummary>),
        (status = 400, description = "Invalid query"),
    ))]
#[get("/proposals")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn list_proposals(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListProposalsQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let lead_me = q.lead == Some(LeadFilter::Me);
    let f = query::Filters {
        step: q.step,
        tier: q.tier,
        community_id: q.community_id,
        compound_id: q.compound_id,
        building_id: q.building_id,
        category: q.category.clone(),
        mine: q.mine.unwrap_or(false),
        lead_me,
        golden: q.golden,
    };
    Ok(HttpResponse::Ok().json(query::list(&state.db, &user, f, p).await?))
}

/// One proposal: the current text, the six-dot step tracker with dates, the poll cards, the
/// funding figures, the targets, the lead, milestones and the latest updates.
#[utoipa::path(tag = "proposals", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ProposalResponse, headers(("ETag" = String))),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/proposals/{id}")]
pub async fn get_proposal(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    super::answer(&state, &user, *id).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProposalRequest {
    /// The author: a new title (a new revision).
    #[schema(max_length = 50, format = "text-line")]
    pub title: Option<String>,
    /// The author: a new body (a new revision).
    #[schema(max_length = 5000, format = "text")]
    pub body: Option<String>,
    /// The author or staff: the budget, fen (a new revision).
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    #[schema(minimum = 0, maximum = 10000000000_i64)]
    pub budget_fen: Option<i64>,
    /// The author or staff: the targets from now on (a new revision), at most 20.
    #[schema(max_items = 20)]
    pub targets: Option<Vec<TargetRequest>>,
    /// Staff, while `proposed`.
    #[schema(max_length = 20, format = "text-line")]
    pub category: Option<String>,
    /// Staff, while `proposed`.
    pub tier: Option<Tier>,
    /// Staff, while `proposed`: a new place in the same community (with `scope_id`).
    pub scope_type: Option<ScopeType>,
    pub scope_id: Option<Uuid>,
}

/// Edits a proposal. The author changes title and body, the author or staff budget and targets,
/// in `proposed` or `deliberating` (each edit is a new revision); staff change category, tier
/// and scope in `proposed`. From the mini-program: `POST` with `X-HTTP-Method-Override: PATCH`.
#[utoipa::path(tag = "proposals", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The proposal's ETag; a stale one answers 412")),
    request_body = UpdateProposalRequest,
    responses(
        (status = 200, body = ProposalResponse, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields, or a risky text (`content_rejected`)"),
        (status = 403, description = "Not the author (text), nor staff who move it (triage)"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not editable in its step (`wrong_step`), or changed meanwhile (`concurrent_change`)"),
        (status = 412, description = "If-Match does not match the proposal's current ETag"),
    ))]
#[patch("/proposals/{id}")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn update_proposal(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<UpdateProposalRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let scope = match (b.scope_type, b.scope_id) {
        (Some(t), Some(i)) => Some((t, i)),
        (None, None) => None,
        _ => {
            return Err(AppError::invalid(
                "scope_id",
                FieldCode::Required,
                Text::new("范围类型与范围须同时给出", "give scope_type with scope_id"),
            ))
        }
    };
    let c = Changes {
        title: b
            .title
            .as_deref()
            .map(|t| clean_line("title", t, TITLE_MAX))
            .transpose()?,
        body: b
            .body
            .as_deref()
            .map(|t| clean_text("body", t, BODY_MAX))
            .transpose()?,
        budget_fen: budget(b.budget_fen)?,
        targets: b.targets.map(targets).transpose()?,
        category: b
            .category
            .as_deref()
            .map(|t| clean_line("category", t, CATEGORY_MAX))
            .transpose()?,
        tier: b.tier,
        scope,
    };
    if c.title.is_some() || c.body.is_some() {
        let current = query::detail(&state.db, &user, *id).await?;
        let author =
            crate::access::author_of(&state.db, user.id, current.summary.street_id).await?;
        let title = c.title.clone().unwrap_or(current.summary.title);
        let text = c.body.clone().unwrap_or(current.body);
        let verdict =
            content::check_text(&state, &author, Scene::Forum, Some(&title), &text).await?;
        content::reject_risky(verdict)?;
    }
    svc::update(&state.db, &user, *id, if_match(&req)?, c, state.clock.now()).await?;
    super::answer(&state, &user, *id).await
}

/// One revision of a proposal's text.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionResponse {
    pub n: i32,
    pub title: String,
    pub body: String,
    pub budget_fen: i64,
    pub targets: Vec<Target>,
    /// The sha256 of the revision (what a decision poll opened on it carries).
    pub sha256: String,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

/// The revisions of a proposal's text (查看修改记录), newest first.
#[utoipa::path(tag = "proposals", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Vec<RevisionResponse>),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/proposals/{id}/revisions")]
pub async fn list_proposal_revisions(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let rows = revisions::revisions(&state.db, &user, *id).await?;
    let out: Vec<RevisionResponse> = rows
        .into_iter()
        .map(|r| RevisionResponse {
            n: r.n,
            title: r.title,
            body: r.body,
            budget_fen: r.budget_fen,
            targets: r
                .targets
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default(),
            sha256: r.sha256,
            created_at: r.created_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A proposal's timeline, newest first: every verb and move (with the steps), what jobs and the
/// money did, and the progress updates. Residents are named masked.
#[utoipa::path(tag = "proposals", security(("bearer" = [])), params(("id" = Uuid, Path), TimelineQuery),
    responses(
        (status = 200, body = Page<crate::proposals::query::timeline::TimelineEntry>),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/proposals/{id}/timeline")]
pub async fn get_proposal_timeline(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: Query<TimelineQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let page = query::timeline::timeline(&state.db, &user, *id, p).await?;
    Ok(HttpResponse::Ok().json(page))
}
