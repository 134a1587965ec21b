//! The poll engine's internal API (`/work/notes/polls-api.md`): what elections and proposals
//! call inside their own transactions. Nothing here authorizes (the calling domain does); every
//! function validates shape and state and answers with the house's codes.

use chrono::{DateTime, DurationRound, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::platform::error::{AppError, AppResult, FieldCode, FieldError, ProblemCode};
use crate::platform::lang::Text;
use crate::polls::model::{
    self, Eligibility, OfficerRole, Outcome, PollScope, Preset, QuestionKind, ResultsVisibility,
    RollStatus, Rules, Secrecy, Status, Subject, VoterUnit,
};
use crate::polls::service::{roster, tally};
use entity::{poll, poll_officer, poll_option, poll_question, poll_roll};

pub use super::rows::{count_status, eligibility_of, load};
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

/// A question and its options. For `yes_no_abstain` the options are made by the server (同意,
/// 反对, 弃权) and those given are ignored, as are `min_choices`/`max_choices` (1 and 1).
#[derive(Debug, Clone)]
pub struct NewQuestion {
    pub title: String,
    pub kind: QuestionKind,
    pub min_choices: i32,
    pub max_choices: i32,
    /// Seats to fill (`candidates`); at most this many choices.
    pub seats: Option<i32>,
    pub options: Vec<NewOption>,
}

#[derive(Debug, Clone)]
pub struct NewOption {
    pub label: String,
    pub candidate_id: Option<Uuid>,
}

/// Who to add to a roll: a resident (unit `resident`) or a household (unit `household`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoterRef {
    Resident(Uuid),
    Household(Uuid),
}

/// What building a roll wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollBuilt {
    /// Entries written (eligible and needs_review).
    pub size: u64,
    pub needs_review: u64,
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

/// A time as polls keep it: to the minute.
pub fn to_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(chrono::Duration::minutes(1)).unwrap_or(t)
}

pub(crate) fn wrong_status(s: Status, doing: &str) -> AppError {
    AppError::conflict(
        ProblemCode::WrongStatus,
        crate::text!(
            "投票当前为「{}」，不能{}",
            "the poll is {:?}; it cannot be {}",
            model::status_label(s),
            doing
        ),
    )
}

