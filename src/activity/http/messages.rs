//! The caller's in-app message centre (站内消息): `GET /me/messages`, the unread count, and
//! marking read. Fed by the same events as the WeChat subscribe messages (`services::inbox`).

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AuthUser;
pub use crate::activity::query::inbox_messages::{InboxEvent, InboxMessageResponse, SubjectType};
use crate::platform::error::AppResult;
use crate::platform::http::extract::Query;
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::inbox;
use crate::platform::state::AppState;

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
