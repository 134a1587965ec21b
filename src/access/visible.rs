//! What of the platform's scoped tables a caller may see: the conditions selecting the audit
//! events and notifications their role reaches, for the platform's list queries.

use sea_orm::{Condition, ConnectionTrait};
use uuid::Uuid;

use crate::access::policy::{self, Action};
use crate::access::Actor;
use crate::platform::error::AppResult;

/// The audit events the caller may read ([`Action::AuditRead`]).
pub async fn audit_events<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<Condition> {
    Ok(policy::scope(db, actor, Action::AuditRead)
        .await?
        .condition::<entity::audit_event::Entity>())
}

/// The notifications the caller may read ([`Action::NotificationRead`]).
pub async fn notifications<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<Condition> {
    Ok(policy::scope(db, actor, Action::NotificationRead)
        .await?
        .condition::<entity::notification::Entity>())
}

/// The notification `id` if the caller may read it, else 404.
pub async fn notification<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<entity::notification::Model> {
    policy::find_visible::<entity::notification::Entity, _>(db, actor, Action::NotificationRead, id)
        .await
}
