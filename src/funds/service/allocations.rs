//! Allocations (§A5.2 "earmark"): money of a fund account set aside for a proposal. Requested by
//! those who record funds, approved by two people of different roles (never the requester; the
//! second approval reserves the amount by a conditional update of the account row), rejected
//! with a reason, or released: the unspent rest goes back to the account's available money
//! (the reservation shrinks, the balance does not move). Expenses under an allocation spend its
//! reservation (`expenses::pay`), never more than it holds.
//!
//! ```text
//! requested ──approve (1st)──▶ requested ──approve (2nd, other role; reserves)──▶ approved ──release──▶ released
//!     └──reject {reason}──▶ rejected
//! ```
//!
//! The proposal's `allocated_fen` (approved allocations less what was released) moves in the
//! same transaction (`proposals::service::money`).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::{
    approver_turn, audit_move, available_at_least, insufficient, lock, require_active, touch, Turn,
};
use crate::access::{Action, Actor, Role};
use crate::funds::model::{self, AllocationStatus, Decision, EntryKind, BOOK};
use crate::funds::policy;
use crate::platform::audit;
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::ledger::{self, Posting};
use crate::polls::model::Outcome;
use crate::proposals::model::Step;
use crate::proposals::service::{money as caches, policy::policy_in, subject};
use entity::{fund_account, fund_allocation, fund_allocation_approval as approval};

/// An allocation as stored.
pub type Allocation = fund_allocation::Model;

fn wrong_status(s: AllocationStatus, doing: &str) -> AppError {
    AppError::conflict(
        ProblemCode::WrongStatus,
        crate::text!(
            "该拨款当前为「{}」，不能{}",
            "the allocation is {}; it cannot be {}",
            model::allocation_status_label(s),
            doing
        ),
    )
}

fn same_approver(why: &str) -> AppError {
    AppError::conflict(
        ProblemCode::SameApprover,
        crate::text!(
            "拨款须由两位不同角色的人员审批，且不能是申请人：{}",
            "an allocation needs two approvers of different roles, neither the requester: {}",
            why
        ),
    )
}

fn wrong_step(step: Step) -> AppError {
    AppError::conflict(
        ProblemCode::WrongStep,
        crate::text!(
            "议题当前为「{}」，不能为其拨款（决策、筹集或实施阶段才可以）",
            "the proposal is {}; money is allocated to it while deciding, raising or implementing",
            crate::proposals::model::step_label(step)
        ),
    )
}

/// The steps in which a proposal may have money earmarked for it: once its decision is under
/// way and until it is implemented.
fn may_allocate(step: Step) -> bool {
    matches!(step, Step::Deciding | Step::Raising | Step::Implementing)
}

