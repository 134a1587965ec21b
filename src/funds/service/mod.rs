//! How money moves (participation design §A5.2). Every step is one transaction that locks the
//! account row (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's one writer serialises anyway),
//! makes its own conditional update of that row (the status, the money not yet reserved, the
//! reservation) and, for a movement, posts the entry through `platform::ledger`, whose
//! conditional update `WHERE last_seq = :seen AND balance_fen + :amount >= 0` writes the
//! balance and the head of the hash chain with the entry. The CHECK constraints of
//! `fund_accounts` (`0 ≤ reserved_fen ≤ balance_fen`) stand behind all of it.
//!
//! ```text
//! expense: submitted ──approve (1st)──▶ submitted ──approve (2nd, other role; reserves)──▶ approved ──pay (invoice)──▶ paid
//!              └──reject──▶ rejected        └──cancel──▶ cancelled ◀──cancel (releases)──┘
//! ```

pub mod accounts;
pub mod allocations;
pub mod expenses;
pub mod export;
pub mod money;
pub mod proposals;
pub mod refunds;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::access::{Actor, Role};
use crate::funds::model::{AccountStatus, CounterpartyKind, Decision, EntryKind};
use crate::platform::audit;
use crate::platform::error::{AppError, AppResult, FieldCode, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::ledger::{Field, LedgerError};
use entity::{fund_account, fund_entry};

/// 409 `insufficient_funds`.
pub fn insufficient() -> AppError {
    AppError::conflict(
        ProblemCode::InsufficientFunds,
        Text::new(
            "账户可用余额不足（余额减去已批准待支付的金额）",
            "the account's available money (balance less what approved expenses reserve) is \
             not enough",
        ),
    )
}

fn not_reversible() -> AppError {
    AppError::conflict(
        ProblemCode::EntryNotReversible,
        Text::new(
            "冲正记录不能再冲正；转账请以反向转账更正",
            "a reversal is never reversed; correct a transfer with a transfer back",
        ),
    )
}

/// A `release` entry moved no money (it freed a reservation), so there is nothing to reverse.
fn release_not_reversible() -> AppError {
    AppError::conflict(
        ProblemCode::EntryNotReversible,
        Text::new(
            "释放预留不是资金变动，不能冲正；如需再用这笔钱，请重新申请拨款",
            "a release moved no money and cannot be reversed; request a new allocation instead",
        ),
    )
}

fn account_not_active(s: AccountStatus) -> AppError {
    AppError::conflict(
        ProblemCode::WrongStatus,
        crate::text!(
            "账户当前为「{}」，不能记账",
            "the account is {}; nothing can be recorded on it",
            crate::funds::model::account_status_label(s)
        ),
    )
}

/// A refusal of `platform::ledger` in the funds' words.
pub fn ledger_error(e: LedgerError) -> AppError {
    match e {
        LedgerError::Insufficient => insufficient(),
        LedgerError::AlreadyReversed => AppError::conflict(
            ProblemCode::AlreadyReversed,
            Text::new(
                "该记录已冲正过，每条记录只能冲正一次",
                "the entry has been reversed already; an entry is reversed once",
            ),
        ),
        LedgerError::NotReversible => not_reversible(),
        LedgerError::NoSuchAccount | LedgerError::NoSuchEntry => AppError::NotFound,
        LedgerError::Contended => AppError::conflict(
            ProblemCode::ConcurrentChange,
            Text::new(
                "账户正被他人同时记账，请重试",
                "the account kept changing; try again",
            ),
        ),
        LedgerError::Overflow => AppError::invalid(
            "amount_fen",
            FieldCode::OutOfRange,
            Text::new(
                "金额超出账户可记范围",
                "the amount is out of the account's range",
            ),
        ),
        LedgerError::Invalid(why) => AppError::internal(anyhow::anyhow!("fund posting: {why}")),
        LedgerError::Db(e) => e.into(),
    }
}

/// Whose approval this is, and the role it is given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Turn {
    First(Role),
    Second(Role),
}

