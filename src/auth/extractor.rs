//! `AuthUser`: the authenticated caller, with the role assignments the policy works from.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use sea_orm::sea_query::Alias;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::auth::policy::{Role, ScopeType};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct Assignment {
    pub id: Uuid,
    pub role: Role,
    pub scope_type: ScopeType,
    pub scope_id: Uuid,
}

#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: Uuid,
    pub display_name: String,
    pub username: Option<String>,
    pub is_superadmin: bool,
    pub roles: Vec<Assignment>,
    pub jti: Uuid,
    pub family: Uuid,
    /// Expiry of the access token, seconds since the epoch.
    pub token_exp: i64,
}

impl AuthUser {
    /// Someone other than the caller, as the policy sees them (to ask what *they* may reach).
    pub fn for_policy(id: Uuid, roles: Vec<Assignment>) -> Self {
        AuthUser {
            id,
            display_name: String::new(),
            username: None,
            is_superadmin: false,
            roles,
            jti: Uuid::nil(),
            family: Uuid::nil(),
            token_exp: 0,
        }
    }
}

pub fn revoked_jti_key(jti: Uuid) -> String {
    format!("revoked:jti:{jti}")
}

pub fn revoked_family_key(family: Uuid) -> String {
    format!("revoked:fam:{family}")
}

/// The role assignments of `user_id` the policy understands.
pub async fn load_assignments<C: sea_orm::ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> Result<Vec<Assignment>, AppError> {
    Ok(entity::role_assignment::Entity::find()
        .filter(entity::role_assignment::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|a| {
            Some(Assignment {
                id: a.id,
                role: Role::parse(&a.role)?,
                scope_type: ScopeType::parse(&a.scope_type)?,
                scope_id: a.scope_id,
            })
        })
        .collect())
}

/// The columns of the caller's account a request needs.
pub struct Caller {
    pub id: Uuid,
    pub display_name: String,
    pub username: Option<String>,
    pub is_superadmin: bool,
}

/// The active account `user_id` and its role assignments, in one statement (the account left
/// joined to its assignments, one row per assignment); `None` when there is no such active
/// account. Read on every request: nothing here is cached, so a revoked role or a deactivated
/// account stops working with the next request.
pub async fn load_caller<C: sea_orm::ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> Result<Option<(Caller, Vec<Assignment>)>, AppError> {
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
    let caller = Caller {
        id: first.try_get("", "u_id")?,
        display_name: first.try_get("", "u_display_name")?,
        username: first.try_get("", "u_username")?,
        is_superadmin: first.try_get("", "u_is_superadmin")?,
    };
    let mut roles = Vec::new();
    for row in &rows {
        let id: Option<Uuid> = row.try_get("", "a_id")?;
        let role: Option<String> = row.try_get("", "a_role")?;
        let scope_type: Option<String> = row.try_get("", "a_scope_type")?;
        let scope_id: Option<Uuid> = row.try_get("", "a_scope_id")?;
        if let (Some(id), Some(role), Some(scope_type), Some(scope_id)) =
            (id, role, scope_type, scope_id)
        {
            if let (Some(role), Some(scope_type)) =
                (Role::parse(&role), ScopeType::parse(&scope_type))
            {
                roles.push(Assignment {
                    id,
                    role,
                    scope_type,
                    scope_id,
                });
            }
        }
    }
    Ok(Some((caller, roles)))
}

/// The token of an `Authorization: Bearer <token>` header. The scheme is case-insensitive
/// (RFC 9110 §11.1): `bearer`, `Bearer` and `BEARER` are one scheme. This is the only place that
/// parses the header; the idempotency middleware uses it too, so both always agree on who calls.
pub fn bearer(headers: &header::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req.headers()).map(str::to_owned);
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal(anyhow::anyhow!("no state")))?;
            let token = token.ok_or(AppError::Unauthorized)?;
            let claims = state.jwt.decode(&token).ok_or(AppError::InvalidToken)?;
            if crate::auth::durable::is_revoked(&state, claims.jti, claims.fam).await? {
                return Err(AppError::InvalidToken);
            }
            let (user, roles) = load_caller(&state.db, claims.sub)
                .await?
                .ok_or(AppError::InvalidToken)?;
            Ok(AuthUser {
                id: user.id,
                display_name: user.display_name,
                username: user.username,
                is_superadmin: user.is_superadmin,
                roles,
                jti: claims.jti,
                family: claims.fam,
                token_exp: claims.exp,
            })
        })
    }
}
