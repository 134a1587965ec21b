//! Staff accounts and role assignments as administrators see them.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Query as SqlQuery, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::policy::{self, Action, Role, ScopeType};
use crate::access::Actor;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http::{encode_cursor, Page, PageParams};
use crate::territory::service::tree as territory;
use entity::{role_assignment, user};

#[derive(Serialize, ToSchema)]
pub struct UserResponse {
    pub id: Uuid,
    pub username: Option<String>,
    pub display_name: String,
    pub is_active: bool,
    pub is_superadmin: bool,
    /// The account has a WeChat identity: notifications reach it, and it may sign in with
    /// WeChat. (The identity itself is never shown.)
    pub wechat_bound: bool,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

impl From<user::Model> for UserResponse {
    fn from(u: user::Model) -> Self {
        Self {
            id: u.id,
            wechat_bound: wechat_bound(&u),
            username: u.username,
            display_name: u.display_name,
            is_active: u.is_active,
            is_superadmin: u.is_superadmin,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// For the list: whether each account's WeChat is bound is `wechat_openid IS NOT NULL`; the
/// openid itself never leaves the server.
pub fn wechat_bound(u: &user::Model) -> bool {
    u.wechat_openid.is_some()
}

/// 403 unless `user` may do `action` somewhere.
pub fn require(user: &Actor, action: Action) -> AppResult<()> {
    if policy::can_anywhere(user, action) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The predicate of the partial index `ix_users_staff_id` (migration 032) per database, word
/// for word: a planner walks a partial index only for a query that states its predicate, as
/// literals (SQLite's is written so that the openid index cannot answer it out of id order).
fn staff_without_role(backend: sea_orm::DbBackend) -> &'static str {
    match backend {
        sea_orm::DbBackend::Sqlite => "coalesce(wechat_openid, '') = '' AND is_superadmin = FALSE",
        _ => "wechat_openid IS NULL AND is_superadmin = FALSE",
    }
}

/// One page of the accounts `caller` manages, with `q` (at most 50 characters) in the username
/// or display name.
///
/// One statement, a page of index walks merged by id: for each street the caller administers,
/// the accounts with a role there (`role_assignments (street_id, user_id)`, grouped, so in id
/// order); and the staff accounts with no role yet (the partial index `users (id)` of accounts
/// that are neither a resident's WeChat account nor the deployment administrator). Each walk
/// stops after a page. The deployment administrator manages every account: the primary key.
pub async fn list_users<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    q: Option<&str>,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> AppResult<Page<UserResponse>> {
    require(caller, Action::UserManage)?;
    let p = PageParams::new(limit, cursor)?;
    let text = q.map(str::trim).filter(|t| !t.is_empty());
    if text.is_some_and(|t| t.chars().count() > 50) {
        return Err(AppError::InvalidQuery(vec![
            crate::platform::error::FieldError::too_long("q", 50),
        ]));
    }
    let matches = |t: &str| {
        use crate::platform::text::column_contains;
        Condition::any()
            .add(column_contains((user::Entity, user::Column::Username), t))
            .add(column_contains(
                (user::Entity, user::Column::DisplayName),
                t,
            ))
    };
    let n = p.limit + 1;
    let scope = policy::scope(db, caller, Action::UserManage).await?;
    let mut rows = match scope.terms::<role_assignment::Entity>() {
        None => {
            let mut sel = user::Entity::find().order_by_asc(user::Column::Id).limit(n);
            if let Some(t) = text {
                sel = sel.filter(matches(t));
            }
            if let Some(after) = p.after {
                sel = sel.filter(user::Column::Id.gt(after));
            }
            sel.all(db).await?
        }
        Some(terms) => {
            use sea_orm::sea_query::{Alias, Asterisk, Expr, Order, UnionType};
            let ra = role_assignment::Entity;
            let mut members = Vec::new();
            for (col, id) in terms {
                let mut m = SqlQuery::select();
                m.expr_as(
                    Expr::col((ra, role_assignment::Column::UserId)),
                    Alias::new("id"),
                )
                .from(ra)
                .and_where(Expr::col((ra, col)).eq(id))
                .group_by_col((ra, role_assignment::Column::UserId))
                .order_by((ra, role_assignment::Column::UserId), Order::Asc)
                .limit(n);
                if let Some(after) = p.after {
                    m.and_where(Expr::col((ra, role_assignment::Column::UserId)).gt(after));
                }
                if let Some(t) = text {
                    // A scalar subquery per walked row (by primary key), not a join: a join
                    // lets the planner hash every account instead of walking the range.
                    let hit = SqlQuery::select()
                        .expr(matches(t))
                        .from(user::Entity)
                        .and_where(
                            Expr::col((user::Entity, user::Column::Id))
                                .equals((ra, role_assignment::Column::UserId)),
                        )
                        .to_owned();
                    m.and_where(
                        SimpleExpr::SubQuery(None, Box::new(hit.into_sub_query_statement()))
                            .eq(true),
                    );
                }
                members.push(m);
            }
            let assigned = SqlQuery::select()
                .expr(Expr::val(1))
                .from(ra)
                .and_where(
                    Expr::col((ra, role_assignment::Column::UserId))
                        .equals((user::Entity, user::Column::Id)),
                )
                .to_owned();
            let mut m = SqlQuery::select();
            m.column((user::Entity, user::Column::Id))
                .from(user::Entity)
                .and_where(Expr::cust(staff_without_role(db.get_database_backend())))
                .and_where(Expr::exists(assigned).not())
                .order_by((user::Entity, user::Column::Id), Order::Asc)
                .limit(n);
            if let Some(after) = p.after {
                m.and_where(Expr::col((user::Entity, user::Column::Id)).gt(after));
            }
            if let Some(t) = text {
                m.cond_where(matches(t));
            }
            members.push(m);
            // SQLite accepts no ORDER BY or LIMIT in a member of a compound SELECT: each walk
            // is a subquery in FROM.
            let mut members = members.into_iter().enumerate().map(|(i, m)| {
                SqlQuery::select()
                    .column(Asterisk)
                    .from_subquery(m, Alias::new(format!("p{i}")))
                    .to_owned()
            });
            let mut union = members.next().ok_or(AppError::NotFound)?;
            for m in members {
                union.union(UnionType::Distinct, m);
            }
            union.order_by(Alias::new("id"), Order::Asc).limit(n);
            user::Entity::find()
                .filter(user::Column::Id.in_subquery(union))
                .all(db)
                .await?
        }
    };
    rows.sort_by_key(|u| u.id);
    Ok(page(rows, p.limit, |u| u.id, UserResponse::from))
}

/// The accounts `caller` manages: those with a role somewhere the caller manages, and accounts
/// with no role yet (so they can be granted one); not the staff of other streets.
async fn managed<C: ConnectionTrait>(db: &C, caller: &Actor) -> AppResult<Condition> {
    let scope = policy::scope(db, caller, Action::UserManage).await?;
    let managed = SqlQuery::select()
        .column(role_assignment::Column::UserId)
        .from(role_assignment::Entity)
        .cond_where(scope.condition::<role_assignment::Entity>())
        .to_owned();
    let assigned = SqlQuery::select()
        .column(role_assignment::Column::UserId)
        .from(role_assignment::Entity)
        .to_owned();
    // Unassigned means a staff account waiting for its first role: never the deployment
    // administrator, and never a resident's WeChat account (those belong to whichever street
    // they live in, and are bound through the roster, not granted here).
    let mut unassigned = Condition::all().add(user::Column::Id.not_in_subquery(assigned));
    if !caller.is_superadmin {
        unassigned = unassigned
            .add(user::Column::IsSuperadmin.eq(false))
            .add(user::Column::WechatOpenid.is_null());
    }
    Ok(Condition::any()
        .add(user::Column::Id.in_subquery(managed))
        .add(unassigned))
}

/// One account `caller` manages (404 for any other, so nothing is confirmed about accounts
/// beyond the caller's reach). The deployment administrator is managed by itself only.
pub async fn managed_user<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    id: Uuid,
) -> AppResult<user::Model> {
    require(caller, Action::UserManage)?;
    user::Entity::find_by_id(id)
        .filter(managed(db, caller).await?)
        .one(db)
        .await?
        .filter(|u| caller.is_superadmin || !u.is_superadmin)
        .ok_or(AppError::NotFound)
}

/// Builds a page from `limit + 1` rows.
pub fn page<M, T: ToSchema>(
    mut rows: Vec<M>,
    limit: u64,
    id: impl Fn(&M) -> Uuid,
    map: impl Fn(M) -> T,
) -> Page<T> {
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|m| encode_cursor(id(m)))
    } else {
        None
    };
    Page {
        items: rows.into_iter().map(map).collect(),
        next_cursor,
    }
}

#[derive(Serialize, ToSchema)]
pub struct RoleAssignmentResponse {
    pub id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub scope_type: ScopeType,
    pub scope_id: Uuid,
    /// The street the scope lies in.
    pub street_id: Uuid,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    /// The role stops working at this instant (an office term's end, 00:00 Asia/Shanghai of
    /// the day after `ends_on`); null when open-ended.
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub valid_until: Option<DateTime<Utc>>,
    /// The office term that granted the role, if any.
    pub source_term_id: Option<Uuid>,
}

impl From<role_assignment::Model> for RoleAssignmentResponse {
    fn from(a: role_assignment::Model) -> Self {
        Self {
            id: a.id,
            user_id: a.user_id,
            role: a.role,
            scope_type: a.scope_type,
            scope_id: a.scope_id,
            street_id: a.street_id,
            created_at: a.created_at,
            valid_until: a.valid_until,
            source_term_id: a.source_term_id,
        }
    }
}

/// One page of the role assignments within `caller`'s reach, of one account or on one scope.
pub async fn list_role_assignments<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    user_id: Option<Uuid>,
    scope_id: Option<Uuid>,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> AppResult<Page<RoleAssignmentResponse>> {
    require(caller, Action::RoleManage)?;
    let p = PageParams::new(limit, cursor)?;
    let mut filter = Condition::all();
    if let Some(u) = user_id {
        filter = filter.add(role_assignment::Column::UserId.eq(u));
    }
    if let Some(s) = scope_id {
        filter = filter.add(role_assignment::Column::ScopeId.eq(s));
    }
    let (rows, next_cursor) = territory::list_page::<role_assignment::Entity, _>(
        db,
        caller,
        Action::RoleManage,
        &[],
        filter,
        p,
    )
    .await?;
    let items = rows.into_iter().map(RoleAssignmentResponse::from).collect();
    Ok(Page { items, next_cursor })
}

/// The display name of the active account `id`, if there is one.
pub async fn active_display_name<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> AppResult<Option<String>> {
    Ok(user::Entity::find_by_id(id)
        .filter(user::Column::IsActive.eq(true))
        .one(db)
        .await?
        .map(|u| u.display_name))
}
