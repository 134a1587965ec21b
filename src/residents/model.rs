//! Roster values: a roster entry as screens read it, the status of a transfer between
//! households, the fields one may reveal.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use entity::resident;

pub use entity::resident::Gender;
pub use entity::resident_transfer::TransferStatus;

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RevealField {
    Phone,
    IdNumber,
}

impl RevealField {
    pub fn as_str(self) -> &'static str {
        match self {
            RevealField::Phone => "phone",
            RevealField::IdNumber => "id_number",
        }
    }
}

/// A roster entry as a screen shows it: every column of `residents` but the sealed phone and ID
/// number (their ciphers, key ids and lookup hashes). The masks are columns of their own, written
/// when the value is sealed, so a list never reads, unseals or derives anything from a cipher.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct RosterEntry {
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Uuid,
    pub building_id: Uuid,
    pub household_id: Uuid,
    pub name: String,
    pub gender: Option<entity::resident::Gender>,
    pub birth_date: Option<NaiveDate>,
    pub relation: Option<String>,
    pub moved_in_on: Option<NaiveDate>,
    pub moved_out_on: Option<NaiveDate>,
    pub user_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub phone_masked: Option<String>,
    pub id_number_masked: Option<String>,
}

/// The columns of [`RosterEntry`], for a `SELECT` of only those.
pub const ROSTER_ENTRY_COLUMNS: [resident::Column; 17] = [
    resident::Column::Id,
    resident::Column::StreetId,
    resident::Column::CommunityId,
    resident::Column::CompoundId,
    resident::Column::BuildingId,
    resident::Column::HouseholdId,
    resident::Column::Name,
    resident::Column::Gender,
    resident::Column::BirthDate,
    resident::Column::Relation,
    resident::Column::MovedInOn,
    resident::Column::MovedOutOn,
    resident::Column::UserId,
    resident::Column::CreatedAt,
    resident::Column::UpdatedAt,
    resident::Column::PhoneMasked,
    resident::Column::IdNumberMasked,
];

impl RosterEntry {
    /// The entry of a row whose first columns are [`ROSTER_ENTRY_COLUMNS`], in that order, read
    /// by position. A list page reads 17 fields of 20 rows; by name, each field is a hashed
    /// look-up of its column first (about 4 % of the residents list's CPU). Debug builds (the
    /// tests) check the row's column names against the list on every row.
    pub fn at(res: &sea_orm::QueryResult) -> Result<Self, sea_orm::DbErr> {
        debug_assert!(
            {
                let names = res.column_names();
                names.len() >= ROSTER_ENTRY_COLUMNS.len()
                    && ROSTER_ENTRY_COLUMNS
                        .iter()
                        .zip(&names)
                        .all(|(c, n)| sea_orm::IdenStatic::as_str(c) == n)
            },
            "a row read by position has other columns: {:?}",
            res.column_names()
        );
        use resident::Column as C;
        // The position of a column in the list, found at compile time.
        const fn at(c: C) -> usize {
            let mut i = 0;
            while i < ROSTER_ENTRY_COLUMNS.len() {
                if ROSTER_ENTRY_COLUMNS[i] as u32 == c as u32 {
                    return i;
                }
                i += 1;
            }
            panic!("not a column of ROSTER_ENTRY_COLUMNS")
        }
        Ok(RosterEntry {
            id: res.try_get_by_index(const { at(C::Id) })?,
            street_id: res.try_get_by_index(const { at(C::StreetId) })?,
            community_id: res.try_get_by_index(const { at(C::CommunityId) })?,
            compound_id: res.try_get_by_index(const { at(C::CompoundId) })?,
            building_id: res.try_get_by_index(const { at(C::BuildingId) })?,
            household_id: res.try_get_by_index(const { at(C::HouseholdId) })?,
            name: res.try_get_by_index(const { at(C::Name) })?,
            gender: res.try_get_by_index(const { at(C::Gender) })?,
            birth_date: res.try_get_by_index(const { at(C::BirthDate) })?,
            relation: res.try_get_by_index(const { at(C::Relation) })?,
            moved_in_on: res.try_get_by_index(const { at(C::MovedInOn) })?,
            moved_out_on: res.try_get_by_index(const { at(C::MovedOutOn) })?,
            user_id: res.try_get_by_index(const { at(C::UserId) })?,
            created_at: res.try_get_by_index(const { at(C::CreatedAt) })?,
            updated_at: res.try_get_by_index(const { at(C::UpdatedAt) })?,
            phone_masked: res.try_get_by_index(const { at(C::PhoneMasked) })?,
            id_number_masked: res.try_get_by_index(const { at(C::IdNumberMasked) })?,
        })
    }
}

impl From<resident::Model> for RosterEntry {
    fn from(m: resident::Model) -> Self {
        RosterEntry {
            id: m.id,
            street_id: m.street_id,
            community_id: m.community_id,
            compound_id: m.compound_id,
            building_id: m.building_id,
            household_id: m.household_id,
            name: m.name,
            gender: m.gender,
            birth_date: m.birth_date,
            relation: m.relation,
            moved_in_on: m.moved_in_on,
            moved_out_on: m.moved_out_on,
            user_id: m.user_id,
            created_at: m.created_at,
            updated_at: m.updated_at,
            phone_masked: m.phone_masked,
            id_number_masked: m.id_number_masked,
        }
    }
}
