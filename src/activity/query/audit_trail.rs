//! The audit log of personal-data access as read through the API.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::error::AppResult;
use entity::audit_event;

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

impl From<audit_event::Model> for AuditEventResponse {
    fn from(m: audit_event::Model) -> Self {
        Self {
            id: m.id,
            actor_id: m.actor_id,
            actor_name: m.actor_name,
            actor_username: m.actor_username,
            action: m.action,
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

/// Every event about the resident `resident_id`, oldest first: who read or exported their
/// personal data, when and why.
pub async fn about_resident<C: ConnectionTrait>(
    db: &C,
    resident_id: Uuid,
) -> AppResult<Vec<AuditEventResponse>> {
    Ok(audit_event::Entity::find()
        .filter(audit_event::Column::ResidentId.eq(resident_id))
        .order_by_asc(audit_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(AuditEventResponse::from)
        .collect())
}
