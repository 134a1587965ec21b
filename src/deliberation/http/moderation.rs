//! Moderators: the queue of comments waiting for a decision, and hiding, unhiding and passing
//! comments (every decision audited).

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::with_etag;
use crate::access::AuthUser;
use crate::deliberation::model;
use crate::deliberation::query::{self, CommentResponse};
use crate::deliberation::service as svc;
use crate::platform::error::AppResult;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::{clean_text, if_match, Page, PageParams};
use crate::platform::state::AppState;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommentQueueQuery {
    /// Only the comments of this community.
    pub community_id: Option<Uuid>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The comments waiting for a moderator where the caller moderates (administrators, community
/// staff, council members): held by the content check, reported, or hidden by reports.
/// Privacy reports first, then oldest first. Empty for whoever moderates nowhere.
#[utoipa::path(tag = "deliberation", security(("bearer" = [])), params(CommentQueueQuery),
    responses((status = 200, body = Page<CommentResponse>)))]
#[get("/moderation/queue")]
pub async fn list_comment_queue(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<CommentQueueQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let page = query::queue(&state.db, &user, q.community_id, p).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentDecisionRequest {
    /// Why, for the audit log. 1 to 500 characters.
    #[schema(max_length = 500, format = "text")]
    pub reason: String,
}

/// Hides a comment (published, held for review, or hidden by reports and waiting), with a
/// reason; its replies stay, and it shows as `该评论已被隐藏` without its body.
#[utoipa::path(tag = "deliberation", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The comment's ETag; a stale one answers 412")),
    request_body = CommentDecisionRequest,
    responses(
        (status = 200, body = CommentResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller sees the comment but does not moderate it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Hidden already by a moderator, or deleted (`wrong_status`)"),
        (status = 412, description = "If-Match does not match, or someone decided meanwhile"),
    ))]
#[post("/comments/{id}/hide")]
#[tracing::instrument(skip_all, fields(user = %user.id, comment = %id))]
pub async fn hide_comment(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<CommentDecisionRequest>,
) -> AppResult<HttpResponse> {
    let reason = clean_text("reason", &body.reason, model::REASON_MAX)?;
    let c = svc::hide(
        &state.db,
        &user,
        *id,
        if_match(&req)?,
        reason,
        state.clock.now(),
    )
    .await?;
    Ok(with_etag(
        HttpResponse::Ok(),
        &query::respond(c, user.id, true, None),
    ))
}

/// Shows a hidden comment again, with a reason; the reports so far count as dealt with.
#[utoipa::path(tag = "deliberation", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The comment's ETag; a stale one answers 412")),
    request_body = CommentDecisionRequest,
    responses(
        (status = 200, body = CommentResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller sees the comment but does not moderate it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not hidden (`wrong_status`)"),
        (status = 412, description = "If-Match does not match, or someone decided meanwhile"),
    ))]
#[post("/comments/{id}/unhide")]
#[tracing::instrument(skip_all, fields(user = %user.id, comment = %id))]
pub async fn unhide_comment(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<CommentDecisionRequest>,
) -> AppResult<HttpResponse> {
    let reason = clean_text("reason", &body.reason, model::REASON_MAX)?;
    let c = svc::unhide(
        &state.db,
        &user,
        *id,
        if_match(&req)?,
        reason,
        state.clock.now(),
    )
    .await?;
    Ok(with_etag(
        HttpResponse::Ok(),
        &query::respond(c, user.id, true, None),
    ))
}

/// Passes a comment: one held for review is published; one reported, or hidden by reports,
/// is published with its reports dealt with. No body.
#[utoipa::path(tag = "deliberation", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The comment's ETag; a stale one answers 412")),
    responses(
        (status = 200, body = CommentResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller sees the comment but does not moderate it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Nothing waits for a decision on it (`wrong_status`)"),
        (status = 412, description = "If-Match does not match, or someone decided meanwhile"),
    ))]
#[post("/comments/{id}/approve")]
#[tracing::instrument(skip_all, fields(user = %user.id, comment = %id))]
pub async fn approve_comment(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let c = svc::approve(&state.db, &user, *id, if_match(&req)?, state.clock.now()).await?;
    Ok(with_etag(
        HttpResponse::Ok(),
        &query::respond(c, user.id, true, None),
    ))
}
