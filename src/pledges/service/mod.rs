//! Making, cancelling and lapsing pledges; fulfilling them is [`fulfil`]. Every change of a
//! pledge moves the proposal's cached figures (`pledged_money_fen`: money promised and not yet
//! received; `labour_done_minutes`; the
//! money received through the fund ledger's `received_fen`) in the same transaction, by
//! conditional updates (`proposals::service::money`).
//!
//! ```text
//! pledged ──fulfil──▶ fulfilled | partially_fulfilled
//!    ├──cancel (pledger, or who recorded it)──▶ cancelled
//!    └──(the proposal ends: on_ended_in)──▶ lapsed
//! ```

pub mod fulfil;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::access::policy::{allowed, Action, Role};
use crate::access::Actor;
use crate::platform::error::{AppError, AppResult, FieldCode, ProblemCode};
use crate::platform::lang::Text;
use crate::pledges::model::{self, Kind, PledgerKind, PublicDisplay, Status};
use crate::proposals::model::Step;
use crate::proposals::service::money::{self as caches, Cache};
use crate::proposals::service::subject::{self, ProposalRef};
use entity::pledge;

/// A pledge as stored.
pub type Pledge = pledge::Model;

/// Who pledges when staff record it on someone's behalf.
#[derive(Debug, Clone)]
pub struct OnBehalf {
    pub pledger_kind: PledgerKind,
    pub name: String,
}

/// A new pledge (validated by the handler: the fields its kind needs are there).
#[derive(Debug, Clone)]
pub struct NewPledge {
    pub kind: Kind,
    pub public_display: PublicDisplay,
    pub amount_fen: Option<i64>,
    pub minutes: Option<i32>,
    pub skill: Option<String>,
    pub item: Option<String>,
    pub quantity: Option<i32>,
    pub unit: Option<String>,
    pub est_value_fen: Option<i64>,
    pub note: Option<String>,
    pub on_behalf: Option<OnBehalf>,
}

/// Whether pledges are taken in `step`: while the proposal raises or is implemented.
pub fn open_for_pledges(step: Step) -> bool {
    matches!(step, Step::Raising | Step::Implementing)
}

pub(crate) fn wrong_step(step: Step) -> AppError {
    AppError::conflict(
        ProblemCode::WrongStep,
        crate::text!(
            "议题当前为「{}」，不在筹集或实施阶段，不能认筹或兑现",
            "the proposal is {}, not raising or implementing: pledges are closed",
            crate::proposals::model::step_label(step)
        ),
    )
}

pub(crate) fn wrong_status(s: Status, doing: &str) -> AppError {
    AppError::conflict(
        ProblemCode::WrongStatus,
        crate::text!(
            "该认筹当前为「{}」，不能{}",
            "the pledge is {}; it cannot be {}",
            model::status_label(s),
            doing
        ),
    )
}

/// The resident's household the caller pledges from (their first `resident` assignment).
fn household_of(actor: &Actor) -> Option<Uuid> {
    actor
        .roles
        .iter()
        .find(|r| r.role == Role::Resident)
        .map(|r| r.scope_id)
}

