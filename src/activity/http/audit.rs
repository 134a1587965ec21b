//! The audit log of personal-data access (read-only: nothing changes or deletes it).

use actix_web::{get, web, HttpResponse};

use crate::access::AuthUser;
use crate::activity::query::audit as query;
pub use crate::activity::query::audit::{AuditEventResponse, ListAuditEventsQuery};
use crate::platform::error::AppResult;
use crate::platform::http::extract::Query;
use crate::platform::http::Page;
use crate::platform::state::AppState;

/// Who read or exported which personal data, when and why (oldest first).
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(ListAuditEventsQuery),
    responses((status = 200, body = Page<AuditEventResponse>)))]
#[get("/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListAuditEventsQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(query::list(&state.db, &user, &q).await?))
}
