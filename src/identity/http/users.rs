//! Staff accounts and role assignments (administrators).

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query as SqlQuery;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::policy::{self, Action, Role, ScopeType};
use crate::access::AuthUser;
use crate::identity::service::auth as auth_svc;
use crate::platform::error::{is_unique_violation, AppError, AppResult};
use crate::platform::http::created;
use crate::platform::http::encode_cursor;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::state::AppState;
use crate::territory::service::tree as territory;
use entity::{role_assignment, user};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// 3 to 64 characters: letters, digits, `_`, `.`, `-`.
    #[schema(pattern = "^[A-Za-z0-9_.-]{3,64}$")]
    pub username: String,
    /// 10 to 128 characters.
    #[schema(format = Password, min_length = 10, max_length = 128)]
    pub password: String,
    #[schema(max_length = 100, format = "text-line")]
    pub display_name: String,
}

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
            wechat_bound: crate::identity::service::accounts::wechat_bound(&u),
            username: u.username,
            display_name: u.display_name,
            is_active: u.is_active,
            is_superadmin: u.is_superadmin,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListUsersQuery {
    /// Part of a username or display name (at most 50 characters).
    #[param(max_length = 50)]
    pub q: Option<String>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn require(user: &AuthUser, action: Action) -> AppResult<()> {
    if policy::can_anywhere(user, action) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Create a staff account.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = UserResponse, headers(("Location" = String))),
        (status = 403, description = "Only administrators manage staff"),
        (status = 409, description = "The username is taken"),
    )
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: Json<CreateUserRequest>,
) -> AppResult<HttpResponse> {
    require(&caller, Action::UserManage)?;
    let body = body.into_inner();
    let u = auth_svc::create_user(
        &state.db,
        &body.username,
        body.password,
        &body.display_name,
        false,
    )
    .await?;
    tracing::info!(created_user = %u.id, by = %caller.id, "user created");
    Ok(created(
        format!("/api/v1/users/{}", u.id),
        &UserResponse::from(u),
    ))
}

/// List the accounts the caller manages: those with a role in the caller's streets, and those with no role yet.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(ListUsersQuery),
    responses((status = 200, body = Page<UserResponse>), (status = 403, description = "Only administrators manage staff"))
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: AuthUser,
    q: Query<ListUsersQuery>,
) -> AppResult<HttpResponse> {
    require(&caller, Action::UserManage)?;
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let mut sel = user::Entity::find()
        .filter(managed(&state, &caller).await?)
        .order_by_asc(user::Column::Id);
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if text.chars().count() > 50 {
            return Err(AppError::InvalidQuery(vec![
                crate::platform::error::FieldError::too_long("q", 50),
            ]));
        }
        use crate::platform::text::column_contains;
        sel = sel.filter(
            Condition::any()
                .add(column_contains(user::Column::Username, text))
                .add(column_contains(user::Column::DisplayName, text)),
        );
    }
    if let Some(after) = p.after {
        sel = sel.filter(user::Column::Id.gt(after));
    }
    let rows = sel.limit(p.limit + 1).all(&state.db).await?;
    Ok(HttpResponse::Ok().json(page(rows, p.limit, |u| u.id, UserResponse::from)))
}

