//! Where money meets proposals (§A5.2 "spending is tied to proposals"): which proposal and
//! allocation an expense request spends for, an allocation's rest spent by a payment (and given
//! back by the payment's reversal), and the proposal's cached figures kept with every entry that
//! carries it.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::expenses::NewExpense;
use super::{insufficient, touch};
use crate::funds::model::{AccountKind, AllocationStatus, EntryKind};
use crate::platform::error::{AppError, AppResult, FieldCode};
use crate::platform::lang::Text;
use crate::proposals::model::Step;
use crate::proposals::service::money::{self as caches, Cache};
use crate::proposals::service::subject::{self, ProposalRef};
use entity::{fund_account, fund_allocation, fund_entry, fund_expense};

/// Whether spending from an account of `kind` must name a proposal in `implementing`: the
/// 自治金 and 协商资金 are spent on what residents decided.
pub fn needs_proposal(kind: AccountKind) -> bool {
    matches!(
        kind,
        AccountKind::SelfGovernance | AccountKind::Consultation
    )
}

fn elsewhere(field: &str) -> AppError {
    AppError::invalid(
        field,
        FieldCode::Mismatch,
        Text::new(
            "议题或拨款不属于该账户所在的社区、小区或账户",
            "the proposal or allocation does not belong to the account's place or the account",
        ),
    )
}

/// The proposal `id`, which must lie in account `a`'s community (and compound, for a
/// compound's account).
pub async fn proposal_of<C: ConnectionTrait>(
    db: &C,
    a: &fund_account::Model,
    id: Uuid,
) -> AppResult<ProposalRef> {
    let p = subject::load_in(db, id).await.map_err(|e| match e {
        AppError::NotFound => AppError::invalid(
            "proposal_id",
            FieldCode::NotFound,
            Text::new("议题不存在", "no such proposal"),
        ),
        e => e,
    })?;
    if p.community_id != a.community_id || a.compound_id.is_some_and(|k| Some(k) != p.compound_id) {
        return Err(elsewhere("proposal_id"));
    }
    Ok(p)
}

/// The proposal and allocation a new request spends for. An allocation names its proposal
/// (and must be approved, on this account, with at least the amount left: 409
/// `insufficient_funds` otherwise); a 自治金 or 协商资金 account needs a proposal, in
/// `implementing` (409 `guard_failed`, `proposal`).
pub async fn tie<C: ConnectionTrait>(
    db: &C,
    a: &fund_account::Model,
    n: &NewExpense,
) -> AppResult<(Option<Uuid>, Option<Uuid>)> {
    let mut proposal_id = n.proposal_id;
    if let Some(id) = n.allocation_id {
        let x = fund_allocation::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| elsewhere("allocation_id"))?;
        if x.account_id != a.id || proposal_id.is_some_and(|p| p != x.proposal_id) {
            return Err(elsewhere("allocation_id"));
        }
        if x.status != AllocationStatus::Approved {
            return Err(AppError::invalid(
                "allocation_id",
                FieldCode::NotAllowed,
                Text::new(
                    "该拨款尚未批准或已释放",
                    "the allocation is not approved or released",
                ),
            ));
        }
        if x.amount_fen - x.spent_fen - x.released_fen < n.amount_fen {
            return Err(insufficient());
        }
        proposal_id = Some(x.proposal_id);
    }
    match proposal_id {
        Some(id) => {
            let p = proposal_of(db, a, id).await?;
            if needs_proposal(a.kind) && p.step != Step::Implementing {
                return Err(not_implementing());
            }
        }
        None if needs_proposal(a.kind) => {
            return Err(AppError::GuardFailed(vec![
            crate::platform::error::FieldError::of(
                "proposal_id",
                FieldCode::Required,
                Text::new(
                    "自治金、协商资金的支出须对应一个实施中的议题",
                    "spending from a 自治金 or 协商资金 account names a proposal in implementing",
                ),
            ),
        ]))
        }
        None => {}
    }
    Ok((proposal_id, n.allocation_id))
}

