//! An election's typed values, its rules (policy per election, defaulted from §A4.1) and the
//! count: who is elected from a poll's per-candidate votes, with integer arithmetic only.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub use entity::candidate::{CandidateStatus, NominationKind};
pub use entity::election::{ElectionBody, ElectionScope, Method, Status};
pub use entity::election_officer::OfficerRole;
pub use entity::roll_objection::{ObjectionKind, ObjectionStatus};

use crate::offices::model::{self as offices, Body, OfficeScope};

/// Characters of a title.
pub const TITLE_MAX: usize = 80;
/// Characters of a position's name (主任, 副主任, 委员, 楼组长 …), as an office term's.
pub const POSITION_MAX: usize = offices::POSITION_MAX;
/// Positions of one election.
pub const POSITIONS_MAX: usize = 10;
/// Seats of one position (a 居委会 has 5 to 9 members).
pub const SEATS_MAX: i32 = 20;
/// Characters of a candidate's statement.
pub const STATEMENT_MAX: usize = 500;
/// Characters of a reason or note.
pub const REASON_MAX: usize = 500;
/// Years of a term (a 居委会's is 5).
pub const TERM_YEARS_MAX: i32 = 10;
/// Days of a timeline rule.
pub const DAYS_MAX: i32 = 90;
/// Largest numerator or denominator of a share.
pub const SHARE_MAX: i32 = 100;
/// Most joint nominators a rule may require.
pub const NOMINATORS_MAX: i32 = 1000;
/// How long voting may last, in days.
pub const VOTING_DAYS_MAX: i64 = 31;

/// The office body an election fills.
pub fn office_body(b: ElectionBody) -> Body {
    match b {
        ElectionBody::ResidentsCommittee => Body::ResidentsCommittee,
        ElectionBody::BuildingLeader => Body::BuildingLeader,
        ElectionBody::StreetLeader => Body::StreetLeader,
        ElectionBody::Council => Body::Council,
        ElectionBody::NeighbourSteward => Body::NeighbourSteward,
    }
}

/// The office scope kind of an election's node.
pub fn office_scope(s: ElectionScope) -> OfficeScope {
    match s {
        ElectionScope::Community => OfficeScope::Community,
        ElectionScope::Compound => OfficeScope::Compound,
        ElectionScope::Building => OfficeScope::Building,
    }
}

/// Whether `body` may be elected on a node of kind `scope`: where the offices registry says the
/// body sits (`offices::model::required_scope`), anywhere for the bodies it leaves free.
pub fn body_fits(body: ElectionBody, scope: ElectionScope) -> bool {
    offices::required_scope(office_body(body)).is_none_or(|want| want == office_scope(scope))
}

/// The Chinese name of a status, for screens.
pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Draft => "草稿",
        Status::RollPublished => "选民名单已公布",
        Status::Nominating => "提名中",
        Status::CandidatesPublished => "候选人已公布",
        Status::Voting => "投票中",
        Status::Counting => "计票中",
        Status::Certified => "已核验",
        Status::Published => "结果已公布",
        Status::Void => "选举无效",
        Status::Cancelled => "已取消",
    }
}

/// The rules of one election (§A4.1), editable per election while it is a draft. Shares are
/// integer fractions; `*_strict` says "more than" (过半数, 超过) rather than "at least" (以上).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// The election is valid when the voters who voted are more than (strict) or at least this
    /// share of the registered voters. Default 1/2, strict (过半数).
    #[schema(minimum = 0, maximum = 100)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub validity_num: i32,
    #[schema(minimum = 1, maximum = 100)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub validity_den: i32,
    pub validity_strict: bool,
    /// A candidate wins with more than (strict) or at least this share of the ballots cast.
    /// Default 1/2, strict.
    #[schema(minimum = 0, maximum = 100)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub win_num: i32,
    #[schema(minimum = 1, maximum = 100)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub win_den: i32,
    pub win_strict: bool,
    /// In a runoff (另行选举) the most votes win, with at least this share of the ballots cast.
    /// Default 1/3.
    #[schema(minimum = 0, maximum = 100)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub runoff_min_num: i32,
    #[schema(minimum = 1, maximum = 100)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub runoff_min_den: i32,
    /// 差额选举: every position needs more qualified candidates than seats. Default true.
    pub contested: bool,
    /// Women among those elected (0 = no rule). Default 0.
    #[schema(minimum = 0, maximum = 20)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub min_women: i32,
    /// The roll is published at least this many days before voting starts. Default 20.
    #[schema(minimum = 0, maximum = 90)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub roll_publish_days: i32,
    /// The candidates are published at least this many days before voting starts. Default 5.
    #[schema(minimum = 0, maximum = 90)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub candidates_publish_days: i32,
    /// Residents a joint nomination (联名) needs before the candidate may be qualified.
    /// Default 10.
    #[schema(minimum = 1, maximum = 1000)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub joint_nominators_min: i32,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            validity_num: 1,
            validity_den: 2,
            validity_strict: true,
            win_num: 1,
            win_den: 2,
            win_strict: true,
            runoff_min_num: 1,
            runoff_min_den: 3,
            contested: true,
            min_women: 0,
            roll_publish_days: 20,
            candidates_publish_days: 5,
            joint_nominators_min: 10,
        }
    }
}

