//! Household invitation codes: staff who may approve binding requests for a household give its
//! members a code; a resident who enters it (with their name and relation) is bound at once, as
//! if that staff member had approved their request. The code stands for the approval, not for
//! a person: like any approval without a staff choice, it attaches the roster entry whose phone
//! WeChat verified for the resident, or registers a new one, never someone merely named.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::access::policy::Action;
use crate::access::{epoch, Actor};
use crate::identity::service::accounts::{normalise_code, one_time_code, well_formed};
use crate::identity::service::binding;
use crate::identity::service::Sessions;
use crate::platform::error::{AppError, AppResult};
use crate::platform::error::{FieldCode, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::pii::Pii;
use crate::territory::query::homes as places;
use entity::{binding_request, user};

/// How long an invitation code works.
pub const INVITATION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// Accounts one code may bind: the members of one household.
pub const INVITATION_USES: u64 = 10;
/// Codes a resident may try per hour.
pub const REDEEM_ATTEMPTS_PER_HOUR: u64 = 20;

fn key(code: &str) -> String {
    format!(
        "invitation:{}",
        hex::encode(Sha256::digest(code.as_bytes()))
    )
}

/// A new code for the household `household_id`, issued by `issuer`, who must review its binding
/// requests (404 otherwise).
pub async fn issue(
    state: &Sessions<'_>,
    issuer: &Actor,
    household_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<(String, chrono::DateTime<Utc>)> {
    let hh =
        places::visible_household(state.db, issuer, Action::BindingReview, household_id).await?;
    let code = one_time_code();
    state
        .cache
        .set(
            &key(&code),
            &format!("{}|{}", hh.id, issuer.id),
            INVITATION_TTL,
        )
        .await?;
    let expires = now + chrono::Duration::from_std(INVITATION_TTL).unwrap_or_default();
    tracing::info!(household = %hh.id, by = %issuer.id, "invitation code issued");
    Ok((code, expires))
}

/// Binds `me` to the household of `typed`, approved in the name of the code's issuer.
pub async fn redeem(
    state: &Sessions<'_>,
    pii: &Pii,
    me: &Actor,
    typed: &str,
    name: String,
    relation: String,
    now: DateTime<Utc>,
) -> AppResult<binding_request::Model> {
    let (n, left) = state
        .cache
        .incr_window(
            &format!("invitation:attempts:{}", me.id),
            Duration::from_secs(3600),
        )
        .await?;
    if n > REDEEM_ATTEMPTS_PER_HOUR {
        return Err(AppError::rate_limited(left));
    }
    let wrong = || {
        AppError::invalid(
            "code",
            FieldCode::Invalid,
            Text::new(
                "邀请码不正确或已过期",
                "the invitation code is wrong or has expired",
            ),
        )
    };
    let code = normalise_code(typed);
    if !well_formed(&code) {
        return Err(wrong());
    }
    let k = key(&code);
    let value = state.cache.get(&k).await?.ok_or_else(wrong)?;
    let (hh, issuer) = value.split_once('|').ok_or_else(wrong)?;
    let (hh, issuer): (Uuid, Uuid) = (
        hh.parse().map_err(AppError::internal)?,
        issuer.parse().map_err(AppError::internal)?,
    );
    let (uses, _) = state
        .cache
        .incr_window(&format!("{k}:uses"), INVITATION_TTL)
        .await?;
    if uses > INVITATION_USES {
        return Err(AppError::conflict(
            ProblemCode::InvitationUsedUp,
            Text::new(
                "这个邀请码的使用次数已满，请向社区工作人员索取新的邀请码",
                "this invitation code has been used up; ask the community staff for a new one",
            ),
        ));
    }
    let hh = places::household(state.db, hh).await?.ok_or_else(wrong)?;
    let issuer = user::Entity::find_by_id(issuer)
        .one(state.db)
        .await?
        .filter(|u| u.is_active)
        .ok_or_else(wrong)?;
    // The link renames the account and grants it the resident role: an epoch change.
    let m = epoch::changing(state.cache, &[me.id], async {
        let txn = state.db.begin().await?;
        // A request of the resident still waiting is answered by the invitation.
        binding_request::Entity::update_many()
            .col_expr(
                binding_request::Column::Status,
                Expr::value(binding::BindingStatus::Rejected),
            )
            .col_expr(
                binding_request::Column::Reason,
                Expr::value("已通过邀请码加入家庭"),
            )
            .col_expr(binding_request::Column::DecidedAt, Expr::value(now))
            .col_expr(binding_request::Column::UpdatedAt, Expr::value(now))
            .filter(binding_request::Column::UserId.eq(me.id))
            .filter(binding_request::Column::Status.eq(binding::BindingStatus::Pending))
            .exec(&txn)
            .await?;
        let req = binding::new_request(&txn, me.id, &hh, name, relation, now).await?;
        let m = binding::approve(&txn, pii, req, issuer.id, binding::Attach::Default, now).await?;
        let actor = crate::platform::audit::Who {
            id: issuer.id,
            name: &issuer.display_name,
            username: issuer.username.as_deref(),
        };
        binding::audit_link(
            &txn,
            actor,
            &m,
            serde_json::json!({"invitation": true}),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(m)
    })
    .await?;
    tracing::info!(request = %m.id, user_id = %me.id, "joined a household by invitation");
    Ok(m)
}
