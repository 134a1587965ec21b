//! Income, transfers between accounts, and reversals: each one transaction of conditional
//! updates on the account rows and the ledger's postings.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait,
};
use uuid::Uuid;

use super::{
    audit_move, available_at_least, check_day, fields, ledger_error, lock, require_active, touch,
    Facts,
};
use crate::access::{Action, Actor};
use crate::funds::model::{self, CounterpartyKind, EntryKind, BOOK};
use crate::funds::policy;
use crate::platform::attachments::{self, SubjectType};
use crate::platform::audit;
use crate::platform::error::{AppError, AppResult, FieldCode};
use crate::platform::lang::Text;
use crate::platform::ledger::{self, Field, Posting, Reversal};
use crate::proposals::service::money as caches;
use entity::fund_entry;

/// Money coming in (validated by the handler).
#[derive(Debug, Clone)]
pub struct Income {
    /// `allocation`, `contribution` or `transfer_in` (from outside the system's accounts).
    pub kind: EntryKind,
    pub amount_fen: i64,
    pub counterparty_kind: CounterpartyKind,
    pub counterparty_name: String,
    /// The contributor chose to be shown as 匿名居民.
    pub anonymous: bool,
    pub memo: Option<String>,
    pub occurred_on: NaiveDate,
    pub proposal_id: Option<Uuid>,
    pub pledge_id: Option<Uuid>,
    /// Receipts: the recorder's own uploads.
    pub attachment_ids: Vec<Uuid>,
}

/// Records income on account `id`: one entry of +amount; its receipts attached to it.
pub async fn income<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    i: Income,
    now: DateTime<Utc>,
) -> AppResult<fund_entry::Model> {
    if !matches!(
        i.kind,
        EntryKind::Allocation | EntryKind::Contribution | EntryKind::TransferIn
    ) {
        return Err(AppError::invalid(
            "kind",
            FieldCode::NotAllowed,
            Text::new(
                "收入类型须为上级拨付、捐赠或转入",
                "income is an allocation, a contribution or a transfer in",
            ),
        ));
    }
    check_day("occurred_on", i.occurred_on, now)?;
    let txn = db.begin().await?;
    policy::authorized(&txn, actor, id, Action::FundRecord).await?;
    let a = lock(&txn, id).await?;
    require_active(&a)?;
    if let Some(p) = i.proposal_id {
        super::proposals::proposal_of(&txn, &a, p).await?;
    }
    if !touch(&txn, id, Vec::new(), Condition::all(), now).await? {
        return Err(ledger_error(ledger::LedgerError::Contended));
    }
    let proposal_id = i.proposal_id;
    let public = model::public_name(i.counterparty_kind, &i.counterparty_name, i.anonymous);
    let facts = Facts {
        proposal_id: i.proposal_id,
        pledge_id: i.pledge_id,
        counterparty: Some((i.counterparty_kind, i.counterparty_name)),
        public_name: Some(public),
        memo: i.memo,
        occurred_on: Some(i.occurred_on),
        ..Facts::default()
    };
    let posted = ledger::post(
        &txn,
        &BOOK,
        Posting {
            account_id: id,
            amount: i.amount_fen,
            floor: Some(0),
            fields: fields(i.kind, &a, actor, facts),
            at: now,
        },
    )
    .await
    .map_err(ledger_error)?;
    if let Some(p) = proposal_id {
        caches::add(&txn, p, caches::Cache::Received, i.amount_fen).await?;
    }
    attachments::link(
        &txn,
        actor.id,
        &i.attachment_ids,
        (SubjectType::FundEntry, posted.id),
        None,
    )
    .await?;
    let detail = serde_json::json!({
        "account_id": id, "entry_id": posted.id, "seq": posted.seq, "kind": i.kind,
        "amount_fen": i.amount_fen, "balance_after_fen": posted.balance_after,
    });
    audit_move(
        &txn,
        actor,
        audit::Action::FundIncome,
        &a,
        "fund income",
        detail,
        now,
    )
    .await?;
    txn.commit().await?;
    super::entry(db, posted.id).await
}

