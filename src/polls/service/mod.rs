//! The poll workflow as callers drive it through HTTP: create, edit, schedule, open, close,
//! cancel; the roll's late additions and strikes (audited); casting (`casting`); paper boxes
//! (`boxes`). The engine (`engine`) is the part other domains call in their own transactions.
//!
//! ```text
//! draft ──schedule──▶ scheduled ──job at opens_at──▶ open ──job at closes_at, or close──▶ closed
//!   └────────────open (now)─────────────────────────▶ open
//! draft | scheduled ──cancel──▶ cancelled ;  open ──cancel──▶ cancelled (only before any ballot)
//! ```
//!
//! A poll whose subject is not `standalone` (an election's) is driven by its subject: its
//! PATCH, schedule, open, close and cancel answer 409 `guard_failed` (`subject`,
//! `managed_by_subject`).

pub mod boxes;
pub mod casting;
pub mod engine;
pub mod notify;
pub mod questions;
pub mod roll;
pub mod roster;
pub mod rows;
pub mod tally;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use uuid::Uuid;

pub use engine::{
    add_voter_in, admit_voter_in, build_roll_in, cancel_in, close_in, create_in, open_in,
    reconciliation_in, results_in, schedule_in, set_officers_in, set_questions_in, set_times_in,
    status_in, strike_voter_in, NewOption, NewPoll, NewQuestion, PollState, Reconciliation,
    RollBuilt, VoterRef,
};

use crate::access::Actor;
use crate::platform::audit;
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError};
use crate::platform::lang::Text;
use crate::polls::model::{
    Eligibility, Preset, ResultsVisibility, Rules, Secrecy, Status, Subject, VoterUnit,
};
use crate::polls::policy;
use engine::wrong_status;
use entity::poll;

/// The rules of `preset`, or the given ones for `custom` (400 when missing).
pub fn rules_for(preset: Preset, given: Option<Rules>) -> AppResult<Rules> {
    match (Rules::preset(preset), given) {
        (Some(r), _) => Ok(r),
        (None, Some(r)) => Ok(r),
        (None, None) => Err(AppError::invalid(
            "rules",
            FieldCode::Required,
            Text::new(
                "自定义规则须填写法定人数和通过比例",
                "a custom preset needs its rules",
            ),
        )),
    }
}

/// 409 `guard_failed` for a poll another domain drives.
fn managed_by_subject() -> AppError {
    AppError::GuardFailed(vec![FieldError::of(
        "subject",
        FieldCode::ManagedBySubject,
        Text::new(
            "这是选举等事项的投票，由该事项的流程控制",
            "this poll is driven by its subject (an election, a proposal)",
        ),
    )])
}

fn standalone(p: &poll::Model) -> AppResult<()> {
    if p.subject_type == Subject::Standalone {
        Ok(())
    } else {
        Err(managed_by_subject())
    }
}

/// Creates a stand-alone poll in `draft`, addressed to a place the caller manages polls in.
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    mut p: NewPoll,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let txn = db.begin().await?;
    policy::writable_place(&txn, actor, p.scope_type, p.scope_id).await?;
    p.subject_type = Subject::Standalone;
    p.subject_id = None;
    p.created_by_name = actor.display_name.clone();
    let id = create_in(&txn, actor.id, p, now).await?;
    txn.commit().await?;
    Ok(id)
}

/// A change to a draft or scheduled poll: each field absent leaves it.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub title: Option<String>,
    pub description: Option<String>,
    pub secrecy: Option<Secrecy>,
    pub unit: Option<VoterUnit>,
    pub eligibility: Option<Eligibility>,
    pub preset: Option<Preset>,
    pub rules: Option<Rules>,
    pub results_visibility: Option<ResultsVisibility>,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub questions: Option<Vec<NewQuestion>>,
}

