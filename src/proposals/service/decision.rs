//! 决: opening the decision poll on a frozen revision (its sha256 in the poll's description),
//! cancelling it before the first ballot, and what the poll's close does to the proposal. The
//! close runs in the poll-close transaction (`polls::jobs`), after `engine::close_in` claimed the
//! poll: that claim happens once, and the proposal's move is conditional on its step and
//! version, so a proposal moves once and gets one event however many runners race.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, EntityTrait, TransactionTrait};
use uuid::Uuid;

use super::{audit_step, check_version, load, move_step, raced, require_step, Guards};
use crate::access::policy::Action;
use crate::access::Actor;
use crate::platform::error::{AppError, AppResult, FieldCode};
use crate::platform::lang::Text;
use crate::polls::model::{
    Eligibility, Outcome, PollScope, Preset, QuestionKind, ResultsVisibility, Rules, Secrecy,
    Subject, VoterUnit,
};
use crate::polls::service::{engine, notify as poll_notify};
use crate::proposals::model::{ScopeType, Step};
use crate::proposals::service::subject::{insert_event, ProposalRef};
use crate::proposals::service::verbs::authorized;
use entity::{proposal, proposal_revision};

/// How the decision poll is set up; each field absent takes the policy's or the default.
#[derive(Debug, Clone, Default)]
pub struct DecisionSpec {
    /// Default secret (无记名).
    pub secrecy: Option<Secrecy>,
    /// Default one vote per household (居民会议 by household representatives).
    pub unit: Option<VoterUnit>,
    /// Default the consultation policy's `decision_preset`.
    pub preset: Option<Preset>,
    /// The rules of a `custom` preset.
    pub rules: Option<Rules>,
    pub eligibility: Option<Eligibility>,
    /// Default the policy's `poll_days`.
    pub days: Option<i32>,
}

/// The place a poll of `p` is addressed to (its own).
pub fn poll_scope(s: ScopeType) -> PollScope {
    match s {
        ScopeType::Building => PollScope::Building,
        ScopeType::Compound => PollScope::Compound,
        ScopeType::Community => PollScope::Community,
    }
}

fn title_of(lead: &str, title: &str) -> String {
    format!("{lead}：{title}")
        .chars()
        .take(crate::polls::model::TITLE_MAX)
        .collect()
}

/// Opens the decision (deliberating → deciding): freezes the current revision, creates the poll
/// (subject `proposal_decision`, the proposal's place, the policy's preset and days) with the
/// revision's sha256 in its description, opens it (the roll frozen) and notifies the roll.
/// Guards: deliberation has run its days (`deliberation_ends_at`), the revision exists
/// (`revision`).
pub async fn open_decision<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    spec: DecisionSpec,
    now: DateTime<Utc>,
) -> AppResult<proposal::Model> {
    use proposal::Column as P;
    let txn = db.begin().await?;
    let p = authorized(&txn, actor, id, Action::ProposalAdvance).await?;
    check_version(&p, expected)?;
    require_step(&p, &[Step::Deliberating], "发起表决")?;
    let rev = proposal_revision::Entity::find_by_id((p.id, p.current_revision))
        .one(&txn)
        .await?;
    let mut g = Guards::default();
    g.check(
        p.deliberation_ends_at.is_some_and(|end| now >= end),
        "deliberation_ends_at",
        FieldCode::TooEarly,
        "协商期尚未结束，不能发起表决",
        "deliberation has not run its days yet",
    );
    g.check(
        rev.is_some(),
        "revision",
        FieldCode::NotSet,
        "没有可冻结的议题文本",
        "there is no revision to freeze",
    );
    g.done()?;
    let rev = rev.ok_or(AppError::NotFound)?;
    let pol = super::policy::policy_in(&txn, p.community_id).await?;
    let preset = spec.preset.unwrap_or(pol.decision_preset);
    let rules = crate::polls::service::rules_for(preset, spec.rules)?;
    let days = spec.days.unwrap_or(pol.poll_days).clamp(1, 60);
    let description = format!(
        "{}\n\n表决文本：第 {} 版，预算 {} 元，sha256 {}",
        rev.body,
        rev.n,
        format_yuan(rev.budget_fen),
        rev.sha256
    );
    let poll_id = engine::create_in(
        &txn,
        actor.id,
        engine::NewPoll {
            scope_type: poll_scope(p.scope_type),
            scope_id: p.scope_id,
            subject_type: Subject::ProposalDecision,
            subject_id: Some(p.id),
            title: title_of("议题表决", &rev.title),
            description,
            secrecy: spec.secrecy.unwrap_or(Secrecy::Secret),
            unit: spec.unit.unwrap_or(VoterUnit::Household),
            eligibility: spec.eligibility.unwrap_or_default(),
            preset,
            rules,
            results_visibility: ResultsVisibility::AfterClose,
            opens_at: now,
            closes_at: now + Duration::days(i64::from(days)),
            questions: vec![engine::NewQuestion {
                title: title_of("是否同意", &rev.title),
                kind: QuestionKind::YesNoAbstain,
                min_choices: 1,
                max_choices: 1,
                seats: None,
                options: vec![],
            }],
            created_by_name: actor.display_name.clone(),
        },
        now,
    )
    .await?;
    if !engine::open_in(&txn, poll_id, now).await? {
        return Err(raced());
    }
    let sets = vec![
        (P::FrozenRevision, Expr::value(Some(rev.n))),
        (P::DecisionPollId, Expr::value(Some(poll_id))),
    ];
    let note = format!("第 {} 版 sha256 {}", rev.n, rev.sha256);
    if !move_step(
        &txn,
        &p,
        Step::Deciding,
        sets,
        Some(actor),
        "decision_opened",
        Some(&note),
        now,
    )
    .await?
    {
        return Err(raced());
    }
    audit_step(
        &txn,
        actor,
        &p,
        "open_decision",
        serde_json::json!({"poll_id": poll_id, "revision": rev.n, "sha256": rev.sha256}),
        now,
    )
    .await?;
    poll_notify::opened(&txn, poll_id, now).await?;
    super::notify::stepped(&txn, &p, Step::Deciding, now).await?;
    txn.commit().await?;
    load(db, id).await
}

