//! The notification outbox as staff see it: what was sent to whom (by user id), when, and why
//! not.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::policy::{self, Action};
use crate::access::AuthUser;
use crate::platform::error::FieldCode;
use crate::platform::error::{AppError, AppResult, FieldError};
use crate::platform::http::extract::Query;
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::notifications::{self, Event};
use crate::platform::state::AppState;
use crate::territory::service::tree as territory;
use entity::notification;

/// One queued message. The recipient's WeChat openid and the message content are not shown.
#[derive(Serialize, ToSchema)]
pub struct NotificationResponse {
    pub id: Uuid,
    #[schema(value_type = crate::platform::notifications::Event)]
    pub event_type: String,
    pub ticket_id: Option<Uuid>,
    pub recipient_user_id: Uuid,
    #[schema(value_type = crate::platform::notifications::DeliveryStatus)]
    pub status: String,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// When a pending notification is tried next.
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed, or why it was skipped.
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

impl From<notification::Model> for NotificationResponse {
    fn from(m: notification::Model) -> Self {
        Self {
            id: m.id,
            event_type: m.event_type,
            ticket_id: m.ticket_id,
            recipient_user_id: m.recipient_user_id,
            status: m.status,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            sent_at: m.sent_at,
            created_at: m.created_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListNotificationsQuery {
    #[param(value_type = Option<crate::platform::notifications::DeliveryStatus>)]
    pub status: Option<String>,
    pub ticket_id: Option<Uuid>,
    #[param(value_type = Option<crate::platform::notifications::Event>)]
    pub event_type: Option<String>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const STATUSES: [&str; 4] = [
    notifications::PENDING,
    notifications::SENT,
    notifications::FAILED,
    notifications::SKIPPED,
];

/// Notifications of the caller's streets or communities, with their delivery state.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(ListNotificationsQuery),
    responses(
        (status = 200, body = Page<NotificationResponse>),
        (status = 403, description = "The caller's roles may not see notifications"),
    ))]
#[get("/notifications")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn list_notifications(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListNotificationsQuery>,
) -> AppResult<HttpResponse> {
    if !policy::can_anywhere(&user, Action::NotificationRead) {
        return Err(AppError::Forbidden);
    }
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let mut filter = Condition::all();
    if let Some(s) = &q.status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(invalid("status", "pending, sent, failed or skipped"));
        }
        filter = filter.add(notification::Column::Status.eq(s.as_str()));
    }
    if let Some(e) = &q.event_type {
        if Event::parse(e).is_none() {
            return Err(invalid(
                "event_type",
                "ticket_status_changed, ticket_assigned, ticket_urged, ticket_escalated or ticket_message",
            ));
        }
        filter = filter.add(notification::Column::EventType.eq(e.as_str()));
    }
    if let Some(t) = q.ticket_id {
        filter = filter.add(notification::Column::TicketId.eq(t));
    }
    let (rows, next_cursor) = territory::list_page::<notification::Entity, _>(
        &state.db,
        &user,
        Action::NotificationRead,
        &[],
        filter,
        p,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page {
        items: rows
            .into_iter()
            .map(NotificationResponse::from)
            .collect::<Vec<_>>(),
        next_cursor,
    }))
}

/// Queue a failed or skipped notification again, due now.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = NotificationResponse),
        (status = 403, description = "The caller's roles may not see notifications"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "The notification is pending or already sent"),
    ))]
#[post("/notifications/{id}/retry")]
#[tracing::instrument(skip_all, fields(user = %user.id, notification = %id))]
pub async fn retry_notification(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    if !policy::can_anywhere(&user, Action::NotificationRead) {
        return Err(AppError::Forbidden);
    }
    let n = policy::find_visible::<notification::Entity, _>(
        &state.db,
        &user,
        Action::NotificationRead,
        *id,
    )
    .await?;
    let m = notifications::retry(&state.db, n.id, state.clock.now()).await?;
    tracing::info!("notification queued again");
    Ok(HttpResponse::Ok().json(NotificationResponse::from(m)))
}

fn invalid(field: &str, expected: &str) -> AppError {
    AppError::InvalidQuery(vec![FieldError::of(
        field,
        FieldCode::Invalid,
        crate::platform::lang::Text::new(
            format!("取值不对，应为：{expected}"),
            expected.to_string(),
        ),
    )])
}
