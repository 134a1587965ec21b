//! A community's consultation policy: read, replace.

use actix_web::http::header;
use actix_web::{get, put, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::AuthUser;
use crate::platform::error::{AppError, AppResult, FieldError};
use crate::platform::http::extract::Json;
use crate::platform::http::{etag, if_match};
use crate::platform::lang::Text;
use crate::platform::state::AppState;
use crate::polls::model::Preset;
use crate::proposals::service::policy::{self as svc, ConsultationPolicy};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsultationPolicyRequest {
    /// 0–1000.
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(minimum = 0, maximum = 1000)]
    pub min_supporters: i32,
    /// 1–365.
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(minimum = 1, maximum = 365)]
    pub support_window_days: i32,
    /// 0–90.
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(minimum = 0, maximum = 90)]
    pub min_deliberation_days: i32,
    /// Not `custom` (a decision's custom rules are given when it opens).
    pub decision_preset: Preset,
    /// 1–60.
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(minimum = 1, maximum = 60)]
    pub poll_days: i32,
    /// 1–60.
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(minimum = 1, maximum = 60)]
    pub evaluation_days: i32,
    /// 1–730.
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(minimum = 1, maximum = 730)]
    pub review_after_days: i32,
    /// 1–100.
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(minimum = 1, maximum = 100)]
    pub max_proposals_per_day: i32,
    /// 1–1000.
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(minimum = 1, maximum = 1000)]
    pub comments_per_hour: i32,
    /// 1–100.
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(minimum = 1, maximum = 100)]
    pub reports_to_hide: i32,
    /// 0 – 100 million yuan, in fen.
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(minimum = 0, maximum = 10_000_000_000_i64)]
    pub spending_poll_above_fen: i64,
}

fn answer(p: &ConsultationPolicy) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(p.version)))
        .json(p)
}

/// A community's consultation policy (the defaults, version 0, until staff change it).
#[utoipa::path(tag = "proposals", security(("bearer" = [])), params(("community_id" = Uuid, Path)),
    responses(
        (status = 200, body = ConsultationPolicy, headers(("ETag" = String))),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/consultation-policies/{community_id}")]
pub async fn get_consultation_policy(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(answer(&svc::readable_policy(&state.db, &user, *id).await?))
}

/// Replace a community's consultation policy (community staff, admins); audited.
#[utoipa::path(tag = "proposals", security(("bearer" = [])),
    params(("community_id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The policy's ETag (\"0\" for the defaults); a stale one answers 412")),
    request_body = ConsultationPolicyRequest,
    responses(
        (status = 200, body = ConsultationPolicy, headers(("ETag" = String))),
        (status = 400, description = "A number out of range, or the `custom` preset"),
        (status = 403, description = "The caller sees the community but may not change its policy"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 412, description = "If-Match does not match the policy's current ETag"),
    ))]
#[put("/consultation-policies/{community_id}")]
#[tracing::instrument(skip_all, fields(user = %user.id, community = %id))]
pub async fn put_consultation_policy(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<ConsultationPolicyRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let mut errors = Vec::new();
    let mut range = |field: &str, v: i64, lo: i64, hi: i64| {
        if !(lo..=hi).contains(&v) {
            errors.push(FieldError::of(
                field,
                crate::platform::error::FieldCode::OutOfRange,
                crate::text!("须在 {} 到 {} 之间", "{} to {}", lo, hi),
            ));
        }
    };
    range("min_supporters", b.min_supporters.into(), 0, 1000);
    range("support_window_days", b.support_window_days.into(), 1, 365);
    range(
        "min_deliberation_days",
        b.min_deliberation_days.into(),
        0,
        90,
    );
    range("poll_days", b.poll_days.into(), 1, 60);
    range("evaluation_days", b.evaluation_days.into(), 1, 60);
    range("review_after_days", b.review_after_days.into(), 1, 730);
    range(
        "max_proposals_per_day",
        b.max_proposals_per_day.into(),
        1,
        100,
    );
    range("comments_per_hour", b.comments_per_hour.into(), 1, 1000);
    range("reports_to_hide", b.reports_to_hide.into(), 1, 100);
    range(
        "spending_poll_above_fen",
        b.spending_poll_above_fen,
        0,
        10_000_000_000,
    );
    if b.decision_preset == Preset::Custom {
        errors.push(FieldError::of(
            "decision_preset",
            crate::platform::error::FieldCode::NotAllowed,
            Text::new("请选择预设规则", "choose a preset, not custom"),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let p = ConsultationPolicy {
        community_id: *id,
        min_supporters: b.min_supporters,
        support_window_days: b.support_window_days,
        min_deliberation_days: b.min_deliberation_days,
        decision_preset: b.decision_preset,
        poll_days: b.poll_days,
        evaluation_days: b.evaluation_days,
        review_after_days: b.review_after_days,
        max_proposals_per_day: b.max_proposals_per_day,
        comments_per_hour: b.comments_per_hour,
        reports_to_hide: b.reports_to_hide,
        spending_poll_above_fen: b.spending_poll_above_fen,
        version: 0,
        is_default: false,
    };
    let now = state.clock.now();
    Ok(answer(
        &svc::replace(&state.db, &user, p, if_match(&req)?, now).await?,
    ))
}