/// Yuan with two decimals, for texts.
pub fn format_yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, (fen % 100).abs())
}

/// Cancels the decision poll of `p` (before any ballot; 409 `guard_failed` otherwise).
pub async fn cancel_poll_in<C: ConnectionTrait>(
    conn: &C,
    p: &proposal::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if let Some(poll) = p.decision_poll_id {
        engine::cancel_in(conn, poll, reason, now).await?;
    }
    Ok(())
}

/// Cancels the decision (deciding → deliberating), only before the first ballot: the poll is
/// cancelled with the reason, the revision thawed.
pub async fn cancel_decision<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<proposal::Model> {
    use proposal::Column as P;
    let txn = db.begin().await?;
    let p = authorized(&txn, actor, id, Action::ProposalAdvance).await?;
    check_version(&p, expected)?;
    require_step(&p, &[Step::Deciding], "撤销表决")?;
    cancel_poll_in(&txn, &p, &reason, now).await?;
    let sets = vec![
        (P::FrozenRevision, Expr::value(Option::<i32>::None)),
        (P::DecisionPollId, Expr::value(Option::<Uuid>::None)),
    ];
    if !move_step(
        &txn,
        &p,
        Step::Deliberating,
        sets,
        Some(actor),
        "decision_cancelled",
        Some(&reason),
        now,
    )
    .await?
    {
        return Err(raced());
    }
    audit_step(
        &txn,
        actor,
        &p,
        "cancel_decision",
        serde_json::json!({"poll_id": p.decision_poll_id, "reason": reason}),
        now,
    )
    .await?;
    txn.commit().await?;
    load(db, id).await
}

/// Inside the transaction in which `engine::close_in` closed poll `poll_id` (and only when it
/// did): a proposal's decision poll moves the proposal (passed → raising, or implementing when
/// no money is needed; failed or no quorum → failed); its evaluation poll records the
/// satisfaction figures. Any other poll: nothing.
pub async fn on_poll_closed_in<C: ConnectionTrait + TransactionTrait>(
    conn: &C,
    poll_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let s = engine::status_in(conn, poll_id).await?;
    let Some(pid) = s.subject_id else {
        return Ok(());
    };
    match s.subject_type {
        Subject::ProposalDecision => {
            let p = load(conn, pid).await?;
            if p.step != Step::Deciding || p.decision_poll_id != Some(poll_id) {
                return Ok(());
            }
            let to = match s.outcome {
                Some(Outcome::Passed) if p.budget_fen == 0 => Step::Implementing,
                Some(Outcome::Passed) => Step::Raising,
                _ => Step::Failed,
            };
            let note = s
                .outcome
                .map(|o| crate::polls::model::outcome_label(o).to_string());
            let mut sets = Vec::new();
            if to == Step::Implementing {
                sets.push((proposal::Column::StartedAt, Expr::value(Some(now))));
            }
            if move_step(conn, &p, to, sets, None, "decided", note.as_deref(), now).await? {
                super::notify::result(conn, &p, to, now).await?;
            }
            Ok(())
        }
        Subject::ProposalEvaluation => super::evaluation::record_in(conn, pid, poll_id, now).await,
        _ => Ok(()),
    }
}

/// Appends an event to the proposal `p` without moving it (for the system).
pub async fn note_in<C: ConnectionTrait>(
    conn: &C,
    p: &proposal::Model,
    kind: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    insert_event(conn, &ProposalRef::from(p), None, kind, None, note, now).await
}

/// 400 for a decision spec's days out of range.
pub fn check_days(days: Option<i32>) -> AppResult<()> {
    if days.is_some_and(|d| !(1..=60).contains(&d)) {
        return Err(AppError::invalid(
            "days",
            FieldCode::OutOfRange,
            Text::new("表决天数须在 1 到 60 之间", "1 to 60 days"),
        ));
    }
    Ok(())
}
