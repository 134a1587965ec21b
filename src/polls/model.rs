//! A poll's typed values, its limits, and the rule arithmetic (pure, unit-tested).
//!
//! The rules are integer fractions with explicit strictness, so no float ever decides a vote:
//!
//! - quorum met ⇔ `P_q · q_den ⋛ E · q_num`, with `P_q = P` (or `P − A` when abstentions do not
//!   count for the quorum); no quorum when `q_den = 0`;
//! - passed ⇔ quorum met ∧ `Y · t_den ⋛ base · t_num`, with base `P` (`P − A` unless abstentions
//!   count in the threshold base), `P − A` (valid votes) or `E` (the eligible);
//! - `⋛` is `>` when strict (过半数, 超过: more than) and `≥` when not (以上: the number itself
//!   included, as 三分之二以上).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub use entity::poll::{
    BallotSource, BoxStatus, Channel, OfficerRole, Outcome, PollScope, Preset, QuestionKind,
    ResultsVisibility, RollStatus, Secrecy, Status, Subject, TallyKind, ThresholdBase, VoterUnit,
};

/// Characters of a title (a poll's, a question's).
pub const TITLE_MAX: usize = 80;
/// Characters of a description.
pub const DESCRIPTION_MAX: usize = 5_000;
/// Characters of an option's label.
pub const LABEL_MAX: usize = 50;
/// Characters of a reason (closing, cancelling, striking, adding, recounting).
pub const REASON_MAX: usize = 500;
/// Characters of a paper box's label.
pub const BOX_LABEL_MAX: usize = 30;
/// A paper box's location and schedule, each at most this many characters.
pub const BOX_PLACE_MAX: usize = 200;
/// Questions per poll, options per question (so at most 500 options in all: a paper box's
/// counts fit in one request body).
pub const QUESTIONS_MAX: usize = 10;
pub const OPTIONS_MAX: usize = 50;
/// Tags of an eligibility rule, and characters of one.
pub const TAGS_MAX: usize = 10;
pub const TAG_MAX: usize = 20;
/// The largest minimum age.
pub const MIN_AGE_MAX: i32 = 120;
/// Numerators and denominators of the rules.
pub const FRACTION_MAX: i32 = 1000;
/// How far ahead a poll may open, and how long it may stay open.
pub const SCHEDULE_MAX_DAYS: i64 = 366;
/// The anonymous ballots of a secret poll are published only when at least this many took
/// part (below it, a ballot is too easy to attribute).
pub const PUBLISH_BALLOTS_MIN: i32 = 10;
/// Paper ballots a box may be issued.
pub const BOX_ISSUED_MAX: i32 = 100_000;
/// Officers per poll.
pub const OFFICERS_MAX: usize = 50;
/// A rating's highest score.
pub const SCORE_MAX: i16 = 10;

/// Who is on the roll, stored as JSON with the poll.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PollEligibility)]
pub struct Eligibility {
    /// Residents at least this old on the day the roll is built (unit `resident`). Residents
    /// without a birth date are listed `needs_review`, never dropped. Null: any age.
    #[schema(minimum = 0, maximum = 120)]
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    pub min_age: Option<i32>,
    /// Only residents (households: with a resident) carrying any of these tags.
    #[serde(default)]
    #[schema(max_items = 10, max_length = 20, format = "text-line")]
    pub tags_any: Vec<String>,
    /// Only residents carrying all of these tags (unit `resident`).
    #[serde(default)]
    #[schema(max_items = 10, max_length = 20, format = "text-line")]
    pub tags_all: Vec<String>,
    /// Whether shops (商铺) and their contact persons are on the roll. Default false.
    #[serde(default)]
    pub include_shops: bool,
    /// Whether residents without a birth date count as eligible at once instead of
    /// `needs_review`. Default false.
    #[serde(default)]
    pub include_needs_review: bool,
}

