//! A subject's comments: list, write (through the content check), read one, delete one's own,
//! report.

use actix_web::{delete, get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::with_etag;
use crate::access::{author_of, AuthUser};
use crate::deliberation::model::{self, Alignment, Reason, SubjectKind};
use crate::deliberation::query::{self, CommentPage, CommentResponse};
use crate::deliberation::service::{self as svc, Checked, Draft};
use crate::platform::content::{self, Scene, Verdict};
use crate::platform::error::AppResult;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::{clean_optional, clean_text, PageParams};
use crate::platform::state::AppState;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCommentsQuery {
    /// The replies of this comment (oldest first) instead of the top-level comments (newest
    /// first).
    pub parent_id: Option<Uuid>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCommentRequest {
    /// 1 to 1,000 characters; line breaks allowed.
    #[schema(max_length = 1000, format = "text")]
    pub body: String,
    /// Default `neutral`.
    pub alignment: Option<Alignment>,
    /// Reply to this top-level comment of the same subject (one level of replies).
    pub parent_id: Option<Uuid>,
}

async fn list(
    state: &AppState,
    user: &AuthUser,
    kind: SubjectKind,
    id: Uuid,
    q: &ListCommentsQuery,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let page = query::list(&state.db, user, kind, id, q.parent_id, p, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Checks and writes a comment; 201 with it.
async fn create(
    state: &AppState,
    user: &AuthUser,
    kind: SubjectKind,
    id: Uuid,
    b: CreateCommentRequest,
) -> AppResult<HttpResponse> {
    let d = Draft {
        parent_id: b.parent_id,
        alignment: b.alignment.unwrap_or(Alignment::Neutral),
        body: clean_text("body", &b.body, model::BODY_MAX)?,
    };
    let now = state.clock.now();
    let s = svc::writable_subject(&state.db, user, kind, id, now).await?;
    let author = author_of(&state.db, user.id, s.street_id).await?;
    let verdict = content::check_text(state, &author, Scene::Comment, None, &d.body).await?;
    let checked = match content::reject_risky(verdict)? {
        Verdict::Pass => Checked::Pass,
        Verdict::Review { label, trace_id } | Verdict::Risky { label, trace_id } => {
            Checked::Review { label, trace_id }
        }
    };
    let c = svc::create(&state.db, user, &s, d, checked, now).await?;
    tracing::info!(comment = %c.id, status = ?c.status, "comment written");
    let location = format!("/api/v1/comments/{}", c.id);
    let top = c.parent_id.is_none().then_some(0);
    let r = query::respond(c, user.id, false, top);
    Ok(with_etag(
        HttpResponse::Created()
            .insert_header((actix_web::http::header::LOCATION, location))
            .take(),
        &r,
    ))
}

/// A proposal's comments as the caller sees them, with its counts by alignment: the top-level
/// comments newest first (each with its visible reply count), or one comment's replies oldest
/// first. Comments held for review show to their author (`审核中`) and moderators only; a
/// hidden or deleted comment shows as `该评论已被隐藏` / `该评论已删除` without its body while
/// its replies show.
#[utoipa::path(tag = "deliberation", security(("bearer" = [])), params(("id" = Uuid, Path), ListCommentsQuery),
    responses(
        (status = 200, body = CommentPage),
        (status = 404, description = "The proposal (or the parent comment) is not found or not the caller's to see"),
    ))]
#[get("/proposals/{id}/comments")]
pub async fn list_proposal_comments(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: Query<ListCommentsQuery>,
) -> AppResult<HttpResponse> {
    list(&state, &user, SubjectKind::Proposal, *id, &q).await
}

/// Comments on a proposal (or replies to one of its comments), with an alignment. The text goes
/// through the content check first: `pass` publishes it, `review` (or the check unavailable)
/// holds it for a moderator (`pending_review`, shown to its author as `审核中`), `risky` refuses
/// it. Open in every step but the terminal ones. At most the community's `comments_per_hour`
/// an hour (429 `comment_limit` with `Retry-After`).
#[utoipa::path(tag = "deliberation", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = CreateCommentRequest,
    responses(
        (status = 201, body = CommentResponse, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Invalid fields, a reply to a reply, or the content check refused the text (`content_rejected`)"),
        (status = 404, description = "The proposal is not found or not the caller's to see"),
        (status = 409, description = "The proposal takes no comments (`comments_closed`)"),
        (status = 429, description = "Too many comments in the last hour (`comment_limit`)"),
    ))]
#[post("/proposals/{id}/comments")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn create_proposal_comment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<CreateCommentRequest>,
) -> AppResult<HttpResponse> {
    create(&state, &user, SubjectKind::Proposal, *id, body.into_inner()).await
}