/// Edits a draft or scheduled stand-alone poll (as the caller saw it: `expected` version).
/// Once open nothing changes: secrecy, unit, rules and visibility least of all (409).
pub async fn update<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    c: Changes,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let p = policy::managed_poll(&txn, actor, id).await?;
    standalone(&p)?;
    if !matches!(p.status, Status::Draft | Status::Scheduled) {
        return Err(wrong_status(p.status, "修改"));
    }
    if expected.is_some_and(|v| v != p.version) {
        return Err(AppError::PreconditionFailed);
    }
    let secrecy = c.secrecy.unwrap_or(p.secrecy);
    let visibility = c.results_visibility.unwrap_or(p.results_visibility);
    if visibility == ResultsVisibility::Live && secrecy == Secrecy::Secret {
        return Err(AppError::invalid(
            "results_visibility",
            FieldCode::NotAllowed,
            Text::new(
                "无记名投票只能在结束后公布结果",
                "a secret poll shows results only after close",
            ),
        ));
    }
    let version = p.version;
    let mut m: poll::ActiveModel = p.clone().into();
    if let Some(v) = c.title {
        m.title = Set(v);
    }
    if let Some(v) = c.description {
        m.description = Set(v);
    }
    m.secrecy = Set(secrecy);
    m.results_visibility = Set(visibility);
    if let Some(v) = c.unit {
        m.unit = Set(v);
    }
    if let Some(e) = c.eligibility {
        let problems = engine::check_eligibility(&e);
        if !problems.is_empty() {
            return Err(AppError::Validation(problems));
        }
        m.eligibility = Set(serde_json::to_string(&e).map_err(AppError::internal)?);
    }
    if c.preset.is_some() || c.rules.is_some() {
        let preset = c.preset.unwrap_or(p.preset);
        let r = rules_for(preset, c.rules.or(Some(Rules::of(&p))))?;
        let problems = r.problems();
        if !problems.is_empty() {
            return Err(AppError::Validation(
                problems
                    .into_iter()
                    .map(|(f, zh)| {
                        FieldError::of(f, FieldCode::OutOfRange, Text::new(zh, "out of range"))
                    })
                    .collect(),
            ));
        }
        m.preset = Set(preset);
        m.quorum_num = Set(r.quorum_num);
        m.quorum_den = Set(r.quorum_den);
        m.quorum_strict = Set(r.quorum_strict);
        m.threshold_num = Set(r.threshold_num);
        m.threshold_den = Set(r.threshold_den);
        m.threshold_strict = Set(r.threshold_strict);
        m.threshold_base = Set(r.threshold_base);
        m.abstain_in_quorum = Set(r.abstain_in_quorum);
        m.abstain_in_threshold_base = Set(r.abstain_in_threshold_base);
    }
    m.version = Set(version + 1);
    m.updated_at = Set(now);
    poll::Entity::update(m)
        .filter(poll::Column::Version.eq(version))
        .filter(poll::Column::Status.is_in([Status::Draft, Status::Scheduled]))
        .exec(&txn)
        .await
        .map_err(|e| match e {
            sea_orm::DbErr::RecordNotUpdated => AppError::PreconditionFailed,
            e => e.into(),
        })?;
    if c.opens_at.is_some() || c.closes_at.is_some() {
        set_times_in(
            &txn,
            id,
            c.opens_at.unwrap_or(p.opens_at),
            c.closes_at.unwrap_or(p.closes_at),
            now,
        )
        .await?;
    }
    if let Some(qs) = c.questions {
        set_questions_in(&txn, id, qs).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Moves a draft to `scheduled`: the job opens it at `opens_at`.
pub async fn schedule<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let p = policy::managed_poll(&txn, actor, id).await?;
    standalone(&p)?;
    if p.status != Status::Draft {
        return Err(wrong_status(p.status, "安排"));
    }
    if expected.is_some_and(|v| v != p.version) {
        return Err(AppError::PreconditionFailed);
    }
    no_questions_guard(&txn, id).await?;
    if !engine::schedule_in(&txn, id, now).await? {
        return Err(wrong_status(p.status, "安排"));
    }
    txn.commit().await?;
    Ok(())
}

/// A poll opens only with a question.
async fn no_questions_guard<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<()> {
    use sea_orm::PaginatorTrait;
    let n = entity::poll_question::Entity::find()
        .filter(entity::poll_question::Column::PollId.eq(id))
        .count(db)
        .await?;
    if n == 0 {
        return Err(AppError::GuardFailed(vec![FieldError::of(
            "questions",
            FieldCode::Required,
            Text::new("投票至少要有一道题", "a poll needs a question"),
        )]));
    }
    Ok(())
}