pub(crate) fn not_open() -> AppError {
    AppError::conflict(
        ProblemCode::PollNotOpen,
        Text::new(
            "投票尚未开始、已经结束或已取消",
            "the poll is not open: not yet started, closed or cancelled",
        ),
    )
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

/// The problems of a set of questions, each naming its field (`questions[i].…`).
pub fn check_questions(qs: &[NewQuestion]) -> Vec<FieldError> {
    let mut out = Vec::new();
    if qs.len() > model::QUESTIONS_MAX {
        out.push(FieldError::too_many("questions", model::QUESTIONS_MAX));
        return out;
    }
    for (i, q) in qs.iter().enumerate() {
        let f = |name: &str| format!("questions[{i}].{name}");
        let len = q.title.chars().count();
        if len == 0 {
            out.push(FieldError::required(f("title")));
        } else if len > model::TITLE_MAX {
            out.push(FieldError::too_long(f("title"), model::TITLE_MAX));
        }
        if q.kind == QuestionKind::YesNoAbstain {
            continue;
        }
        let n = q.options.len() as i32;
        if q.options.len() > model::OPTIONS_MAX {
            out.push(FieldError::too_many(f("options"), model::OPTIONS_MAX));
            continue;
        }
        for (j, o) in q.options.iter().enumerate() {
            let l = o.label.chars().count();
            if l == 0 {
                out.push(FieldError::required(format!(
                    "questions[{i}].options[{j}].label"
                )));
            } else if l > model::LABEL_MAX {
                out.push(FieldError::too_long(
                    format!("questions[{i}].options[{j}].label"),
                    model::LABEL_MAX,
                ));
            }
        }
        let range = |msg_zh: &str| {
            FieldError::of(
                f("max_choices"),
                FieldCode::OutOfRange,
                Text::new(msg_zh.to_string(), "choices out of range"),
            )
        };
        match q.kind {
            QuestionKind::Single => {
                if n < 2 {
                    out.push(FieldError::of(
                        f("options"),
                        FieldCode::TooShort,
                        Text::new("单选题至少要有 2 个选项", "at least 2 options"),
                    ));
                }
                if q.max_choices != 1 || !(0..=1).contains(&q.min_choices) {
                    out.push(range("单选题最多选 1 项，最少选 0 或 1 项"));
                }
            }
            QuestionKind::Multiple | QuestionKind::Rating => {
                if n < 1 {
                    out.push(FieldError::required(f("options")));
                }
                if q.max_choices < 1
                    || q.max_choices > n.max(1)
                    || q.min_choices < 0
                    || q.min_choices > q.max_choices
                {
                    out.push(range("可选项数须满足 0 ≤ 最少 ≤ 最多 ≤ 选项数"));
                }
            }
            QuestionKind::Candidates => {
                let seats = q.seats.unwrap_or(0);
                if !(1..=model::OPTIONS_MAX as i32).contains(&seats) {
                    out.push(FieldError::of(
                        f("seats"),
                        FieldCode::OutOfRange,
                        Text::new("应选名额须在 1 到 50 之间", "seats 1 to 50"),
                    ));
                }
                if q.max_choices < 1
                    || q.max_choices > seats
                    || q.min_choices < 0
                    || q.min_choices > q.max_choices
                {
                    out.push(range("可选人数须满足 0 ≤ 最少 ≤ 最多 ≤ 应选名额"));
                }
            }
            QuestionKind::YesNoAbstain => {}
        }
    }
    out
}

fn invalid(errors: Vec<FieldError>) -> AppResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
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

/// An option to write: its label, candidate, and whether it is the abstain option.
type OptionRow = (String, Option<Uuid>, bool);

async fn write_questions<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    qs: &[NewQuestion],
) -> AppResult<()> {
    for (i, q) in qs.iter().enumerate() {
        let qid = Uuid::now_v7();
        let (min, max, options): (i32, i32, Vec<OptionRow>) = match q.kind {
            QuestionKind::YesNoAbstain => (
                1,
                1,
                vec![
                    ("同意".into(), None, false),
                    ("反对".into(), None, false),
                    ("弃权".into(), None, true),
                ],
            ),
            _ => (
                q.min_choices,
                q.max_choices,
                q.options
                    .iter()
                    .map(|o| (o.label.clone(), o.candidate_id, false))
                    .collect(),
            ),
        };
        poll_question::ActiveModel {
            id: Set(qid),
            poll_id: Set(poll_id),
            position: Set(i as i32),
            title: Set(q.title.clone()),
            kind: Set(q.kind),
            min_choices: Set(min),
            max_choices: Set(max),
            seats: Set(q.seats.filter(|_| q.kind == QuestionKind::Candidates)),
        }
        .insert(conn)
        .await?;
        let rows: Vec<poll_option::ActiveModel> = options
            .into_iter()
            .enumerate()
            .map(
                |(j, (label, candidate_id, is_abstain))| poll_option::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    poll_id: Set(poll_id),
                    question_id: Set(qid),
                    position: Set(j as i32),
                    label: Set(label),
                    candidate_id: Set(candidate_id),
                    is_abstain: Set(is_abstain),
                },
            )
            .collect();
        if !rows.is_empty() {
            poll_option::Entity::insert_many(rows)
                .exec_without_returning(conn)
                .await?;
        }
    }
    Ok(())
}

fn before_open(p: &poll::Model, doing: &str) -> AppResult<()> {
    if matches!(p.status, Status::Draft | Status::Scheduled) {
        Ok(())
    } else {
        Err(wrong_status(p.status, doing))
    }
}

/// Replaces all questions and options (draft or scheduled only).
pub async fn set_questions_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    questions: Vec<NewQuestion>,
) -> AppResult<()> {
    let p = load(conn, poll_id).await?;
    before_open(&p, "修改题目")?;
    invalid(check_questions(&questions))?;
    poll_option::Entity::delete_many()
        .filter(poll_option::Column::PollId.eq(poll_id))
        .exec(conn)
        .await?;
    poll_question::Entity::delete_many()
        .filter(poll_question::Column::PollId.eq(poll_id))
        .exec(conn)
        .await?;
    write_questions(conn, poll_id, &questions).await?;
    bump_version(conn, poll_id).await
}

