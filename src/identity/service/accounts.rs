//! Managing accounts: renaming, deactivating, password changes and resets, lifting a sign-in
//! slow-down, and binding a staff account to its owner's WeChat.
//!
//! Whatever takes an account's credentials away (deactivation, a new password) also ends its
//! sessions: every refresh family is revoked, and with it every access token issued from it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::access::{epoch, password, Actor};
use crate::identity::query::users::managed_user;
use crate::identity::service::auth::{self as auth_svc, TokenPair};
use crate::identity::service::Sessions;
use crate::platform::audit::{self, Who};
use crate::platform::cache::SharedCache;
use crate::platform::error::{is_unique_violation, AppError, AppResult};
use crate::platform::error::{FieldCode, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::wechat::WeChatClient;
use entity::{login_failure, refresh_token, user};

/// How long a WeChat binding code shown to a staff member stays usable.
pub const BINDING_CODE_TTL: Duration = Duration::from_secs(600);
/// Binding attempts per client address per hour: a code has 40 bits, so guessing is hopeless
/// at this rate, and a typo costs nothing.
pub const BINDING_ATTEMPTS_PER_HOUR: u64 = 20;
/// Characters of a binding code: no 0/O, 1/I/L, easy to read off a screen and type.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 8;

/// Ends every session of `user_id`, except the refresh family `keep` (the caller's own when it
/// changes its own password).
pub async fn end_sessions(
    state: &Sessions<'_>,
    user_id: Uuid,
    keep: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut q = refresh_token::Entity::find()
        .select_only()
        .column(refresh_token::Column::FamilyId)
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .distinct();
    if let Some(keep) = keep {
        q = q.filter(refresh_token::Column::FamilyId.ne(keep));
    }
    let families: Vec<Uuid> = q.into_tuple().all(state.db).await?;
    for family in families {
        auth_svc::revoke_family(state, family, now).await?;
    }
    Ok(())
}

/// What an administrator may change on an account.
pub struct AccountChange {
    pub display_name: Option<String>,
    pub is_active: Option<bool>,
}

/// Renames, deactivates or reactivates an account `caller` manages (404 for any other).
pub async fn update_account(
    state: &Sessions<'_>,
    caller: &Actor,
    id: Uuid,
    change: AccountChange,
    now: DateTime<Utc>,
) -> AppResult<user::Model> {
    let target = managed_user(state.db, caller, id).await?;
    let actor = Who::from(caller);
    if change.is_active == Some(false) && target.id == actor.id {
        return Err(AppError::conflict(
            ProblemCode::CannotDeactivateSelf,
            Text::new(
                "不能停用自己的账号",
                "you cannot deactivate your own account",
            ),
        ));
    }
    let deactivating = change.is_active == Some(false) && target.is_active;
    let mut details = Vec::new();
    let mut row: user::ActiveModel = target.into();
    if let Some(name) = change.display_name {
        let name = crate::platform::text::clean_name("display_name", &name, 100)?;
        details.push(format!("display_name={name}"));
        row.display_name = Set(name);
    }
    if let Some(active) = change.is_active {
        details.push(format!("is_active={active}"));
        row.is_active = Set(active);
    }
    row.updated_at = Set(now);
    let updated = epoch::changing(state.cache, &[id], async {
        let updated = row.update(state.db).await?;
        if deactivating {
            end_sessions(state, updated.id, None, now).await?;
        }
        Ok(updated)
    })
    .await?;
    record(
        state,
        actor,
        audit::Action::AccountUpdate,
        updated.id,
        details.join(", "),
        now,
    )
    .await?;
    Ok(updated)
}

/// An administrator sets a new password for a staff account it manages (404 for any other);
/// the account's sessions end.
pub async fn reset_password(
    state: &Sessions<'_>,
    caller: &Actor,
    id: Uuid,
    new_password: String,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let target = managed_user(state.db, caller, id).await?;
    let actor = Who::from(caller);
    if target.username.is_none() {
        return Err(AppError::conflict(
            ProblemCode::AccountHasNoPassword,
            Text::new(
                "微信账号没有密码，无法重置",
                "a WeChat account has no password to reset",
            ),
        ));
    }
    auth_svc::validate_password(&new_password)?;
    let hash = password::hash(new_password).await?;
    let id = target.id;
    let mut row: user::ActiveModel = target.into();
    row.password_hash = Set(Some(hash));
    row.updated_at = Set(now);
    epoch::changing(state.cache, &[id], async {
        row.update(state.db).await?;
        end_sessions(state, id, None, now).await
    })
    .await?;
    record(
        state,
        actor,
        audit::Action::PasswordReset,
        id,
        String::new(),
        now,
    )
    .await
}

/// The owner changes its own password, proving the current one; its sessions other than the
/// token family `keep` (the one it is signed in with) end.
pub async fn change_own_password(
    state: &Sessions<'_>,
    me: &Actor,
    keep: Uuid,
    current: String,
    new_password: String,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let found = own_row(state, me.id).await?;
    let Some(stored) = found.password_hash.clone() else {
        return Err(AppError::conflict(
            ProblemCode::AccountHasNoPassword,
            Text::new(
                "此账号通过微信登录，没有密码",
                "this account signs in with WeChat and has no password",
            ),
        ));
    };
    if !password::verify(current, Some(stored)).await? {
        return Err(AppError::invalid(
            "current_password",
            FieldCode::WrongPassword,
            Text::new("当前密码不正确", "the current password is wrong"),
        ));
    }
    auth_svc::validate_password(&new_password)?;
    let hash = password::hash(new_password).await?;
    let mut row: user::ActiveModel = found.into();
    row.password_hash = Set(Some(hash));
    row.updated_at = Set(now);
    epoch::changing(state.cache, &[me.id], async {
        row.update(state.db).await?;
        end_sessions(state, me.id, Some(keep), now).await
    })
    .await
}

/// Lifts the sign-in slow-down of the username of an account `caller` manages, from every
/// address.
pub async fn unlock(
    state: &Sessions<'_>,
    caller: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let target = &managed_user(state.db, caller, id).await?;
    let actor = Who::from(caller);
    let Some(username) = target.username.as_deref() else {
        return Ok(0);
    };
    let prefix = auth_svc::user_fail_key_prefix(username);
    let keys: Vec<String> = login_failure::Entity::find()
        .select_only()
        .column(login_failure::Column::Key)
        .filter(login_failure::Column::Key.starts_with(&prefix))
        .distinct()
        .into_tuple()
        .all(state.db)
        .await?;
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::Key.starts_with(&prefix))
        .exec(state.db)
        .await?;
    for key in &keys {
        state.cache.delete(key).await?;
    }
    record(
        state,
        actor,
        audit::Action::AccountUnlock,
        target.id,
        format!("addresses={}", keys.len()),
        now,
    )
    .await?;
    Ok(keys.len() as u64)
}

