//! How often one staff member may look residents up by phone or reveal their personal data.

use crate::platform::error::ProblemCode;
use crate::platform::limits::Hourly;

/// Phone lookups (`GET /residents?phone=`) one staff member may make per hour.
pub const PHONE_LOOKUPS_PER_HOUR: u64 = 100;
/// Reveals one staff member may make per hour.
pub const REVEALS_PER_HOUR: u64 = 100;

pub const PHONE_LOOKUPS: Hourly = Hourly {
    key: "phone_lookup",
    max: PHONE_LOOKUPS_PER_HOUR,
    code: ProblemCode::LookupLimit,
    zh: "按手机号查找",
    en: "phone lookups",
};

pub const REVEALS: Hourly = Hourly {
    key: "reveal",
    max: REVEALS_PER_HOUR,
    code: ProblemCode::RateLimited,
    zh: "查看完整信息",
    en: "reveals",
};
