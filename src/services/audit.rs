//! The append-only audit log of personal-data access. The application only ever inserts.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use crate::error::AppResult;
use entity::audit_event;

pub struct Event<'a> {
    pub actor_id: Uuid,
    /// `reveal`, `export_unmasked`, …
    pub action: &'a str,
    pub street_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub resident_id: Option<Uuid>,
    pub field: Option<&'a str>,
    pub purpose: &'a str,
    pub detail: Option<String>,
}

pub async fn record<C: ConnectionTrait>(db: &C, e: Event<'_>) -> AppResult<Uuid> {
    let id = Uuid::now_v7();
    audit_event::ActiveModel {
        id: Set(id),
        street_id: Set(e.street_id),
        community_id: Set(e.community_id),
        actor_id: Set(e.actor_id),
        action: Set(e.action.to_string()),
        resident_id: Set(e.resident_id),
        field: Set(e.field.map(str::to_string)),
        purpose: Set(e.purpose.to_string()),
        detail: Set(e.detail),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(id)
}