fn not_implementing() -> AppError {
    AppError::GuardFailed(vec![crate::platform::error::FieldError::of(
        "proposal",
        FieldCode::NotAllowed,
        Text::new(
            "议题须处于「实施中」才能从自治金、协商资金支出",
            "the proposal must be implementing to spend from a 自治金 or 协商资金 account",
        ),
    )])
}

/// Spends `amount` of allocation `id` (a payment under it), in the same transaction as the
/// payment: `UPDATE fund_allocations SET spent_fen = spent_fen + :a WHERE id = :id AND status =
/// 'approved' AND spent_fen + released_fen + :a <= amount_fen`; nothing updated is 409
/// `insufficient_funds` (the expense would exceed its allocation).
pub async fn spend_allocation<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    amount: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use fund_allocation::Column as X;
    let done = fund_allocation::Entity::update_many()
        .col_expr(X::SpentFen, Expr::col(X::SpentFen).add(amount))
        .col_expr(X::Version, Expr::col(X::Version).add(1))
        .col_expr(X::UpdatedAt, Expr::value(now))
        .filter(X::Id.eq(id))
        .filter(X::Status.eq(AllocationStatus::Approved))
        .filter(
            Expr::col(X::SpentFen)
                .add(Expr::col(X::ReleasedFen))
                .add(amount)
                .lte(Expr::col(X::AmountFen)),
        )
        .exec(db)
        .await?;
    if done.rows_affected == 1 {
        Ok(())
    } else {
        Err(insufficient())
    }
}

/// What reversing entry `e` does besides the ledger (inside the reversal's transaction, after
/// the reversal is posted): the proposal's cached figures move back, and a payment under an
/// allocation gives its amount back to the allocation, reserved again on the account while the
/// allocation is still approved.
pub async fn on_reversed<C: ConnectionTrait>(
    db: &C,
    e: &fund_entry::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if let Some(p) = e.proposal_id {
        if let Some(cache) = cache_of(e.kind) {
            // Income (+) lowers `received`; a payment (−) lowers `spent`.
            let delta = match cache {
                Cache::Spent => e.amount_fen,
                _ => -e.amount_fen,
            };
            caches::add(db, p, cache, delta).await?;
        }
    }
    if e.kind != EntryKind::Expense {
        return Ok(());
    }
    let Some(expense) = e.expense_id else {
        return Ok(());
    };
    let allocation: Option<Option<Uuid>> = fund_expense::Entity::find_by_id(expense)
        .select_only()
        .column(fund_expense::Column::AllocationId)
        .into_tuple()
        .one(db)
        .await?;
    let Some(Some(allocation)) = allocation else {
        return Ok(());
    };
    use fund_allocation::Column as X;
    let back = -e.amount_fen;
    let x = fund_allocation::Entity::find_by_id(allocation)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    fund_allocation::Entity::update_many()
        .col_expr(X::SpentFen, Expr::col(X::SpentFen).sub(back))
        .col_expr(X::Version, Expr::col(X::Version).add(1))
        .col_expr(X::UpdatedAt, Expr::value(now))
        .filter(X::Id.eq(allocation))
        .filter(X::SpentFen.gte(back))
        .exec(db)
        .await?;
    if x.status == AllocationStatus::Approved {
        use fund_account::Column as A;
        let hold = vec![(A::ReservedFen, Expr::col(A::ReservedFen).add(back))];
        if !touch(db, x.account_id, hold, Condition::all(), now).await? {
            return Err(insufficient());
        }
    }
    Ok(())
}

/// The cached figure an entry of `kind` carrying a proposal counts in.
pub fn cache_of(kind: EntryKind) -> Option<Cache> {
    match kind {
        EntryKind::Allocation
        | EntryKind::Contribution
        | EntryKind::TransferIn
        | EntryKind::Refund => Some(Cache::Received),
        EntryKind::Expense => Some(Cache::Spent),
        EntryKind::TransferOut | EntryKind::Release | EntryKind::Reversal => None,
    }
}
