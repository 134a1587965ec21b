//! Households other domains create: a roster import adds the households its file names.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, Set};

use crate::territory::model::{Household, HouseholdKind};
use entity::household;

/// Rows per multi-row INSERT.
const HOUSEHOLD_CHUNK: usize = 1_000;

/// Inserts `households`, created at `now`. The database's error is handed back as it is (a
/// unique violation means another writer added one of them meanwhile).
pub async fn insert_many<C: ConnectionTrait>(
    db: &C,
    households: &[Household],
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    for chunk in households.chunks(HOUSEHOLD_CHUNK) {
        household::Entity::insert_many(chunk.iter().map(|h| household::ActiveModel {
            id: Set(h.id),
            street_id: Set(h.street_id),
            community_id: Set(h.community_id),
            compound_id: Set(h.compound_id),
            building_id: Set(h.building_id),
            unit: Set(h.unit.clone()),
            room: Set(h.room.clone()),
            // The roster's households are homes; a shop is made one by its staff.
            kind: Set(HouseholdKind::Dwelling),
            created_at: Set(now),
            updated_at: Set(now),
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}
