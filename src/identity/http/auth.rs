//! Staff and WeChat sign-in, token refresh, logout and the caller's own identity.

use std::net::IpAddr;

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::query::me::{self, MeResponse};
use super::super::service::auth::{self as svc, FailureLog};
use super::super::service::Sessions;
use crate::access::AuthUser;
use crate::platform::error::{AppError, AppResult};
use crate::platform::error::{FieldCode, FieldError};
use crate::platform::http::extract::Json;
use crate::platform::lang::Text;
use crate::platform::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// An account's username (letters, digits, `_`, `.`, `-`).
    #[schema(
        example = "admin",
        min_length = 1,
        max_length = 64,
        pattern = "^[A-Za-z0-9_.-]+$"
    )]
    pub username: String,
    #[schema(min_length = 1, max_length = 128, format = Password)]
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeChatLoginRequest {
    /// The code `wx.login` gave the mini-program; single use, valid for a few minutes.
    #[schema(
        example = "0a3Xkk000Ma2Ht1Ybm000MmHOx3Xkk0D",
        min_length = 1,
        max_length = 128
    )]
    pub code: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenPairResponse {
    pub access_token: String,
    /// Opaque; single use. Each refresh returns a new one and spends this one.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: i64,
}

impl From<svc::TokenPair> for TokenPairResponse {
    fn from(p: svc::TokenPair) -> Self {
        Self {
            access_token: p.access_token,
            refresh_token: p.refresh_token,
            token_type: "Bearer".into(),
            expires_in: p.expires_in,
        }
    }
}

/// A token pair for a WeChat sign-in, and whether the account was created by it.
#[derive(Serialize, ToSchema)]
pub struct WeChatLoginResponse {
    pub access_token: String,
    /// Opaque; single use. Each refresh returns a new one and spends this one.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: i64,
    /// True when this sign-in created the account (first sign-in with this WeChat user).
    pub is_new_user: bool,
}

impl WeChatLoginResponse {
    fn new(p: svc::TokenPair, is_new_user: bool) -> Self {
        let p = TokenPairResponse::from(p);
        Self {
            access_token: p.access_token,
            refresh_token: p.refresh_token,
            token_type: p.token_type,
            expires_in: p.expires_in,
            is_new_user,
        }
    }
}

/// What the session services need of the application's state.
pub fn sessions(state: &AppState) -> Sessions<'_> {
    Sessions {
        db: &state.db,
        cache: &state.cache,
        settings: &state.settings,
        jwt: &state.jwt,
    }
}

impl FailureLog for AppState {
    async fn ensure_loaded(&self) -> AppResult<()> {
        crate::access::durable::ensure_loaded(self).await
    }

    async fn record_failure(&self, keys: &[String]) -> AppResult<()> {
        crate::access::durable::record_failure(self, keys).await
    }
}

/// The client address used for rate limiting: the peer, or, when the peer is one of
/// `LINLI_TRUSTED_PROXIES`, the right-most `X-Forwarded-For` hop that is not a trusted proxy.
pub fn client_ip(req: &HttpRequest, state: &AppState) -> Option<IpAddr> {
    crate::platform::net::client_address(
        req.peer_addr().map(|a| a.ip()),
        req.headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok()),
        &state.settings.trusted_proxies,
    )
}

const WECHAT_LOGIN_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

/// Sign in with username and password.
#[utoipa::path(
    tag = "auth",
    security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenPairResponse),
        (status = 401, description = "Wrong username or password"),
        (status = 429, description = "Too many failed attempts for this username or address"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    if body.username.is_empty()
        || body.username.len() > 64
        || !body
            .username
            .chars()
            .all(crate::platform::text::single_line_ok)
    {
        return Err(AppError::invalid(
            "username",
            FieldCode::Invalid,
            Text::new("用户名应为 1 到 64 个字符", "1 to 64 characters"),
        ));
    }
    if body.password.is_empty() || body.password.len() > 512 {
        return Err(AppError::invalid(
            "password",
            FieldCode::Invalid,
            Text::new("密码应为 1 到 512 字节", "1 to 512 bytes"),
        ));
    }
    let ip = client_ip(&req, &state);
    let pair = svc::login(
        &sessions(&state),
        &**state,
        &body.username,
        body.password,
        ip,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(TokenPairResponse::from(pair)))
}

/// Sign in a resident with a WeChat `wx.login` code; creates the account on first sign-in.
#[utoipa::path(
    tag = "auth",
    security(()),
    request_body = WeChatLoginRequest,
    responses(
        (status = 200, body = WeChatLoginResponse),
        (status = 400, description = "Missing, empty or too long code, or an unknown field"),
        (status = 401, description = "WeChat says the code is invalid, expired or already used (`wechat_code_invalid`), or the account is deactivated (`invalid_credentials`)"),
        (status = 403, description = "WeChat flags this user as high-risk (`wechat_user_blocked`)"),
        (status = 429, description = "Too many attempts from this address, or WeChat rate-limits the mini-program; retry after `Retry-After` seconds"),
        (status = 502, description = "WeChat gave an unusable answer"),
        (status = 503, description = "WeChat is busy, unreachable or too slow, or WeChat login is not configured; retry after `Retry-After` seconds"),
    )
)]
#[post("/auth/wechat/login")]
pub async fn wechat_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<WeChatLoginRequest>,
) -> AppResult<HttpResponse> {
    // Every attempt costs a call against the mini-program's shared WeChat quota: bound them per
    // client address.
    if let Some(ip) = client_ip(&req, &state) {
        let (n, left) = state
            .cache
            .incr_window(&format!("wechat:login:ip:{ip}"), WECHAT_LOGIN_WINDOW)
            .await?;
        if n > state.settings.wechat_login_max_per_ip as u64 {
            return Err(AppError::rate_limited(left));
        }
    }
    let code = body.into_inner().code;
    if code.is_empty() {
        return Err(AppError::Validation(vec![FieldError::required("code")]));
    }
    if code.chars().count() > 128 {
        return Err(AppError::Validation(vec![FieldError::too_long(
            "code", 128,
        )]));
    }
    let (pair, is_new_user) =
        svc::wechat_login(&sessions(&state), &state.wechat, &code, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(WeChatLoginResponse::new(pair, is_new_user)))
}

/// Exchange a refresh token for a new token pair; the presented token is spent.
#[utoipa::path(
    tag = "auth",
    security(()),
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenPairResponse),
        (status = 401, description = "Unknown, expired, revoked or already used refresh token (reuse revokes the whole family)"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> AppResult<HttpResponse> {
    if body.refresh_token.is_empty() || body.refresh_token.len() > 256 {
        return Err(AppError::InvalidRefreshToken);
    }
    let pair = svc::refresh(&sessions(&state), &body.refresh_token, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(TokenPairResponse::from(pair)))
}

/// Sign out: this access token and its whole refresh family stop working at once.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 204, description = "Signed out"))
)]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    svc::logout(
        &sessions(&state),
        user.id,
        user.jti,
        user.family,
        user.token_exp,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller: identity, role assignments, and the resident and household it is bound to.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, body = MeResponse))
)]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(me::me(&state.db, &user).await?))
}