/// The quorum and pass rules, with a preset already expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PollRules)]
pub struct Rules {
    /// Quorum: participants (P) against the eligible (E), `quorum_num / quorum_den`; a
    /// denominator of 0 means no quorum.
    #[schema(minimum = 0, maximum = 1000)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub quorum_num: i32,
    #[schema(minimum = 0, maximum = 1000)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub quorum_den: i32,
    /// true: more than (过半数, 超过); false: at least (以上, the fraction itself included).
    pub quorum_strict: bool,
    /// Pass: votes for (Y) against the base, `threshold_num / threshold_den`.
    #[schema(minimum = 0, maximum = 1000)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub threshold_num: i32,
    #[schema(minimum = 1, maximum = 1000)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub threshold_den: i32,
    /// true: more than (过半数); false: at least (以上).
    pub threshold_strict: bool,
    pub threshold_base: ThresholdBase,
    /// Whether abstentions (and blanks) count as participants for the quorum. Default true.
    pub abstain_in_quorum: bool,
    /// Whether abstentions count in the threshold base `participants`. Default false.
    pub abstain_in_threshold_base: bool,
}

impl Rules {
    /// The rules of a preset (`custom` has none: its fields are given).
    pub fn preset(p: Preset) -> Option<Rules> {
        let base = Rules {
            quorum_num: 0,
            quorum_den: 0,
            quorum_strict: true,
            threshold_num: 1,
            threshold_den: 2,
            threshold_strict: true,
            threshold_base: ThresholdBase::Valid,
            abstain_in_quorum: true,
            abstain_in_threshold_base: false,
        };
        match p {
            // 居民会议: more than half of the eligible take part, and more than half of those
            // who took part agree (an abstainer took part: the base counts them).
            Preset::ResidentsMeeting => Some(Rules {
                quorum_num: 1,
                quorum_den: 2,
                threshold_base: ThresholdBase::Participants,
                abstain_in_threshold_base: true,
                ..base
            }),
            Preset::SimpleMajority => Some(base),
            Preset::TwoThirds => Some(Rules {
                threshold_num: 2,
                threshold_den: 3,
                threshold_strict: false,
                ..base
            }),
            Preset::Custom => None,
        }
    }

    /// The rules of a stored poll.
    pub fn of(p: &entity::poll::Model) -> Rules {
        Rules {
            quorum_num: p.quorum_num,
            quorum_den: p.quorum_den,
            quorum_strict: p.quorum_strict,
            threshold_num: p.threshold_num,
            threshold_den: p.threshold_den,
            threshold_strict: p.threshold_strict,
            threshold_base: p.threshold_base,
            abstain_in_quorum: p.abstain_in_quorum,
            abstain_in_threshold_base: p.abstain_in_threshold_base,
        }
    }

    /// The fields that are wrong, as `(field, why)`: fractions within 0..=1 (a quorum may be
    /// none), numbers within [`FRACTION_MAX`].
    pub fn problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        let ok = |n: i32| (0..=FRACTION_MAX).contains(&n);
        if !ok(self.quorum_num) || !ok(self.quorum_den) || self.quorum_num > self.quorum_den {
            out.push(("quorum_num", "法定人数比例须在 0 到 1 之间"));
        }
        if !ok(self.threshold_num)
            || !(1..=FRACTION_MAX).contains(&self.threshold_den)
            || self.threshold_num > self.threshold_den
        {
            out.push(("threshold_num", "通过比例须在 0 到 1 之间，分母至少为 1"));
        }
        out
    }
}

/// What the tally counts for one decision: E eligible, P participants, A abstentions and
/// blanks, Y votes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub eligible: i64,
    pub participants: i64,
    pub abstentions: i64,
    pub yes: i64,
}

fn beats(lhs: i64, rhs: i64, strict: bool) -> bool {
    if strict {
        lhs > rhs
    } else {
        lhs >= rhs
    }
}

/// Whether the quorum is met (always, without one).
pub fn quorum_met(r: &Rules, c: &Counts) -> bool {
    if r.quorum_den == 0 {
        return true;
    }
    let p = if r.abstain_in_quorum {
        c.participants
    } else {
        c.participants - c.abstentions
    };
    beats(
        p * i64::from(r.quorum_den),
        c.eligible * i64::from(r.quorum_num),
        r.quorum_strict,
    )
}