/// The accounts `caller` manages: those with a role somewhere the caller manages, and accounts
/// with no role yet (so they can be granted one); not the staff of other streets.
async fn managed(state: &AppState, caller: &AuthUser) -> AppResult<Condition> {
    let scope = policy::scope(&state.db, caller, Action::UserManage).await?;
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
pub async fn managed_user(state: &AppState, caller: &AuthUser, id: Uuid) -> AppResult<user::Model> {
    require(caller, Action::UserManage)?;
    user::Entity::find_by_id(id)
        .filter(managed(state, caller).await?)
        .one(&state.db)
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleAssignmentRequest {
    pub user_id: Uuid,
    pub role: Role,
    /// Must be the scope type of the role: admin→street, community_staff and council_member→community,
    /// grid_manager→grid, property_staff→property_company, building_leader→building,
    /// street_leader→compound, resident→household.
    pub scope_type: ScopeType,
    pub scope_id: Uuid,
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
}

impl TryFrom<role_assignment::Model> for RoleAssignmentResponse {
    type Error = AppError;
    fn try_from(a: role_assignment::Model) -> AppResult<Self> {
        let bad = || AppError::internal(anyhow::anyhow!("unknown role or scope in row {}", a.id));
        Ok(Self {
            id: a.id,
            user_id: a.user_id,
            role: Role::parse(&a.role).ok_or_else(bad)?,
            scope_type: ScopeType::parse(&a.scope_type).ok_or_else(bad)?,
            scope_id: a.scope_id,
            street_id: a.street_id,
            created_at: a.created_at,
        })
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListRoleAssignmentsQuery {
    pub user_id: Option<Uuid>,
    pub scope_id: Option<Uuid>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Grant a role on a scope.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    request_body = CreateRoleAssignmentRequest,
    responses(
        (status = 201, body = RoleAssignmentResponse, headers(("Location" = String))),
        (status = 403, description = "Only administrators of the scope's street grant roles"),
        (status = 404, description = "Unknown user, or scope not found within the caller's reach"),
        (status = 409, description = "The user already has this role on this scope"),
    )
)]
#[post("/role-assignments")]
pub async fn create_role_assignment(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: Json<CreateRoleAssignmentRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    require(&caller, Action::RoleManage)?;
    if body.role.scope_type() != body.scope_type {
        return Err(AppError::invalid(
            "scope_type",
            crate::platform::error::FieldCode::Mismatch,
            crate::platform::lang::Text::new(
                format!(
                    "角色 {} 只能授予在 {} 上",
                    body.role.as_str(),
                    body.role.scope_type().as_str()
                ),
                format!(
                    "the role {} is assigned on a {}",
                    body.role.as_str(),
                    body.role.scope_type().as_str()
                ),
            ),
        ));
    }
    let street_id =
        territory::street_of_scope(&state.db, &caller, body.scope_type, body.scope_id).await?;
    user::Entity::find_by_id(body.user_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let row = role_assignment::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(body.user_id),
        role: Set(body.role.as_str().into()),
        scope_type: Set(body.scope_type.as_str().into()),
        scope_id: Set(body.scope_id),
        street_id: Set(street_id),
        created_at: Set(Utc::now()),
    }
    .insert(&state.db)
    .await
    .map_err(|e| {
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
    })?;
    tracing::info!(assignment = %row.id, by = %caller.id, "role granted");
    let res = RoleAssignmentResponse::try_from(row)?;
    Ok(created(
        format!("/api/v1/role-assignments/{}", res.id),
        &res,
    ))
}

/// List role assignments within the caller's reach.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(ListRoleAssignmentsQuery),
    responses((status = 200, body = Page<RoleAssignmentResponse>), (status = 403, description = "Only administrators"))
)]
#[get("/role-assignments")]
pub async fn list_role_assignments(
    state: web::Data<AppState>,
    caller: AuthUser,
    q: Query<ListRoleAssignmentsQuery>,
) -> AppResult<HttpResponse> {
    require(&caller, Action::RoleManage)?;
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let mut filter = Condition::all();
    if let Some(u) = q.user_id {
        filter = filter.add(role_assignment::Column::UserId.eq(u));
    }
    if let Some(s) = q.scope_id {
        filter = filter.add(role_assignment::Column::ScopeId.eq(s));
    }
    let (rows, next_cursor) = territory::list_page::<role_assignment::Entity, _>(
        &state.db,
        &caller,
        Action::RoleManage,
        &[],
        filter,
        p,
    )
    .await?;
    let items = rows
        .into_iter()
        .map(RoleAssignmentResponse::try_from)
        .collect::<AppResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// Revoke a role assignment.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Only administrators"),
        (status = 404, description = "Not found within the caller's reach"),
    )
)]
#[delete("/role-assignments/{id}")]
pub async fn delete_role_assignment(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    require(&caller, Action::RoleManage)?;
    let scope = policy::scope(&state.db, &caller, Action::RoleManage).await?;
    let res = role_assignment::Entity::delete_many()
        .filter(role_assignment::Column::Id.eq(*id))
        .filter(scope.condition::<role_assignment::Entity>())
        .exec(&state.db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound);
    }
    tracing::info!(assignment = %id, by = %caller.id, "role revoked");
    Ok(HttpResponse::NoContent().finish())
}
