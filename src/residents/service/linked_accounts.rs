//! Residents of the roster as accounts are linked to them: which resident an account is, the
//! members of its household, which residents an approval could link, and linking and unlinking
//! (`residents.user_id`).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::platform::error::AppResult;
use crate::platform::pii::Pii;
use crate::residents::service::roster::{tags_column, ResidentWithTags};
use entity::{resident, resident_tag};

/// A resident of the roster.
pub type Resident = resident::Model;

/// The resident `user_id` is linked to, if any.
pub async fn of_user<C: ConnectionTrait>(db: &C, user_id: Uuid) -> AppResult<Option<Resident>> {
    Ok(resident::Entity::find()
        .filter(resident::Column::UserId.eq(user_id))
        .one(db)
        .await?)
}

/// Links `user_id` to `r`, unlinking any earlier resident of the account (one per account).
pub async fn link_user<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    r: Resident,
    now: DateTime<Utc>,
) -> AppResult<Resident> {
    resident::Entity::update_many()
        .col_expr(resident::Column::UserId, Expr::value(Option::<Uuid>::None))
        .filter(resident::Column::UserId.eq(user_id))
        .filter(resident::Column::Id.ne(r.id))
        .exec(db)
        .await?;
    let mut am = r.into_active_model();
    am.user_id = Set(Some(user_id));
    am.updated_at = Set(now);
    Ok(am.update(db).await?)
}

/// The roster entry `user_id` was linked to stays, unlinked.
pub async fn unlink_user<C: ConnectionTrait>(db: &C, user_id: Uuid) -> AppResult<()> {
    resident::Entity::update_many()
        .col_expr(resident::Column::UserId, Expr::value(Option::<Uuid>::None))
        .filter(resident::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// After a phone is verified: the resident it identifies, if exactly one unlinked (or already
/// `user_id`'s) current resident of the roster has it.
pub async fn match_by_phone<C: ConnectionTrait>(
    db: &C,
    pii: &Pii,
    user_id: Uuid,
    phone: &str,
) -> AppResult<Option<Resident>> {
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

/// Unlinked current residents of `household_ids`: what an approval could link.
pub async fn unlinked<C: ConnectionTrait>(
    db: &C,
    household_ids: &[Uuid],
) -> AppResult<Vec<Resident>> {
    if household_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(resident::Entity::find()
        .filter(resident::Column::HouseholdId.is_in(household_ids.iter().copied()))
        .filter(resident::Column::UserId.is_null())
        .filter(resident::Column::MovedOutOn.is_null())
        .all(db)
        .await?)
}

/// [`unlinked`] with their tags, in one statement (for the review list).
pub async fn unlinked_with_tags<C: ConnectionTrait>(
    db: &C,
    household_ids: &[Uuid],
) -> AppResult<Vec<ResidentWithTags>> {
    if household_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(resident::Entity::find()
        .column_as(tags_column(), "tags")
        .filter(resident::Column::HouseholdId.is_in(household_ids.iter().copied()))
        .filter(resident::Column::UserId.is_null())
        .filter(resident::Column::MovedOutOn.is_null())
        .into_model()
        .all(db)
        .await?)
}

/// Whether the resident has any tag.
pub async fn has_tags<C: ConnectionTrait>(db: &C, resident_id: Uuid) -> AppResult<bool> {
    Ok(resident_tag::Entity::find()
        .filter(resident_tag::Column::ResidentId.eq(resident_id))
        .count(db)
        .await?
        > 0)
}

/// The current members of a household, in the roster's order.
pub async fn current_members<C: ConnectionTrait>(
    db: &C,
    household_id: Uuid,
) -> AppResult<Vec<Resident>> {
    Ok(resident::Entity::find()
        .filter(resident::Column::HouseholdId.eq(household_id))
        .filter(resident::Column::MovedOutOn.is_null())
        .order_by_asc(resident::Column::Id)
        .all(db)
        .await?)
}
