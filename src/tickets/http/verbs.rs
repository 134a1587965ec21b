//! The workflow verbs: each one a `POST /api/v1/tickets/{id}/<verb>`, guarded by the state
//! machine in `services::tickets`. All take `If-Match` (stale → 412) and answer the ticket with
//! its new `ETag`.

use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{clean_optional, clean_text, if_match, with_etag, TicketDetail};
use crate::access::AuthUser;
use crate::platform::error::FieldCode;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http::extract::{Json, JsonOrEmpty};
use crate::platform::lang::Text;
use crate::platform::signed_urls::Signer;
use crate::platform::state::AppState;
use crate::tickets::model::Priority;
use crate::tickets::service::operations;
use crate::tickets::service::verbs::{Command, Target};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageRequest {
    pub priority: Priority,
    /// Re-file under another of the community's categories.
    pub category_id: Option<Uuid>,
    /// At most 1000 characters.
    #[schema(max_length = 1000, format = "text-or-blank")]
    pub note: Option<String>,
}

/// Exactly one of `property_company_id` and `handler_user_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// A property company of the street; all its staff may work the ticket.
    pub property_company_id: Option<Uuid>,
    /// A grid manager or community staff member whose scope covers the ticket.
    pub handler_user_id: Option<Uuid>,
    #[schema(max_length = 1000, format = "text-or-blank")]
    pub note: Option<String>,
}

/// An optional note, at most 1000 characters. The body may be empty (or `null`, or `{}`) when
/// there is nothing to say.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    #[schema(max_length = 1000, format = "text-or-blank")]
    pub note: Option<String>,
}

pub use crate::platform::http::ReasonRequest;

/// An optional reason; the body may be empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    #[schema(max_length = 500, format = "text-or-blank")]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressRequest {
    /// What was done, 1–1000 characters.
    #[schema(max_length = 1000, format = "text")]
    pub note: String,
    /// Photos uploaded with `POST /api/v1/attachments` (at most 9).
    #[serde(default)]
    #[schema(max_items = 9)]
    pub attachment_ids: Vec<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// 1 (poor) to 5 (excellent).
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(minimum = 1, maximum = 5)]
    pub rating: i32,
    /// At most 500 characters.
    #[schema(max_length = 500, format = "text-or-blank")]
    pub comment: Option<String>,
}

const NOTE_MAX: usize = 1000;
const REASON_MAX: usize = 500;

async fn run(
    state: &AppState,
    user: &AuthUser,
    req: &HttpRequest,
    id: Uuid,
    cmd: Command,
) -> AppResult<HttpResponse> {
    let expected = if_match(req)?;
    let now = state.clock.now();
    let urls = Signer::from_settings(&state.settings);
    let d = operations::apply(&state.db, user, id, expected, cmd, now, &urls).await?;
    Ok(with_etag(HttpResponse::Ok(), &d))
}

/// Triage: give the ticket its colour (and deadline). Community staff, grid managers and council members in scope; from `submitted`.
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ticket's ETag; a stale one answers 412")),
    request_body = TriageRequest,
    responses(
        (status = 200, body = TicketDetail, headers(("ETag" = String))),
        (status = 403, description = "The caller may see the ticket but not do this to it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "The ticket is not in a state this verb starts from, or changed concurrently"),
        (status = 412, description = "If-Match does not match the ticket's current ETag"),
    ))]
#[post("/tickets/{id}/triage")]
#[tracing::instrument(skip_all, fields(user = %user.id, ticket = %id))]
pub async fn triage_ticket(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<TriageRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let cmd = Command::Triage {
        priority: b.priority,
        category_id: b.category_id,
        note: clean_optional("note", &b.note, NOTE_MAX)?,
    };
    run(&state, &user, &req, *id, cmd).await
}

/// Dispatch to a property company or a staff member (grid manager, community staff). From `triaged` or `assigned` (re-dispatch).
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ticket's ETag; a stale one answers 412")),
    request_body = AssignRequest,
    responses(
        (status = 200, body = TicketDetail, headers(("ETag" = String))),
        (status = 403, description = "The caller may see the ticket but not do this to it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "The ticket is not in a state this verb starts from, or changed concurrently"),
        (status = 412, description = "If-Match does not match the ticket's current ETag"),
    ))]
