//! Linking a WeChat account to a resident of the roster: by a verified phone that matches exactly
//! one resident, or by a request that staff in scope approve or reject.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::access::policy::{self, Action, Role, ScopeType};
use crate::access::{epoch, Actor};
use crate::platform::cache::SharedCache;
use crate::platform::error::{AppError, AppResult};
use crate::platform::error::{FieldCode, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::pii::Pii;
use crate::residents::service::linked_accounts::{self as linked, Resident};
use crate::residents::service::roster::{self as residents, ResidentInput};
use crate::territory::query::homes::{self as places, Household};
use entity::{binding_request, role_assignment};

pub use entity::binding_request::BindingStatus;

/// Links `user_id` to `r` and grants the `resident` role on its household (idempotent).
/// It renames the account and changes its roles: callers run it inside `access::epoch::changing`
/// for `user_id`.
pub async fn link<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    r: Resident,
    now: DateTime<Utc>,
) -> AppResult<Resident> {
    let household_id = r.household_id;
    let street_id = r.street_id;
    // A WeChat account is called "微信用户" until it says otherwise: once bound, staff screens
    // show the roster's name instead (a name its owner chose is kept).
    entity::user::Entity::update_many()
        .col_expr(
            entity::user::Column::DisplayName,
            Expr::value(r.name.clone()),
        )
        .col_expr(entity::user::Column::UpdatedAt, Expr::value(now))
        .filter(entity::user::Column::Id.eq(user_id))
        .filter(
            entity::user::Column::DisplayName
                .eq(crate::identity::service::auth::WECHAT_DEFAULT_DISPLAY_NAME),
        )
        .exec(db)
        .await?;
    // Only one resident per account: the link unlinks any earlier one.
    let r = linked::link_user(db, user_id, r, now).await?;
    let has_role = role_assignment::Entity::find()
        .filter(role_assignment::Column::UserId.eq(user_id))
        .filter(role_assignment::Column::Role.eq(Role::Resident))
        .filter(role_assignment::Column::ScopeId.eq(household_id))
        .one(db)
        .await?
        .is_some();
    if !has_role {
        // A resident belongs to one household: drop resident roles elsewhere.
        role_assignment::Entity::delete_many()
            .filter(role_assignment::Column::UserId.eq(user_id))
            .filter(role_assignment::Column::Role.eq(Role::Resident))
            .exec(db)
            .await?;
        role_assignment::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            role: Set(Role::Resident),
            scope_type: Set(ScopeType::Household),
            scope_id: Set(household_id),
            street_id: Set(street_id),
            created_at: Set(now),
            valid_until: Set(None),
            source_term_id: Set(None),
        }
        .insert(db)
        .await?;
    }
    Ok(r)
}

/// A new pending request of `user_id` to join `hh` under `name` and `relation` (both cleaned).
pub async fn new_request<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    hh: &Household,
    name: String,
    relation: String,
    now: DateTime<Utc>,
) -> AppResult<binding_request::Model> {
    Ok(binding_request::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        street_id: Set(hh.street_id),
        community_id: Set(hh.community_id),
        compound_id: Set(hh.compound_id),
        building_id: Set(hh.building_id),
        household_id: Set(hh.id),
        name: Set(name),
        relation: Set(relation),
        status: Set(BindingStatus::Pending),
        reason: Set(None),
        decided_by: Set(None),
        decided_at: Set(None),
        resident_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?)
}

/// Records in the audit log that an approval linked the requester to a roster entry: that hands
/// the account the entry's personal data. `how` says how it was approved.
pub async fn audit_link<C: ConnectionTrait>(
    db: &C,
    actor: crate::platform::audit::Who<'_>,
    m: &binding_request::Model,
    how: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(rid) = m.resident_id else {
        return Ok(());
    };
    let mut detail = serde_json::json!({
        "binding_request_id": m.id,
        "user_id": m.user_id,
    });
    if let (Some(d), serde_json::Value::Object(extra)) = (detail.as_object_mut(), how) {
        d.extend(extra);
    }
    crate::platform::audit::record(
        db,
        crate::platform::audit::Event {
            actor,
            action: crate::platform::audit::Action::BindingLink,
            street_id: Some(m.street_id),
            community_id: Some(m.community_id),
            resident_id: Some(rid),
            field: None,
            purpose: "",
            detail: Some(detail.to_string()),
        },
        now,
    )
    .await?;
    Ok(())
}

/// How an approval attaches the account to the roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attach {
    /// Staff chose this unlinked resident of the household, having seen what it holds.
    Chosen(Uuid),
    /// No choice: the resident whose phone is the one WeChat verified for the requester (a
    /// second factor), else a new roster entry with only the requested name and relation.
    Default,
}

