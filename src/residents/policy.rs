//! Where roster rows lie, for the scope filter, and who sees a transfer between households.

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::access::policy::{scope, scoped, Action, Level, Scope, Scoped};
use crate::access::Actor;
use crate::platform::error::{AppError, AppResult};

scoped!(entity::resident::Entity,
    Street => StreetId, Community => CommunityId, Compound => CompoundId, Building => BuildingId,
    Household => HouseholdId);

/// [`Scope::contains`] for a resident of the roster.
pub fn contains_resident(s: &Scope, r: &crate::residents::model::RosterEntry) -> bool {
    s.contains(&[
        (Level::Street, r.street_id),
        (Level::Community, r.community_id),
        (Level::Compound, r.compound_id),
        (Level::Building, r.building_id),
        (Level::Household, r.household_id),
    ])
}

/// The two ends of a resident's transfer: where the resident lives (迁出) and the household
/// that is to take them in (迁入).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEnd {
    From,
    To,
}

impl TransferEnd {
    /// The column of `resident_transfers` holding this end's id at `level`.
    pub fn column(self, level: Level) -> Option<entity::resident_transfer::Column> {
        use entity::resident_transfer::Column as C;
        Some(match (self, level) {
            (TransferEnd::From, Level::Street) => C::FromStreetId,
            (TransferEnd::From, Level::Community) => C::FromCommunityId,
            (TransferEnd::From, Level::Compound) => C::FromCompoundId,
            (TransferEnd::From, Level::Building) => C::FromBuildingId,
            (TransferEnd::From, Level::Household) => C::FromHouseholdId,
            (TransferEnd::To, Level::Street) => C::ToStreetId,
            (TransferEnd::To, Level::Community) => C::ToCommunityId,
            (TransferEnd::To, Level::Compound) => C::ToCompoundId,
            (TransferEnd::To, Level::Building) => C::ToBuildingId,
            (TransferEnd::To, Level::Household) => C::ToHouseholdId,
            _ => return None,
        })
    }
}

/// Transfers are staff work on the roster: a caller sees a transfer when their
/// [`Action::ResidentWrite`] reaches either end (or, with `end`, that end); lists and single
/// reads both use this condition. Staff of a third community reach neither end and see nothing.
pub async fn transfer_scope<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    end: Option<TransferEnd>,
) -> AppResult<Condition> {
    let s = scope(db, user, Action::ResidentWrite).await?;
    Ok(match end {
        Some(end) => s.condition_on(|l| end.column(l)),
        None => Condition::any()
            .add(s.condition_on(|l| TransferEnd::From.column(l)))
            .add(s.condition_on(|l| TransferEnd::To.column(l))),
    })
}

/// A transfer for a verb of one end (the receiving end accepts or refuses, the sending end
/// cancels): 404 unless the caller sees it, 403 unless they reach that end.
pub async fn authorize_transfer<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    id: Uuid,
    end: TransferEnd,
) -> AppResult<entity::resident_transfer::Model> {
    use entity::resident_transfer::{Column, Entity};
    let visible = transfer_scope(db, user, None).await?;
    let t = Entity::find()
        .filter(Column::Id.eq(id))
        .filter(visible)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let reached = Entity::find()
        .filter(Column::Id.eq(id))
        .filter(transfer_scope(db, user, Some(end)).await?)
        .count(db)
        .await?
        > 0;
    if reached {
        Ok(t)
    } else {
        Err(AppError::Forbidden)
    }
}