/// The two-approver rule of expenses and allocations (§A5.2): the caller approves in a role of
/// theirs that allows `FundApprove` on `a` (403 when none); never the requester, never twice,
/// and the second in a role other than the first's: 409 `same_approver` worded by `same`.
/// `decisions` are the earlier ones, oldest first, as (user, role, decision).
pub(crate) async fn approver_turn<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    a: &fund_account::Model,
    requested_by: Uuid,
    decisions: impl IntoIterator<Item = (Uuid, Role, Decision)>,
    same: fn(&str) -> AppError,
) -> AppResult<Turn> {
    let roles = crate::funds::policy::approver_roles(db, actor, a).await?;
    let Some(mine) = roles.first().copied() else {
        return Err(AppError::Forbidden);
    };
    if requested_by == actor.id {
        return Err(same("申请人不能审批自己的申请"));
    }
    let before: Vec<(Uuid, Role)> = decisions
        .into_iter()
        .filter(|(_, _, d)| *d == Decision::Approve)
        .map(|(u, r, _)| (u, r))
        .collect();
    if before.iter().any(|(u, _)| *u == actor.id) {
        return Err(same("您已审批过"));
    }
    match before.first() {
        None => Ok(Turn::First(mine)),
        Some((_, first)) => roles
            .iter()
            .copied()
            .find(|r| r != first)
            .map(Turn::Second)
            .ok_or_else(|| same("第二位审批人须与第一位角色不同")),
    }
}

/// The account row, locked for the rest of the transaction on PostgreSQL (`FOR UPDATE`; SQLite
/// ignores it: its one writer serialises every transaction).
pub(crate) async fn lock<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<fund_account::Model> {
    fund_account::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The account active, else 409 `wrong_status`.
pub(crate) fn require_active(a: &fund_account::Model) -> AppResult<()> {
    if a.status == AccountStatus::Active {
        Ok(())
    } else {
        Err(account_not_active(a.status))
    }
}

/// One conditional update of the account row: bumps its version, sets `extra`, where `cond`
/// holds (and the account is active). Whether it changed the row.
pub(crate) async fn touch<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    extra: Vec<(fund_account::Column, SimpleExpr)>,
    cond: Condition,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    use fund_account::Column as A;
    let mut update = fund_account::Entity::update_many()
        .col_expr(A::Version, Expr::col(A::Version).add(1))
        .col_expr(A::UpdatedAt, Expr::value(now));
    for (col, value) in extra {
        update = update.col_expr(col, value);
    }
    let done = update
        .filter(A::Id.eq(id))
        .filter(A::Status.eq(AccountStatus::Active))
        .filter(cond)
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// The condition "at least `amount` of the account is neither spent nor reserved".
pub(crate) fn available_at_least(amount: i64) -> Condition {
    use fund_account::Column as A;
    Condition::all().add(
        Expr::col(A::BalanceFen)
            .sub(Expr::col(A::ReservedFen))
            .gte(amount),
    )
}

/// What an entry says besides its amount, in the order of [`BOOK`]'s extra columns.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    pub proposal_id: Option<Uuid>,
    pub pledge_id: Option<Uuid>,
    pub expense_id: Option<Uuid>,
    pub allocation_id: Option<Uuid>,
    pub counter_account_id: Option<Uuid>,
    pub counterparty: Option<(CounterpartyKind, String)>,
    pub public_name: Option<String>,
    pub memo: Option<String>,
    pub occurred_on: Option<NaiveDate>,
    pub approved_by: (Option<Uuid>, Option<Uuid>),
    /// A release: the reservation it freed (the book's added `released_fen`).
    pub released_fen: Option<i64>,
}

