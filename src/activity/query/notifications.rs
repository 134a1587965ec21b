//! The notification outbox as staff see it: what was sent to whom (by user id), when, and why
//! not; and putting a failed one back in the queue.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::policy::{self, Action};
use crate::access::Actor;
use crate::platform::error::FieldCode;
use crate::platform::error::{AppError, AppResult, FieldError};
use crate::platform::notifications::{self, DeliveryStatus, Event, Queued};
use crate::platform::paging::{Page, PageParams};
use sea_orm::ActiveEnum;

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

impl From<Queued> for NotificationResponse {
    fn from(m: Queued) -> Self {
        Self {
            id: m.id,
            event_type: m.event_type.as_str().to_string(),
            ticket_id: m.ticket_id,
            recipient_user_id: m.recipient_user_id,
            status: m.status.to_value(),
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

/// One page of the notifications of the caller's streets or communities, oldest first; 403
/// for roles that may see none.
pub async fn list<C: sea_orm::ConnectionTrait>(
    db: &C,
    actor: &Actor,
    q: &ListNotificationsQuery,
) -> AppResult<Page<NotificationResponse>> {
    if !policy::can_anywhere(actor, Action::NotificationRead) {
        return Err(AppError::Forbidden);
    }
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    if let Some(s) = &q.status {
        if <DeliveryStatus as ActiveEnum>::try_from_value(s).is_err() {
            return Err(invalid("status", "pending, sent, failed or skipped"));
        }
    }
    if let Some(e) = &q.event_type {
        if Event::parse(e).is_none() {
            return Err(invalid(
                "event_type",
                "ticket_status_changed, ticket_assigned, ticket_urged, ticket_escalated or ticket_message",
            ));
        }
    }
    let visible = crate::access::visible::notifications(db, actor).await?;
    let (rows, next_cursor) = notifications::list(
        db,
        visible,
        q.status.as_deref(),
        q.ticket_id,
        q.event_type.as_deref(),
        p,
    )
    .await?;
    Ok(Page {
        items: rows.into_iter().map(NotificationResponse::from).collect(),
        next_cursor,
    })
}

/// Queues a failed or skipped notification the caller may see again, due `now`.
pub async fn retry<C: sea_orm::ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<NotificationResponse> {
    if !policy::can_anywhere(actor, Action::NotificationRead) {
        return Err(AppError::Forbidden);
    }
    let n = crate::access::visible::notification(db, actor, id).await?;
    let m = notifications::retry(db, n.id, now).await?;
    tracing::info!("notification queued again");
    Ok(NotificationResponse::from(m))
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
