//! Counting: a tally from the stored ballots and the confirmed paper boxes, written
//! append-only (`poll_tallies`) with the latest counts per option (`poll_results`) and the
//! outcome; the results as screens and other domains read them; the paper/online
//! reconciliation.
//!
//! Per question: an option's votes are its online choices (a rating's: the sum of scores) plus
//! its confirmed paper counts. `P` is the roll's `voted` entries (online ballots plus paper
//! ballots issued); a participant who chose nothing on a question (a blank, or a paper ballot
//! issued and not returned) counts as a blank there, and `A` = abstain votes + blanks. The
//! decision questions (`yes_no_abstain`: Y = 同意; `single`, `multiple`: Y = the top option)
//! decide the outcome with the poll's rules (`model::outcome`); ratings and candidates are
//! ranked only (an election applies its own rules to the ranks).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::error::{AppError, AppResult};
use crate::polls::model::{
    self, BallotSource, BoxStatus, Counts, Outcome, QuestionKind, RollStatus, Rules, TallyKind,
};
use crate::polls::service::rows as engine;
use entity::{
    ballot_choice, poll, poll_ballot, poll_box, poll_option, poll_question, poll_result, poll_roll,
    poll_tally,
};

/// Who made a tally and why.
#[derive(Debug, Clone)]
pub struct Made {
    pub kind: TallyKind,
    pub by: Option<Uuid>,
    pub second: Option<Uuid>,
    pub reason: Option<String>,
}

/// One paper count: votes for an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PollPaperCount)]
pub struct PaperCount {
    pub option_id: Uuid,
    #[schema(minimum = 0, maximum = 100000)]
    #[serde(deserialize_with = "crate::platform::http::integer")]
    pub votes: i32,
}

/// The counts of a box as stored.
pub fn box_counts(b: &poll_box::Model) -> Vec<PaperCount> {
    b.counts
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default()
}

/// An option's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = PollOptionResult)]
pub struct OptionResult {
    pub option_id: Uuid,
    pub label: String,
    pub candidate_id: Option<Uuid>,
    pub is_abstain: bool,
    pub votes: i32,
    /// 1 for the most votes; ties share a rank; 0 for an abstain option.
    pub rank: i32,
}

/// A question's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = PollQuestionResult)]
pub struct QuestionResult {
    pub question_id: Uuid,
    pub title: String,
    pub kind: QuestionKind,
    pub seats: Option<i32>,
    /// Participants who chose nothing here (blank, or a paper ballot not returned).
    pub blank: i32,
    /// Abstain votes plus blanks.
    pub abstentions: i32,
    pub options: Vec<OptionResult>,
}

/// The results of the latest tally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = PollResults)]
pub struct PollResults {
    pub tally_id: Uuid,
    pub tally_kind: TallyKind,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub tallied_at: DateTime<Utc>,
    /// E: roll entries eligible or voted (struck and unresolved needs_review excluded).
    pub eligible: i32,
    /// P: roll entries voted (online ballots + paper ballots issued).
    pub participants: i32,
    /// A of the first decision question (abstain votes + blanks).
    pub abstentions: i32,
    /// Voters added while the poll was open (part of E, counted separately here).
    pub late_additions: i32,
    pub quorum_met: bool,
    pub outcome: Outcome,
    pub roll_size: Option<i32>,
    pub roll_sha256: Option<String>,
    pub questions: Vec<QuestionResult>,
}

struct Computed {
    counts: BTreeMap<Uuid, BTreeMap<String, i64>>,
    results: Vec<(Uuid, Uuid, i64, i32)>,
    eligible: i64,
    participants: i64,
    abstentions: i64,
    quorum_met: bool,
    outcome: Outcome,
}

/// Paper and online ballots side by side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciliation {
    /// Ballots stored online.
    pub online_ballots: i64,
    /// Voters a teller marked as handed a paper ballot.
    pub paper_issued: i64,
    /// Roll entries `voted`.
    pub roll_voted: i64,
    /// `online_ballots + paper_issued == roll_voted`.
    pub balanced: bool,
    pub boxes: Vec<BoxState>,
    /// Every box's counts are confirmed by a second teller (true when there are no boxes).
    pub all_boxes_confirmed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoxState {
    pub id: Uuid,
    pub label: String,
    pub issued_count: i32,
    pub marked_count: i32,
    pub returned_count: Option<i32>,
    pub status: BoxStatus,
}