impl Rules {
    /// The rules as stored on `e`.
    pub fn of(e: &entity::election::Model) -> Self {
        Rules {
            validity_num: e.validity_num,
            validity_den: e.validity_den,
            validity_strict: e.validity_strict,
            win_num: e.win_num,
            win_den: e.win_den,
            win_strict: e.win_strict,
            runoff_min_num: e.runoff_min_num,
            runoff_min_den: e.runoff_min_den,
            contested: e.contested,
            min_women: e.min_women,
            roll_publish_days: e.roll_publish_days,
            candidates_publish_days: e.candidates_publish_days,
            joint_nominators_min: e.joint_nominators_min,
        }
    }

    /// The fields out of range, by name (empty when all are fine).
    pub fn out_of_range(&self) -> Vec<&'static str> {
        let share =
            |n: i32, d: i32| (0..=SHARE_MAX).contains(&n) && (1..=SHARE_MAX).contains(&d) && n <= d;
        let mut bad = Vec::new();
        if !share(self.validity_num, self.validity_den) {
            bad.push("rules.validity_num");
        }
        if !share(self.win_num, self.win_den) {
            bad.push("rules.win_num");
        }
        if !share(self.runoff_min_num, self.runoff_min_den) {
            bad.push("rules.runoff_min_num");
        }
        if !(0..=SEATS_MAX).contains(&self.min_women) {
            bad.push("rules.min_women");
        }
        if !(0..=DAYS_MAX).contains(&self.roll_publish_days) {
            bad.push("rules.roll_publish_days");
        }
        if !(0..=DAYS_MAX).contains(&self.candidates_publish_days) {
            bad.push("rules.candidates_publish_days");
        }
        if !(1..=NOMINATORS_MAX).contains(&self.joint_nominators_min) {
            bad.push("rules.joint_nominators_min");
        }
        bad
    }
}

/// `part / whole` against `num / den`: more than (strict) or at least, in integers.
pub fn meets(part: i64, whole: i64, num: i32, den: i32, strict: bool) -> bool {
    let (l, r) = (part * i64::from(den), whole * i64::from(num));
    if strict {
        l > r
    } else {
        l >= r
    }
}

/// Whether the turnout makes the election valid: `voted` of `registered`.
pub fn valid(rules: &Rules, registered: i64, voted: i64) -> bool {
    registered > 0
        && meets(
            voted,
            registered,
            rules.validity_num,
            rules.validity_den,
            rules.validity_strict,
        )
}

/// One candidate's votes in a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Votes {
    pub candidate_id: Uuid,
    pub votes: i64,
}

/// What a count decides for one position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Elected, by rank.
    pub elected: Vec<Uuid>,
    /// Seats the count leaves open (a tie at the cut-off, or too few reached the share).
    pub open_seats: i32,
    /// Who stands in the runoff for the open seats: those tied at the cut-off, or the best
    /// placed of the rest (at most twice the open seats, and every one tied with the last).
    pub runoff: Vec<Uuid>,
    /// Every candidate's rank (1 = most votes; ties share a rank).
    pub ranks: Vec<(Uuid, i32, i64)>,
    /// Whether the open seats come from a tie at the cut-off.
    pub tie: bool,
}

