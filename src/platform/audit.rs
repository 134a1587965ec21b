//! The append-only audit log of personal-data access. The application only ever inserts.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::platform::error::AppResult;
use crate::platform::paging::PageParams;
use entity::audit_event;

/// One event of the log, as stored.
pub type Record = audit_event::Model;

/// Who acted, copied into the event: the log keeps saying who it was after the account is gone.
#[derive(Clone, Copy)]
pub struct Who<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub username: Option<&'a str>,
}

pub use entity::audit_event::Action;

pub struct Event<'a> {
    pub actor: Who<'a>,
    pub action: Action,
    pub street_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub resident_id: Option<Uuid>,
    pub field: Option<&'a str>,
    pub purpose: &'a str,
    pub detail: Option<String>,
}

pub async fn record<C: ConnectionTrait>(
    db: &C,
    e: Event<'_>,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let id = Uuid::now_v7();
    audit_event::ActiveModel {
        id: Set(id),
        street_id: Set(e.street_id),
        community_id: Set(e.community_id),
        actor_id: Set(e.actor.id),
        actor_name: Set(Some(e.actor.name.to_string())),
        actor_username: Set(e.actor.username.map(str::to_string)),
        action: Set(e.action),
        resident_id: Set(e.resident_id),
        field: Set(e.field.map(str::to_string)),
        purpose: Set(e.purpose.to_string()),
        detail: Set(e.detail),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// A page of the events `visible` selects (the caller's reach), of a resident, by an actor, of
/// an action when given, oldest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    visible: Condition,
    resident_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    action: Option<Action>,
    p: PageParams,
) -> AppResult<(Vec<Record>, Option<String>)> {
    let mut q = audit_event::Entity::find().filter(visible);
    if let Some(v) = resident_id {
        q = q.filter(audit_event::Column::ResidentId.eq(v));
    }
    if let Some(v) = actor_id {
        q = q.filter(audit_event::Column::ActorId.eq(v));
    }
    if let Some(a) = action {
        q = q.filter(audit_event::Column::Action.eq(a.as_str()));
    }
    if let Some(after) = p.after {
        q = q.filter(audit_event::Column::Id.gt(after));
    }
    let rows = q
        .order_by_asc(audit_event::Column::Id)
        .limit(p.limit + 1)
        .all(db)
        .await?;
    Ok(crate::platform::paging::cut_page(rows, p.limit, |m| m.id))
}

/// Every event about the resident `resident_id`, oldest first (their data export).
pub async fn about_resident<C: ConnectionTrait>(
    db: &C,
    resident_id: Uuid,
) -> AppResult<Vec<Record>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    Ok(audit_event::Entity::find()
        .filter(audit_event::Column::ResidentId.eq(resident_id))
        .order_by_asc(audit_event::Column::Id)
        .all(db)
        .await?)
}