/// `ballot_choices c JOIN poll_ballots b` of the ballots of `poll_id`, grouped by question
/// (and, with `by_option`, option); the caller adds what it selects.
fn choices_of_poll(poll_id: Uuid, by_option: bool) -> SelectStatement {
    let c = Alias::new("c");
    let b = Alias::new("b");
    let mut q = Query::select();
    q.expr_as(
        Expr::col((c.clone(), ballot_choice::Column::QuestionId)),
        Alias::new("question_id"),
    )
    .from_as(ballot_choice::Entity, c.clone())
    .join_as(
        sea_orm::JoinType::InnerJoin,
        poll_ballot::Entity,
        b.clone(),
        Expr::col((b.clone(), poll_ballot::Column::Id))
            .equals((c.clone(), ballot_choice::Column::BallotId)),
    )
    .and_where(Expr::col((b, poll_ballot::Column::PollId)).eq(poll_id))
    .group_by_col((c.clone(), ballot_choice::Column::QuestionId));
    if by_option {
        q.expr_as(
            Expr::col((c.clone(), ballot_choice::Column::OptionId)),
            Alias::new("option_id"),
        )
        .group_by_col((c, ballot_choice::Column::OptionId));
    }
    q
}

/// Online choices per (question, option): how many ballots chose it, the sum of scores.
async fn online_counts<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
) -> AppResult<HashMap<(Uuid, Uuid), (i64, i64)>> {
    let c = Alias::new("c");
    let mut q = choices_of_poll(poll_id, true);
    q.expr_as(
        Expr::col((c.clone(), ballot_choice::Column::BallotId)).count(),
        Alias::new("n"),
    )
    .expr_as(
        Expr::col((c, ballot_choice::Column::Score)).sum(),
        Alias::new("score"),
    );
    let mut out = HashMap::new();
    for r in conn
        .query_all(conn.get_database_backend().build(&q))
        .await?
    {
        let n: i64 = r.try_get("", "n")?;
        // SUM of a smallint is a bigint on PostgreSQL, an integer on SQLite; NUMERIC nowhere.
        let score: i64 = r.try_get::<Option<i64>>("", "score")?.unwrap_or(n);
        out.insert(
            (r.try_get("", "question_id")?, r.try_get("", "option_id")?),
            (n, score),
        );
    }
    Ok(out)
}

/// Online ballots that chose something on each question.
async fn online_answered<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
) -> AppResult<HashMap<Uuid, i64>> {
    let mut q = choices_of_poll(poll_id, false);
    q.expr_as(
        Expr::col((Alias::new("c"), ballot_choice::Column::BallotId)).count_distinct(),
        Alias::new("n"),
    );
    let mut out = HashMap::new();
    for r in conn
        .query_all(conn.get_database_backend().build(&q))
        .await?
    {
        out.insert(r.try_get("", "question_id")?, r.try_get::<i64>("", "n")?);
    }
    Ok(out)
}

