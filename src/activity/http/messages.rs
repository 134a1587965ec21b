//! The caller's in-app message centre (站内消息): `GET /me/messages`, the unread count, and
//! marking read. Fed by the same events as the WeChat subscribe messages (`services::inbox`).

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AuthUser;
use crate::platform::error::AppResult;
use crate::platform::http::extract::Query;
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::inbox;
use crate::platform::notifications::Event;
use crate::platform::state::AppState;
use entity::inbox_message;

/// What a message is about: the page the mini-program opens with `subject_id`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectType {
    /// A ticket (诉求): `GET /api/v1/tickets/{subject_id}`.
    Ticket,
    /// A resident's transfer between communities (迁入/迁出):
    /// `GET /api/v1/resident-transfers/{subject_id}`.
    ResidentTransfer,
}

/// What a message reports: the WeChat subscribe events, and those told in the message centre
/// only.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InboxEvent {
    TicketStatusChanged,
    TicketAssigned,
    TicketUrged,
    TicketEscalated,
    TicketMessage,
    /// To the receiving community's staff: a resident's transfer waits for them.
    TransferFiled,
    /// To who filed it: the receiving community accepted the transfer.
    TransferAccepted,
    /// To who filed it: the receiving community refused the transfer (the body says why).
    TransferRefused,
}

impl InboxEvent {
    fn parse(s: &str) -> Option<InboxEvent> {
        if let Some(e) = Event::parse(s) {
            return Some(match e {
                Event::TicketStatusChanged => InboxEvent::TicketStatusChanged,
                Event::TicketAssigned => InboxEvent::TicketAssigned,
                Event::TicketUrged => InboxEvent::TicketUrged,
                Event::TicketEscalated => InboxEvent::TicketEscalated,
                Event::TicketMessage => InboxEvent::TicketMessage,
            });
        }
        match s {
            inbox::TRANSFER_FILED => Some(InboxEvent::TransferFiled),
            inbox::TRANSFER_ACCEPTED => Some(InboxEvent::TransferAccepted),
            inbox::TRANSFER_REFUSED => Some(InboxEvent::TransferRefused),
            _ => None,
        }
    }
}

/// One message of the caller's message centre, enough for the list screen.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxMessageResponse {
    pub id: Uuid,
    /// What happened (the WeChat subscribe events, and transfers told here only). Null only for an
    /// event this server version does not know (written by a newer replica during an upgrade).
    pub event: Option<InboxEvent>,
    pub subject_type: SubjectType,
    pub subject_id: Uuid,
    /// A short Chinese title (at most 60 characters), e.g. `诉求已受理`.
    pub title: String,
    /// A Chinese line naming the ticket and what happened (at most 200 characters).
    pub body: String,
    pub read: bool,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub read_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

impl From<inbox_message::Model> for InboxMessageResponse {
    fn from(m: inbox_message::Model) -> Self {
        Self {
            id: m.id,
            event: InboxEvent::parse(&m.event),
            subject_type: if m.subject_type == inbox::Subject::ResidentTransfer(m.subject_id).kind()
            {
                SubjectType::ResidentTransfer
            } else {
                SubjectType::Ticket
            },
            subject_id: m.subject_id,
            title: m.title,
            body: m.body,
            read: m.read_at.is_some(),
            read_at: m.read_at,
            created_at: m.created_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListMessagesQuery {
    /// `true`: only unread messages.
    pub unread: Option<bool>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The caller's messages, newest first. Reading them marks nothing read.
#[utoipa::path(tag = "me", security(("bearer" = [])), params(ListMessagesQuery),
    responses((status = 200, body = Page<InboxMessageResponse>)))]
#[get("/me/messages")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn list_my_messages(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListMessagesQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let (rows, next_cursor) = inbox::list(&state.db, user.id, q.unread.unwrap_or(false), p).await?;
    Ok(HttpResponse::Ok().json(Page {
        items: rows
            .into_iter()
            .map(InboxMessageResponse::from)
            .collect::<Vec<_>>(),
        next_cursor,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCount {
    /// How many of the caller's messages are unread.
    pub unread: u64,
}

/// How many of the caller's messages are unread (the badge on the message tab).
#[utoipa::path(tag = "me", security(("bearer" = [])),
    responses((status = 200, body = UnreadCount)))]
#[get("/me/messages/unread-count")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn count_my_unread_messages(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<HttpResponse> {
    let unread = inbox::unread_count(&state.db, user.id).await?;
    Ok(HttpResponse::Ok().json(UnreadCount { unread }))
}

/// Mark one of the caller's messages read. Idempotent: marking it again changes nothing.
#[utoipa::path(tag = "me", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = InboxMessageResponse),
        (status = 404, description = "No such message among the caller's"),
    ))]
#[post("/me/messages/{id}/read")]
#[tracing::instrument(skip_all, fields(user = %user.id, message = %id))]
pub async fn read_my_message(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let m = inbox::mark_read(&state.db, user.id, *id, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(InboxMessageResponse::from(m)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedRead {
    /// How many messages were unread and are now read.
    pub marked: u64,
}

/// Mark every unread message of the caller read.
#[utoipa::path(tag = "me", security(("bearer" = [])),
    responses((status = 200, body = MarkedRead)))]
#[post("/me/messages/read-all")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn read_all_my_messages(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<HttpResponse> {
    let marked = inbox::mark_all_read(&state.db, user.id, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(MarkedRead { marked }))
}