/// Moves `amount` from account `from` to account `to`: two entries (`transfer_out`,
/// `transfer_in`) in one transaction, both accounts locked in the order of their ids (two
/// transfers in opposite directions wait for each other instead of deadlocking). The money
/// must be available on `from` (neither spent nor reserved).
pub async fn transfer<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    from: Uuid,
    to: Uuid,
    amount: i64,
    memo: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<(fund_entry::Model, fund_entry::Model)> {
    if from == to {
        return Err(AppError::invalid(
            "to_account_id",
            FieldCode::Invalid,
            Text::new("不能转给同一个账户", "a transfer goes to another account"),
        ));
    }
    let txn = db.begin().await?;
    policy::authorized(&txn, actor, from, Action::FundRecord).await?;
    policy::authorized(&txn, actor, to, Action::FundRecord).await?;
    let (first, second) = if from < to { (from, to) } else { (to, from) };
    let a1 = lock(&txn, first).await?;
    let a2 = lock(&txn, second).await?;
    let (src, dst) = if from < to { (a1, a2) } else { (a2, a1) };
    require_active(&src)?;
    require_active(&dst)?;
    if !touch(&txn, from, Vec::new(), available_at_least(amount), now).await? {
        return Err(super::insufficient());
    }
    if !touch(&txn, to, Vec::new(), Condition::all(), now).await? {
        return Err(ledger_error(ledger::LedgerError::Contended));
    }
    let leg = |account: &entity::fund_account::Model, other: &entity::fund_account::Model| {
        let facts = Facts {
            counter_account_id: Some(other.id),
            counterparty: Some((CounterpartyKind::Other, other.name.clone())),
            public_name: Some(other.name.clone()),
            memo: memo.clone(),
            occurred_on: Some(super::today(now)),
            ..Facts::default()
        };
        let out = account.id == from;
        Posting {
            account_id: account.id,
            amount: if out { -amount } else { amount },
            floor: Some(0),
            fields: fields(
                if out {
                    EntryKind::TransferOut
                } else {
                    EntryKind::TransferIn
                },
                account,
                actor,
                facts,
            ),
            at: now,
        }
    };
    let (p_out, p_in) = (leg(&src, &dst), leg(&dst, &src));
    let (first_posting, second_posting) = if from < to {
        (p_out, p_in)
    } else {
        (p_in, p_out)
    };
    let e1 = ledger::post(&txn, &BOOK, first_posting)
        .await
        .map_err(ledger_error)?;
    let e2 = ledger::post(&txn, &BOOK, second_posting)
        .await
        .map_err(ledger_error)?;
    let (out_id, in_id) = if from < to {
        (e1.id, e2.id)
    } else {
        (e2.id, e1.id)
    };
    let detail = serde_json::json!({
        "from_account_id": from, "to_account_id": to, "amount_fen": amount,
        "out_entry_id": out_id, "in_entry_id": in_id,
    });
    audit_move(
        &txn,
        actor,
        audit::Action::FundTransfer,
        &src,
        "fund transfer",
        detail,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok((
        super::entry(db, out_id).await?,
        super::entry(db, in_id).await?,
    ))
}

/// Reverses entry `id` with `reason`: an entry of the opposite amount linked to it, at most once
/// (409 `already_reversed`); never a reversal (409 `entry_not_reversible`), nor a leg of a
/// transfer (a transfer back corrects it). Reversing income already spent or reserved is 409
/// `insufficient_funds`.
pub async fn reverse<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<fund_entry::Model> {
    let txn = db.begin().await?;
    let e = super::entry(&txn, id).await?;
    policy::authorized(&txn, actor, e.account_id, Action::FundRecord).await?;
    let a = lock(&txn, e.account_id).await?;
    require_active(&a)?;
    if e.kind == EntryKind::Release {
        return Err(super::release_not_reversible());
    }
    if e.reverses_entry_id.is_some()
        || matches!(e.kind, EntryKind::TransferIn | EntryKind::TransferOut)
    {
        return Err(ledger_error(ledger::LedgerError::NotReversible));
    }
    let reversed = fund_entry::Entity::find()
        .filter(fund_entry::Column::ReversesEntryId.eq(id))
        .one(&txn)
        .await?;
    if reversed.is_some() {
        return Err(ledger_error(ledger::LedgerError::AlreadyReversed));
    }
    // Taking income back needs it unspent and unreserved; giving an expense back needs nothing.
    let cond = if e.amount_fen > 0 {
        available_at_least(e.amount_fen)
    } else {
        Condition::all()
    };
    if !touch(&txn, a.id, Vec::new(), cond, now).await? {
        return Err(super::insufficient());
    }
    let facts = Facts {
        proposal_id: e.proposal_id,
        pledge_id: e.pledge_id,
        expense_id: e.expense_id,
        allocation_id: e.allocation_id,
        counterparty: e.counterparty_kind.zip(e.counterparty_name.clone()),
        public_name: e.public_name.clone(),
        memo: Some(reason.clone()),
        occurred_on: Some(super::today(now)),
        ..Facts::default()
    };
    let fields: Vec<Field> = fields(EntryKind::Reversal, &a, actor, facts);
    let posted = ledger::reverse(
        &txn,
        &BOOK,
        Reversal {
            entry_id: id,
            floor: Some(0),
            fields,
            at: now,
        },
    )
    .await
    .map_err(ledger_error)?;
    super::proposals::on_reversed(&txn, &e, now).await?;
    let detail = serde_json::json!({
        "account_id": a.id, "entry_id": posted.id, "reverses_entry_id": id,
        "amount_fen": posted.amount, "balance_after_fen": posted.balance_after,
    });
    audit_move(
        &txn,
        actor,
        audit::Action::FundReverse,
        &a,
        &reason,
        detail,
        now,
    )
    .await?;
    txn.commit().await?;
    super::entry(db, posted.id).await
}
