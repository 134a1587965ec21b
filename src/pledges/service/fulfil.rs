//! Fulfilling a pledge (§A6): money received is recorded by the treasurer (community staff with
//! [`Action::PledgeFulfil`]) as a `contribution` entry of a fund account carrying the pledge and
//! the proposal (which raises `received_fen` in the same transaction); labour minutes and
//! materials (with a receipt photo) are confirmed by the proposal's lead. Service-hours records
//! (§B3) do not exist yet: the confirmed minutes are kept on the pledge and counted in the
//! proposal's `labour_done_minutes`.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, TransactionTrait};
use uuid::Uuid;

use super::{locked, open_for_pledges, row, step, wrong_status, wrong_step, Pledge};
use crate::access::policy::{self, Action, Level};
use crate::access::Actor;
use crate::funds::model::{CounterpartyKind, EntryKind};
use crate::funds::service::money::{self, Income};
use crate::platform::attachments::{self, SubjectType};
use crate::platform::audit;
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError};
use crate::platform::lang::Text;
use crate::pledges::model::{Kind, PledgerKind, PublicDisplay, Status};
use crate::proposals::service::money::{self as caches, Cache};
use crate::proposals::service::subject::{self, ProposalRef};
use entity::pledge;

/// What was received (validated by the handler).
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// Money: the fund account it was paid into, the amount (default: as pledged) and the day.
    pub account_id: Option<Uuid>,
    pub amount_fen: Option<i64>,
    pub occurred_on: Option<NaiveDate>,
    /// Labour: the minutes worked (default: as pledged).
    pub minutes: Option<i32>,
    /// Materials: how many arrived (default: as pledged).
    pub quantity: Option<i32>,
    /// Receipts: for materials at least one photo (the caller's own uploads).
    pub attachment_ids: Vec<Uuid>,
}

fn required(field: &str, zh: &'static str, en: &'static str) -> AppError {
    AppError::Validation(vec![FieldError::of(
        field,
        FieldCode::Required,
        Text::new(zh, en),
    )])
}

/// Whether the caller may fulfil money pledges of `p` (community staff of its place).
async fn treasurer<C: ConnectionTrait>(db: &C, actor: &Actor, p: &ProposalRef) -> AppResult<bool> {
    let mut at = vec![
        (Level::Street, p.street_id),
        (Level::Community, p.community_id),
    ];
    at.extend(p.compound_id.map(|k| (Level::Compound, k)));
    Ok(policy::scope(db, actor, Action::PledgeFulfil)
        .await?
        .contains(&at))
}

/// Fulfils pledge `id` with what was received; 409 `wrong_status` unless it is `pledged`,
/// `wrong_step` unless the proposal raises or is implemented.
pub async fn fulfil<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    r: Received,
    now: DateTime<Utc>,
) -> AppResult<Pledge> {
    let txn = db.begin().await?;
    let (x, p) = locked(&txn, actor, id, expected, now).await?;
    let lead = actor.is_superadmin || p.lead_user_id == Some(actor.id);
    let allowed = match x.kind {
        Kind::Money => actor.is_superadmin || treasurer(&txn, actor, &p).await?,
        Kind::Labour | Kind::Material => lead,
    };
    if !allowed {
        return Err(AppError::Forbidden);
    }
    if x.status != Status::Pledged {
        return Err(wrong_status(x.status, "兑现"));
    }
    if !open_for_pledges(p.step) {
        return Err(wrong_step(p.step));
    }
    use pledge::Column as P;
    let mut extra = vec![
        (P::ReceivedBy, Expr::value(Some(actor.id))),
        (P::ReceivedAt, Expr::value(Some(now))),
    ];
    let full = match x.kind {
        Kind::Money => {
            let account = r.account_id.ok_or_else(|| {
                required(
                    "account_id",
                    "请选择收款的资金账户",
                    "the fund account the money was paid into",
                )
            })?;
            let amount = r.amount_fen.or(x.amount_fen).unwrap_or(0);
            let income = Income {
                kind: EntryKind::Contribution,
                amount_fen: amount,
                counterparty_kind: match x.pledger_kind {
                    PledgerKind::Organization => CounterpartyKind::Organization,
                    PledgerKind::Business => CounterpartyKind::Business,
                    PledgerKind::Resident | PledgerKind::Household => CounterpartyKind::Resident,
                },
                counterparty_name: x.pledger_name.clone(),
                anonymous: x.public_display == PublicDisplay::Anonymous,
                memo: Some(format!("民筹：{}", p.title)),
                occurred_on: r
                    .occurred_on
                    .unwrap_or_else(|| crate::funds::service::today(now)),
                proposal_id: Some(p.id),
                pledge_id: Some(x.id),
                attachment_ids: r.attachment_ids.clone(),
            };
            let entry = money::income(&txn, actor, account, income, now).await?;
            // Received now, no longer only promised.
            let promised = x.amount_fen.unwrap_or(0);
            caches::add(&txn, p.id, Cache::PledgedMoney, -promised).await?;
            extra.push((P::FundEntryId, Expr::value(Some(entry.id))));
            extra.push((P::FulfilledAmountFen, Expr::value(Some(amount))));
            amount >= x.amount_fen.unwrap_or(0)
        }
        Kind::Labour => {
            let minutes = r.minutes.or(x.minutes).unwrap_or(0);
            caches::add(&txn, p.id, Cache::LabourDone, i64::from(minutes)).await?;
            extra.push((P::FulfilledMinutes, Expr::value(Some(minutes))));
            minutes >= x.minutes.unwrap_or(0)
        }
        Kind::Material => {
            attachments::link(
                &txn,
                actor.id,
                &r.attachment_ids,
                (SubjectType::Pledge, x.id),
                None,
            )
            .await?;
            if attachments::of_subject(&txn, SubjectType::Pledge, x.id)
                .await?
                .is_empty()
            {
                return Err(required(
                    "attachment_ids",
                    "确认收到物资须上传至少一张照片",
                    "confirming materials needs at least one receipt photo",
                ));
            }
            let quantity = r.quantity.or(x.quantity).unwrap_or(0);
            extra.push((P::FulfilledQuantity, Expr::value(Some(quantity))));
            quantity >= x.quantity.unwrap_or(0)
        }
    };
    let to = if full {
        Status::Fulfilled
    } else {
        Status::PartiallyFulfilled
    };
    step(&txn, &x, to, extra, now).await?;
    subject::record_event_in(&txn, p.id, Some(actor), "pledge_fulfilled", None, now).await?;
    audit::record(
        &txn,
        audit::Event {
            actor: actor.into(),
            action: audit::Action::PledgeFulfil,
            street_id: Some(p.street_id),
            community_id: Some(p.community_id),
            resident_id: None,
            field: None,
            purpose: "pledge fulfilled",
            detail: Some(serde_json::json!({"pledge_id": x.id, "proposal_id": p.id}).to_string()),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    row(db, id).await
}
