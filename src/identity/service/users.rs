//! Administrators create staff accounts and grant and revoke roles.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use crate::access::policy::{self, Action, Role, ScopeType};
use crate::access::{epoch, Actor};
use crate::identity::query::users::{require, RoleAssignmentResponse};
use crate::platform::cache::SharedCache;
use crate::platform::error::{is_unique_violation, AppError, AppResult};
use crate::territory::service::tree as territory;
use entity::{role_assignment, user};

/// A new staff account, created by an administrator.
pub async fn create_staff<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    username: &str,
    password: String,
    display_name: &str,
    now: DateTime<Utc>,
) -> AppResult<user::Model> {
    require(caller, Action::UserManage)?;
    let u = crate::identity::service::auth::create_user(
        db,
        username,
        password,
        display_name,
        false,
        now,
    )
    .await?;
    tracing::info!(created_user = %u.id, by = %caller.id, "user created");
    Ok(u)
}

/// A role to grant: `role` on the scope `scope_type`/`scope_id`, to `user_id`.
#[derive(Debug, Clone, Copy)]
pub struct Grant {
    pub user_id: Uuid,
    pub role: Role,
    pub scope_type: ScopeType,
    pub scope_id: Uuid,
    /// The office term the grant comes with, if any: then it is made under the right to manage
    /// offices on its scope (not role management), and ends with the term.
    pub term: Option<TermGrant>,
}

/// What ties a grant to an office term.
#[derive(Debug, Clone, Copy)]
pub struct TermGrant {
    pub term_id: Uuid,
    /// The grant authorizes nothing from this instant on; None for an open-ended term.
    pub valid_until: Option<DateTime<Utc>>,
}

/// 409 `compound_not_street_front` unless the compound `id` has a street front for a street
/// leader (街面长) to lead (`street_front` or `mixed`): for a role grant and for an office term.
pub async fn street_leader_may_lead<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<()> {
    let kind = crate::territory::query::objects::compound_kind(db, id).await?;
    if kind.is_some_and(crate::territory::model::leads_shops) {
        return Ok(());
    }
    Err(AppError::conflict(
        crate::platform::error::ProblemCode::CompoundNotStreetFront,
        crate::platform::lang::Text::new(
            "街面长只能在沿街商铺（商圈）或混合型小区任职，请先修改小区类型",
            "a street leader leads a street_front or mixed compound; change the compound's kind first",
        ),
    ))
}

/// Grants a role (a change of the account's authorization epoch).
pub async fn grant_role<C: ConnectionTrait>(
    db: &C,
    cache: &SharedCache,
    caller: &Actor,
    grant: Grant,
    now: DateTime<Utc>,
) -> AppResult<RoleAssignmentResponse> {
    let Grant {
        user_id,
        role,
        scope_type,
        scope_id,
        term,
    } = grant;
    let authority = if term.is_some() {
        Action::OfficeManage
    } else {
        Action::RoleManage
    };
    require(caller, authority)?;
    if role.scope_type() != scope_type {
        return Err(AppError::invalid(
            "scope_type",
            crate::platform::error::FieldCode::Mismatch,
            crate::platform::lang::Text::new(
                format!(
                    "角色 {} 只能授予在 {} 上",
                    role.as_str(),
                    role.scope_type().as_str()
                ),
                format!(
                    "the role {} is assigned on a {}",
                    role.as_str(),
                    role.scope_type().as_str()
                ),
            ),
        ));
    }
    let street_id = territory::street_of_scope(db, caller, authority, scope_type, scope_id).await?;
    if role == Role::StreetLeader {
        street_leader_may_lead(db, scope_id).await?;
    }
    user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let row = epoch::changing(cache, &[user_id], async {
        let insert = role_assignment::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            role: Set(role),
            scope_type: Set(scope_type),
            scope_id: Set(scope_id),
            street_id: Set(street_id),
            created_at: Set(now),
            valid_until: Set(term.and_then(|t| t.valid_until)),
            source_term_id: Set(term.map(|t| t.term_id)),
        }
        .insert(db)
        .await;
        insert.map_err(|e| {
            if is_unique_violation(&e) {
                AppError::conflict(
                    crate::platform::error::ProblemCode::RoleAlreadyAssigned,
                    crate::platform::lang::Text::new(
                        "该账号在这个范围内已有这个角色",
                        "the user already has this role on this scope",
                    ),
                )
            } else {
                e.into()
            }
        })
    })
    .await?;
    tracing::info!(assignment = %row.id, by = %caller.id, "role granted");
    Ok(RoleAssignmentResponse::from(row))
}

/// Revokes a role assignment within `caller`'s reach (404 for any other); a change of the
/// holder's authorization epoch.
pub async fn revoke_role<C: ConnectionTrait>(
    db: &C,
    cache: &SharedCache,
    caller: &Actor,
    id: Uuid,
) -> AppResult<()> {
    require(caller, Action::RoleManage)?;
    let scope = policy::scope(db, caller, Action::RoleManage).await?;
    // The holder first: its epoch changes around the delete. (An assignment is never updated,
    // so the holder read here is the one the delete takes the role from.)
    let holder: Option<Uuid> = role_assignment::Entity::find()
        .select_only()
        .column(role_assignment::Column::UserId)
        .filter(role_assignment::Column::Id.eq(id))
        .filter(scope.condition::<role_assignment::Entity>())
        .into_tuple()
        .one(db)
        .await?;
    let holder = holder.ok_or(AppError::NotFound)?;
    let res = epoch::changing(cache, &[holder], async {
        Ok(role_assignment::Entity::delete_many()
            .filter(role_assignment::Column::Id.eq(id))
            .filter(scope.condition::<role_assignment::Entity>())
            .exec(db)
            .await?)
    })
    .await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound);
    }
    tracing::info!(assignment = %id, by = %caller.id, "role revoked");
    Ok(())
}

/// Removes the grant `id` that the office term `term_id` made, if it is still there; whether
/// this call removed it. The caller changes the holder's authorization epoch around the
/// transaction this runs in (`epoch::changing`), so the removal is seen at the next request.
pub async fn remove_term_grant<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    term_id: Uuid,
) -> AppResult<bool> {
    let res = role_assignment::Entity::delete_many()
        .filter(role_assignment::Column::Id.eq(id))
        .filter(role_assignment::Column::SourceTermId.eq(term_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// A grant whose `valid_until` has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiredGrant {
    pub id: Uuid,
    pub user_id: Uuid,
    pub valid_until: DateTime<Utc>,
    pub source_term_id: Option<Uuid>,
}

/// Up to `limit` grants expired at `now` (`valid_until <= now`), oldest end first (by the index
/// on `valid_until`).
pub async fn expired_grants<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    limit: u64,
) -> AppResult<Vec<ExpiredGrant>> {
    use sea_orm::QueryOrder;
    let rows = role_assignment::Entity::find()
        .filter(role_assignment::Column::ValidUntil.lte(now))
        .order_by_asc(role_assignment::Column::ValidUntil)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|a| {
            Some(ExpiredGrant {
                id: a.id,
                user_id: a.user_id,
                valid_until: a.valid_until?,
                source_term_id: a.source_term_id,
            })
        })
        .collect())
}

/// Deletes the expired grant `id`; whether this call deleted it (of several replicas racing,
/// exactly one does).
pub async fn delete_expired_grant<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let res = role_assignment::Entity::delete_many()
        .filter(role_assignment::Column::Id.eq(id))
        .filter(role_assignment::Column::ValidUntil.lte(now))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}