/// Approves a pending request. A request only *names* someone; naming an existing resident is
/// not proof of being them, so their personal data (phone, ID number, birth date, tags) is
/// attached only on a second factor (the requester's WeChat-verified phone equals the
/// resident's) or by an explicit staff choice. Otherwise a new roster entry is registered.
/// The status is claimed by a conditional update first, so of two concurrent approvals (or an
/// approval racing a rejection) exactly one wins and the other is a 409.
pub async fn approve<C: ConnectionTrait>(
    db: &C,
    pii: &Pii,
    req: binding_request::Model,
    by: Uuid,
    attach: Attach,
    now: DateTime<Utc>,
) -> AppResult<binding_request::Model> {
    claim(db, &req).await?;
    let hh = places::household(db, req.household_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let unlinked = linked::unlinked(db, &[hh.id]).await?;
    let chosen = match attach {
        Attach::Chosen(id) => Some(unlinked.into_iter().find(|r| r.id == id).ok_or_else(|| {
            AppError::invalid(
                "resident_id",
                FieldCode::Invalid,
                Text::new(
                    "须是申请的这户中、尚未绑定账号的在册居民",
                    "not an unlinked, current resident of the requested household",
                ),
            )
        })?),
        Attach::Default => {
            let verified = entity::user::Entity::find_by_id(req.user_id)
                .one(db)
                .await?
                .and_then(|u| u.phone_hash);
            let by_phone: Vec<&Resident> = match &verified {
                Some(h) => unlinked
                    .iter()
                    .filter(|r| r.phone_hash.as_deref() == Some(h.as_str()))
                    .collect(),
                None => Vec::new(),
            };
            // A same-name entry that holds nothing personal can be linked without a second
            // factor: it hands the account nothing but the name it asked for.
            let bare: Vec<&Resident> = unlinked
                .iter()
                .filter(|r| r.name == req.name && holds_nothing_personal(r))
                .collect();
            let bare = match bare.as_slice() {
                [one] if !linked::has_tags(db, one.id).await? => Some((*one).clone()),
                _ => None,
            };
            match by_phone.as_slice() {
                [one] => Some((*one).clone()),
                _ => bare,
            }
        }
    };
    let r = match chosen {
        Some(r) => r,
        None => {
            let data = residents::validate(
                ResidentInput {
                    name: req.name.clone(),
                    relation: Some(req.relation.clone()),
                    ..Default::default()
                },
                now,
            )
            .map_err(AppError::Validation)?;
            residents::insert(db, pii, &hh, &data, now).await?
        }
    };
    let r = link(db, req.user_id, r, now).await?;
    let mut am = req.into_active_model();
    am.status = Set(BindingStatus::Approved);
    am.decided_by = Set(Some(by));
    am.decided_at = Set(Some(now));
    am.resident_id = Set(Some(r.id));
    am.updated_at = Set(now);
    Ok(am.update(db).await?)
}

fn holds_nothing_personal(r: &Resident) -> bool {
    r.phone_cipher.is_none() && r.id_number_cipher.is_none() && r.birth_date.is_none()
}

/// A reviewer in scope approves the request `id` (404 outside the scope), in one transaction
/// with the audit record of the link; a change of the requester's authorization epoch.
pub async fn approve_request(
    db: &DatabaseConnection,
    cache: &SharedCache,
    pii: &Pii,
    user: &Actor,
    id: Uuid,
    attach: Attach,
    now: DateTime<Utc>,
) -> AppResult<binding_request::Model> {
    let req =
        policy::find_visible::<binding_request::Entity, _>(db, user, Action::BindingReview, id)
            .await?;
    let m = epoch::changing(cache, &[req.user_id], async {
        let txn = db.begin().await?;
        let m = approve(&txn, pii, req, user.id, attach, now).await?;
        audit_link(
            &txn,
            user.into(),
            &m,
            serde_json::json!({"chosen": matches!(attach, Attach::Chosen(_))}),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(m)
    })
    .await?;
    tracing::info!(request = %m.id, by = %user.id, "binding request approved");
    Ok(m)
}

/// A reviewer in scope rejects the request `id` (404 outside the scope) with `reason`.
pub async fn reject_request(
    db: &DatabaseConnection,
    user: &Actor,
    id: Uuid,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<binding_request::Model> {
    let req =
        policy::find_visible::<binding_request::Entity, _>(db, user, Action::BindingReview, id)
            .await?;
    let txn = db.begin().await?;
    let m = reject(&txn, req, user.id, reason, now).await?;
    txn.commit().await?;
    Ok(m)
}

/// The caller asks to join the household `household_id` under `name` and `relation` (both
/// cleaned); 409 while a request of theirs is pending.
pub async fn create_request(
    db: &DatabaseConnection,
    me: &Actor,
    household_id: Uuid,
    name: String,
    relation: String,
    now: DateTime<Utc>,
) -> AppResult<binding_request::Model> {
    let hh = places::household(db, household_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let pending = binding_request::Entity::find()
        .filter(binding_request::Column::UserId.eq(me.id))
        .filter(binding_request::Column::Status.eq(BindingStatus::Pending))
        .count(db)
        .await?;
    if pending > 0 {
        return Err(AppError::conflict(
            ProblemCode::BindingRequestPending,
            Text::new(
                "您已有一个待审核的绑定申请，请等待社区审核",
                "a binding request of yours is already pending",
            ),
        ));
    }
    new_request(db, me.id, &hh, name, relation, now).await
}

/// Moves a pending request out of `pending` for this decision, or 409 when another decision
/// got there first. The interim `deciding` is no [`BindingStatus`]: the decision's transaction
/// replaces it before anyone reads the row.
async fn claim<C: ConnectionTrait>(db: &C, req: &binding_request::Model) -> AppResult<()> {
    let done = binding_request::Entity::update_many()
        .col_expr(binding_request::Column::Status, Expr::value("deciding"))
        .filter(binding_request::Column::Id.eq(req.id))
        .filter(binding_request::Column::Status.eq(BindingStatus::Pending))
        .exec(db)
        .await?;
    if done.rows_affected != 1 || req.status != BindingStatus::Pending {
        return Err(AppError::conflict(
            ProblemCode::BindingRequestDecided,
            Text::new("这个申请已经审核过了", "the request is already decided"),
        ));
    }
    Ok(())
}

pub async fn reject<C: ConnectionTrait>(
    db: &C,
    req: binding_request::Model,
    by: Uuid,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<binding_request::Model> {
    claim(db, &req).await?;
    let mut am = req.into_active_model();
    am.status = Set(BindingStatus::Rejected);
    am.reason = Set(Some(reason));
    am.decided_by = Set(Some(by));
    am.decided_at = Set(Some(now));
    am.updated_at = Set(now);
    Ok(am.update(db).await?)
}
