//! The poll engine's internal API (`/work/notes/polls-api.md`): what elections and proposals
//! call inside their own transactions. Nothing here authorizes (the calling domain does); every
//! function validates shape and state and answers with the house's codes.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::platform::error::{AppError, AppResult, FieldCode, FieldError};
use crate::platform::lang::Text;
use crate::polls::model::{
    self, Eligibility, Outcome, PollScope, Preset, ResultsVisibility, RollStatus, Rules, Secrecy,
    Status, Subject, VoterUnit,
};
use crate::polls::service::{roster, tally};
use entity::{poll, poll_roll};

use super::questions::write_questions;
pub use super::questions::{check_questions, set_questions_in, NewOption, NewQuestion};
pub use super::roll::{
    add_voter_in, admit_voter_in, build_roll_in, set_officers_in, strike_voter_in, RollBuilt,
    VoterRef,
};
pub(crate) use super::rows::{before_open, invalid, not_open, wrong_status};
pub use super::rows::{count_status, eligibility_of, load, to_minute};
pub use tally::{BoxState, OptionResult, PollResults, QuestionResult, Reconciliation};

/// A poll to create (in `draft`).
#[derive(Debug, Clone)]
pub struct NewPoll {
    /// The place the roll is drawn from (and the poll addressed to).
    pub scope_type: PollScope,
    pub scope_id: Uuid,
    pub subject_type: Subject,
    /// The election's (or proposal's) id; None for a stand-alone poll.
    pub subject_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub secrecy: Secrecy,
    pub unit: VoterUnit,
    pub eligibility: Eligibility,
    /// The preset the rules came from (`custom` when given field by field).
    pub preset: Preset,
    /// The rules, a preset already expanded (`Rules::preset`).
    pub rules: Rules,
    /// `live` only for open polls.
    pub results_visibility: ResultsVisibility,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    /// May be empty while draft (an election adds them when voting opens).
    pub questions: Vec<NewQuestion>,
    /// The creator's display name, shown with the poll.
    pub created_by_name: String,
}

/// A poll's state, for the calling domain's guards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollState {
    pub id: Uuid,
    pub status: Status,
    pub subject_type: Subject,
    pub subject_id: Option<Uuid>,
    pub secrecy: Secrecy,
    pub unit: VoterUnit,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub roll_size: Option<i32>,
    pub roll_sha256: Option<String>,
    pub ballots_cast: i32,
    pub paper_issued: i32,
    pub late_additions: i32,
    pub outcome: Option<Outcome>,
    pub latest_tally_id: Option<Uuid>,
}