/// The values of [`BOOK`]'s extra columns, then its added ones, for an entry of `kind` on `a` recorded by `actor`.
pub(crate) fn fields(
    kind: EntryKind,
    a: &fund_account::Model,
    actor: &Actor,
    f: Facts,
) -> Vec<Field> {
    use sea_orm::ActiveEnum;
    let (party_kind, party_name) = match f.counterparty {
        Some((k, n)) => (Some(k.to_value()), Some(n)),
        None => (None, None),
    };
    vec![
        Field::Text(Some(kind.to_value())),
        Field::Uuid(Some(a.street_id)),
        Field::Uuid(Some(a.community_id)),
        Field::Uuid(a.compound_id),
        Field::Uuid(f.proposal_id),
        Field::Uuid(f.pledge_id),
        Field::Uuid(f.expense_id),
        Field::Uuid(f.allocation_id),
        Field::Uuid(f.counter_account_id),
        Field::Text(party_kind),
        Field::Text(party_name),
        Field::Text(f.public_name),
        Field::Text(f.memo),
        Field::Date(f.occurred_on),
        Field::Uuid(Some(actor.id)),
        Field::Text(Some(actor.display_name.clone())),
        Field::Uuid(f.approved_by.0),
        Field::Uuid(f.approved_by.1),
        Field::Int(f.released_fen),
    ]
}

/// Today in China Standard Time: the latest `occurred_on` a movement may carry.
pub fn today(now: DateTime<Utc>) -> NaiveDate {
    FixedOffset::east_opt(8 * 3600)
        .map(|cst| now.with_timezone(&cst).date_naive())
        .unwrap_or_else(|| now.date_naive())
}

/// `occurred_on` not in the future (China time) and not before 2000.
pub(crate) fn check_day(field: &str, day: NaiveDate, now: DateTime<Utc>) -> AppResult<()> {
    let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN);
    if day > today(now) || day < earliest {
        return Err(AppError::invalid(
            field,
            FieldCode::OutOfRange,
            Text::new(
                "日期须在 2000 年之后且不晚于今天",
                "the day must be after 2000 and not in the future",
            ),
        ));
    }
    Ok(())
}

/// Writes an audit event of a money move on `a`.
pub(crate) async fn audit_move<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    action: audit::Action,
    a: &fund_account::Model,
    purpose: &str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    audit::record(
        db,
        audit::Event {
            actor: actor.into(),
            action,
            street_id: Some(a.street_id),
            community_id: Some(a.community_id),
            resident_id: None,
            field: None,
            purpose,
            detail: Some(detail.to_string()),
        },
        now,
    )
    .await?;
    Ok(())
}

/// The entry `id` as stored.
pub async fn entry<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<fund_entry::Model> {
    fund_entry::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The columns of a request row (an expense, an allocation) that a conditional move touches.
pub(crate) struct StepColumns<E: EntityTrait> {
    pub id: E::Column,
    pub status: E::Column,
    pub version: E::Column,
    pub updated_at: E::Column,
}

/// Moves request row `id` from status `from` at `version` to `to`, with `extra` columns, by one
/// conditional update; 412 when someone moved or changed it meanwhile.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn step_row<E, C, S>(
    db: &C,
    cols: StepColumns<E>,
    id: Uuid,
    from: S,
    version: i32,
    to: S,
    extra: Vec<(E::Column, SimpleExpr)>,
    now: DateTime<Utc>,
) -> AppResult<()>
where
    E: EntityTrait,
    C: ConnectionTrait,
    S: Into<sea_orm::Value>,
{
    let mut update = E::update_many()
        .col_expr(cols.status, Expr::value(to))
        .col_expr(cols.version, Expr::col(cols.version).add(1))
        .col_expr(cols.updated_at, Expr::value(now));
    for (col, value) in extra {
        update = update.col_expr(col, value);
    }
    let moved = update
        .filter(cols.id.eq(id))
        .filter(cols.status.eq(from))
        .filter(cols.version.eq(version))
        .exec(db)
        .await?;
    if moved.rows_affected == 1 {
        Ok(())
    } else {
        Err(AppError::PreconditionFailed)
    }
}