/// Opens a draft or scheduled poll now (building and freezing its roll) and queues the
/// notifications to the accounts on the roll.
pub async fn open<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let p = policy::managed_poll(&txn, actor, id).await?;
    standalone(&p)?;
    if expected.is_some_and(|v| v != p.version) {
        return Err(AppError::PreconditionFailed);
    }
    no_questions_guard(&txn, id).await?;
    if !open_in(&txn, id, now).await? {
        return Err(wrong_status(p.status, "开始"));
    }
    notify::opened(&txn, id, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Closes an open poll now, tallying it in the same transaction, and queues the result's
/// notifications.
pub async fn close<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let p = policy::managed_poll(&txn, actor, id).await?;
    standalone(&p)?;
    if expected.is_some_and(|v| v != p.version) {
        return Err(AppError::PreconditionFailed);
    }
    if !close_in(&txn, id, now, reason.as_deref()).await? {
        return Err(wrong_status(p.status, "结束"));
    }
    notify::result_out(&txn, id, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Cancels a draft or scheduled poll, or an open one nobody has voted in yet, with a reason.
pub async fn cancel<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let p = policy::managed_poll(&txn, actor, id).await?;
    standalone(&p)?;
    if expected.is_some_and(|v| v != p.version) {
        return Err(AppError::PreconditionFailed);
    }
    if !engine::cancel_in(&txn, id, &reason, now).await? {
        return Err(wrong_status(engine::load(&txn, id).await?.status, "取消"));
    }
    txn.commit().await?;
    Ok(())
}

fn audit_event<'a>(
    actor: &'a Actor,
    p: &poll::Model,
    action: audit::Action,
    resident_id: Option<Uuid>,
    reason: &'a str,
    key: Uuid,
) -> audit::Event<'a> {
    audit::Event {
        actor: actor.into(),
        action,
        street_id: Some(p.street_id),
        community_id: p.community_id,
        resident_id,
        field: None,
        purpose: reason,
        detail: Some(format!("poll {} voter {key}", p.id)),
    }
}

/// Adds a voter to an open poll's roll (a late addition: a resident who moved in, a corrected
/// birth date), with a reason; audited; counted separately in the results.
pub async fn add_late_voter<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    key: VoterRef,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let txn = db.begin().await?;
    let p = policy::managed_poll(&txn, actor, id).await?;
    if p.status != Status::Open {
        return Err(engine::not_open());
    }
    let voter = add_voter_in(&txn, id, key, &reason, actor.id, now).await?;
    let resident = match key {
        VoterRef::Resident(r) => Some(r),
        VoterRef::Household(_) => None,
    };
    audit::record(
        &txn,
        audit_event(
            actor,
            &p,
            audit::Action::PollRollAdd,
            resident,
            &reason,
            voter,
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(voter)
}

/// Strikes an entry (eligible or needs_review, never voted) with a reason; audited.
pub async fn strike_voter<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    voter_key: Uuid,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let p = policy::managed_poll(&txn, actor, id).await?;
    let entry = entity::poll_roll::Entity::find_by_id((id, voter_key))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    strike_voter_in(&txn, id, voter_key, &reason, actor.id, now).await?;
    audit::record(
        &txn,
        audit_event(
            actor,
            &p,
            audit::Action::PollRollStrike,
            entry.resident_id,
            &reason,
            voter_key,
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The poll's roll must be one the caller manages; admits a `needs_review` entry; audited.
pub async fn admit_voter<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    voter_key: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let p = policy::managed_poll(&txn, actor, id).await?;
    let entry = entity::poll_roll::Entity::find_by_id((id, voter_key))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    admit_voter_in(&txn, id, voter_key, actor.id, now).await?;
    audit::record(
        &txn,
        audit_event(
            actor,
            &p,
            audit::Action::PollRollAdmit,
            entry.resident_id,
            "出生日期已核实",
            voter_key,
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