/// Requests `amount` of account `account_id` for proposal `proposal_id` (which must lie in the
/// account's community, and in its compound when the account is a compound's).
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    account_id: Uuid,
    proposal_id: Uuid,
    amount: i64,
    now: DateTime<Utc>,
) -> AppResult<Allocation> {
    let txn = db.begin().await?;
    let a = policy::authorized(&txn, actor, account_id, Action::FundAllocate).await?;
    require_active(&a)?;
    let p = subject::load_in(&txn, proposal_id).await?;
    if p.community_id != a.community_id || a.compound_id.is_some_and(|k| Some(k) != p.compound_id) {
        return Err(AppError::invalid(
            "proposal_id",
            FieldCode::Mismatch,
            Text::new(
                "议题不在该账户所属的社区或小区",
                "the proposal does not lie in the account's community or compound",
            ),
        ));
    }
    if !may_allocate(p.step) {
        return Err(wrong_step(p.step));
    }
    let row = fund_allocation::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(a.id),
        street_id: Set(a.street_id),
        community_id: Set(a.community_id),
        compound_id: Set(a.compound_id),
        proposal_id: Set(p.id),
        amount_fen: Set(amount),
        spent_fen: Set(0),
        released_fen: Set(0),
        status: Set(AllocationStatus::Requested),
        requested_by: Set(actor.id),
        requested_by_name: Set(actor.display_name.clone()),
        poll_id: Set(None),
        reason: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let detail = serde_json::json!({"allocation_id": row.id, "proposal_id": p.id,
        "amount_fen": amount});
    audit_move(
        &txn,
        actor,
        audit::Action::FundAllocationRequest,
        &a,
        "fund allocation requested",
        detail,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// The allocation `id` and its account, the allocation locked: 404 unless the caller may read
/// the account, 403 unless `action` reaches it; 412 when `expected` is not its version.
async fn locked<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    action: Action,
    expected: Option<i32>,
) -> AppResult<(Allocation, fund_account::Model)> {
    let x = fund_allocation::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let a = policy::authorized(db, actor, x.account_id, action).await?;
    if expected.is_some_and(|v| v != x.version) {
        return Err(AppError::PreconditionFailed);
    }
    Ok((x, a))
}

/// Moves `x` to `to` as the caller saw it, with `extra` columns; 412 when it changed meanwhile.
async fn step<C: ConnectionTrait>(
    db: &C,
    x: &Allocation,
    to: AllocationStatus,
    extra: Vec<(fund_allocation::Column, SimpleExpr)>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use fund_allocation::Column as X;
    let cols = super::StepColumns::<fund_allocation::Entity> {
        id: X::Id,
        status: X::Status,
        version: X::Version,
        updated_at: X::UpdatedAt,
    };
    super::step_row(db, cols, x.id, x.status, x.version, to, extra, now).await
}

/// The decisions on allocation `id`, oldest first.
pub async fn decisions<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<Vec<approval::Model>> {
    Ok(approval::Entity::find()
        .filter(approval::Column::AllocationId.eq(id))
        .order_by_asc(approval::Column::CreatedAt)
        .all(db)
        .await?)
}

async fn record_decision<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    x: &Allocation,
    role: Role,
    decision: Decision,
    note: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    approval::ActiveModel {
        allocation_id: Set(x.id),
        user_id: Set(actor.id),
        user_name: Set(actor.display_name.clone()),
        role: Set(role),
        decision: Set(decision),
        note: Set(note),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The guard `spending_poll`: above the community's `spending_poll_above_fen` an allocation
/// needs a passed poll; the proposal's decision poll counts. The poll's id when one is needed.
async fn spending_poll<C: ConnectionTrait>(db: &C, x: &Allocation) -> AppResult<Option<Uuid>> {
    let threshold = policy_in(db, x.community_id).await?.spending_poll_above_fen;
    if x.amount_fen <= threshold {
        return Ok(None);
    }
    let p = subject::load_in(db, x.proposal_id).await?;
    if let Some(poll) = p.decision_poll_id {
        let s = crate::polls::service::engine::status_in(db, poll).await?;
        if s.outcome == Some(Outcome::Passed) {
            return Ok(Some(poll));
        }
    }
    Err(AppError::GuardFailed(vec![FieldError::of(
        "spending_poll",
        FieldCode::NotPassed,
        crate::text!(
            "拨款超过 {} 分，须有已通过的投票（议题的决策投票即可）",
            "an allocation above {} fen needs a passed poll (the proposal's decision poll counts)",
            threshold
        ),
    )]))
}

/// Approves allocation `id`. The first approval is recorded; the second, by someone else in a
/// different role, checks the guard `spending_poll`, reserves the amount on the account (409
/// `insufficient_funds` when less is available) and raises the proposal's `allocated_fen`. The
/// requester, the first approver, and a second approver in the first one's role are refused with
/// 409 `same_approver`.
pub async fn approve<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    note: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<Allocation> {
    let txn = db.begin().await?;
    let (x, a) = locked(&txn, actor, id, Action::FundApprove, expected).await?;
    if x.status != AllocationStatus::Requested {
        return Err(wrong_status(x.status, "审批"));
    }
    let earlier = decisions(&txn, id).await?;
    let earlier = earlier.into_iter().map(|d| (d.user_id, d.role, d.decision));
    let turn = approver_turn(&txn, actor, &a, x.requested_by, earlier, same_approver).await?;
    let detail = |second: bool| serde_json::json!({"allocation_id": id, "second": second});
    match turn {
        Turn::First(role) => {
            record_decision(&txn, actor, &x, role, Decision::Approve, note, now).await?;
            step(&txn, &x, AllocationStatus::Requested, Vec::new(), now).await?;
            audit_move(
                &txn,
                actor,
                audit::Action::FundAllocationApprove,
                &a,
                "fund allocation approved (first)",
                detail(false),
                now,
            )
            .await?;
        }
        Turn::Second(role) => {
            let poll = spending_poll(&txn, &x).await?;
            let p = subject::load_in(&txn, x.proposal_id).await?;
            if !may_allocate(p.step) {
                return Err(wrong_step(p.step));
            }
            record_decision(&txn, actor, &x, role, Decision::Approve, note, now).await?;
            require_active(&lock(&txn, a.id).await?)?;
            let reserve = vec![(
                fund_account::Column::ReservedFen,
                Expr::col(fund_account::Column::ReservedFen).add(x.amount_fen),
            )];
            if !touch(&txn, a.id, reserve, available_at_least(x.amount_fen), now).await? {
                return Err(insufficient());
            }
            let extra = vec![(fund_allocation::Column::PollId, Expr::value(poll))];
            step(&txn, &x, AllocationStatus::Approved, extra, now).await?;
            caches::add(&txn, x.proposal_id, caches::Cache::Allocated, x.amount_fen).await?;
            subject::record_event_in(
                &txn,
                x.proposal_id,
                Some(actor),
                "allocation_approved",
                Some(&format!("{} 元", model::yuan(x.amount_fen))),
                now,
            )
            .await?;
            audit_move(
                &txn,
                actor,
                audit::Action::FundAllocationApprove,
                &a,
                "fund allocation approved (second): reserved",
                detail(true),
                now,
            )
            .await?;
        }
    }
    txn.commit().await?;
    row(db, id).await
}

/// Rejects a requested allocation with a reason.
pub async fn reject<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<Allocation> {
    let txn = db.begin().await?;
    let (x, a) = locked(&txn, actor, id, Action::FundApprove, expected).await?;
    if x.status != AllocationStatus::Requested {
        return Err(wrong_status(x.status, "驳回"));
    }
    let roles = policy::approver_roles(&txn, actor, &a).await?;
    let Some(role) = roles.first().copied() else {
        return Err(AppError::Forbidden);
    };
    let mine = decisions(&txn, id)
        .await?
        .iter()
        .any(|d| d.user_id == actor.id);
    if !mine {
        let note = Some(reason.clone());
        record_decision(&txn, actor, &x, role, Decision::Reject, note, now).await?;
    }
    let extra = vec![(fund_allocation::Column::Reason, Expr::value(Some(reason)))];
    step(&txn, &x, AllocationStatus::Rejected, extra, now).await?;
    audit_move(
        &txn,
        actor,
        audit::Action::FundAllocationReject,
        &a,
        "fund allocation rejected",
        serde_json::json!({"allocation_id": id}),
        now,
    )
    .await?;
    txn.commit().await?;
    row(db, id).await
}

/// Releases what an approved allocation has not spent, by the caller (who must be allowed
/// [`Action::FundAllocate`] on its account).
pub async fn release<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<Allocation> {
    let txn = db.begin().await?;
    let (x, a) = locked(&txn, actor, id, Action::FundAllocate, expected).await?;
    release_in(&txn, &x, &a, actor, now).await?;
    txn.commit().await?;
    row(db, id).await
}

/// Releases allocation `x` inside the caller's transaction: its unspent rest leaves the
/// account's reservation (the balance does not move) and is written to the ledger as a `release`
/// entry of its own (amount 0, `released_fen` the rest, chained like every entry); its
/// `released_fen` takes the rest, it becomes `released`, and the proposal's `allocated_fen`
/// falls by the rest. Nothing to free (all spent) writes no entry. Approved submitted-or-approved
/// expenses under it must be paid or cancelled first (409 `guard_failed`, `expenses`). `actor`
/// records it: the caller, or the system (nil id, 系统) when the polls' job ended the proposal.
pub async fn release_in<C: ConnectionTrait + TransactionTrait>(
    txn: &C,
    x: &Allocation,
    a: &fund_account::Model,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    use fund_account::Column as A;
    use fund_allocation::Column as X;
    if x.status != AllocationStatus::Approved {
        return Err(wrong_status(x.status, "释放"));
    }
    if super::expenses::open_under(txn, x.id).await? > 0 {
        return Err(AppError::GuardFailed(vec![FieldError::of(
            "expenses",
            FieldCode::Pending,
            Text::new(
                "该拨款下还有未支付的支出申请，请先支付或撤销",
                "expenses under the allocation are still unpaid; pay or cancel them first",
            ),
        )]));
    }
    let a = lock(txn, a.id).await?;
    let rest = x.amount_fen - x.spent_fen - x.released_fen;
    let mut entry = None;
    if rest > 0 {
        let free = vec![(A::ReservedFen, Expr::col(A::ReservedFen).sub(rest))];
        let held = Condition::all().add(A::ReservedFen.gte(rest));
        if !touch(txn, a.id, free, held, now).await? {
            return Err(wrong_status(x.status, "释放"));
        }
        entry = Some(release_entry(txn, x, &a, actor, rest, now).await?);
    }
    let extra = vec![(X::ReleasedFen, Expr::col(X::ReleasedFen).add(rest))];
    step(txn, x, AllocationStatus::Released, extra, now).await?;
    if rest > 0 {
        caches::add(txn, x.proposal_id, caches::Cache::Allocated, -rest).await?;
    }
    // The system (a proposal ended by the polls' job) is no one on the timeline.
    let who = Some(actor).filter(|a| !a.id.is_nil());
    subject::record_event_in(
        txn,
        x.proposal_id,
        who,
        "allocation_released",
        Some(&format!("{} 元", model::yuan(rest))),
        now,
    )
    .await?;
    let detail = serde_json::json!({"allocation_id": x.id, "released_fen": rest,
        "spent_fen": x.spent_fen, "entry_id": entry});
    audit_move(
        txn,
        actor,
        audit::Action::FundAllocationRelease,
        &a,
        "fund allocation released",
        detail,
        now,
    )
    .await?;
    Ok(rest)
}

/// The `release` entry of `rest` fen freed from allocation `x` on account `a`: amount 0, so the
/// balance stays; its id.
async fn release_entry<C: ConnectionTrait + TransactionTrait>(
    txn: &C,
    x: &Allocation,
    a: &fund_account::Model,
    actor: &Actor,
    rest: i64,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let facts = super::Facts {
        proposal_id: Some(x.proposal_id),
        allocation_id: Some(x.id),
        memo: Some(format!("拨款未用部分 {} 元释放", model::yuan(rest))),
        occurred_on: Some(super::today(now)),
        released_fen: Some(rest),
        ..super::Facts::default()
    };
    let posted = ledger::post(
        txn,
        &BOOK,
        Posting {
            account_id: a.id,
            amount: 0,
            floor: Some(0),
            fields: super::fields(EntryKind::Release, a, actor, facts),
            at: now,
        },
    )
    .await
    .map_err(super::ledger_error)?;
    Ok(posted.id)
}

/// Releases every approved allocation of proposal `proposal_id` (the close verb's hook, and
/// every move to an end: `proposals::service::hooks`).
pub async fn release_all_in<C: ConnectionTrait + TransactionTrait>(
    txn: &C,
    proposal_id: Uuid,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let open = fund_allocation::Entity::find()
        .filter(fund_allocation::Column::ProposalId.eq(proposal_id))
        .filter(fund_allocation::Column::Status.eq(AllocationStatus::Approved))
        .order_by_asc(fund_allocation::Column::Id)
        .lock_exclusive()
        .all(txn)
        .await?;
    let mut total = 0;
    for x in open {
        let a = lock(txn, x.account_id).await?;
        total += release_in(txn, &x, &a, actor, now).await?;
    }
    Ok(total)
}

/// The allocation `id` as stored.
pub async fn row<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<Allocation> {
    fund_allocation::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}
