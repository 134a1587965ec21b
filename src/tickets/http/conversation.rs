//! The conversation on a ticket (留言) between the requester and the staff handling it; the
//! rules are in `services::ticket_messages`.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::clean_text;
use crate::access::AuthUser;
use crate::platform::error::AppResult;
use crate::platform::http::created;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::state::AppState;
use crate::tickets::service::messages::{self as svc, BODY_MAX};

pub use crate::tickets::query::messages::TicketMessageResponse;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListTicketMessagesQuery {
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The conversation on a ticket, oldest first: for the requester and the staff who can read
/// the ticket.
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ListTicketMessagesQuery),
    responses(
        (status = 200, body = Page<TicketMessageResponse>),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/tickets/{id}/messages")]
#[tracing::instrument(skip_all, fields(user = %user.id, ticket = %id))]
pub async fn list_ticket_messages(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: Query<ListTicketMessagesQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let (rows, next_cursor) = svc::list(&state.db, &user, *id, p).await?;
    Ok(HttpResponse::Ok().json(Page {
        items: rows
            .into_iter()
            .map(TicketMessageResponse::from)
            .collect::<Vec<_>>(),
        next_cursor,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostTicketMessageRequest {
    /// 1–500 characters once trimmed; line breaks allowed.
    #[schema(example = "师傅大概几点能到？", max_length = 500, format = "text")]
    pub body: String,
}

/// Write on a ticket's conversation; the other side is told in their message centre (and on
/// WeChat where a `ticket_message` template is configured). Taken until the ticket is closed,
/// cancelled or rejected.
#[utoipa::path(tag = "tickets", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = PostTicketMessageRequest,
    responses(
        (status = 201, body = TicketMessageResponse, headers(("Location" = String))),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "`ticket_conversation_closed`: the ticket is closed, cancelled or rejected"),
        (status = 429, description = "`ticket_message_limit`: 30 messages on this ticket in the last hour (see Retry-After)"),
    ))]
#[post("/tickets/{id}/messages")]
#[tracing::instrument(skip_all, fields(user = %user.id, ticket = %id))]
pub async fn post_ticket_message(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<PostTicketMessageRequest>,
) -> AppResult<HttpResponse> {
    let text = clean_text("body", &body.body, BODY_MAX)?;
    let m = svc::post(&state.db, &user, *id, text, state.clock.now()).await?;
    let location = format!("/api/v1/tickets/{}/messages", m.ticket_id);
    Ok(created(location, &TicketMessageResponse::from(m)))
}
