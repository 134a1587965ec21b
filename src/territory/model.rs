//! Territory values other domains hold: where a household or a compound lies.

use uuid::Uuid;

pub use entity::compound::CompoundKind;
pub use entity::household::HouseholdKind;

/// Whether street leaders (街面长) may lead a compound of `kind`: it has a street front of shops.
pub fn leads_shops(kind: CompoundKind) -> bool {
    matches!(kind, CompoundKind::StreetFront | CompoundKind::Mixed)
}

/// A household and the places above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Household {
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Uuid,
    pub building_id: Uuid,
    /// 单元.
    pub unit: String,
    /// 房号.
    pub room: String,
}

impl From<entity::household::Model> for Household {
    fn from(h: entity::household::Model) -> Self {
        Household {
            id: h.id,
            street_id: h.street_id,
            community_id: h.community_id,
            compound_id: h.compound_id,
            building_id: h.building_id,
            unit: h.unit,
            room: h.room,
        }
    }
}

impl From<&entity::household::Model> for Household {
    fn from(h: &entity::household::Model) -> Self {
        Household::from(h.clone())
    }
}

/// A compound and the places above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compound {
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
}

/// Where one household lies, by name.
#[derive(Debug, Clone, Default)]
pub struct HouseholdNames {
    pub community_name: String,
    pub compound_name: String,
    pub building_name: String,
    pub unit: String,
    pub room: String,
}
