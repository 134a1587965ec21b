//! Checking a text before publishing it: what publishing would do with it, for the caller as
//! its author.

use actix_web::{post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::AuthUser;
use crate::moderation::service;
use crate::platform::content::{check_text, Scene, Verdict};
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError, ProblemCode};
use crate::platform::http::extract::Json;
use crate::platform::limits::{self, Hourly};
use crate::platform::state::AppState;

/// Longest title checked, in characters.
const MAX_TITLE: usize = 200;
/// Longest body checked, in characters (WeChat checks it in pieces of 2,500).
const MAX_BODY: usize = 10_000;

/// Checks a caller may run in an hour: every one may cost a call to WeChat.
const CHECKS: Hourly = Hourly {
    key: "content_check",
    max: 300,
    code: ProblemCode::RateLimited,
    zh: "内容检测",
    en: "content checks",
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckContentRequest {
    /// The street whose check applies (its keyword list, for authors without WeChat).
    pub street_id: Uuid,
    #[schema(example = "关于楼道堆物的通知", max_length = 200)]
    pub title: Option<String>,
    /// 1–10,000 characters.
    #[schema(
        example = "请各位居民本周内清理楼道堆物。",
        min_length = 1,
        max_length = 10000
    )]
    pub body: String,
    /// The WeChat scene; `forum` unless given.
    pub scene: Option<Scene>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckVerdict {
    /// Publishing would publish it.
    Pass,
    /// Publishing would keep it `pending_review` (its author and moderators see it).
    Review,
    /// Publishing would refuse it (400 `content_rejected`).
    Risky,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckContentResponse {
    pub verdict: CheckVerdict,
    /// Why not `pass`: WeChat's label (`ad`, `politics`, `porn`, `abuse`, `crime`, `fraud`,
    /// `vulgar`, `copyright`, `other`), `keyword` for the street's list (which word is never
    /// said), `check_unavailable` when WeChat did not answer. Null on `pass`.
    #[schema(example = "keyword")]
    pub label: Option<String>,
}

fn checked_len(field: &str, value: &str, max: usize) -> AppResult<()> {
    if value.chars().count() > max {
        return Err(AppError::Validation(vec![FieldError::too_long(field, max)]));
    }
    Ok(())
}

/// Check a text as publishing would, with the caller as its author: WeChat's msgSecCheck for
/// accounts signed in with WeChat (when WeChat is configured), the street's keyword list for
/// the others. Never says which keyword matched. At most 300 checks an hour per caller.
#[utoipa::path(tag = "moderation", security(("bearer" = [])), request_body = CheckContentRequest,
    responses(
        (status = 200, body = CheckContentResponse),
        (status = 404, description = "Not a street the caller belongs to"),
    ))]
#[post("/content-check")]
#[tracing::instrument(skip_all, fields(user = %user.id, street = %body.street_id))]
pub async fn check_content(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CheckContentRequest>,
) -> AppResult<HttpResponse> {
    if body.body.trim().is_empty() {
        return Err(AppError::Validation(vec![FieldError::required("body")]));
    }
    checked_len("body", &body.body, MAX_BODY)?;
    if let Some(t) = &body.title {
        checked_len("title", t, MAX_TITLE)?;
    }
    if body.body.contains('\0') {
        return Err(AppError::invalid(
            "body",
            FieldCode::Invalid,
            crate::platform::text::bad_character(),
        ));
    }
    let author = service::checking_author(&state.db, &user, body.street_id).await?;
    limits::per_user(&state.cache, user.id, &CHECKS).await?;
    let scene = body.scene.unwrap_or_default();
    let v = check_text(&state, &author, scene, body.title.as_deref(), &body.body).await?;
    let verdict = match v {
        Verdict::Pass => CheckVerdict::Pass,
        Verdict::Review { .. } => CheckVerdict::Review,
        Verdict::Risky { .. } => CheckVerdict::Risky,
    };
    Ok(HttpResponse::Ok().json(CheckContentResponse {
        verdict,
        label: v.label().map(str::to_string),
    }))
}