async fn compute<C: ConnectionTrait>(conn: &C, p: &poll::Model) -> AppResult<Computed> {
    let questions = poll_question::Entity::find()
        .filter(poll_question::Column::PollId.eq(p.id))
        .order_by_asc(poll_question::Column::Position)
        .all(conn)
        .await?;
    let options = poll_option::Entity::find()
        .filter(poll_option::Column::PollId.eq(p.id))
        .order_by_asc(poll_option::Column::Position)
        .all(conn)
        .await?;
    let eligible =
        engine::count_status(conn, p.id, &[RollStatus::Eligible, RollStatus::Voted]).await?;
    let participants = engine::count_status(conn, p.id, &[RollStatus::Voted]).await?;
    let online = online_counts(conn, p.id).await?;
    let answered = online_answered(conn, p.id).await?;
    let boxes = poll_box::Entity::find()
        .filter(poll_box::Column::PollId.eq(p.id))
        .filter(poll_box::Column::Status.eq(BoxStatus::Confirmed))
        .all(conn)
        .await?;
    let mut paper: HashMap<Uuid, i64> = HashMap::new();
    let mut returned: i64 = 0;
    for b in &boxes {
        returned += i64::from(b.returned_count.unwrap_or(0));
        for c in box_counts(b) {
            *paper.entry(c.option_id).or_default() += i64::from(c.votes);
        }
    }
    let rules = Rules::of(p);
    let mut counts = BTreeMap::new();
    let mut results = Vec::new();
    let mut decisions: Vec<Counts> = Vec::new();
    for q in &questions {
        let mine: Vec<&poll_option::Model> =
            options.iter().filter(|o| o.question_id == q.id).collect();
        let votes: Vec<i64> = mine
            .iter()
            .map(|o| {
                let (n, score) = online.get(&(q.id, o.id)).copied().unwrap_or((0, 0));
                let online = if q.kind == QuestionKind::Rating {
                    score
                } else {
                    n
                };
                online + paper.get(&o.id).copied().unwrap_or(0)
            })
            .collect();
        let paper_answered = match q.kind {
            QuestionKind::Single | QuestionKind::YesNoAbstain => returned.min(
                mine.iter()
                    .map(|o| paper.get(&o.id).copied().unwrap_or(0))
                    .sum(),
            ),
            _ => returned,
        };
        let blank =
            (participants - answered.get(&q.id).copied().unwrap_or(0) - paper_answered).max(0);
        let abstain: i64 = mine
            .iter()
            .zip(&votes)
            .filter(|(o, _)| o.is_abstain)
            .map(|(_, v)| *v)
            .sum();
        let ranked: Vec<i64> = mine
            .iter()
            .zip(&votes)
            .map(|(o, v)| if o.is_abstain { -1 } else { *v })
            .collect();
        let ranks = model::ranks(&ranked);
        let mut per: BTreeMap<String, i64> = BTreeMap::new();
        for ((o, v), rank) in mine.iter().zip(&votes).zip(&ranks) {
            per.insert(o.id.to_string(), *v);
            results.push((q.id, o.id, *v, if o.is_abstain { 0 } else { *rank }));
        }
        per.insert("blank".into(), blank);
        counts.insert(q.id, per);
        let yes = match q.kind {
            QuestionKind::YesNoAbstain => votes.first().copied(),
            QuestionKind::Single | QuestionKind::Multiple => {
                ranked.iter().copied().filter(|v| *v >= 0).max()
            }
            QuestionKind::Rating | QuestionKind::Candidates => None,
        };
        if let Some(yes) = yes {
            decisions.push(Counts {
                eligible,
                participants,
                abstentions: abstain + blank,
                yes,
            });
        }
    }
    let first = decisions.first().copied().unwrap_or(Counts {
        eligible,
        participants,
        abstentions: 0,
        yes: 0,
    });
    let quorum_met = model::quorum_met(&rules, &first);
    let outcome = if !quorum_met {
        Outcome::NoQuorum
    } else if decisions.iter().all(|c| model::threshold_met(&rules, c)) {
        Outcome::Passed
    } else {
        Outcome::Failed
    };
    Ok(Computed {
        counts,
        results,
        eligible,
        participants,
        abstentions: first.abstentions,
        quorum_met,
        outcome,
    })
}

