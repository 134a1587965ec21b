//! Expense requests: filed, approved by two people of different roles (never the requester;
//! the second approval reserves the money), paid against at least one invoice (an `expense`
//! entry that spends the reservation), or rejected or cancelled (releasing a reservation).
//! Each verb locks the request, then its account, and moves the request's status with a
//! conditional update on the status and version it saw.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::{
    approver_turn, audit_move, available_at_least, check_day, fields, insufficient, ledger_error,
    lock, require_active, touch, Facts, Turn,
};
use crate::access::{Action, Actor, Role};
use crate::funds::model::{self, CounterpartyKind, Decision, EntryKind, ExpenseStatus, BOOK};
use crate::funds::policy;
use crate::platform::attachments::{self, SubjectType};
use crate::platform::audit;
use crate::platform::error::{AppError, AppResult, FieldError, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::ledger::{self, Posting};
use crate::proposals::service::money as caches;
use entity::{fund_account, fund_expense, fund_expense_approval as approval};

use super::proposals;

/// An expense request as stored.
pub type Expense = fund_expense::Model;

/// A new request (validated by the handler).
#[derive(Debug, Clone)]
pub struct NewExpense {
    pub account_id: Uuid,
    pub amount_fen: i64,
    pub payee_kind: CounterpartyKind,
    pub payee_name: String,
    pub anonymous: bool,
    pub purpose: String,
    pub proposal_id: Option<Uuid>,
    /// The allocation it spends (its proposal is the request's).
    pub allocation_id: Option<Uuid>,
    /// Quotes or invoices already at hand: the requester's own uploads.
    pub attachment_ids: Vec<Uuid>,
}

fn wrong_status(s: ExpenseStatus, doing: &str) -> AppError {
    AppError::conflict(
        ProblemCode::WrongStatus,
        crate::text!(
            "该支出申请当前为「{}」，不能{}",
            "the expense request is {}; it cannot be {}",
            model::expense_status_label(s),
            doing
        ),
    )
}

fn same_approver(why: &str) -> AppError {
    AppError::conflict(
        ProblemCode::SameApprover,
        crate::text!(
            "支出须由两位不同角色的人员审批，且不能是申请人：{}",
            "an expense needs two approvers of different roles, neither the requester: {}",
            why
        ),
    )
}

/// Files a request on an account where the caller records funds.
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    n: NewExpense,
    now: DateTime<Utc>,
) -> AppResult<fund_expense::Model> {
    let txn = db.begin().await?;
    let a = policy::authorized(&txn, actor, n.account_id, Action::FundRecord).await?;
    require_active(&a)?;
    let (proposal_id, allocation_id) = proposals::tie(&txn, &a, &n).await?;
    let public = model::public_name(n.payee_kind, &n.payee_name, n.anonymous);
    let e = fund_expense::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(a.id),
        street_id: Set(a.street_id),
        community_id: Set(a.community_id),
        compound_id: Set(a.compound_id),
        proposal_id: Set(proposal_id),
        allocation_id: Set(allocation_id),
        amount_fen: Set(n.amount_fen),
        payee_kind: Set(n.payee_kind),
        payee_name: Set(n.payee_name),
        public_name: Set(public),
        purpose: Set(n.purpose),
        status: Set(ExpenseStatus::Submitted),
        requested_by: Set(actor.id),
        requested_by_name: Set(actor.display_name.clone()),
        paid_entry_id: Set(None),
        paid_on: Set(None),
        reason: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    attachments::link(
        &txn,
        actor.id,
        &n.attachment_ids,
        (SubjectType::FundExpense, e.id),
        None,
    )
    .await?;
    let detail = serde_json::json!({"expense_id": e.id, "amount_fen": e.amount_fen});
    audit_move(
        &txn,
        actor,
        audit::Action::FundExpenseRequest,
        &a,
        "fund expense requested",
        detail,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(e)
}

/// The request `id` and its account, the request locked: 404 unless the caller may read the
/// account, 403 unless `action` reaches it; 412 when `expected` is not its version.
async fn locked<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    action: Action,
    expected: Option<i32>,
) -> AppResult<(fund_expense::Model, fund_account::Model)> {
    let e = fund_expense::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let a = policy::authorized(db, actor, e.account_id, action).await?;
    if expected.is_some_and(|v| v != e.version) {
        return Err(AppError::PreconditionFailed);
    }
    Ok((e, a))
}

/// Moves `e` to `to` as the caller saw it, with `extra` columns; 412 when it changed meanwhile.
async fn step<C: ConnectionTrait>(
    db: &C,
    e: &fund_expense::Model,
    to: ExpenseStatus,
    extra: Vec<(fund_expense::Column, SimpleExpr)>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use fund_expense::Column as X;
    let cols = super::StepColumns::<fund_expense::Entity> {
        id: X::Id,
        status: X::Status,
        version: X::Version,
        updated_at: X::UpdatedAt,
    };
    super::step_row(db, cols, e.id, e.status, e.version, to, extra, now).await
}

