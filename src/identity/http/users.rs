//! Staff accounts and role assignments (administrators).

use actix_web::{delete, get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::super::query::users;
pub use super::super::query::users::{page, RoleAssignmentResponse, UserResponse};
use super::super::service::users as svc;
use crate::access::policy::{Role, ScopeType};
use crate::access::AuthUser;
use crate::platform::error::AppResult;
use crate::platform::http::created;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::Page;
use crate::platform::state::AppState;

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
    let body = body.into_inner();
    let u = svc::create_staff(
        &state.db,
        &caller,
        &body.username,
        body.password,
        &body.display_name,
        state.clock.now(),
    )
    .await?;
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
    let page = users::list_users(
        &state.db,
        &caller,
        q.q.as_deref(),
        q.limit,
        q.cursor.as_deref(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleAssignmentRequest {
    pub user_id: Uuid,
    pub role: Role,
    /// Must be the scope type of the role: admin→street, community_staff and council_member→community,
    /// grid_manager→grid, property_staff→property_company, building_leader→building,
    /// street_leader→compound (a `street_front` or `mixed` one), resident→household.
    pub scope_type: ScopeType,
    pub scope_id: Uuid,
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
        (status = 409, description = "The user already has this role on this scope (`role_already_assigned`), or a street leader on a compound that is not `street_front` or `mixed` (`compound_not_street_front`)"),
    )
)]
#[post("/role-assignments")]
pub async fn create_role_assignment(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: Json<CreateRoleAssignmentRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let grant = svc::Grant {
        user_id: body.user_id,
        role: body.role,
        scope_type: body.scope_type,
        scope_id: body.scope_id,
        term: None,
    };
    let res = svc::grant_role(&state.db, &state.cache, &caller, grant, state.clock.now()).await?;
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
    let page = users::list_role_assignments(
        &state.db,
        &caller,
        q.user_id,
        q.scope_id,
        q.limit,
        q.cursor.as_deref(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
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
    svc::revoke_role(&state.db, &state.cache, &caller, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
