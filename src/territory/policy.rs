//! Where territory rows lie, for the scope filter.

use crate::access::policy::{scoped, Level, Scoped};
use sea_orm::EntityTrait;

scoped!(entity::street::Entity, Street => Id);
scoped!(entity::community::Entity, Street => StreetId, Community => Id);
scoped!(entity::property_company::Entity, Street => StreetId, PropertyCompany => Id);
scoped!(entity::compound::Entity,
    Street => StreetId, Community => CommunityId, PropertyCompany => PropertyCompanyId, Compound => Id);
scoped!(entity::grid::Entity, Street => StreetId, Community => CommunityId, Grid => Id);
scoped!(entity::building::Entity,
    Street => StreetId, Community => CommunityId, Compound => CompoundId, Building => Id);
scoped!(entity::household::Entity,
    Street => StreetId, Community => CommunityId, Compound => CompoundId, Building => BuildingId,
    Household => Id);
