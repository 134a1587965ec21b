//! How every time in a response is written: RFC 3339 in UTC with exactly three fractional
//! digits (`2026-11-30T12:05:00.000Z`). chrono's own format varies with the value (no fraction
//! when it is zero, nine digits when the database kept nanoseconds); a client parsing with
//! one fixed pattern (the mini-program's `Date`, a generated TypeScript client) needs one
//! shape. Use with `#[serde(serialize_with = "crate::platform::rfc3339::ms")]` (`ms_opt` for options).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

/// `t` as `YYYY-MM-DDTHH:MM:SS.sssZ` (truncated to the millisecond).
pub fn format(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn ms<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(t))
}

pub fn ms_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => ms(t, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_three_fractional_digits_and_z() {
        let whole = DateTime::<Utc>::from_timestamp(1_790_000_000, 0).unwrap();
        assert_eq!(format(&whole), "2026-09-21T14:13:20.000Z");
        let nanos = DateTime::<Utc>::from_timestamp(1_790_000_000, 123_456_789).unwrap();
        assert_eq!(format(&nanos), "2026-09-21T14:13:20.123Z");
    }
}