/// The base the threshold is measured against.
pub fn threshold_base(r: &Rules, c: &Counts) -> i64 {
    match r.threshold_base {
        ThresholdBase::Participants if r.abstain_in_threshold_base => c.participants,
        ThresholdBase::Participants | ThresholdBase::Valid => c.participants - c.abstentions,
        ThresholdBase::Eligible => c.eligible,
    }
}

/// Whether the votes for pass the threshold (the quorum aside). Nobody voting for never passes.
pub fn threshold_met(r: &Rules, c: &Counts) -> bool {
    c.yes > 0
        && beats(
            c.yes * i64::from(r.threshold_den),
            threshold_base(r, c) * i64::from(r.threshold_num),
            r.threshold_strict,
        )
}

/// The outcome of one decision.
pub fn outcome(r: &Rules, c: &Counts) -> Outcome {
    if !quorum_met(r, c) {
        Outcome::NoQuorum
    } else if threshold_met(r, c) {
        Outcome::Passed
    } else {
        Outcome::Failed
    }
}

/// Ranks of vote counts: 1 for the most, ties share a rank, the next rank skips (1, 1, 3).
pub fn ranks(votes: &[i64]) -> Vec<i32> {
    votes
        .iter()
        .map(|v| 1 + votes.iter().filter(|o| *o > v).count() as i32)
        .collect()
}

/// The roll hash: SHA-256, in lowercase hex, of the voter keys (lowercase hyphenated UUIDs)
/// sorted ascending as text and joined by a line feed `\n` (none after the last). The keys are
/// those of every entry on the roll when the poll opened (struck ones included); late additions
/// are not part of it.
pub fn roll_sha256(keys: &[Uuid]) -> String {
    use sha2::{Digest, Sha256};
    let mut texts: Vec<String> = keys.iter().map(|k| k.hyphenated().to_string()).collect();
    texts.sort();
    let digest = Sha256::digest(texts.join("\n").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The Chinese label of a status.
pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Draft => "草稿",
        Status::Scheduled => "待开始",
        Status::Open => "投票中",
        Status::Closed => "已结束",
        Status::Cancelled => "已取消",
    }
}

