//! Where office terms lie, for the scope filter: staff reach the terms of their part of the
//! territory (downward), with `OfficeRead` and `OfficeManage`.

use crate::access::policy::{scoped, Level, Scoped};
use sea_orm::EntityTrait;

scoped!(entity::office_term::Entity,
    Street => StreetId, Community => CommunityId, Compound => CompoundId, Building => BuildingId);
