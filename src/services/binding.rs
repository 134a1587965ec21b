//! Linking a WeChat account to a resident of the roster: by a verified phone that matches exactly
//! one resident, or by a request that staff in scope approve or reject.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
};
use uuid::Uuid;

use crate::auth::policy::{Role, ScopeType};
use crate::error::{AppError, AppResult};
use crate::pii::Pii;
use crate::services::residents::{self, ResidentInput};
use entity::{binding_request, household, resident, role_assignment};

pub const PENDING: &str = "pending";
pub const APPROVED: &str = "approved";
pub const REJECTED: &str = "rejected";

/// Links `user_id` to `r` and grants the `resident` role on its household (idempotent).
pub async fn link<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    r: resident::Model,
) -> AppResult<resident::Model> {
    // Only one resident per account: unlink any earlier one.
    resident::Entity::update_many()
        .col_expr(resident::Column::UserId, Expr::value(Option::<Uuid>::None))
        .filter(resident::Column::UserId.eq(user_id))
        .filter(resident::Column::Id.ne(r.id))
        .exec(db)
        .await?;
    let household_id = r.household_id;
    let street_id = r.street_id;
    let mut am = r.into_active_model();
    am.user_id = Set(Some(user_id));
    am.updated_at = Set(Utc::now());
    let r = am.update(db).await?;
    let has_role = role_assignment::Entity::find()
        .filter(role_assignment::Column::UserId.eq(user_id))
        .filter(role_assignment::Column::Role.eq(Role::Resident.as_str()))
        .filter(role_assignment::Column::ScopeId.eq(household_id))
        .one(db)
        .await?
        .is_some();
    if !has_role {
        // A resident belongs to one household: drop resident roles elsewhere.
        role_assignment::Entity::delete_many()
            .filter(role_assignment::Column::UserId.eq(user_id))
            .filter(role_assignment::Column::Role.eq(Role::Resident.as_str()))
            .exec(db)
            .await?;
        role_assignment::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            role: Set(Role::Resident.as_str().into()),
            scope_type: Set(ScopeType::Household.as_str().into()),
            scope_id: Set(household_id),
            street_id: Set(street_id),
            created_at: Set(Utc::now()),
        }
        .insert(db)
        .await?;
    }
    Ok(r)
}

/// After a phone is verified: the resident it identifies, if exactly one unlinked (or already
/// ours) resident of the roster has it.
pub async fn match_by_phone<C: ConnectionTrait>(
    db: &C,
    pii: &Pii,
    user_id: Uuid,
    phone: &str,
) -> AppResult<Option<resident::Model>> {
    let hash = pii.lookup_hash("phone", phone);
    let found = resident::Entity::find()
        .filter(resident::Column::PhoneHash.eq(hash))
        .filter(resident::Column::MovedOutOn.is_null())
        .all(db)
        .await?;
    Ok(match found.as_slice() {
        [one] if one.user_id.is_none() || one.user_id == Some(user_id) => found.into_iter().next(),
        _ => None,
    })
}

/// Approves a pending request: links the resident of that household with that name (if exactly
/// one unlinked one exists) or registers a new resident, and grants the role.
pub async fn approve<C: ConnectionTrait>(
    db: &C,
    pii: &Pii,
    req: binding_request::Model,
    by: Uuid,
) -> AppResult<binding_request::Model> {
    if req.status != PENDING {
        return Err(AppError::Conflict(format!(
            "the request is already {}",
            req.status
        )));
    }
    let hh = household::Entity::find_by_id(req.household_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let same_name = resident::Entity::find()
        .filter(resident::Column::HouseholdId.eq(hh.id))
        .filter(resident::Column::Name.eq(req.name.as_str()))
        .filter(resident::Column::UserId.is_null())
        .all(db)
        .await?;
    let r = match <[resident::Model; 1]>::try_from(same_name) {
        Ok([one]) => one,
        Err(_) => {
            let data = residents::validate(ResidentInput {
                name: req.name.clone(),
                relation: Some(req.relation.clone()),
                ..Default::default()
            })
            .map_err(AppError::Validation)?;
            residents::insert(db, pii, &hh, &data).await?
        }
    };
    let r = link(db, req.user_id, r).await?;
    let now = Utc::now();
    let mut am = req.into_active_model();
    am.status = Set(APPROVED.into());
    am.decided_by = Set(Some(by));
    am.decided_at = Set(Some(now));
    am.resident_id = Set(Some(r.id));
    am.updated_at = Set(now);
    Ok(am.update(db).await?)
}

pub async fn reject<C: ConnectionTrait>(
    db: &C,
    req: binding_request::Model,
    by: Uuid,
    reason: String,
) -> AppResult<binding_request::Model> {
    if req.status != PENDING {
        return Err(AppError::Conflict(format!(
            "the request is already {}",
            req.status
        )));
    }
    let now = Utc::now();
    let mut am = req.into_active_model();
    am.status = Set(REJECTED.into());
    am.reason = Set(Some(reason));
    am.decided_by = Set(Some(by));
    am.decided_at = Set(Some(now));
    am.updated_at = Set(now);
    Ok(am.update(db).await?)
}