fn i32_of(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Counts the poll now (stored ballots and confirmed boxes) and writes a new tally (never
/// changing an earlier one), the results of it, and the poll's outcome. Returns the tally id.
pub async fn write<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    made: Made,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let p = engine::load(conn, poll_id).await?;
    let c = compute(conn, &p).await?;
    let id = Uuid::now_v7();
    poll_tally::ActiveModel {
        id: Set(id),
        poll_id: Set(poll_id),
        kind: Set(made.kind),
        counts: Set(serde_json::to_string(&c.counts).map_err(AppError::internal)?),
        participants: Set(i32_of(c.participants)),
        eligible: Set(i32_of(c.eligible)),
        abstentions: Set(i32_of(c.abstentions)),
        quorum_met: Set(c.quorum_met),
        outcome: Set(c.outcome),
        by_user_id: Set(made.by),
        second_user_id: Set(made.second),
        reason: Set(made.reason),
        supersedes_id: Set(p.latest_tally_id),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    poll_result::Entity::delete_many()
        .filter(poll_result::Column::PollId.eq(poll_id))
        .exec(conn)
        .await?;
    let rows: Vec<poll_result::ActiveModel> = c
        .results
        .iter()
        .map(|(q, o, votes, rank)| poll_result::ActiveModel {
            poll_id: Set(poll_id),
            question_id: Set(*q),
            option_id: Set(*o),
            tally_id: Set(id),
            votes: Set(i32_of(*votes)),
            rank: Set(*rank),
            elected: Set(None),
        })
        .collect();
    for chunk in rows.chunks(500) {
        poll_result::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    poll::Entity::update_many()
        .col_expr(poll::Column::LatestTallyId, Expr::value(Some(id)))
        .col_expr(poll::Column::Outcome, Expr::value(Some(c.outcome)))
        .filter(poll::Column::Id.eq(poll_id))
        .exec(conn)
        .await?;
    Ok(id)
}

/// The latest tally's results (None before the first tally).
pub async fn results<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
) -> AppResult<Option<PollResults>> {
    let p = engine::load(conn, poll_id).await?;
    let Some(tally_id) = p.latest_tally_id else {
        return Ok(None);
    };
    let t = poll_tally::Entity::find_by_id(tally_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let counts: BTreeMap<Uuid, BTreeMap<String, i64>> =
        serde_json::from_str(&t.counts).map_err(AppError::internal)?;
    let questions = poll_question::Entity::find()
        .filter(poll_question::Column::PollId.eq(poll_id))
        .order_by_asc(poll_question::Column::Position)
        .all(conn)
        .await?;
    let options = poll_option::Entity::find()
        .filter(poll_option::Column::PollId.eq(poll_id))
        .order_by_asc(poll_option::Column::Position)
        .all(conn)
        .await?;
    let stored: HashMap<Uuid, poll_result::Model> = poll_result::Entity::find()
        .filter(poll_result::Column::PollId.eq(poll_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.option_id, r))
        .collect();
    let mut out = Vec::with_capacity(questions.len());
    for q in questions {
        let opts: Vec<OptionResult> = options
            .iter()
            .filter(|o| o.question_id == q.id)
            .map(|o| {
                let r = stored.get(&o.id);
                OptionResult {
                    option_id: o.id,
                    label: o.label.clone(),
                    candidate_id: o.candidate_id,
                    is_abstain: o.is_abstain,
                    votes: r.map(|r| r.votes).unwrap_or(0),
                    rank: r.map(|r| r.rank).unwrap_or(0),
                }
            })
            .collect();
        let blank = counts
            .get(&q.id)
            .and_then(|c| c.get("blank"))
            .copied()
            .unwrap_or(0);
        let abstain: i32 = opts.iter().filter(|o| o.is_abstain).map(|o| o.votes).sum();
        out.push(QuestionResult {
            question_id: q.id,
            title: q.title,
            kind: q.kind,
            seats: q.seats,
            blank: i32_of(blank),
            abstentions: abstain + i32_of(blank),
            options: opts,
        });
    }
    Ok(Some(PollResults {
        tally_id: t.id,
        tally_kind: t.kind,
        tallied_at: t.created_at,
        eligible: t.eligible,
        participants: t.participants,
        abstentions: t.abstentions,
        late_additions: p.late_additions,
        quorum_met: t.quorum_met,
        outcome: t.outcome,
        roll_size: p.roll_size,
        roll_sha256: p.roll_sha256,
        questions: out,
    }))
}

/// Online votes per option while the poll is open (for an open poll with live results).
pub async fn live_votes<C: ConnectionTrait>(
    conn: &C,
    p: &poll::Model,
) -> AppResult<HashMap<Uuid, i32>> {
    let kinds: HashMap<Uuid, QuestionKind> = poll_question::Entity::find()
        .filter(poll_question::Column::PollId.eq(p.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|q| (q.id, q.kind))
        .collect();
    Ok(online_counts(conn, p.id)
        .await?
        .into_iter()
        .map(|((q, o), (n, score))| {
            let v = if kinds.get(&q) == Some(&QuestionKind::Rating) {
                score
            } else {
                n
            };
            (o, i32_of(v))
        })
        .collect())
}

/// Online ballots, paper ballots issued, roll entries voted, and every box.
pub async fn reconciliation<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
) -> AppResult<Reconciliation> {
    let p = engine::load(conn, poll_id).await?;
    let online = poll_ballot::Entity::find()
        .filter(poll_ballot::Column::PollId.eq(poll_id))
        .filter(poll_ballot::Column::Source.eq(BallotSource::Online))
        .count(conn)
        .await? as i64;
    let voted = poll_roll::Entity::find()
        .filter(poll_roll::Column::PollId.eq(poll_id))
        .filter(poll_roll::Column::Status.eq(RollStatus::Voted))
        .count(conn)
        .await? as i64;
    let boxes: Vec<BoxState> = poll_box::Entity::find()
        .filter(poll_box::Column::PollId.eq(poll_id))
        .order_by_asc(poll_box::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|b| BoxState {
            id: b.id,
            label: b.label,
            issued_count: b.issued_count,
            marked_count: b.marked_count,
            returned_count: b.returned_count,
            status: b.status,
        })
        .collect();
    let paper = i64::from(p.paper_issued);
    Ok(Reconciliation {
        online_ballots: online,
        paper_issued: paper,
        roll_voted: voted,
        balanced: online + paper == voted,
        all_boxes_confirmed: boxes.iter().all(|b| b.status == BoxStatus::Confirmed),
        boxes,
    })
}
