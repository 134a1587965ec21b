//! Staff sign-in, refresh-token rotation with reuse detection, logout and the bootstrap admin.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;

use super::Sessions;

use crate::access::bearer::{revoked_family_key, revoked_jti_key};
use crate::access::password;
use crate::access::policy::Role;
use crate::platform::error::{is_unique_violation, AppError, AppResult};
use crate::platform::error::{FieldCode, FieldError, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::tokens::{hash_refresh_token, new_refresh_token, unix_now};
use crate::platform::wechat::WeChatClient;
use entity::{refresh_token, role_assignment, user};

/// The durable record of failed sign-ins (the cache alone may restart empty), as `login` needs
/// it: load it into the cache before counting, and add a failure to it.
pub trait FailureLog {
    fn ensure_loaded(&self) -> impl std::future::Future<Output = AppResult<()>> + Send;
    fn record_failure(
        &self,
        keys: &[String],
    ) -> impl std::future::Future<Output = AppResult<()>> + Send;
}

pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

/// Failures are counted per username *and* address: guesses from one place slow that place
/// down, and never lock the owner out when they sign in from elsewhere.
fn user_fail_key(username: &str, ip: Option<IpAddr>) -> String {
    let from = ip.map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
    format!("{}{from}", user_fail_key_prefix(username))
}

/// What every failure key of `username` starts with, whatever the address.
pub fn user_fail_key_prefix(username: &str) -> String {
    format!("login:fail:user:{}:", username.to_lowercase())
}

fn ip_fail_key(ip: IpAddr) -> String {
    format!("login:fail:ip:{ip}")
}

fn login_locked(left: std::time::Duration) -> AppError {
    let minutes = left.as_secs().div_ceil(60).max(1);
    AppError::limited(
        left,
        ProblemCode::LoginLocked,
        crate::text!(
            "密码错误次数过多，请 {minutes} 分钟后再试，或请管理员解除锁定",
            "too many wrong passwords; retry in {minutes} minutes or ask an administrator to unlock"
        ),
    )
}

/// Counts this attempt against the username and the client address *before* the password is
/// checked, so a burst of concurrent attempts cannot slip past the limit while the (slow) hash is
/// being verified. Over the limit, the attempt is refused without looking at the password.
async fn reserve_login_attempt(
    state: &Sessions<'_>,
    log: &impl FailureLog,
    username: &str,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    let s = state.settings;
    let window = s.login_failure_window;
    log.ensure_loaded().await?;
    let user_key = user_fail_key(username, ip);
    let (n, left) = state.cache.incr_window(&user_key, window).await?;
    if n > s.login_max_failures_per_user as u64 {
        return Err(login_locked(left));
    }
    if let Some(ip) = ip {
        let (n, left) = state.cache.incr_window(&ip_fail_key(ip), window).await?;
        if n > s.login_max_failures_per_ip as u64 {
            state.cache.decr_window(&user_key).await?;
            return Err(login_locked(left));
        }
    }
    Ok(())
}

pub async fn login(
    state: &Sessions<'_>,
    log: &impl FailureLog,
    username: &str,
    password_plain: String,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> AppResult<TokenPair> {
    reserve_login_attempt(state, log, username, ip).await?;
    let found = user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(state.db)
        .await?;
    let stored = found.as_ref().and_then(|u| u.password_hash.clone());
    let ok = password::verify(password_plain, stored).await?;
    let user = match found {
        Some(u) if ok && u.is_active => u,
        _ => {
            tracing::info!(reason = "bad_credentials", "login refused");
            let keys =
                crate::access::durable::failure_keys(&user_fail_key(username, ip), ip, ip_fail_key);
            log.record_failure(&keys).await?;
            return Err(AppError::InvalidCredentials);
        }
    };
    // A success is not a failure: clear the username's count and take back this attempt from
    // the address's.
    state.cache.delete(&user_fail_key(username, ip)).await?;
    if let Some(ip) = ip {
        state.cache.decr_window(&ip_fail_key(ip)).await?;
    }
    tracing::info!(user_id = %user.id, "login succeeded");
    issue_pair(state.db, state, user.id, Uuid::now_v7(), now).await
}

/// Issues an access token and a new refresh token in `family`, storing only the token's hash.
pub async fn issue_pair<C: ConnectionTrait>(
    db: &C,
    state: &Sessions<'_>,
    user_id: Uuid,
    family: Uuid,
    now: DateTime<Utc>,
) -> AppResult<TokenPair> {
    let refresh = new_refresh_token();
    let ttl =
        chrono::Duration::from_std(state.settings.refresh_token_ttl).map_err(AppError::internal)?;
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        family_id: Set(family),
        token_hash: Set(hash_refresh_token(&refresh)),
        expires_at: Set(now + ttl),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    let (access, claims) = state
        .jwt
        .issue(user_id, family)
        .map_err(AppError::internal)?;
    Ok(TokenPair {
        access_token: access,
        refresh_token: refresh,
        expires_in: claims.exp - claims.iat,
    })
}

/// The display name of an account created by a WeChat login, until its owner changes it.
pub const WECHAT_DEFAULT_DISPLAY_NAME: &str = "微信用户";

/// Resident sign-in with a `wx.login` code: exchanges it for the openid, finds or creates the
/// account and starts a new refresh family. The second value says whether the account is new.
#[tracing::instrument(skip_all)]
pub async fn wechat_login(
    state: &Sessions<'_>,
    wechat: &WeChatClient,
    code: &str,
    now: DateTime<Utc>,
) -> AppResult<(TokenPair, bool)> {
    let session = wechat.jscode2session(code).await?;
    let (user, is_new_user) =
        find_or_create_wechat_user(state.db, &session.openid, session.unionid.as_deref(), now)
            .await?;
    if !user.is_active {
        tracing::info!(user_id = %user.id, reason = "inactive", "WeChat login refused");
        return Err(AppError::InvalidCredentials);
    }
    tracing::info!(user_id = %user.id, is_new_user, "WeChat login succeeded");
    let pair = issue_pair(state.db, state, user.id, Uuid::now_v7(), now).await?;
    Ok((pair, is_new_user))
}

/// The account of `openid`, created on first sight. Of concurrent first logins only one insert
/// passes the unique index on `wechat_openid`; the others read the row it created. A unionid
/// WeChat reports is kept (and brought up to date).
pub async fn find_or_create_wechat_user<C: ConnectionTrait>(
    db: &C,
    openid: &str,
    unionid: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<(user::Model, bool)> {
    let by_openid = || {
        user::Entity::find()
            .filter(user::Column::WechatOpenid.eq(openid))
            .one(db)
    };
    if let Some(found) = by_openid().await? {
        return Ok((keep_unionid(db, found, unionid, now).await?, false));
    }
    let inserted = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        username: Set(None),
        password_hash: Set(None),
        display_name: Set(WECHAT_DEFAULT_DISPLAY_NAME.to_string()),
        is_active: Set(true),
        is_superadmin: Set(false),
        wechat_openid: Set(Some(openid.to_string())),
        wechat_unionid: Set(unionid.map(str::to_string)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted {
        Ok(created) => {
            tracing::info!(user_id = %created.id, "account created by WeChat login");
            Ok((created, true))
        }
        Err(e) if is_unique_violation(&e) => {
            let found = by_openid().await?.ok_or_else(|| {
                AppError::internal(anyhow::anyhow!(
                    "wechat_openid conflicted but no account has it"
                ))
            })?;
            Ok((keep_unionid(db, found, unionid, now).await?, false))
        }
        Err(e) => Err(e.into()),
    }
}

async fn keep_unionid<C: ConnectionTrait>(
    db: &C,
    found: user::Model,
    unionid: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<user::Model> {
    match unionid {
        Some(u) if found.wechat_unionid.as_deref() != Some(u) => {
            let mut active: user::ActiveModel = found.into();
            active.wechat_unionid = Set(Some(u.to_string()));
            active.updated_at = Set(now);
            Ok(active.update(db).await?)
        }
        _ => Ok(found),
    }
}

/// Spends `presented` and returns a new pair in the same family. A token that was already spent
/// (or revoked) is a sign of theft: the whole family is revoked and the caller gets 401.
pub async fn refresh(
    state: &Sessions<'_>,
    presented: &str,
    now: DateTime<Utc>,
) -> AppResult<TokenPair> {
    let hash = hash_refresh_token(presented);
    let row = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .one(state.db)
        .await?
        .ok_or(AppError::InvalidRefreshToken)?;
    if row.used_at.is_some() || row.revoked_at.is_some() {
        tracing::warn!(user_id = %row.user_id, family = %row.family_id, "spent refresh token presented; revoking its family");
        revoke_family(state, row.family_id, now).await?;
        return Err(AppError::InvalidRefreshToken);
    }
    if row.expires_at <= now {
        return Err(AppError::InvalidRefreshToken);
    }
    let active = user::Entity::find_by_id(row.user_id)
        .one(state.db)
        .await?
        .is_some_and(|u| u.is_active);
    if !active {
        return Err(AppError::InvalidRefreshToken);
    }
    let txn = state.db.begin().await?;
    // Spend it only if nobody else did in the meantime. Of two concurrent uses only one can;
    // the other is indistinguishable from a stolen copy and revokes the family (both lose).
    let spent = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(row.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        txn.rollback().await?;
        revoke_family(state, row.family_id, now).await?;
        return Err(AppError::InvalidRefreshToken);
    }
    let pair = issue_pair(&txn, state, row.user_id, row.family_id, now).await?;
    txn.commit().await?;
    Ok(pair)
}

/// Revokes every refresh token of `family`, and (through the cache) every access token issued
/// with it, for as long as such an access token could live.
pub async fn revoke_family(
    state: &Sessions<'_>,
    family: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::FamilyId.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(state.db)
        .await?;
    state
        .cache
        .set(
            &revoked_family_key(family),
            "1",
            state.settings.access_token_ttl + Duration::from_secs(60),
        )
        .await?;
    Ok(())
}

/// The access token `jti` (of refresh family `family`, expiring at `token_exp`, Unix seconds)
/// and its whole family stop working.
pub async fn logout(
    state: &Sessions<'_>,
    user_id: Uuid,
    jti: Uuid,
    family: Uuid,
    token_exp: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let left = (token_exp - unix_now()).max(1) as u64 + 60;
    state
        .cache
        .set(&revoked_jti_key(jti), "1", Duration::from_secs(left))
        .await?;
    revoke_family(state, family, now).await?;
    tracing::info!(user_id = %user_id, "logged out");
    Ok(())
}

pub fn validate_username(username: &str) -> AppResult<()> {
    let ok = (3..=64).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "username",
            FieldCode::Invalid,
            Text::new(
                "用户名应为 3 到 64 个字符，只能包含字母、数字、_、. 和 -",
                "3 to 64 characters: letters, digits, '_', '.', '-'",
            ),
        ))
    }
}

pub fn validate_password(password: &str) -> AppResult<()> {
    let n = password.chars().count();
    if n < password::MIN_PASSWORD_LEN {
        return Err(AppError::Validation(vec![FieldError::of(
            "password",
            FieldCode::TooShort,
            crate::text!(
                "密码至少 {} 个字符",
                "must be at least {} characters",
                password::MIN_PASSWORD_LEN
            ),
        )
        .with_limit(password::MIN_PASSWORD_LEN)]));
    }
    if n > password::MAX_PASSWORD_LEN {
        return Err(AppError::Validation(vec![FieldError::too_long(
            "password",
            password::MAX_PASSWORD_LEN,
        )]));
    }
    Ok(())
}

/// Creates a staff account. A taken username is 409.
pub async fn create_user<C: ConnectionTrait>(
    db: &C,
    username: &str,
    password_plain: String,
    display_name: &str,
    is_superadmin: bool,
    now: DateTime<Utc>,
) -> AppResult<user::Model> {
    validate_username(username)?;
    validate_password(&password_plain)?;
    let display_name = crate::platform::text::clean_name("display_name", display_name, 100)?;
    let hash = password::hash(password_plain).await?;
    user::ActiveModel {
        id: Set(Uuid::now_v7()),
        username: Set(Some(username.to_string())),
        password_hash: Set(Some(hash)),
        display_name: Set(display_name),
        is_active: Set(true),
        is_superadmin: Set(is_superadmin),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::conflict(
                ProblemCode::UsernameTaken,
                crate::text!(
                    "用户名 {username} 已被使用",
                    "the username {username:?} is taken"
                ),
            )
        } else {
            e.into()
        }
    })
}

/// Creates the deployment administrator named by `LINLI_ADMIN_USERNAME` unless an administrator
/// already exists. Returns whether one was created.
pub async fn ensure_bootstrap_admin<C: ConnectionTrait>(
    db: &C,
    username: &str,
    password_plain: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let any_admin = user::Entity::find()
        .filter(user::Column::IsSuperadmin.eq(true))
        .one(db)
        .await?
        .is_some()
        || role_assignment::Entity::find()
            .filter(role_assignment::Column::Role.eq(Role::Admin))
            .one(db)
            .await?
            .is_some();
    if any_admin {
        return Ok(false);
    }
    create_user(
        db,
        username,
        password_plain.to_string(),
        "Administrator",
        true,
        now,
    )
    .await?;
    Ok(true)
}