/// The decisions on request `id`, oldest first.
pub async fn decisions<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<Vec<approval::Model>> {
    Ok(approval::Entity::find()
        .filter(approval::Column::ExpenseId.eq(id))
        .order_by_asc(approval::Column::CreatedAt)
        .all(db)
        .await?)
}

async fn record_decision<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    e: &fund_expense::Model,
    role: Role,
    decision: Decision,
    note: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    approval::ActiveModel {
        expense_id: Set(e.id),
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

/// Approves request `id`. The first approval is recorded; the second, by someone else in a
/// different role, reserves the amount on the account (409 `insufficient_funds` when less is
/// available) and moves the request to `approved`. The requester, the first approver, and a
/// second approver in the first one's role are refused with 409 `same_approver`.
pub async fn approve<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    note: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<fund_expense::Model> {
    let txn = db.begin().await?;
    let (e, a) = locked(&txn, actor, id, Action::FundApprove, expected).await?;
    if e.status != ExpenseStatus::Submitted {
        return Err(wrong_status(e.status, "审批"));
    }
    let earlier = decisions(&txn, id).await?;
    let earlier = earlier.into_iter().map(|d| (d.user_id, d.role, d.decision));
    let turn = approver_turn(&txn, actor, &a, e.requested_by, earlier, same_approver).await?;
    let detail = |second: bool| serde_json::json!({"expense_id": id, "second": second});
    match turn {
        Turn::First(role) => {
            record_decision(&txn, actor, &e, role, Decision::Approve, note, now).await?;
            step(&txn, &e, ExpenseStatus::Submitted, Vec::new(), now).await?;
            audit_move(
                &txn,
                actor,
                audit::Action::FundExpenseApprove,
                &a,
                "fund expense approved (first)",
                detail(false),
                now,
            )
            .await?;
        }
        Turn::Second(role) => {
            record_decision(&txn, actor, &e, role, Decision::Approve, note, now).await?;
            require_active(&lock(&txn, a.id).await?)?;
            // Under an allocation the money is reserved already: the allocation's rest is
            // checked (and spent) when it is paid.
            let reserve = match e.allocation_id {
                Some(_) => Vec::new(),
                None => vec![(
                    fund_account::Column::ReservedFen,
                    Expr::col(fund_account::Column::ReservedFen).add(e.amount_fen),
                )],
            };
            let cond = match e.allocation_id {
                Some(_) => Condition::all(),
                None => available_at_least(e.amount_fen),
            };
            if !touch(&txn, a.id, reserve, cond, now).await? {
                return Err(insufficient());
            }
            step(&txn, &e, ExpenseStatus::Approved, Vec::new(), now).await?;
            audit_move(
                &txn,
                actor,
                audit::Action::FundExpenseApprove,
                &a,
                "fund expense approved (second): reserved",
                detail(true),
                now,
            )
            .await?;
        }
    }
    txn.commit().await?;
    row(db, id).await
}

/// Rejects a submitted request with a reason.
pub async fn reject<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<fund_expense::Model> {
    let txn = db.begin().await?;
    let (e, a) = locked(&txn, actor, id, Action::FundApprove, expected).await?;
    if e.status != ExpenseStatus::Submitted {
        return Err(wrong_status(e.status, "驳回"));
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
        record_decision(&txn, actor, &e, role, Decision::Reject, note, now).await?;
    }
    let extra = vec![(fund_expense::Column::Reason, Expr::value(Some(reason)))];
    step(&txn, &e, ExpenseStatus::Rejected, extra, now).await?;
    let detail = serde_json::json!({"expense_id": id});
    audit_move(
        &txn,
        actor,
        audit::Action::FundExpenseReject,
        &a,
        "fund expense rejected",
        detail,
        now,
    )
    .await?;
    txn.commit().await?;
    row(db, id).await
}

/// Cancels a submitted or approved request; an approved one gives its reservation back.
pub async fn cancel<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<fund_expense::Model> {
    let txn = db.begin().await?;
    let (e, a) = locked(&txn, actor, id, Action::FundRecord, expected).await?;
    match e.status {
        ExpenseStatus::Submitted => {}
        // The allocation keeps its reservation.
        ExpenseStatus::Approved if e.allocation_id.is_some() => {}
        ExpenseStatus::Approved => {
            lock(&txn, a.id).await?;
            let release = vec![(
                fund_account::Column::ReservedFen,
                Expr::col(fund_account::Column::ReservedFen).sub(e.amount_fen),
            )];
            let held = Condition::all().add(fund_account::Column::ReservedFen.gte(e.amount_fen));
            if !touch(&txn, a.id, release, held, now).await? {
                return Err(wrong_status(e.status, "撤销"));
            }
        }
        s => return Err(wrong_status(s, "撤销")),
    }
    step(&txn, &e, ExpenseStatus::Cancelled, Vec::new(), now).await?;
    let released = e.status == ExpenseStatus::Approved && e.allocation_id.is_none();
    let detail = serde_json::json!({"expense_id": id, "released_fen":
        if released { e.amount_fen } else { 0 }});
    audit_move(
        &txn,
        actor,
        audit::Action::FundExpenseCancel,
        &a,
        "fund expense cancelled",
        detail,
        now,
    )
    .await?;
    txn.commit().await?;
    row(db, id).await
}

/// Pays an approved request on `paid_on`, with invoices (the caller's own uploads, added to
/// those already attached; at least one in all, else 400): one `expense` entry of −amount that
/// lowers the balance and the reservation together, never below zero.
pub async fn pay<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    paid_on: NaiveDate,
    attachment_ids: Vec<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<fund_expense::Model> {
    check_day("occurred_on", paid_on, now)?;
    let txn = db.begin().await?;
    let (e, a) = locked(&txn, actor, id, Action::FundRecord, expected).await?;
    if e.status != ExpenseStatus::Approved {
        return Err(wrong_status(e.status, "支付"));
    }
    let subject = (SubjectType::FundExpense, id);
    attachments::link(&txn, actor.id, &attachment_ids, subject, None).await?;
    if attachments::of_subject(&txn, subject.0, id)
        .await?
        .is_empty()
    {
        return Err(AppError::Validation(vec![FieldError::of(
            "attachment_ids",
            crate::platform::error::FieldCode::Required,
            Text::new(
                "支付前须上传至少一张发票照片",
                "at least one invoice photo is needed before paying",
            ),
        )]));
    }
    let a = lock(&txn, a.id).await?;
    require_active(&a)?;
    if let Some(allocation) = e.allocation_id {
        proposals::spend_allocation(&txn, allocation, e.amount_fen, now).await?;
    }
    use fund_account::Column as A;
    let spend = vec![(A::ReservedFen, Expr::col(A::ReservedFen).sub(e.amount_fen))];
    let cond = Condition::all()
        .add(A::ReservedFen.gte(e.amount_fen))
        .add(Expr::col(A::BalanceFen).sub(e.amount_fen).gte(0));
    if !touch(&txn, a.id, spend, cond, now).await? {
        return Err(insufficient());
    }
    let approvers: Vec<Uuid> = decisions(&txn, id)
        .await?
        .into_iter()
        .filter(|d| d.decision == Decision::Approve)
        .map(|d| d.user_id)
        .collect();
    let facts = Facts {
        proposal_id: e.proposal_id,
        expense_id: Some(e.id),
        counterparty: Some((e.payee_kind, e.payee_name.clone())),
        public_name: Some(e.public_name.clone()),
        memo: Some(e.purpose.clone()),
        occurred_on: Some(paid_on),
        approved_by: (approvers.first().copied(), approvers.get(1).copied()),
        allocation_id: e.allocation_id,
        ..Facts::default()
    };
    let posted = ledger::post(
        &txn,
        &BOOK,
        Posting {
            account_id: a.id,
            amount: -e.amount_fen,
            floor: Some(0),
            fields: fields(EntryKind::Expense, &a, actor, facts),
            at: now,
        },
    )
    .await
    .map_err(ledger_error)?;
    let extra = vec![
        (
            fund_expense::Column::PaidEntryId,
            Expr::value(Some(posted.id)),
        ),
        (fund_expense::Column::PaidOn, Expr::value(Some(paid_on))),
    ];
    step(&txn, &e, ExpenseStatus::Paid, extra, now).await?;
    if let Some(p) = e.proposal_id {
        caches::add(&txn, p, caches::Cache::Spent, e.amount_fen).await?;
    }
    let detail = serde_json::json!({
        "expense_id": id, "entry_id": posted.id, "amount_fen": e.amount_fen,
        "balance_after_fen": posted.balance_after,
    });
    audit_move(
        &txn,
        actor,
        audit::Action::FundExpensePay,
        &a,
        "fund expense paid",
        detail,
        now,
    )
    .await?;
    txn.commit().await?;
    row(db, id).await
}

/// How many requests under allocation `id` are submitted or approved (not yet paid).
pub async fn open_under<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(fund_expense::Entity::find()
        .filter(fund_expense::Column::AllocationId.eq(id))
        .filter(
            fund_expense::Column::Status.is_in([ExpenseStatus::Submitted, ExpenseStatus::Approved]),
        )
        .count(db)
        .await?)
}

/// The request `id` as stored.
pub async fn row<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<fund_expense::Model> {
    fund_expense::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}