/// Pledges to proposal `proposal_id` (which the caller must be able to read; 404 otherwise). A
/// resident pledges as themselves, from their household; staff and leaders record a pledge on
/// someone's behalf (`on_behalf`, required for them). Only while the proposal raises or is
/// implemented (409 `wrong_step`).
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    proposal_id: Uuid,
    n: NewPledge,
    now: DateTime<Utc>,
) -> AppResult<Pledge> {
    let txn = db.begin().await?;
    let p = subject::readable(&txn, actor, proposal_id, now).await?;
    let may = actor.is_superadmin
        || actor
            .roles
            .iter()
            .any(|r| allowed(r.role, Action::PledgeCreate));
    if !may {
        return Err(AppError::Forbidden);
    }
    if !open_for_pledges(p.step) {
        return Err(wrong_step(p.step));
    }
    let (pledger_kind, user, household, name) = match (n.on_behalf.clone(), household_of(actor)) {
        (Some(b), _) => (b.pledger_kind, None, None, b.name),
        (None, Some(h)) => (
            PledgerKind::Resident,
            Some(actor.id),
            Some(h),
            actor.display_name.clone(),
        ),
        (None, None) => {
            return Err(AppError::invalid(
                "on_behalf_of",
                FieldCode::Required,
                Text::new(
                    "工作人员代为登记认筹须写明认筹人",
                    "staff record a pledge on someone's behalf: name them",
                ),
            ))
        }
    };
    let row = pledge::ActiveModel {
        id: Set(Uuid::now_v7()),
        proposal_id: Set(p.id),
        street_id: Set(p.street_id),
        community_id: Set(p.community_id),
        compound_id: Set(p.compound_id),
        building_id: Set(p.building_id),
        pledger_kind: Set(pledger_kind),
        pledger_user_id: Set(user),
        pledger_resident_id: Set(None),
        household_id: Set(household),
        pledger_name: Set(name),
        public_display: Set(n.public_display),
        kind: Set(n.kind),
        amount_fen: Set(n.amount_fen),
        minutes: Set(n.minutes),
        skill: Set(n.skill),
        item: Set(n.item),
        quantity: Set(n.quantity),
        unit: Set(n.unit),
        est_value_fen: Set(n.est_value_fen),
        note: Set(n.note),
        status: Set(Status::Pledged),
        fulfilled_amount_fen: Set(None),
        fulfilled_minutes: Set(None),
        fulfilled_quantity: Set(None),
        fund_entry_id: Set(None),
        received_by: Set(None),
        received_at: Set(None),
        created_by: Set(actor.id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    if let (Kind::Money, Some(a)) = (row.kind, row.amount_fen) {
        caches::add(&txn, p.id, Cache::PledgedMoney, a).await?;
    }
    subject::record_event_in(
        &txn,
        p.id,
        Some(actor),
        "pledge_made",
        Some(model::kind_label(row.kind)),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// The pledge `id`, locked, and its proposal: 404 unless the caller may read the proposal; 412
/// when `expected` is not its version.
pub(crate) async fn locked<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<(Pledge, ProposalRef)> {
    let x = pledge::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let p = subject::readable(db, actor, x.proposal_id, now).await?;
    if expected.is_some_and(|v| v != x.version) {
        return Err(AppError::PreconditionFailed);
    }
    Ok((x, p))
}

/// Moves `x` from `pledged` to `to` with `extra` columns; 412 when it changed meanwhile.
pub(crate) async fn step<C: ConnectionTrait>(
    db: &C,
    x: &Pledge,
    to: Status,
    extra: Vec<(pledge::Column, SimpleExpr)>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use pledge::Column as P;
    let mut update = pledge::Entity::update_many()
        .col_expr(P::Status, Expr::value(to))
        .col_expr(P::Version, Expr::col(P::Version).add(1))
        .col_expr(P::UpdatedAt, Expr::value(now));
    for (col, value) in extra {
        update = update.col_expr(col, value);
    }
    let moved = update
        .filter(P::Id.eq(x.id))
        .filter(P::Status.eq(Status::Pledged))
        .filter(P::Version.eq(x.version))
        .exec(db)
        .await?;
    if moved.rows_affected == 1 {
        Ok(())
    } else {
        Err(AppError::PreconditionFailed)
    }
}

/// Cancels a pledge not yet fulfilled: by its pledger, or by whoever recorded it on someone's
/// behalf (403 for anyone else who may read it).
pub async fn cancel<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<Pledge> {
    let txn = db.begin().await?;
    let (x, p) = locked(&txn, actor, id, expected, now).await?;
    let mine = x.pledger_user_id == Some(actor.id) || x.created_by == actor.id;
    if !mine && !actor.is_superadmin {
        return Err(AppError::Forbidden);
    }
    if x.status != Status::Pledged {
        return Err(wrong_status(x.status, "取消"));
    }
    step(&txn, &x, Status::Cancelled, Vec::new(), now).await?;
    if let (Kind::Money, Some(a)) = (x.kind, x.amount_fen) {
        caches::add(&txn, p.id, Cache::PledgedMoney, -a).await?;
    }
    subject::record_event_in(&txn, p.id, Some(actor), "pledge_cancelled", None, now).await?;
    txn.commit().await?;
    row(db, id).await
}

/// Lapses every pledge of proposal `proposal_id` still `pledged` (inside the transaction of the
/// proposal's move to a terminal step, which happens once: so do they). Their money leaves
/// `pledged_money_fen`. How many lapsed.
pub async fn lapse_in<C: ConnectionTrait>(
    conn: &C,
    proposal_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    use pledge::Column as P;
    let open = pledge::Entity::find()
        .filter(P::ProposalId.eq(proposal_id))
        .filter(P::Status.eq(Status::Pledged))
        .order_by_asc(P::Id)
        .lock_exclusive()
        .all(conn)
        .await?;
    let mut lapsed = 0;
    for x in open {
        let done = pledge::Entity::update_many()
            .col_expr(P::Status, Expr::value(Status::Lapsed))
            .col_expr(P::Version, Expr::col(P::Version).add(1))
            .col_expr(P::UpdatedAt, Expr::value(now))
            .filter(P::Id.eq(x.id))
            .filter(P::Status.eq(Status::Pledged))
            .exec(conn)
            .await?;
        if done.rows_affected != 1 {
            continue;
        }
        lapsed += 1;
        if let (Kind::Money, Some(a)) = (x.kind, x.amount_fen) {
            caches::add(conn, proposal_id, Cache::PledgedMoney, -a).await?;
        }
    }
    if lapsed > 0 {
        let note = format!("{lapsed} 项认筹未兑现，已失效");
        subject::record_event_in(conn, proposal_id, None, "pledges_lapsed", Some(&note), now)
            .await?;
    }
    Ok(lapsed)
}

/// The pledge `id` as stored.
pub async fn row<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<Pledge> {
    pledge::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}
