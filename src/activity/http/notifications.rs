//! The notification outbox as staff see it: what was sent to whom (by user id), when, and why
//! not.

use actix_web::{get, post, web, HttpResponse};
use uuid::Uuid;

use crate::access::AuthUser;
use crate::activity::query::notifications as query;
pub use crate::activity::query::notifications::{ListNotificationsQuery, NotificationResponse};
use crate::platform::error::AppResult;
use crate::platform::http::extract::Query;
use crate::platform::http::Page;
use crate::platform::state::AppState;

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
    Ok(HttpResponse::Ok().json(query::list(&state.db, &user, &q).await?))
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
    let r = query::retry(&state.db, &user, *id, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(r))
}