#[post("/tickets/{id}/assign")]
#[tracing::instrument(skip_all, fields(user = %user.id, ticket = %id))]
pub async fn assign_ticket(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<AssignRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let cmd = Command::Assign {
        target: match (b.property_company_id, b.handler_user_id) {
            (Some(c), None) => Target::Company(c),
            (None, Some(u)) => Target::User(u),
            _ => {
                return Err(AppError::invalid(
                    "property_company_id",
                    FieldCode::ExactlyOne,
                    Text::new(
                        "请在物业公司和处理人中二选一",
                        "give exactly one of property_company_id and handler_user_id",
                    ),
                ))
            }
        },
        note: clean_optional("note", &b.note, NOTE_MAX)?,
    };
    run(&state, &user, &req, *id, cmd).await
}

/// The handler accepts the ticket. From `assigned`.
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ticket's ETag; a stale one answers 412")),
    request_body(content = Option<NoteRequest>, description = "Optional; an empty body means no note"),
    responses(
        (status = 200, body = TicketDetail, headers(("ETag" = String))),
        (status = 403, description = "The caller may see the ticket but not do this to it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "The ticket is not in a state this verb starts from, or changed concurrently"),
        (status = 412, description = "If-Match does not match the ticket's current ETag"),
    ))]
#[post("/tickets/{id}/accept")]
#[tracing::instrument(skip_all, fields(user = %user.id, ticket = %id))]
pub async fn accept_ticket(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonOrEmpty<NoteRequest>,
) -> AppResult<HttpResponse> {
    let b = body.0;
    let cmd = Command::Accept {
        note: clean_optional("note", &b.note, NOTE_MAX)?,
    };
    run(&state, &user, &req, *id, cmd).await
}

/// The handler hands the ticket back to triage (退单) with a reason. From `assigned` or `accepted`; the deadline keeps running.
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ticket's ETag; a stale one answers 412")),
    request_body = ReasonRequest,
    responses(
        (status = 200, body = TicketDetail, headers(("ETag" = String))),
        (status = 403, description = "The caller may see the ticket but not do this to it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "The ticket is not in a state this verb starts from, or changed concurrently"),
        (status = 412, description = "If-Match does not match the ticket's current ETag"),
    ))]
#[post("/tickets/{id}/return")]
#[tracing::instrument(skip_all, fields(user = %user.id, ticket = %id))]
pub async fn return_ticket(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let cmd = Command::Return {
        reason: clean_text("reason", &b.reason, REASON_MAX)?,
    };
    run(&state, &user, &req, *id, cmd).await
}

/// A progress entry (with photos) by the handler or follow-up staff; on a red ticket it moves the next follow-up on. From `triaged`, `assigned` or `accepted`.
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ticket's ETag; a stale one answers 412")),
    request_body = ProgressRequest,
    responses(
        (status = 200, body = TicketDetail, headers(("ETag" = String))),
        (status = 403, description = "The caller may see the ticket but not do this to it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "The ticket is not in a state this verb starts from, or changed concurrently"),
        (status = 412, description = "If-Match does not match the ticket's current ETag"),
    ))]
#[post("/tickets/{id}/progress")]
#[tracing::instrument(skip_all, fields(user = %user.id, ticket = %id))]
pub async fn progress_ticket(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<ProgressRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let cmd = Command::Progress {
        note: clean_text("note", &b.note, NOTE_MAX)?,
        attachment_ids: b.attachment_ids,
    };
    run(&state, &user, &req, *id, cmd).await
}

/// The handler resolves the ticket, with evidence. From `accepted`; it closes on its own if the requester neither confirms nor reopens it in time.
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ticket's ETag; a stale one answers 412")),
    request_body = ProgressRequest,
    responses(
        (status = 200, body = TicketDetail, headers(("ETag" = String))),
        (status = 403, description = "The caller may see the ticket but not do this to it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "The ticket is not in a state this verb starts from, or changed concurrently"),
        (status = 412, description = "If-Match does not match the ticket's current ETag"),
    ))]
#[post("/tickets/{id}/resolve")]
#[tracing::instrument(skip_all, fields(user = %user.id, ticket = %id))]
pub async fn resolve_ticket(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<ProgressRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let cmd = Command::Resolve {
        note: clean_text("note", &b.note, NOTE_MAX)?,
        attachment_ids: b.attachment_ids,
    };
    run(&state, &user, &req, *id, cmd).await
}

/// The requester confirms the resolution with a rating, which closes it (销号). From `resolved`.
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ticket's ETag; a stale one answers 412")),
    request_body = ConfirmRequest,
    responses(
        (status = 200, body = TicketDetail, headers(("ETag" = String))),
        (status = 403, description = "The caller may see the ticket but not do this to it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "The ticket is not in a state this verb starts from, or changed concurrently"),
        (status = 412, description = "If-Match does not match the ticket's current ETag"),
    ))]