fn check_times(
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<FieldError> {
    let mut out = Vec::new();
    let max = chrono::Duration::days(model::SCHEDULE_MAX_DAYS);
    if opens_at > now + max {
        out.push(FieldError::of(
            "opens_at",
            FieldCode::OutOfRange,
            crate::text!(
                "最多提前 {} 天安排投票",
                "at most {} days ahead",
                model::SCHEDULE_MAX_DAYS
            ),
        ));
    }
    if closes_at <= opens_at || closes_at > opens_at + max {
        out.push(FieldError::of(
            "closes_at",
            FieldCode::OutOfRange,
            crate::text!(
                "结束时间须晚于开始时间，且不超过 {} 天",
                "must be after opens_at, and at most {} days later",
                model::SCHEDULE_MAX_DAYS
            ),
        ));
    }
    out
}

fn check_rules(p: &NewPoll) -> Vec<FieldError> {
    let mut out: Vec<FieldError> = p
        .rules
        .problems()
        .into_iter()
        .map(|(f, zh)| FieldError::of(f, FieldCode::OutOfRange, Text::new(zh, "out of range")))
        .collect();
    if p.results_visibility == ResultsVisibility::Live && p.secrecy == Secrecy::Secret {
        out.push(FieldError::of(
            "results_visibility",
            FieldCode::NotAllowed,
            Text::new(
                "无记名投票只能在结束后公布结果",
                "a secret poll shows results only after close",
            ),
        ));
    }
    out.extend(check_eligibility(&p.eligibility));
    out
}

/// The problems of an eligibility rule.
pub fn check_eligibility(e: &Eligibility) -> Vec<FieldError> {
    let mut out = Vec::new();
    if e.tags_any.len() > model::TAGS_MAX {
        out.push(FieldError::too_many(
            "eligibility.tags_any",
            model::TAGS_MAX,
        ));
    }
    if e.tags_all.len() > model::TAGS_MAX {
        out.push(FieldError::too_many(
            "eligibility.tags_all",
            model::TAGS_MAX,
        ));
    }
    if e.min_age.is_some_and(|a| a > model::MIN_AGE_MAX) {
        out.push(FieldError::of(
            "eligibility.min_age",
            FieldCode::OutOfRange,
            Text::new("年龄须在 0 到 120 之间", "0 to 120"),
        ));
    }
    out
}

/// Creates a poll in `draft` addressed to `p.scope_type`/`p.scope_id`; `created_by` is the
/// caller's user id. Times are kept to the minute.
pub async fn create_in<C: ConnectionTrait>(
    conn: &C,
    created_by: Uuid,
    p: NewPoll,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let opens_at = to_minute(p.opens_at);
    let closes_at = to_minute(p.closes_at);
    let mut errors = check_times(opens_at, closes_at, now);
    errors.extend(check_rules(&p));
    errors.extend(check_questions(&p.questions));
    invalid(errors)?;
    let place = crate::territory::query::place_lookup::place(
        conn,
        crate::polls::policy::level_of(p.scope_type),
        p.scope_id,
    )
    .await?
    .ok_or_else(|| {
        AppError::invalid(
            "scope_id",
            FieldCode::NotFound,
            Text::new("没有这个地方", "no such place"),
        )
    })?;
    let id = Uuid::now_v7();
    let r = p.rules;
    poll::ActiveModel {
        id: Set(id),
        street_id: Set(place.street_id),
        community_id: Set(place.community_id),
        compound_id: Set(place.compound_id),
        building_id: Set(place.building_id),
        scope_type: Set(p.scope_type),
        scope_id: Set(p.scope_id),
        subject_type: Set(p.subject_type),
        subject_id: Set(p.subject_id),
        title: Set(p.title),
        description: Set(p.description),
        secrecy: Set(p.secrecy),
        unit: Set(p.unit),
        eligibility: Set(serde_json::to_string(&p.eligibility).map_err(AppError::internal)?),
        preset: Set(p.preset),
        quorum_num: Set(r.quorum_num),
        quorum_den: Set(r.quorum_den),
        quorum_strict: Set(r.quorum_strict),
        threshold_num: Set(r.threshold_num),
        threshold_den: Set(r.threshold_den),
        threshold_strict: Set(r.threshold_strict),
        threshold_base: Set(r.threshold_base),
        abstain_in_quorum: Set(r.abstain_in_quorum),
        abstain_in_threshold_base: Set(r.abstain_in_threshold_base),
        results_visibility: Set(p.results_visibility),
        opens_at: Set(opens_at),
        closes_at: Set(closes_at),
        status: Set(Status::Draft),
        roll_built_at: Set(None),
        roll_size: Set(None),
        roll_sha256: Set(None),
        late_additions: Set(0),
        ballots_cast: Set(0),
        paper_issued: Set(0),
        latest_tally_id: Set(None),
        outcome: Set(None),
        opened_at: Set(None),
        closed_at: Set(None),
        close_reason: Set(None),
        cancel_reason: Set(None),
        version: Set(1),
        created_by: Set(created_by),
        created_by_name: Set(p.created_by_name),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    write_questions(conn, id, &p.questions).await?;
    Ok(id)
}

/// Sets the times (draft or scheduled only), to the minute.
pub async fn set_times_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let p = load(conn, poll_id).await?;
    before_open(&p, "修改时间")?;
    let (opens_at, closes_at) = (to_minute(opens_at), to_minute(closes_at));
    invalid(check_times(opens_at, closes_at, now))?;
    poll::Entity::update_many()
        .col_expr(poll::Column::OpensAt, Expr::value(opens_at))
        .col_expr(poll::Column::ClosesAt, Expr::value(closes_at))
        .col_expr(
            poll::Column::Version,
            Expr::col(poll::Column::Version).add(1),
        )
        .filter(poll::Column::Id.eq(poll_id))
        .filter(poll::Column::Status.is_in([Status::Draft, Status::Scheduled]))
        .exec(conn)
        .await?;
    Ok(())
}

/// Moves a draft to `scheduled`, exactly once (a conditional update from draft): the job opens
/// it at `opens_at`. Ok(false) when it was not a draft. 400 when `closes_at` has passed.
pub async fn schedule_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let p = load(conn, poll_id).await?;
    if p.closes_at <= now {
        return Err(AppError::invalid(
            "closes_at",
            FieldCode::OutOfRange,
            Text::new("结束时间已过，请先修改时间", "closes_at has passed"),
        ));
    }
    let moved = poll::Entity::update_many()
        .col_expr(poll::Column::Status, Expr::value(Status::Scheduled))
        .col_expr(
            poll::Column::Version,
            Expr::col(poll::Column::Version).add(1),
        )
        .col_expr(poll::Column::UpdatedAt, Expr::value(now))
        .filter(poll::Column::Id.eq(poll_id))
        .filter(poll::Column::Status.eq(Status::Draft))
        .exec(conn)
        .await?;
    Ok(moved.rows_affected == 1)
}