async fn bump_version<C: ConnectionTrait>(conn: &C, poll_id: Uuid) -> AppResult<()> {
    poll::Entity::update_many()
        .col_expr(
            poll::Column::Version,
            Expr::col(poll::Column::Version).add(1),
        )
        .filter(poll::Column::Id.eq(poll_id))
        .exec(conn)
        .await?;
    Ok(())
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

/// Builds the roll from the roster now (draft or scheduled only), replacing an earlier build.
pub async fn build_roll_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<RollBuilt> {
    let p = load(conn, poll_id).await?;
    before_open(&p, "生成名册")?;
    poll_roll::Entity::delete_many()
        .filter(poll_roll::Column::PollId.eq(poll_id))
        .exec(conn)
        .await?;
    let size = roster::write_roll(conn, &p, &eligibility_of(&p)?, now.date_naive()).await?;
    poll::Entity::update_many()
        .col_expr(poll::Column::RollBuiltAt, Expr::value(Some(now)))
        .filter(poll::Column::Id.eq(poll_id))
        .exec(conn)
        .await?;
    let needs_review = count_status(conn, poll_id, &[RollStatus::NeedsReview]).await?;
    Ok(RollBuilt {
        size,
        needs_review: needs_review as u64,
    })
}

fn reason_error() -> AppError {
    AppError::invalid(
        "reason",
        FieldCode::Required,
        Text::new("请填写原因", "a reason is required"),
    )
}

/// Adds one voter (a resident or household per the poll's unit, a current one of its place)
/// with a reason, by `by`. Draft or scheduled: an ordinary entry; open: a late addition,
/// counted separately (`late_additions`). The caller audits it. Returns the voter key.
pub async fn add_voter_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    key: VoterRef,
    reason: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let _ = now;
    if reason.trim().is_empty() {
        return Err(reason_error());
    }
    let p = load(conn, poll_id).await?;
    if !matches!(p.status, Status::Draft | Status::Scheduled | Status::Open) {
        return Err(wrong_status(p.status, "增补选民"));
    }
    let (field, id) = match (key, p.unit) {
        (VoterRef::Resident(id), VoterUnit::Resident) => ("resident_id", id),
        (VoterRef::Household(id), VoterUnit::Household) => ("household_id", id),
        (VoterRef::Resident(_), VoterUnit::Household) => {
            return Err(AppError::invalid(
                "household_id",
                FieldCode::Required,
                Text::new("按户投票，请指定户", "a household poll: name the household"),
            ))
        }
        (VoterRef::Household(_), VoterUnit::Resident) => {
            return Err(AppError::invalid(
                "resident_id",
                FieldCode::Required,
                Text::new("按人投票，请指定居民", "a resident poll: name the resident"),
            ))
        }
    };
    let e = eligibility_of(&p)?;
    let entry = roster::entry_in_place(conn, &p, &e, id)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                field,
                FieldCode::NotEligible,
                Text::new(
                    "不是本次投票范围内的现住居民或住户",
                    "not a current resident or household of the poll's place",
                ),
            )
        })?;
    let late = p.status == Status::Open;
    if late {
        // Serialised with the close like a cast: never added to a closed poll.
        let moved = poll::Entity::update_many()
            .col_expr(
                poll::Column::LateAdditions,
                Expr::col(poll::Column::LateAdditions).add(1),
            )
            .filter(poll::Column::Id.eq(poll_id))
            .filter(poll::Column::Status.eq(Status::Open))
            .exec(conn)
            .await?;
        if moved.rows_affected != 1 {
            return Err(not_open());
        }
    }
    let added = poll_roll::Entity::insert(poll_roll::ActiveModel {
        poll_id: Set(poll_id),
        voter_key: Set(entry.voter_key),
        unit: Set(p.unit),
        household_id: Set(entry.household_id),
        resident_id: Set(entry.resident_id),
        building_id: Set(entry.building_id),
        status: Set(RollStatus::Eligible),
        channel: Set(None),
        cast_by_user_id: Set(None),
        voted_at: Set(None),
        late: Set(late),
        added_reason: Set(Some(reason.to_string())),
        added_by: Set(Some(by)),
        struck_reason: Set(None),
        struck_by: Set(None),
        version: Set(1),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::columns([
            poll_roll::Column::PollId,
            poll_roll::Column::VoterKey,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    if added != 1 {
        return Err(AppError::conflict(
            ProblemCode::AlreadyExists,
            Text::new("已在选民名册中", "already on the roll"),
        ));
    }
    Ok(entry.voter_key)
}

/// Strikes an `eligible` or `needs_review` entry with a reason (never a `voted` one; not after
/// close).
pub async fn strike_voter_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    voter_key: Uuid,
    reason: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let _ = now;
    if reason.trim().is_empty() {
        return Err(reason_error());
    }
    let p = load(conn, poll_id).await?;
    if !matches!(p.status, Status::Draft | Status::Scheduled | Status::Open) {
        return Err(wrong_status(p.status, "删除选民"));
    }
    let moved = poll_roll::Entity::update_many()
        .col_expr(poll_roll::Column::Status, Expr::value(RollStatus::Struck))
        .col_expr(
            poll_roll::Column::StruckReason,
            Expr::value(Some(reason.to_string())),
        )
        .col_expr(poll_roll::Column::StruckBy, Expr::value(Some(by)))
        .col_expr(
            poll_roll::Column::Version,
            Expr::col(poll_roll::Column::Version).add(1),
        )
        .filter(poll_roll::Column::PollId.eq(poll_id))
        .filter(poll_roll::Column::VoterKey.eq(voter_key))
        .filter(poll_roll::Column::Status.is_in([RollStatus::Eligible, RollStatus::NeedsReview]))
        .exec(conn)
        .await?;
    if moved.rows_affected == 1 {
        return Ok(());
    }
    roll_refusal(conn, poll_id, voter_key).await
}

async fn roll_refusal<C: ConnectionTrait>(conn: &C, poll_id: Uuid, key: Uuid) -> AppResult<()> {
    match poll_roll::Entity::find_by_id((poll_id, key))
        .one(conn)
        .await?
    {
        None => Err(AppError::NotFound),
        Some(r) => Err(AppError::conflict(
            ProblemCode::WrongStatus,
            crate::text!(
                "该选民当前状态为 {:?}，不能这样处理",
                "the entry is {:?}",
                r.status
            ),
        )),
    }
}

/// Marks a `needs_review` entry eligible (an objection accepted for it, a birth date checked).
pub async fn admit_voter_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    voter_key: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (_, _) = (by, now);
    let p = load(conn, poll_id).await?;
    if !matches!(p.status, Status::Draft | Status::Scheduled | Status::Open) {
        return Err(wrong_status(p.status, "确认选民"));
    }
    let moved = poll_roll::Entity::update_many()
        .col_expr(poll_roll::Column::Status, Expr::value(RollStatus::Eligible))
        .col_expr(
            poll_roll::Column::Version,
            Expr::col(poll_roll::Column::Version).add(1),
        )
        .filter(poll_roll::Column::PollId.eq(poll_id))
        .filter(poll_roll::Column::VoterKey.eq(voter_key))
        .filter(poll_roll::Column::Status.eq(RollStatus::NeedsReview))
        .exec(conn)
        .await?;
    if moved.rows_affected == 1 {
        return Ok(());
    }
    roll_refusal(conn, poll_id, voter_key).await
}

/// Replaces the poll's officers. When a poll has officers, only its tellers and chair keep its
/// paper boxes (mark voters, enter and confirm counts); without any, holders of `PollTally`.
/// Not after close.
pub async fn set_officers_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    officers: Vec<(Uuid, OfficerRole)>,
) -> AppResult<()> {
    let p = load(conn, poll_id).await?;
    if matches!(p.status, Status::Closed | Status::Cancelled) {
        return Err(wrong_status(p.status, "指定工作人员"));
    }
    if officers.len() > model::OFFICERS_MAX {
        return Err(AppError::Validation(vec![FieldError::too_many(
            "officers",
            model::OFFICERS_MAX,
        )]));
    }
    poll_officer::Entity::delete_many()
        .filter(poll_officer::Column::PollId.eq(poll_id))
        .exec(conn)
        .await?;
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<poll_officer::ActiveModel> = officers
        .into_iter()
        .filter(|(u, _)| seen.insert(*u))
        .map(|(user_id, role)| poll_officer::ActiveModel {
            poll_id: Set(poll_id),
            user_id: Set(user_id),
            role: Set(role),
        })
        .collect();
    if !rows.is_empty() {
        poll_officer::Entity::insert_many(rows)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
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
    let keys: Vec<Uuid> = poll_roll::Entity::find()
        .select_only()
        .column(poll_roll::Column::VoterKey)
        .filter(poll_roll::Column::PollId.eq(poll_id))
        .filter(poll_roll::Column::Status.ne(RollStatus::Struck))
        .order_by_asc(poll_roll::Column::VoterKey)
        .into_tuple()
        .all(conn)
        .await?;
    poll::Entity::update_many()
        .col_expr(
            poll::Column::RollBuiltAt,
            Expr::value(Some(p.roll_built_at.unwrap_or(now))),
        )
        .col_expr(
            poll::Column::RollSize,
            Expr::value(Some(i32::try_from(keys.len()).unwrap_or(i32::MAX))),
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