/// The Chinese label of an outcome.
pub fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "通过",
        Outcome::Failed => "未通过",
        Outcome::NoQuorum => "未达法定人数",
        Outcome::Void => "无效",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(e: i64, p: i64, a: i64, y: i64) -> Counts {
        Counts {
            eligible: e,
            participants: p,
            abstentions: a,
            yes: y,
        }
    }

    fn custom(
        qn: i32,
        qd: i32,
        qs: bool,
        tn: i32,
        td: i32,
        ts: bool,
        base: ThresholdBase,
    ) -> Rules {
        Rules {
            quorum_num: qn,
            quorum_den: qd,
            quorum_strict: qs,
            threshold_num: tn,
            threshold_den: td,
            threshold_strict: ts,
            threshold_base: base,
            abstain_in_quorum: true,
            abstain_in_threshold_base: false,
        }
    }

    /// §A9 13: the table around every strict and non-strict boundary.
    #[test]
    fn quorum_and_threshold_use_integer_math_and_strictness() {
        use ThresholdBase::*;
        let half_strict = custom(1, 2, true, 1, 2, true, Participants);
        let half_inclusive = custom(1, 2, false, 1, 2, false, Participants);
        let two_thirds = Rules::preset(Preset::TwoThirds).unwrap();
        let meeting = Rules::preset(Preset::ResidentsMeeting).unwrap();
        // (rules, E, P, A, Y, quorum met, outcome)
        let table: Vec<(Rules, Counts, bool, Outcome)> = vec![
            // E=10, P=5, strict ½: no quorum; P=6: quorum.
            (half_strict, c(10, 5, 0, 5), false, Outcome::NoQuorum),
            (half_strict, c(10, 6, 0, 4), true, Outcome::Passed),
            (half_strict, c(10, 6, 0, 3), true, Outcome::Failed),
            // Inclusive ½: exactly half is enough, for the quorum and for the threshold.
            (half_inclusive, c(10, 5, 0, 3), true, Outcome::Passed),
            (half_inclusive, c(10, 6, 0, 3), true, Outcome::Passed),
            (half_inclusive, c(10, 4, 0, 4), false, Outcome::NoQuorum),
            // Two thirds, non-strict: exactly two thirds passes; one vote less fails.
            (two_thirds, c(9, 9, 0, 6), true, Outcome::Passed),
            (two_thirds, c(9, 9, 0, 5), true, Outcome::Failed),
            (two_thirds, c(100, 3, 0, 2), true, Outcome::Passed),
            // 居民会议: 5 of 10 is not more than half; 6 of 10 is; then more than half of those.
            (meeting, c(10, 5, 0, 5), false, Outcome::NoQuorum),
            (meeting, c(10, 6, 0, 4), true, Outcome::Passed),
            (meeting, c(10, 6, 0, 3), true, Outcome::Failed),
            (meeting, c(11, 6, 2, 3), true, Outcome::Failed),
            // Base: the eligible.
            (
                custom(0, 0, true, 1, 2, true, Eligible),
                c(10, 8, 0, 6),
                true,
                Outcome::Passed,
            ),
            (
                custom(0, 0, true, 1, 2, true, Eligible),
                c(10, 8, 0, 5),
                true,
                Outcome::Failed,
            ),
            // Nobody voted: never passes.
            (
                custom(0, 0, true, 0, 1, false, Valid),
                c(10, 0, 0, 0),
                true,
                Outcome::Failed,
            ),
            // Large numbers do not overflow.
            (
                half_strict,
                c(
                    i64::from(i32::MAX),
                    i64::from(i32::MAX),
                    0,
                    i64::from(i32::MAX),
                ),
                true,
                Outcome::Passed,
            ),
        ];
        for (i, (r, counts, q, o)) in table.iter().enumerate() {
            assert_eq!(quorum_met(r, counts), *q, "row {i}: quorum");
            assert_eq!(outcome(r, counts), *o, "row {i}: outcome");
        }
    }

    /// §A9 14: abstentions count for the quorum, not in the threshold base, by default.
    #[test]
    fn abstain_counts_for_quorum_not_threshold_by_default() {
        let r = custom(1, 2, true, 1, 2, true, ThresholdBase::Participants);
        // E=10, P=6 of whom 3 abstain: quorum met (6 > 5); Y=2 of the 3 valid: passed.
        let counts = c(10, 6, 3, 2);
        assert!(quorum_met(&r, &counts));
        assert_eq!(threshold_base(&r, &counts), 3);
        assert_eq!(outcome(&r, &counts), Outcome::Passed);
        // Counting abstentions in the base, 2 of 6 fails.
        let with = Rules {
            abstain_in_threshold_base: true,
            ..r
        };
        assert_eq!(outcome(&with, &counts), Outcome::Failed);
        // Not counting them for the quorum, 3 of 10 is no quorum.
        let without = Rules {
            abstain_in_quorum: false,
            ..r
        };
        assert_eq!(outcome(&without, &counts), Outcome::NoQuorum);
    }

    #[test]
    fn ties_share_a_rank_and_the_next_skips() {
        assert_eq!(ranks(&[5, 7, 5, 1]), vec![2, 1, 2, 4]);
        assert_eq!(ranks(&[]), Vec::<i32>::new());
    }

    #[test]
    fn the_roll_hash_is_over_the_sorted_keys_joined_by_line_feeds() {
        let a = Uuid::parse_str("00000000-0000-4000-8000-000000000002").unwrap();
        let b = Uuid::parse_str("00000000-0000-4000-8000-000000000001").unwrap();
        use sha2::{Digest, Sha256};
        let expected: String = Sha256::digest(
            b"00000000-0000-4000-8000-000000000001\n00000000-0000-4000-8000-000000000002",
        )
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
        assert_eq!(roll_sha256(&[a, b]), expected);
        assert_eq!(roll_sha256(&[b, a]), expected);
    }

    #[test]
    fn presets_are_valid_rules() {
        for p in [
            Preset::ResidentsMeeting,
            Preset::SimpleMajority,
            Preset::TwoThirds,
        ] {
            assert!(Rules::preset(p).unwrap().problems().is_empty());
        }
        assert!(Rules::preset(Preset::Custom).is_none());
    }
}
