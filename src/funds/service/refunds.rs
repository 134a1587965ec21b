//! Refunding a closed proposal's leftover money (§A7 "Close": `leftover: refund`). What is left
//! of the money received for it is what it received less what it spent beyond its allocations
//! (allocations pay first: they are the account's own money). The leftover goes back to the
//! contributors, newest contribution first, one `refund` entry (−amount, carrying the proposal
//! and the pledge) per contribution until it is used up, each on the contribution's account and
//! never below what the account has available.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{
    audit_move, available_at_least, fields, insufficient, ledger_error, lock, require_active,
    touch, Facts,
};
use crate::access::Actor;
use crate::funds::model::{AllocationStatus, EntryKind, BOOK};
use crate::platform::audit;
use crate::platform::error::AppResult;
use crate::platform::ledger::{self, Posting};
use crate::proposals::service::money::{self as caches, Cache};
use crate::proposals::service::subject;
use entity::{fund_allocation, fund_entry};

/// Refunds the leftover of proposal `proposal_id` inside the close verb's transaction (after
/// its allocations are released). How much was refunded.
pub async fn refund_leftover_in<C>(
    txn: &C,
    proposal_id: Uuid,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<i64>
where
    C: ConnectionTrait + sea_orm::TransactionTrait,
{
    let p = subject::load_in(txn, proposal_id).await?;
    let (received, spent) = figures(txn, proposal_id).await?;
    let by_allocations: i64 = fund_allocation::Entity::find()
        .filter(fund_allocation::Column::ProposalId.eq(proposal_id))
        .filter(
            fund_allocation::Column::Status
                .is_in([AllocationStatus::Approved, AllocationStatus::Released]),
        )
        .all(txn)
        .await?
        .iter()
        .map(|x| x.spent_fen)
        .sum();
    let mut left = received - (spent - by_allocations).max(0);
    let mut refunded = 0;
    if left <= 0 {
        return Ok(0);
    }
    let contributions = fund_entry::Entity::find()
        .filter(fund_entry::Column::ProposalId.eq(proposal_id))
        .filter(fund_entry::Column::Kind.eq(EntryKind::Contribution))
        .order_by_desc(fund_entry::Column::Id)
        .all(txn)
        .await?;
    for c in contributions {
        if left <= 0 {
            break;
        }
        let reversed = fund_entry::Entity::find()
            .filter(fund_entry::Column::ReversesEntryId.eq(c.id))
            .select_only()
            .column(fund_entry::Column::Id)
            .into_tuple::<Uuid>()
            .one(txn)
            .await?;
        if reversed.is_some() {
            continue;
        }
        let amount = c.amount_fen.min(left);
        let a = lock(txn, c.account_id).await?;
        require_active(&a)?;
        if !touch(txn, a.id, Vec::new(), available_at_least(amount), now).await? {
            return Err(insufficient());
        }
        let facts = Facts {
            proposal_id: Some(proposal_id),
            pledge_id: c.pledge_id,
            counterparty: c.counterparty_kind.zip(c.counterparty_name.clone()),
            public_name: c.public_name.clone(),
            memo: Some(format!("议题结余退还：{}", p.title)),
            occurred_on: Some(super::today(now)),
            ..Facts::default()
        };
        let posted = ledger::post(
            txn,
            &BOOK,
            Posting {
                account_id: a.id,
                amount: -amount,
                floor: Some(0),
                fields: fields(EntryKind::Refund, &a, actor, facts),
                at: now,
            },
        )
        .await
        .map_err(ledger_error)?;
        caches::add(txn, proposal_id, Cache::Received, -amount).await?;
        let detail = serde_json::json!({"proposal_id": proposal_id, "entry_id": posted.id,
            "refunds_entry_id": c.id, "amount_fen": amount});
        audit_move(
            txn,
            actor,
            audit::Action::FundRefund,
            &a,
            "leftover refunded on close",
            detail,
            now,
        )
        .await?;
        left -= amount;
        refunded += amount;
    }
    Ok(refunded)
}

/// The proposal's received and spent money as its cached figures say.
async fn figures<C: ConnectionTrait>(db: &C, proposal_id: Uuid) -> AppResult<(i64, i64)> {
    caches::read(db, proposal_id)
        .await
        .map(|f| (f.received_fen, f.spent_fen))
}