#[post("/tickets/{id}/confirm")]
#[tracing::instrument(skip_all, fields(user = %user.id, ticket = %id))]
pub async fn confirm_ticket(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<ConfirmRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let cmd = {
        if !(1..=5).contains(&b.rating) {
            return Err(AppError::invalid(
                "rating",
                FieldCode::OutOfRange,
                Text::new("评分应为 1 到 5 分", "1 to 5"),
            ));
        }
        Command::Confirm {
            rating: b.rating,
            comment: clean_optional("comment", &b.comment, REASON_MAX)?,
        }
    };
    run(&state, &user, &req, *id, cmd).await
}

/// The requester rejects the resolution: the ticket goes back to its handler. From `resolved`.
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ticket's ETag; a stale one answers 412")),
    request_body = ReasonRequest,
    responses(
        (status = 200, body = TicketDetail, headers(("ETag" = String))),
        (status = 403, description = "The caller may see the ticket but not do this to it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "The ticket is not in a state this verb starts from, or changed concurrently"),
        (status = 412, description = "If-Match does not match the ticket's current ETag"),
    ))]
#[post("/tickets/{id}/reopen")]
#[tracing::instrument(skip_all, fields(user = %user.id, ticket = %id))]
pub async fn reopen_ticket(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let cmd = Command::Reopen {
        reason: clean_text("reason", &b.reason, REASON_MAX)?,
    };
    run(&state, &user, &req, *id, cmd).await
}

/// The requester withdraws the ticket before it is accepted.
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ticket's ETag; a stale one answers 412")),
    request_body(content = Option<CancelRequest>, description = "Optional; an empty body cancels without a reason"),
    responses(
        (status = 200, body = TicketDetail, headers(("ETag" = String))),
        (status = 403, description = "The caller may see the ticket but not do this to it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "The ticket is not in a state this verb starts from, or changed concurrently"),
        (status = 412, description = "If-Match does not match the ticket's current ETag"),
    ))]
#[post("/tickets/{id}/cancel")]
#[tracing::instrument(skip_all, fields(user = %user.id, ticket = %id))]
pub async fn cancel_ticket(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonOrEmpty<CancelRequest>,
) -> AppResult<HttpResponse> {
    let b = body.0;
    let cmd = Command::Cancel {
        reason: clean_optional("reason", &b.reason, REASON_MAX)?,
    };
    run(&state, &user, &req, *id, cmd).await
}

/// Staff who triage reject the ticket with a reason (not ours to handle, duplicate, …). From `submitted` or `triaged`.
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ticket's ETag; a stale one answers 412")),
    request_body = ReasonRequest,
    responses(
        (status = 200, body = TicketDetail, headers(("ETag" = String))),
        (status = 403, description = "The caller may see the ticket but not do this to it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "The ticket is not in a state this verb starts from, or changed concurrently"),
        (status = 412, description = "If-Match does not match the ticket's current ETag"),
    ))]
#[post("/tickets/{id}/reject")]
#[tracing::instrument(skip_all, fields(user = %user.id, ticket = %id))]
pub async fn reject_ticket(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let cmd = Command::Reject {
        reason: clean_text("reason", &b.reason, REASON_MAX)?,
    };
    run(&state, &user, &req, *id, cmd).await
}

/// The requester urges (催办) an open ticket: the handlers are notified. At most once a day (else 429).
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ticket's ETag; a stale one answers 412")),
    request_body(content = Option<NoteRequest>, description = "Optional; an empty body means no note"),
    responses(
        (status = 200, body = TicketDetail, headers(("ETag" = String))),
        (status = 403, description = "The caller may see the ticket but not do this to it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "The ticket is not in a state this verb starts from, or changed concurrently"),
        (status = 412, description = "If-Match does not match the ticket's current ETag"),
        (status = 429, description = "Already urged within the last 24 hours (see Retry-After)"),
    ))]
#[post("/tickets/{id}/urge")]
#[tracing::instrument(skip_all, fields(user = %user.id, ticket = %id))]
pub async fn urge_ticket(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonOrEmpty<NoteRequest>,
) -> AppResult<HttpResponse> {
    let b = body.0;
    let cmd = Command::Urge {
        note: clean_optional("note", &b.note, NOTE_MAX)?,
    };
    run(&state, &user, &req, *id, cmd).await
}