fn code_key(code: &str) -> String {
    let digest = Sha256::digest(code.as_bytes());
    format!("wxbind:code:{}", hex::encode(digest))
}

/// A one-time code a signed-in staff member types into the mini-program to bind its WeChat.
pub async fn new_binding_code(
    state: &Sessions<'_>,
    me: &Actor,
    now: DateTime<Utc>,
) -> AppResult<(String, chrono::DateTime<Utc>)> {
    let found = own_row(state, me.id).await?;
    if found.username.is_none() {
        return Err(AppError::conflict(
            ProblemCode::AccountIsWechat,
            Text::new("此账号本身就是微信账号", "this account is a WeChat account"),
        ));
    }
    if found.wechat_openid.is_some() {
        return Err(AppError::conflict(
            ProblemCode::WechatAlreadyBound,
            Text::new(
                "此账号已绑定微信，请先解除绑定",
                "this account is already bound to a WeChat; unbind it first",
            ),
        ));
    }
    let code = one_time_code();
    state
        .cache
        .set(&code_key(&code), &me.id.to_string(), BINDING_CODE_TTL)
        .await?;
    let expires = now + chrono::Duration::from_std(BINDING_CODE_TTL).unwrap_or_default();
    Ok((code, expires))
}

/// Eight characters of `CODE_ALPHABET` from the OS's random source (40 bits).
pub fn one_time_code() -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    (0..CODE_LEN)
        .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

/// Whether a normalised code could be one of ours at all (else no lookup is made).
pub fn well_formed(code: &str) -> bool {
    code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b))
}

