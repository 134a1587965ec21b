//! The audit log as staff read it: who read, wrote, looked up or exported personal data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::audit::{self, Record};
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError};
use crate::platform::lang::Text;
use crate::platform::paging::{Page, PageParams};

#[derive(Serialize, ToSchema)]
pub struct AuditEventResponse {
    pub id: Uuid,
    /// Who read, wrote, looked up or exported.
    pub actor_id: Uuid,
    /// The actor's display name when they acted (kept after the account is erased).
    pub actor_name: Option<String>,
    pub actor_username: Option<String>,
    #[schema(value_type = crate::platform::audit::Action)]
    pub action: String,
    pub resident_id: Option<Uuid>,
    /// `phone` or `id_number` for a reveal.
    pub field: Option<String>,
    /// Why, as the actor stated it.
    pub purpose: String,
    pub detail: Option<String>,
    pub street_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

impl From<Record> for AuditEventResponse {
    fn from(m: Record) -> Self {
        Self {
            id: m.id,
            actor_id: m.actor_id,
            actor_name: m.actor_name,
            actor_username: m.actor_username,
            action: m.action.as_str(),
            resident_id: m.resident_id,
            field: m.field,
            purpose: m.purpose,
            detail: m.detail,
            street_id: m.street_id,
            community_id: m.community_id,
            created_at: m.created_at,
        }
    }
}

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

/// One page of the events the caller may read, oldest first; an unknown `action` is 400.
pub async fn list<C: sea_orm::ConnectionTrait>(
    db: &C,
    actor: &Actor,
    q: &ListAuditEventsQuery,
) -> AppResult<Page<AuditEventResponse>> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let action = match &q.action {
        None => None,
        Some(v) => Some(audit::Action::parse(v).ok_or_else(|| {
            AppError::InvalidQuery(vec![FieldError::of(
                "action",
                FieldCode::Invalid,
                Text::new("不是已知的审计动作", "not a known audit action"),
            )])
        })?),
    };
    let visible = crate::access::visible::audit_events(db, actor).await?;
    let (rows, next_cursor) =
        audit::list(db, visible, q.resident_id, q.actor_id, action, p).await?;
    Ok(Page {
        items: rows.into_iter().map(AuditEventResponse::from).collect(),
        next_cursor,
    })
}

/// Every event about the resident `resident_id`, oldest first: who read or exported their
/// personal data, when and why.
pub async fn about_resident<C: sea_orm::ConnectionTrait>(
    db: &C,
    resident_id: uuid::Uuid,
) -> crate::platform::error::AppResult<Vec<AuditEventResponse>> {
    Ok(audit::about_resident(db, resident_id)
        .await?
        .into_iter()
        .map(AuditEventResponse::from)
        .collect())
}
