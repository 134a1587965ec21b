//! Where identity rows lie, for the scope filter.

use crate::access::policy::{scoped, Level, Scoped};
use sea_orm::EntityTrait;

scoped!(entity::role_assignment::Entity, Street => StreetId);
scoped!(entity::binding_request::Entity,
    Street => StreetId, Community => CommunityId, Compound => CompoundId, Building => BuildingId,
    Household => HouseholdId);
