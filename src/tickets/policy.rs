//! Where tickets lie, for the scope filter: their place, the company assigned, and the
//! requester (`Owner`).

use crate::access::policy::{scoped, Level, Scoped};
use sea_orm::EntityTrait;

scoped!(entity::ticket::Entity,
    Street => StreetId, Community => CommunityId, Compound => CompoundId, Building => BuildingId,
    PropertyCompany => AssignedCompanyId, Owner => RequesterUserId);
