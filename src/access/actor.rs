//! `Actor`: who acts, as services and the policy see them: the account and its role
//! assignments. Built from the access token by the HTTP extractor, or for someone other than the
//! caller (the recipient of a notification, the resident a seed acts for) with [`Actor::new`].
//! Services take `&Actor` and know nothing of tokens or requests.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Alias;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::access::policy::{Role, ScopeType};
use crate::platform::error::AppError;

#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Uuid,
    pub display_name: String,
    pub username: Option<String>,
    pub is_superadmin: bool,
    pub roles: Vec<Assignment>,
}

impl Actor {
    /// Someone other than the caller, as the policy sees them (to ask what *they* may reach).
    pub fn new(id: Uuid, roles: Vec<Assignment>) -> Self {
        Actor {
            id,
            display_name: String::new(),
            username: None,
            is_superadmin: false,
            roles,
        }
    }

    /// The actor as of `now`: without the assignments that have expired by then. Every `Actor`
    /// that authorizes anything passes through here with the request's (or the job's) clock,
    /// including one a replica kept in memory from before the expiry (`access::callers`).
    pub fn as_of(mut self, now: DateTime<Utc>) -> Self {
        self.roles.retain(|a| a.is_valid_at(now));
        self
    }
}

#[derive(Debug, Clone)]
pub struct Assignment {
    pub id: Uuid,
    pub role: Role,
    pub scope_type: ScopeType,
    pub scope_id: Uuid,
    /// The assignment authorizes nothing from this instant on (a term-bound grant); None when
    /// open-ended.
    pub valid_until: Option<DateTime<Utc>>,
    /// The office term that made the grant, if any.
    pub source_term_id: Option<Uuid>,
}

impl Assignment {
    /// Whether the assignment still authorizes at `now` (it stops at `valid_until` itself).
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        self.valid_until.is_none_or(|until| now < until)
    }
}

/// The role assignments of `user_id` still valid at `now` (a role or scope type the policy does
/// not know is an error).
pub async fn load_assignments<C: sea_orm::ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Assignment>, AppError> {
    Ok(entity::role_assignment::Entity::find()
        .filter(entity::role_assignment::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| Assignment {
            id: a.id,
            role: a.role,
            scope_type: a.scope_type,
            scope_id: a.scope_id,
            valid_until: a.valid_until,
            source_term_id: a.source_term_id,
        })
        .filter(|a| a.is_valid_at(now))
        .collect())
}

/// The active account `user_id` and its role assignments, in one statement (the account left
/// joined to its assignments, one row per assignment); `None` when there is no such active
/// account. The caller of a request comes from here when its replica keeps no current copy
/// (`access::callers`, kept under the account's authorization epoch, `access::epoch`).
///
/// All assignments are returned, expired ones included: the replica may keep the `Actor`, and
/// whoever uses it drops what has expired by then ([`Actor::as_of`]); an `Actor` read here for
/// another account and used at once is passed through `as_of` by its reader too.
pub async fn load_caller<C: sea_orm::ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> Result<Option<Actor>, AppError> {
    use entity::{role_assignment as ra, user};
    use sea_orm::sea_query::{Expr, Order, Query};

    let q = Query::select()
        .expr_as(
            Expr::col((user::Entity, user::Column::Id)),
            Alias::new("u_id"),
        )
        .expr_as(
            Expr::col((user::Entity, user::Column::DisplayName)),
            Alias::new("u_display_name"),
        )
        .expr_as(
            Expr::col((user::Entity, user::Column::Username)),
            Alias::new("u_username"),
        )
        .expr_as(
            Expr::col((user::Entity, user::Column::IsSuperadmin)),
            Alias::new("u_is_superadmin"),
        )
        .expr_as(Expr::col((ra::Entity, ra::Column::Id)), Alias::new("a_id"))
        .expr_as(
            Expr::col((ra::Entity, ra::Column::Role)),
            Alias::new("a_role"),
        )
        .expr_as(
            Expr::col((ra::Entity, ra::Column::ScopeType)),
            Alias::new("a_scope_type"),
        )
        .expr_as(
            Expr::col((ra::Entity, ra::Column::ScopeId)),
            Alias::new("a_scope_id"),
        )
        .expr_as(
            Expr::col((ra::Entity, ra::Column::ValidUntil)),
            Alias::new("a_valid_until"),
        )
        .expr_as(
            Expr::col((ra::Entity, ra::Column::SourceTermId)),
            Alias::new("a_source_term_id"),
        )
        .from(user::Entity)
        .left_join(
            ra::Entity,
            Expr::col((ra::Entity, ra::Column::UserId)).equals((user::Entity, user::Column::Id)),
        )
        .and_where(Expr::col((user::Entity, user::Column::Id)).eq(user_id))
        .and_where(Expr::col((user::Entity, user::Column::IsActive)).eq(true))
        .order_by((ra::Entity, ra::Column::Id), Order::Asc)
        .to_owned();
    let rows = db.query_all(db.get_database_backend().build(&q)).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut caller = Actor {
        id: first.try_get("", "u_id")?,
        display_name: first.try_get("", "u_display_name")?,
        username: first.try_get("", "u_username")?,
        is_superadmin: first.try_get("", "u_is_superadmin")?,
        roles: Vec::new(),
    };
    let mut roles = Vec::new();
    for row in &rows {
        let id: Option<Uuid> = row.try_get("", "a_id")?;
        let role: Option<Role> = row.try_get("", "a_role")?;
        let scope_type: Option<ScopeType> = row.try_get("", "a_scope_type")?;
        let scope_id: Option<Uuid> = row.try_get("", "a_scope_id")?;
        let valid_until: Option<DateTime<Utc>> = row.try_get("", "a_valid_until")?;
        let source_term_id: Option<Uuid> = row.try_get("", "a_source_term_id")?;
        if let (Some(id), Some(role), Some(scope_type), Some(scope_id)) =
            (id, role, scope_type, scope_id)
        {
            roles.push(Assignment {
                id,
                role,
                scope_type,
                scope_id,
                valid_until,
                source_term_id,
            });
        }
    }
    caller.roles = roles;
    Ok(Some(caller))
}

impl<'a> From<&'a Actor> for crate::platform::audit::Who<'a> {
    fn from(u: &'a Actor) -> Self {
        crate::platform::audit::Who {
            id: u.id,
            name: &u.display_name,
            username: u.username.as_deref(),
        }
    }
}
