//! Office terms' values: the bodies, the scope kinds, where each body may sit, the role a body
//! grants, and when a term ends in time.

use chrono::{DateTime, Days, FixedOffset, NaiveDate, Offset, TimeZone, Utc};

use crate::access::policy::{Level, Role};
pub use entity::office_term::{Body, OfficeScope, Source};

/// Longest `position` (主任, 副主任, 委员, 楼组长, 街面长, 议事员, 队长, 值班长 …), in characters.
pub const POSITION_MAX: usize = 20;
/// Longest `display_name`, in characters.
pub const NAME_MAX: usize = 100;
/// Longest end reason, in characters.
pub const REASON_MAX: usize = 500;
/// The end reason the expiry job writes.
pub const EXPIRED: &str = "expired";

/// The territory level of a scope kind.
pub fn level(scope: OfficeScope) -> Level {
    match scope {
        OfficeScope::Street => Level::Street,
        OfficeScope::Community => Level::Community,
        OfficeScope::Compound => Level::Compound,
        OfficeScope::Building => Level::Building,
    }
}

/// The scope kind a body must sit on, if it is bound to one: 楼组长 on a building, 街面长 on a
/// compound (a street-front or mixed one, checked against the compound), 居委会 and 议事会 on a
/// community. Stewards, teams and duty rooms sit anywhere.
pub fn required_scope(body: Body) -> Option<OfficeScope> {
    match body {
        Body::BuildingLeader => Some(OfficeScope::Building),
        Body::StreetLeader => Some(OfficeScope::Compound),
        Body::ResidentsCommittee | Body::Council => Some(OfficeScope::Community),
        Body::NeighbourSteward | Body::Team | Body::DutyRoom => None,
    }
}

/// The role a term of `body` grants, when it grants one (on the term's own scope).
pub fn granted_role(body: Body) -> Option<Role> {
    match body {
        Body::BuildingLeader => Some(Role::BuildingLeader),
        Body::StreetLeader => Some(Role::StreetLeader),
        Body::ResidentsCommittee | Body::Council => Some(Role::CouncilMember),
        Body::NeighbourSteward | Body::Team | Body::DutyRoom => None,
    }
}

/// Asia/Shanghai: UTC+8 all year, no daylight saving.
fn shanghai() -> FixedOffset {
    // 8 hours is in range; the fallback is never taken.
    FixedOffset::east_opt(8 * 3600).unwrap_or(Utc.fix())
}

/// The date it is at `now` in Asia/Shanghai (terms are dated in local days).
pub fn today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&shanghai()).date_naive()
}

/// The instant a term ending on `ends_on` (inclusive) is over: 00:00 of the next day in
/// Asia/Shanghai.
pub fn end_instant(ends_on: NaiveDate) -> DateTime<Utc> {
    let next = ends_on.checked_add_days(Days::new(1)).unwrap_or(ends_on);
    let midnight = next.and_hms_opt(0, 0, 0).unwrap_or_default();
    shanghai()
        .from_local_datetime(&midnight)
        .single()
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

/// The last day of a term whose role expired at `valid_until` (the inverse of
/// [`end_instant`]).
pub fn last_day(valid_until: DateTime<Utc>) -> NaiveDate {
    let day = today(valid_until);
    day.checked_sub_days(Days::new(1)).unwrap_or(day)
}

/// Whether a term is current on `today`: started, not ended, and not past its last day.
pub fn is_current(
    starts_on: NaiveDate,
    ends_on: Option<NaiveDate>,
    ended_on: Option<NaiveDate>,
    today: NaiveDate,
) -> bool {
    starts_on <= today && ended_on.is_none() && ends_on.is_none_or(|e| e >= today)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_term_ends_at_midnight_shanghai_after_its_last_day() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        let end = end_instant(d);
        assert_eq!(end.to_rfc3339(), "2026-12-31T16:00:00+00:00");
        assert_eq!(last_day(end), d);
        assert_eq!(today(end), NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
    }

    #[test]
    fn every_body_that_grants_a_role_is_bound_to_the_roles_scope() {
        use sea_orm::Iterable;
        for b in Body::iter() {
            if let Some(role) = granted_role(b) {
                let scope = required_scope(b).expect("a granting body has a scope");
                assert_eq!(
                    level(scope),
                    match role.scope_type() {
                        crate::access::ScopeType::Building => Level::Building,
                        crate::access::ScopeType::Compound => Level::Compound,
                        crate::access::ScopeType::Community => Level::Community,
                        _ => Level::Owner,
                    }
                );
            }
        }
    }
}
