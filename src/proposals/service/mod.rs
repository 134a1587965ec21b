//! The six steps as verbs (participation design §A1.1, §A1.2, §A7). Every verb is one
//! transaction: it reads the proposal the caller may see (404 otherwise), checks the action (403),
//! the `If-Match` version (412), the step (409 `wrong_step`) and its guards (409 `guard_failed`
//! naming each unmet one), then moves the proposal by a conditional update
//! (`WHERE step = :seen AND version = :seen`), appends a `proposal_events` row, writes the audit
//! event and queues the notifications. A move to a terminal step calls `hooks::on_ended_in` in
//! the same transaction, exactly once because the move is conditional.
//!
//! ```text
//! proposed ──accept──▶ deliberating ──open_decision──▶ deciding ──poll passed──▶ raising ──start──▶ implementing
//!    │ reject/refer/merge      ▲   └──cancel_decision (no ballot yet)──┘  │ (budget 0: straight to implementing)
//!    ▼                         │                                          └─poll failed/no quorum──▶ failed
//! rejected/referred/merged     (revise: a new revision)
//! implementing ──complete──▶ evaluating ──close──▶ closed ;  acceptance fail: evaluating ──▶ implementing
//! withdraw (author; proposed|deliberating) ; cancel (staff; any open step) ; hold/resume (implementing)
//! ```

pub mod closing;
pub mod decision;
pub mod evaluation;
pub mod export;
pub mod hooks;
pub mod implementation;
pub mod intake;
pub mod money;
pub mod notify;
pub mod policy;
pub mod referral;
pub mod revisions;
pub mod subject;
pub mod verbs;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::audit;
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError, ProblemCode};
use crate::platform::lang::Text;
use crate::proposals::model::{step_label, Step};
use crate::proposals::service::subject::{insert_event, ProposalRef};
use entity::proposal;

/// 409 `wrong_step`: the verb does not belong to the proposal's step.
pub fn wrong_step(now_at: Step, verb: &str) -> AppError {
    AppError::conflict(
        ProblemCode::WrongStep,
        crate::text!(
            "议题当前处于「{}」，不能{}",
            "the proposal is {}; it cannot be {}",
            step_label(now_at),
            verb
        ),
    )
}

/// 409 `wrong_step` unless `p` is in one of `steps`.
pub fn require_step(p: &proposal::Model, steps: &[Step], verb: &str) -> AppResult<()> {
    if steps.contains(&p.step) {
        Ok(())
    } else {
        Err(wrong_step(p.step, verb))
    }
}

/// The unmet guards of a verb, collected, then answered as one 409 `guard_failed`.
#[derive(Default)]
pub struct Guards(Vec<FieldError>);

impl Guards {
    /// Records `guard` unmet (`code` says why) unless `met`.
    pub fn check(
        &mut self,
        met: bool,
        guard: &str,
        code: FieldCode,
        zh: &'static str,
        en: &'static str,
    ) {
        if !met {
            self.0.push(FieldError::of(guard, code, Text::new(zh, en)));
        }
    }

    /// Records `guard` unmet with a message built by the caller.
    pub fn fail(&mut self, guard: &str, code: FieldCode, message: Text) {
        self.0.push(FieldError::of(guard, code, message));
    }

    /// Ok when every guard is met; 409 `guard_failed` naming each unmet one otherwise.
    pub fn done(self) -> AppResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::GuardFailed(self.0))
        }
    }
}

/// The proposal `id` as stored (no authorization), 404 when missing.
pub async fn load<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<proposal::Model> {
    proposal::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// 412 unless `expected` (the `If-Match` version) is absent or the proposal's version.
pub fn check_version(p: &proposal::Model, expected: Option<i32>) -> AppResult<()> {
    if expected.is_some_and(|v| v != p.version) {
        Err(AppError::PreconditionFailed)
    } else {
        Ok(())
    }
}

/// Sets `sets` on `p` (and bumps the version, `updated_at`, `activity_at`), conditionally on
/// its step and version being those `p` was read with. Ok(false) when someone else changed it
/// first (the caller answers 409 `concurrent_change`, or nothing in a job).
pub async fn touch<C: ConnectionTrait>(
    conn: &C,
    p: &proposal::Model,
    sets: Vec<(proposal::Column, SimpleExpr)>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    use proposal::Column as P;
    let mut u = proposal::Entity::update_many()
        .col_expr(P::Version, Expr::col(P::Version).add(1))
        .col_expr(P::UpdatedAt, Expr::value(now))
        .col_expr(P::ActivityAt, Expr::value(now));
    for (c, v) in sets {
        u = u.col_expr(c, v);
    }
    let r = u
        .filter(P::Id.eq(p.id))
        .filter(P::Step.eq(p.step))
        .filter(P::Version.eq(p.version))
        .exec(conn)
        .await?;
    Ok(r.rows_affected == 1)
}

/// 409 `concurrent_change`.
pub fn raced() -> AppError {
    AppError::conflict(
        ProblemCode::ConcurrentChange,
        Text::new(
            "议题刚被其他人修改，请刷新后重试",
            "someone changed the proposal at the same moment; reload and retry",
        ),
    )
}

/// Moves `p` to `to` with `sets` ([`touch`]), appends the event `kind`, and, for a terminal
/// step, runs `hooks::on_ended_in`. Ok(false) when the conditional update found it changed.
#[allow(clippy::too_many_arguments)]
pub async fn move_step<C: ConnectionTrait + TransactionTrait>(
    conn: &C,
    p: &proposal::Model,
    to: Step,
    mut sets: Vec<(proposal::Column, SimpleExpr)>,
    actor: Option<&Actor>,
    kind: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    sets.push((proposal::Column::Step, Expr::value(to)));
    // A cancel waiting for its co-signature was asked of the step the proposal leaves.
    sets.push((
        proposal::Column::CancelRequestedBy,
        Expr::value(Option::<Uuid>::None),
    ));
    sets.push((
        proposal::Column::CancelRequestedAt,
        Expr::value(Option::<DateTime<Utc>>::None),
    ));
    if !touch(conn, p, sets, now).await? {
        return Ok(false);
    }
    let r = ProposalRef::from(p);
    insert_event(conn, &r, actor, kind, Some((p.step, to)), note, now).await?;
    if to.is_terminal() {
        hooks::on_ended_in(conn, p.id, actor, now).await?;
    }
    Ok(true)
}

/// Writes the audit event of verb `verb` on `p`.
pub async fn audit_step<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    p: &proposal::Model,
    verb: &str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut d = detail;
    if let Some(o) = d.as_object_mut() {
        o.insert("proposal_id".into(), serde_json::json!(p.id));
        o.insert("from".into(), serde_json::json!(p.step));
    }
    audit::record(
        conn,
        audit::Event {
            actor: actor.into(),
            action: audit::Action::ProposalStep,
            street_id: Some(p.street_id),
            community_id: Some(p.community_id),
            resident_id: None,
            field: None,
            purpose: verb,
            detail: Some(d.to_string()),
        },
        now,
    )
    .await?;
    Ok(())
}
