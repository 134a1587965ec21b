//! The audit log of personal-data access (read-only: nothing changes or deletes it).

use actix_web::{get, web, HttpResponse};
use sea_orm::{ColumnTrait, Condition};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::access::policy::Action;
use crate::access::AuthUser;
pub use crate::activity::query::audit_trail::AuditEventResponse;
use crate::platform::error::AppResult;
use crate::platform::http::extract::Query;
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::state::AppState;
use crate::territory::service::tree as territory;
use entity::audit_event;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListAuditEventsQuery {
    pub resident_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    #[param(value_type = Option<crate::platform::audit::Action>)]
    pub action: Option<String>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Who read or exported which personal data, when and why (oldest first).
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(ListAuditEventsQuery),
    responses((status = 200, body = Page<AuditEventResponse>)))]
#[get("/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListAuditEventsQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let mut filter = Condition::all();
    if let Some(v) = q.resident_id {
        filter = filter.add(audit_event::Column::ResidentId.eq(v));
    }
    if let Some(v) = q.actor_id {
        filter = filter.add(audit_event::Column::ActorId.eq(v));
    }
    if let Some(v) = &q.action {
        let Some(action) = crate::platform::audit::Action::parse(v) else {
            return Err(crate::platform::error::AppError::InvalidQuery(vec![
                crate::platform::error::FieldError::of(
                    "action",
                    crate::platform::error::FieldCode::Invalid,
                    crate::platform::lang::Text::new(
                        "不是已知的审计动作",
                        "not a known audit action",
                    ),
                ),
            ]));
        };
        filter = filter.add(audit_event::Column::Action.eq(action.as_str()));
    }
    let (rows, next_cursor) = territory::list_page::<audit_event::Entity, _>(
        &state.db,
        &user,
        Action::AuditRead,
        &[],
        filter,
        p,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page {
        items: rows
            .into_iter()
            .map(AuditEventResponse::from)
            .collect::<Vec<_>>(),
        next_cursor,
    }))
}