/// A notice's comments, as for a proposal's.
#[utoipa::path(tag = "deliberation", security(("bearer" = [])), params(("id" = Uuid, Path), ListCommentsQuery),
    responses(
        (status = 200, body = CommentPage),
        (status = 404, description = "The notice (or the parent comment) is not found or not the caller's to see"),
    ))]
#[get("/notices/{id}/comments")]
pub async fn list_notice_comments(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: Query<ListCommentsQuery>,
) -> AppResult<HttpResponse> {
    list(&state, &user, SubjectKind::Notice, *id, &q).await
}

/// Comments on a published notice, as on a proposal.
#[utoipa::path(tag = "deliberation", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = CreateCommentRequest,
    responses(
        (status = 201, body = CommentResponse, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Invalid fields, a reply to a reply, or the content check refused the text (`content_rejected`)"),
        (status = 404, description = "The notice is not found or not the caller's to see"),
        (status = 409, description = "The notice is not published (`comments_closed`)"),
        (status = 429, description = "Too many comments in the last hour (`comment_limit`)"),
    ))]
#[post("/notices/{id}/comments")]
#[tracing::instrument(skip_all, fields(user = %user.id, notice = %id))]
pub async fn create_notice_comment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<CreateCommentRequest>,
) -> AppResult<HttpResponse> {
    create(&state, &user, SubjectKind::Notice, *id, body.into_inner()).await
}

/// One comment as the caller sees it.
#[utoipa::path(tag = "deliberation", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = CommentResponse, headers(("ETag" = String))),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/comments/{id}")]
pub async fn get_comment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let r = query::get(&state.db, &user, *id, state.clock.now()).await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}

/// Deletes the caller's own comment: its body is erased and it leaves every count; its replies
/// stay (it shows as `该评论已删除`). `wx.request` sends DELETE as it is.
#[utoipa::path(tag = "deliberation", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not the caller's comment"),
        (status = 404, description = "Not found, already deleted, or not the caller's to see"),
    ))]
#[delete("/comments/{id}")]
#[tracing::instrument(skip_all, fields(user = %user.id, comment = %id))]
pub async fn delete_comment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    svc::delete(&state.db, &user, *id, state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportCommentRequest {
    /// `privacy` (names, rooms, phones of neighbours) goes first in the moderators' queue.
    pub reason: Reason,
    /// At most 500 characters; blank counts as absent.
    #[schema(max_length = 500, format = "text-or-blank")]
    pub note: Option<String>,
}

/// Reports a published comment, once per user. At the community's `reports_to_hide` (3 by
/// default) it is hidden until a moderator decides; privacy reports come first in the queue.
/// Answers the comment as it is now.
#[utoipa::path(tag = "deliberation", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = ReportCommentRequest,
    responses(
        (status = 200, body = CommentResponse),
        (status = 400, description = "Invalid fields, or the caller's own comment"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Reported by the caller already (`already_reported`), or not published (`wrong_status`)"),
    ))]
#[post("/comments/{id}/report")]
#[tracing::instrument(skip_all, fields(user = %user.id, comment = %id))]
pub async fn report_comment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<ReportCommentRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let note = clean_optional("note", &b.note, model::NOTE_MAX)?;
    let now = state.clock.now();
    let c = svc::report(&state.db, &user, *id, b.reason, note, now).await?;
    Ok(HttpResponse::Ok().json(query::respond(c, user.id, false, None)))
}