/// Counts one position with `seats` open: by rank, a candidate is elected when their votes
/// reach the share (`win_*` of `ballots` in a first count, `runoff_min_*` in a runoff, where the
/// most votes win) and they are not tied with a candidate the seats leave out.
pub fn count(rules: &Rules, seats: i32, ballots: i64, votes: &[Votes], runoff: bool) -> Outcome {
    let mut v = votes.to_vec();
    v.sort_by(|a, b| {
        b.votes
            .cmp(&a.votes)
            .then(a.candidate_id.cmp(&b.candidate_id))
    });
    let mut ranks = Vec::with_capacity(v.len());
    for (i, c) in v.iter().enumerate() {
        let rank = match i {
            0 => 1,
            _ if v[i - 1].votes == c.votes => ranks.last().map_or(1, |r: &(Uuid, i32, i64)| r.1),
            _ => i32::try_from(i + 1).unwrap_or(i32::MAX),
        };
        ranks.push((c.candidate_id, rank, c.votes));
    }
    let reaches = |n: i64| {
        n > 0
            && if runoff {
                meets(
                    n,
                    ballots,
                    rules.runoff_min_num,
                    rules.runoff_min_den,
                    false,
                )
            } else {
                meets(n, ballots, rules.win_num, rules.win_den, rules.win_strict)
            }
    };
    let seats_u = usize::try_from(seats.max(0)).unwrap_or(0);
    let eligible: Vec<&Votes> = v.iter().filter(|c| reaches(c.votes)).collect();
    let mut elected: Vec<Uuid> = Vec::new();
    let mut tied: Vec<Uuid> = Vec::new();
    if eligible.len() <= seats_u {
        elected.extend(eligible.iter().map(|c| c.candidate_id));
    } else {
        let cut = eligible[seats_u - 1].votes;
        let above: Vec<Uuid> = eligible
            .iter()
            .filter(|c| c.votes > cut)
            .map(|c| c.candidate_id)
            .collect();
        let at_cut: Vec<Uuid> = eligible
            .iter()
            .filter(|c| c.votes == cut)
            .map(|c| c.candidate_id)
            .collect();
        if above.len() + at_cut.len() <= seats_u {
            elected.extend(above.iter().chain(at_cut.iter()));
        } else {
            elected = above;
            tied = at_cut;
        }
    }
    let open = seats - i32::try_from(elected.len()).unwrap_or(seats);
    let tie = !tied.is_empty();
    let runoff_list = if open == 0 {
        Vec::new()
    } else if tie {
        tied
    } else {
        let rest: Vec<&Votes> = v
            .iter()
            .filter(|c| !elected.contains(&c.candidate_id))
            .collect();
        let want = usize::try_from(open * 2).unwrap_or(0).min(rest.len());
        let mut out: Vec<Uuid> = rest.iter().take(want).map(|c| c.candidate_id).collect();
        if let (Some(last), Some(_)) = (want.checked_sub(1).map(|i| rest[i].votes), rest.get(want))
        {
            out.extend(
                rest[want..]
                    .iter()
                    .filter(|c| c.votes == last)
                    .map(|c| c.candidate_id),
            );
        }
        out
    };
    Outcome {
        elected,
        open_seats: open,
        runoff: runoff_list,
        ranks,
        tie,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<Uuid> {
        let mut v: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
        v.sort();
        v
    }

    fn votes(ids: &[Uuid], n: &[i64]) -> Vec<Votes> {
        ids.iter()
            .zip(n)
            .map(|(c, v)| Votes {
                candidate_id: *c,
                votes: *v,
            })
            .collect()
    }

    #[test]
    fn more_than_half_of_ballots_wins_and_exactly_half_does_not() {
        let r = Rules::default();
        let c = ids(2);
        let o = count(&r, 1, 10, &votes(&c, &[6, 4]), false);
        assert_eq!(o.elected, vec![c[0]]);
        assert_eq!(o.open_seats, 0);
        let o = count(&r, 1, 10, &votes(&c, &[5, 5]), false);
        assert!(o.elected.is_empty());
        assert_eq!(o.open_seats, 1);
        assert!(o.tie || o.runoff.len() == 2);
    }

    #[test]
    fn a_tie_at_the_cut_off_elects_those_above_and_sends_the_tied_to_a_runoff() {
        let r = Rules {
            win_num: 1,
            win_den: 3,
            ..Rules::default()
        };
        let c = ids(4);
        let o = count(&r, 2, 12, &votes(&c, &[9, 5, 5, 1]), false);
        assert_eq!(o.elected, vec![c[0]]);
        assert!(o.tie);
        assert_eq!(o.open_seats, 1);
        assert_eq!(o.runoff.len(), 2);
        assert!(o.runoff.contains(&c[1]) && o.runoff.contains(&c[2]));
        assert_eq!(o.ranks[1].1, 2);
        assert_eq!(o.ranks[2].1, 2);
        assert_eq!(o.ranks[3].1, 4);
    }

    #[test]
    fn unfilled_seats_go_to_a_runoff_of_the_best_placed_and_a_runoff_needs_a_third() {
        let r = Rules::default();
        let c = ids(3);
        let o = count(&r, 1, 10, &votes(&c, &[4, 3, 3]), false);
        assert!(o.elected.is_empty() && !o.tie);
        assert_eq!(
            o.runoff.len(),
            3,
            "the last place tied with the second comes too"
        );
        let o = count(&r, 1, 9, &votes(&c, &[3, 2, 1]), true);
        assert_eq!(o.elected, vec![c[0]], "3 of 9 is a third");
        let o = count(&r, 1, 10, &votes(&c, &[3, 2, 1]), true);
        assert!(o.elected.is_empty(), "3 of 10 is less than a third");
    }

    #[test]
    fn validity_is_strict_more_than_half_by_default() {
        let r = Rules::default();
        assert!(!valid(&r, 10, 5));
        assert!(valid(&r, 10, 6));
        assert!(!valid(&r, 0, 0));
        assert!(Rules::default().out_of_range().is_empty());
    }
}