/// Normalises what someone typed: case and blanks do not matter.
pub fn normalise_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// The mini-program confirms a binding code with a `wx.login` code: the staff account gets the
/// WeChat identity and a session. Each code works once.
pub async fn bind_wechat(
    state: &Sessions<'_>,
    wechat: &WeChatClient,
    wx_code: &str,
    binding_code: &str,
    ip: Option<std::net::IpAddr>,
    now: DateTime<Utc>,
) -> AppResult<(TokenPair, user::Model)> {
    if let Some(ip) = ip {
        let (n, left) = state
            .cache
            .incr_window(&format!("wxbind:attempts:{ip}"), Duration::from_secs(3600))
            .await?;
        if n > BINDING_ATTEMPTS_PER_HOUR {
            return Err(AppError::rate_limited(left));
        }
    }
    let code = normalise_code(binding_code);
    let wrong = || {
        AppError::invalid(
            "binding_code",
            FieldCode::Invalid,
            Text::new(
                "绑定码不正确或已过期",
                "the binding code is wrong or has expired",
            ),
        )
    };
    if !well_formed(&code) {
        return Err(wrong());
    }
    let key = code_key(&code);
    let Some(user_id) = state.cache.get(&key).await? else {
        return Err(wrong());
    };
    let user_id: Uuid = user_id.parse().map_err(AppError::internal)?;
    let session = wechat.jscode2session(wx_code).await?;
    // One use: of two confirmations racing with the same code only one claims it.
    if !state
        .cache
        .set_nx(&format!("{key}:used"), "1", BINDING_CODE_TTL)
        .await?
    {
        return Err(wrong());
    }
    state.cache.delete(&key).await?;
    if user::Entity::find()
        .filter(user::Column::WechatOpenid.eq(&session.openid))
        .one(state.db)
        .await?
        .is_some()
    {
        return Err(AppError::conflict(
            ProblemCode::WechatInUse,
            Text::new(
                "这个微信已登录过另一个账号（例如居民账号），不能再绑定工作人员账号",
                "this WeChat already has another account (a resident's, say); it cannot bind a staff account",
            ),
        ));
    }
    let found = user::Entity::find_by_id(user_id)
        .one(state.db)
        .await?
        .filter(|u| u.is_active && u.wechat_openid.is_none())
        .ok_or_else(wrong)?;
    let mut row: user::ActiveModel = found.into();
    row.wechat_openid = Set(Some(session.openid.clone()));
    if let Some(union) = session.unionid.as_deref() {
        row.wechat_unionid = Set(Some(union.to_string()));
    }
    row.updated_at = Set(now);
    let bound = match row.update(state.db).await {
        Ok(u) => u,
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::conflict(
                ProblemCode::WechatInUse,
                Text::new(
                    "这个微信已绑定另一个账号",
                    "this WeChat is bound to another account",
                ),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let actor = Who {
        id: bound.id,
        name: &bound.display_name,
        username: bound.username.as_deref(),
    };
    record(
        state,
        actor,
        audit::Action::WechatBind,
        bound.id,
        String::new(),
        now,
    )
    .await?;
    let pair = auth_svc::issue_pair(state.db, state, bound.id, Uuid::now_v7(), now).await?;
    Ok((pair, bound))
}

/// The owner removes the WeChat identity from its staff account (it signs in with its password
/// again; notifications to it are skipped until it binds again).
pub async fn unbind_wechat(state: &Sessions<'_>, me: &Actor, now: DateTime<Utc>) -> AppResult<()> {
    let found = own_row(state, me.id).await?;
    if found.username.is_none() {
        return Err(AppError::conflict(
            ProblemCode::AccountIsWechat,
            Text::new(
                "微信账号不能解除微信绑定",
                "a WeChat account cannot unbind its WeChat",
            ),
        ));
    }
    if found.wechat_openid.is_none() {
        return Ok(());
    }
    let mut row: user::ActiveModel = found.into();
    row.wechat_openid = Set(None);
    row.wechat_unionid = Set(None);
    row.updated_at = Set(now);
    row.update(state.db).await?;
    record(
        state,
        me.into(),
        audit::Action::WechatUnbind,
        me.id,
        String::new(),
        now,
    )
    .await
}

/// The owner renames its account.
pub async fn rename_self(
    db: &DatabaseConnection,
    cache: &SharedCache,
    me: &Actor,
    name: &str,
    now: DateTime<Utc>,
) -> AppResult<user::Model> {
    let name = crate::platform::text::clean_name("display_name", name, 100)?;
    let found = user::Entity::find_by_id(me.id)
        .one(db)
        .await?
        .ok_or(AppError::InvalidToken)?;
    let mut row: user::ActiveModel = found.into();
    row.display_name = Set(name);
    row.updated_at = Set(now);
    epoch::changing(cache, &[me.id], async { Ok(row.update(db).await?) }).await
}

/// The caller's own account row (gone: its token no longer stands for anyone).
async fn own_row(state: &Sessions<'_>, id: Uuid) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .one(state.db)
        .await?
        .ok_or(AppError::InvalidToken)
}

async fn record(
    state: &Sessions<'_>,
    actor: Who<'_>,
    action: audit::Action,
    account: Uuid,
    detail: String,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let street = crate::identity::service::accounts::home_street(state.db, actor.id).await?;
    audit::record(
        state.db,
        audit::Event {
            actor,
            action,
            street_id: street,
            community_id: None,
            resident_id: None,
            field: None,
            purpose: "账号管理",
            detail: Some(if detail.is_empty() {
                format!("account={account}")
            } else {
                format!("account={account}, {detail}")
            }),
        },
        now,
    )
    .await?;
    Ok(())
}

/// The street an actor works in, for events about no one in particular (an export or a lookup
/// that found nobody): the street of their role assignments when that is a single one. Never a
/// street taken from the request, which the caller may not reach.
pub async fn home_street<C: sea_orm::ConnectionTrait>(
    db: &C,
    actor_id: Uuid,
) -> AppResult<Option<Uuid>> {
    use entity::role_assignment::{Column, Entity};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    let streets: Vec<Uuid> = Entity::find()
        .select_only()
        .column(Column::StreetId)
        .filter(Column::UserId.eq(actor_id))
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    Ok(match streets.as_slice() {
        [one] => Some(*one),
        _ => None,
    })
}
