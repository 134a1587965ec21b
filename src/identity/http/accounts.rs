//! Account management: administrators rename, deactivate and reactivate accounts, reset staff
//! passwords and lift sign-in slow-downs; everyone renames itself and changes its own password;
//! staff bind their WeChat so that notifications reach them and they may sign in with it.

use actix_web::{delete, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::super::service::accounts::{self as svc, AccountChange};
use super::auth::{client_ip, sessions, TokenPairResponse};
use super::users::UserResponse;
use crate::access::AuthUser;
use crate::platform::error::{AppError, AppResult};
use crate::platform::error::{FieldCode, FieldError};
use crate::platform::http::extract::Json;
use crate::platform::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[schema(max_length = 100, format = "text-line")]
    pub display_name: Option<String>,
    /// `false` deactivates the account: it cannot sign in, and its sessions end at once.
    /// `true` reactivates it.
    pub is_active: Option<bool>,
}

/// Rename, deactivate or reactivate an account the caller manages.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, body = UserResponse),
        (status = 400, description = "An empty or too long name"),
        (status = 403, description = "Only administrators manage accounts"),
        (status = 404, description = "No such account among those the caller manages"),
        (status = 409, description = "An administrator cannot deactivate itself"),
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<Uuid>,
    body: Json<UpdateUserRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let updated = svc::update_account(
        &sessions(&state),
        &caller,
        *id,
        AccountChange {
            display_name: body.display_name,
            is_active: body.is_active,
        },
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(updated)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// 10 to 128 characters.
    #[schema(format = Password, min_length = 10, max_length = 128)]
    pub new_password: String,
}

/// Set a new password for a staff account the caller manages; the account's sessions end.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account")),
    request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "The password is set and every session of the account has ended"),
        (status = 400, description = "The password is too short or too long"),
        (status = 403, description = "Only administrators manage accounts"),
        (status = 404, description = "No such account among those the caller manages"),
        (status = 409, description = "A WeChat account has no password"),
    )
)]
#[post("/users/{id}/password")]
pub async fn reset_user_password(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<Uuid>,
    body: Json<ResetPasswordRequest>,
) -> AppResult<HttpResponse> {
    svc::reset_password(
        &sessions(&state),
        &caller,
        *id,
        body.into_inner().new_password,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lift the sign-in slow-down of an account the caller manages, from every address.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account")),
    responses(
        (status = 204, description = "Failed sign-ins of the account's username are forgotten"),
        (status = 403, description = "Only administrators manage accounts"),
        (status = 404, description = "No such account among those the caller manages"),
    )
)]
#[post("/users/{id}/unlock")]
pub async fn unlock_user(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    svc::unlock(&sessions(&state), &caller, *id, state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    #[schema(min_length = 1, max_length = 100, format = "text-line")]
    pub display_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct AccountSelf {
    pub id: Uuid,
    pub display_name: String,
    pub username: Option<String>,
}

/// Change the caller's own display name.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, body = AccountSelf),
        (status = 400, description = "An empty or too long name"),
    )
)]
#[patch("/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: Json<UpdateMeRequest>,
) -> AppResult<HttpResponse> {
    let u = svc::rename_self(
        &state.db,
        &state.cache,
        &caller,
        &body.display_name,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(AccountSelf {
        id: u.id,
        display_name: u.display_name,
        username: u.username,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(format = Password, min_length = 1, max_length = 128)]
    pub current_password: String,
    /// 10 to 128 characters.
    #[schema(format = Password, min_length = 10, max_length = 128)]
    pub new_password: String,
}

/// Change the caller's own password; its other sessions end, this one goes on.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed; every other session of the account has ended"),
        (status = 400, description = "The current password is wrong (`current_password`: `wrong_password`) or the new one too short or too long"),
        (status = 409, description = "A WeChat account has no password"),
    )
)]
#[post("/me/password")]
pub async fn change_my_password(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: Json<ChangePasswordRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    svc::change_own_password(
        &sessions(&state),
        &caller,
        caller.family,
        body.current_password,
        body.new_password,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, ToSchema)]
pub struct BindingCodeResponse {
    /// Eight characters (no 0, O, 1, I or L) to type into the mini-program; works once.
    #[schema(example = "K7QX3MPA")]
    pub code: String,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub expires_at: DateTime<Utc>,
}

/// A one-time code, valid ten minutes, that binds the caller's staff account to the WeChat of
/// whoever confirms it in the mini-program (`POST /api/v1/auth/wechat/bind`). Show it only to
/// the account's owner.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 201, body = BindingCodeResponse),
        (status = 409, description = "The account is a WeChat account, or already bound to a WeChat"),
    )
)]
#[post("/me/wechat-binding-code")]
pub async fn create_wechat_binding_code(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> AppResult<HttpResponse> {
    let (code, expires_at) =
        svc::new_binding_code(&sessions(&state), &caller, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(BindingCodeResponse { code, expires_at }))
}

/// Remove the WeChat identity from the caller's staff account.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Unbound (or was not bound)"),
        (status = 409, description = "A WeChat account cannot drop its WeChat"),
    )
)]
#[delete("/me/wechat-binding")]
pub async fn delete_wechat_binding(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> AppResult<HttpResponse> {
    svc::unbind_wechat(&sessions(&state), &caller, state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeChatBindRequest {
    /// The code `wx.login` gave the mini-program.
    #[schema(min_length = 1, max_length = 128)]
    pub code: String,
    /// The code the staff member's screen shows (case, blanks and dashes do not matter).
    #[schema(min_length = 1, max_length = 32, example = "K7QX-3MPA")]
    pub binding_code: String,
}

/// Confirm a staff binding code from the mini-program: the staff account gets this WeChat
/// identity (notifications to it are sent from now on, and it may sign in with WeChat), and a
/// session of that account is returned.
#[utoipa::path(
    tag = "auth",
    security(()),
    request_body = WeChatBindRequest,
    responses(
        (status = 200, body = TokenPairResponse),
        (status = 400, description = "Unknown, expired or already used binding code (`binding_code`: `invalid`)"),
        (status = 401, description = "WeChat says the `wx.login` code is invalid (`wechat_code_invalid`)"),
        (status = 409, description = "This WeChat already has an account (for example a resident's)"),
        (status = 429, description = "Too many attempts from this address"),
        (status = 503, description = "WeChat is unreachable or not configured"),
    )
)]
#[post("/auth/wechat/bind")]
pub async fn bind_wechat(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<WeChatBindRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    if body.code.is_empty() || body.code.chars().count() > 128 {
        return Err(AppError::invalid(
            "code",
            FieldCode::Invalid,
            crate::platform::lang::Text::new(
                "code 应为 1 到 128 个字符",
                "must be 1 to 128 characters",
            ),
        ));
    }
    if body.binding_code.chars().count() > 32 {
        return Err(AppError::Validation(vec![FieldError::too_long(
            "binding_code",
            32,
        )]));
    }
    let ip = client_ip(&req, &state);
    let (pair, _) = svc::bind_wechat(
        &sessions(&state),
        &state.wechat,
        &body.code,
        &body.binding_code,
        ip,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(TokenPairResponse::from(pair)))
}