/// Opens the poll now, exactly once (a conditional update from draft or scheduled): builds the
/// roll if none was built, freezes it (`roll_size`, `roll_sha256`), records the time. Ok(false)
/// when it was not in draft or scheduled (another runner got there first). The caller sends the
/// opening notifications ([`crate::polls::service::notify`]).
pub async fn open_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let p = load(conn, poll_id).await?;
    if p.closes_at <= now {
        if matches!(p.status, Status::Draft | Status::Scheduled) {
            return Err(AppError::invalid(
                "closes_at",
                FieldCode::OutOfRange,
                Text::new("结束时间已过，请先修改时间", "closes_at has passed"),
            ));
        }
        return Ok(false);
    }
    let claimed = poll::Entity::update_many()
        .col_expr(poll::Column::Status, Expr::value(Status::Open))
        .col_expr(poll::Column::OpensAt, Expr::value(p.opens_at.min(now)))
        .col_expr(poll::Column::OpenedAt, Expr::value(Some(now)))
        .col_expr(poll::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            poll::Column::Version,
            Expr::col(poll::Column::Version).add(1),
        )
        .filter(poll::Column::Id.eq(poll_id))
        .filter(poll::Column::Status.is_in([Status::Draft, Status::Scheduled]))
        .exec(conn)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(false);
    }
    if p.roll_built_at.is_none() {
        roster::write_roll(conn, &p, &eligibility_of(&p)?, now.date_naive()).await?;
    }
    // Every entry there at opening, struck ones included: anyone can recompute the hash from
    // the roll (the entries not added late); the size counts those not struck.
    let entries: Vec<(Uuid, RollStatus)> = poll_roll::Entity::find()
        .select_only()
        .column(poll_roll::Column::VoterKey)
        .column(poll_roll::Column::Status)
        .filter(poll_roll::Column::PollId.eq(poll_id))
        .order_by_asc(poll_roll::Column::VoterKey)
        .into_tuple()
        .all(conn)
        .await?;
    let keys: Vec<Uuid> = entries.iter().map(|(k, _)| *k).collect();
    let size = entries
        .iter()
        .filter(|(_, s)| *s != RollStatus::Struck)
        .count();
    poll::Entity::update_many()
        .col_expr(
            poll::Column::RollBuiltAt,
            Expr::value(Some(p.roll_built_at.unwrap_or(now))),
        )
        .col_expr(
            poll::Column::RollSize,
            Expr::value(Some(i32::try_from(size).unwrap_or(i32::MAX))),
        )
        .col_expr(
            poll::Column::RollSha256,
            Expr::value(Some(model::roll_sha256(&keys))),
        )
        .filter(poll::Column::Id.eq(poll_id))
        .exec(conn)
        .await?;
    Ok(true)
}

