//! Resident self-service: binding the phone WeChat verified, and erasing one's account.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    Set, TransactionTrait,
};
use uuid::Uuid;

use crate::access::policy::Role;
use crate::access::{epoch, Actor};
use crate::identity::service::auth::{logout, revoke_family};
use crate::identity::service::binding;
use crate::identity::service::Sessions;
use crate::platform::cache::SharedCache;
use crate::platform::error::{AppError, AppResult};
use crate::platform::error::{FieldCode, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::limits::{self, Hourly};
use crate::platform::pii::{mask_phone, Pii};
use crate::platform::wechat::WeChatClient;
use crate::residents::service::linked_accounts as linked;
use crate::residents::service::roster as rsvc;
use entity::{refresh_token, user};

/// Phone-binding attempts one account may make per hour.
pub const MY_PHONE_ATTEMPTS_PER_HOUR: u64 = 10;

const MY_PHONE_ATTEMPTS: Hourly = Hourly {
    key: "me_phone",
    max: MY_PHONE_ATTEMPTS_PER_HOUR,
    code: ProblemCode::RateLimited,
    zh: "这个操作",
    en: "attempts",
};

/// The phone WeChat verified, masked, and the resident (and its household) it linked the
/// account to, if any.
pub struct BoundPhone {
    pub phone_masked: String,
    pub resident_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
}

/// Binds the phone behind a getPhoneNumber `code` to `me`, and links the account to the roster
/// when the phone matches exactly one resident. Each attempt spends the mini-program's shared
/// WeChat quota, so an account may make only so many an hour.
pub async fn bind_phone(
    db: &DatabaseConnection,
    cache: &SharedCache,
    pii: &Pii,
    wechat: &WeChatClient,
    me: &Actor,
    code: &str,
    now: DateTime<Utc>,
) -> AppResult<BoundPhone> {
    limits::per_user(cache, me.id, &MY_PHONE_ATTEMPTS).await?;
    let raw = wechat.get_phone_number(code).await?;
    let phone = rsvc::normalize_phone(&raw).ok_or_else(|| {
        AppError::invalid(
            "code",
            FieldCode::PhoneInvalid,
            Text::new(
                "只能绑定中国大陆手机号",
                "only mainland mobile numbers can be bound",
            ),
        )
    })?;
    let sealed = pii.seal("phone", &phone, mask_phone(&phone))?;
    // A link renames a WeChat account and grants it the resident role: an epoch change.
    let linked = epoch::changing(cache, &[me.id], async {
        let txn = db.begin().await?;
        let u = user::Entity::find_by_id(me.id)
            .one(&txn)
            .await?
            .ok_or(AppError::InvalidToken)?;
        let mut am = u.into_active_model();
        am.phone_cipher = Set(Some(sealed.cipher));
        am.phone_key_id = Set(Some(sealed.key_id));
        am.phone_hash = Set(Some(sealed.hash));
        am.phone_masked = Set(Some(sealed.masked.clone()));
        am.updated_at = Set(now);
        am.update(&txn).await?;
        let linked = match linked::match_by_phone(&txn, pii, me.id, &phone).await? {
            Some(r) => Some(binding::link(&txn, me.id, r, now).await?),
            None => None,
        };
        txn.commit().await?;
        Ok(linked)
    })
    .await?;
    tracing::info!(user_id = %me.id, bound = linked.is_some(), "phone bound");
    Ok(BoundPhone {
        phone_masked: sealed.masked,
        resident_id: linked.as_ref().map(|r| r.id),
        household_id: linked.as_ref().map(|r| r.household_id),
    })
}

/// Erases `me`'s account and its personal data; every token of it stops working, the access
/// token `jti` (of family `family`, expiring at `token_exp`) first. The roster entry the account
/// was linked to stays with the community, unlinked; tickets it filed stay in the community's
/// ledger without the requester's name.
pub async fn erase(
    state: &Sessions<'_>,
    me: &Actor,
    jti: Uuid,
    family: Uuid,
    token_exp: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if me.is_superadmin {
        return Err(AppError::conflict(
            ProblemCode::CannotEraseAdministrator,
            Text::new(
                "系统管理员账号不能注销自己",
                "the deployment administrator cannot erase itself",
            ),
        ));
    }
    let families: Vec<Uuid> = refresh_token::Entity::find()
        .filter(refresh_token::Column::UserId.eq(me.id))
        .all(state.db)
        .await?
        .into_iter()
        .map(|t| t.family_id)
        .collect();
    epoch::changing(state.cache, &[me.id], async {
        let txn = state.db.begin().await?;
        linked::unlink_user(&txn, me.id).await?;
        let as_staff = me.roles.iter().any(|a| a.role != Role::Resident);
        crate::tickets::service::workflow::forget_user(&txn, me.id, as_staff).await?;
        crate::tickets::service::messages::forget_user(&txn, me.id, as_staff).await?;
        crate::platform::inbox::forget_user(&txn, me.id).await?;
        // Refresh tokens, role assignments, binding requests and idempotency records go with
        // the row (ON DELETE CASCADE).
        user::Entity::delete_by_id(me.id).exec(&txn).await?;
        Ok(txn.commit().await?)
    })
    .await?;
    // Access tokens still in flight: deny this one and every family of the account.
    logout(state, me.id, jti, family, token_exp, now).await?;
    let mut seen = std::collections::BTreeSet::new();
    for f in families.into_iter().filter(|f| seen.insert(*f)) {
        revoke_family(state, f, now).await?;
    }
    tracing::info!(user_id = %me.id, "account erased at the owner's request");
    Ok(())
}
