//! Whose ticket settings a caller sees or changes, and the categories as screens show them.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::policy::{self, Action, Role, ScopeType};
use crate::access::Actor;
use crate::platform::error::{AppError, AppResult};
use crate::territory::query::place_lookup::{self, CommunityRef};
use entity::ticket_category;

/// The community `id` if the caller files or sees tickets there: a resident of it, or staff
/// whose ticket scope reaches it or one of its compounds. Otherwise 404.
pub async fn ticket_community<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    id: Uuid,
) -> AppResult<CommunityRef> {
    let c = place_lookup::community(db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if user.is_superadmin {
        return Ok(c);
    }
    let households: Vec<Uuid> = user
        .roles
        .iter()
        .filter(|a| a.role == Role::Resident && a.scope_type == ScopeType::Household)
        .map(|a| a.scope_id)
        .collect();
    if place_lookup::any_household_in(db, households, id).await? {
        return Ok(c);
    }
    let s = policy::scope(db, user, Action::TicketRead).await?;
    if place_lookup::community_in_scope(db, &s, id).await? {
        Ok(c)
    } else {
        Err(AppError::NotFound)
    }
}

/// The community `id` if the caller may change its ticket settings: 404 if they do not see it
/// at all, 403 if they see it but may not.
pub async fn settings_community<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    id: Uuid,
) -> AppResult<CommunityRef> {
    let c = ticket_community(db, user, id).await?;
    if place_lookup::community_reached(db, user, Action::TicketSettings, id).await? {
        Ok(c)
    } else {
        Err(AppError::Forbidden)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketCategoryResponse {
    pub id: Uuid,
    pub community_id: Uuid,
    #[schema(example = "环境卫生")]
    pub name: String,
    pub sort_order: i32,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

impl From<ticket_category::Model> for TicketCategoryResponse {
    fn from(m: ticket_category::Model) -> Self {
        Self {
            id: m.id,
            community_id: m.community_id,
            name: m.name,
            sort_order: m.sort_order,
            created_at: m.created_at,
        }
    }
}