/// Closes the poll now, exactly once (a conditional update from open), and tallies it in the
/// same transaction: the close tally, the results, the outcome. Ok(false) when it was not open.
pub async fn close_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    now: DateTime<Utc>,
    reason: Option<&str>,
) -> AppResult<bool> {
    let p = load(conn, poll_id).await?;
    let claimed = poll::Entity::update_many()
        .col_expr(poll::Column::Status, Expr::value(Status::Closed))
        .col_expr(poll::Column::ClosesAt, Expr::value(p.closes_at.min(now)))
        .col_expr(poll::Column::ClosedAt, Expr::value(Some(now)))
        .col_expr(
            poll::Column::CloseReason,
            Expr::value(reason.map(str::to_string)),
        )
        .col_expr(poll::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            poll::Column::Version,
            Expr::col(poll::Column::Version).add(1),
        )
        .filter(poll::Column::Id.eq(poll_id))
        .filter(poll::Column::Status.eq(Status::Open))
        .exec(conn)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(false);
    }
    tally::write(
        conn,
        poll_id,
        tally::Made {
            kind: model::TallyKind::Close,
            by: None,
            second: None,
            reason: None,
        },
        now,
    )
    .await?;
    Ok(true)
}

/// Cancels a draft, scheduled or open poll nobody has voted in yet (no online ballot, no paper
/// ballot issued), exactly once (a conditional update), with the reason: for the domain that
/// drives it (a proposal's decision cancelled). 409 `guard_failed` (`ballots_cast`) once
/// anyone voted; `wrong_status` when it is closed or cancelled already.
pub async fn cancel_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let moved = poll::Entity::update_many()
        .col_expr(poll::Column::Status, Expr::value(Status::Cancelled))
        .col_expr(
            poll::Column::CancelReason,
            Expr::value(Some(reason.to_string())),
        )
        .col_expr(
            poll::Column::Version,
            Expr::col(poll::Column::Version).add(1),
        )
        .col_expr(poll::Column::UpdatedAt, Expr::value(now))
        .filter(poll::Column::Id.eq(poll_id))
        .filter(poll::Column::Status.is_in([Status::Draft, Status::Scheduled, Status::Open]))
        .filter(poll::Column::BallotsCast.eq(0))
        .filter(poll::Column::PaperIssued.eq(0))
        .exec(conn)
        .await?;
    if moved.rows_affected == 1 {
        return Ok(());
    }
    let p = load(conn, poll_id).await?;
    if p.ballots_cast > 0 || p.paper_issued > 0 {
        return Err(AppError::GuardFailed(vec![FieldError::of(
            "ballots_cast",
            FieldCode::NotAllowed,
            Text::new(
                "已经有人投票，不能取消",
                "ballots were cast: it cannot be cancelled",
            ),
        )]));
    }
    Err(wrong_status(p.status, "取消"))
}

/// The latest tally's results (None before the first tally, i.e. before close).
pub async fn results_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
) -> AppResult<Option<PollResults>> {
    tally::results(conn, poll_id).await
}

/// Online ballots, paper ballots issued and roll entries voted, with every box's state.
pub async fn reconciliation_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
) -> AppResult<Reconciliation> {
    tally::reconciliation(conn, poll_id).await
}

/// A poll's status and subject, for the calling domain's guards.
pub async fn status_in<C: ConnectionTrait>(conn: &C, poll_id: Uuid) -> AppResult<PollState> {
    let p = load(conn, poll_id).await?;
    Ok(PollState {
        id: p.id,
        status: p.status,
        subject_type: p.subject_type,
        subject_id: p.subject_id,
        secrecy: p.secrecy,
        unit: p.unit,
        opens_at: p.opens_at,
        closes_at: p.closes_at,
        roll_size: p.roll_size,
        roll_sha256: p.roll_sha256,
        ballots_cast: p.ballots_cast,
        paper_issued: p.paper_issued,
        late_additions: p.late_additions,
        outcome: p.outcome,
        latest_tally_id: p.latest_tally_id,
    })
}
