//! Opening and closing fund accounts.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, Set, TransactionTrait};
use uuid::Uuid;

use super::{audit_move, lock, touch};
use crate::access::{Action, Actor};
use crate::funds::model::{AccountKind, AccountStatus, Place};
use crate::funds::policy;
use crate::platform::audit;
use crate::platform::error::{AppError, AppResult, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::ledger::GENESIS;
use crate::territory::query::place_lookup as places;
use entity::fund_account;

/// A new account (validated by the handler).
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub place: Place,
    pub place_id: Uuid,
    pub name: String,
    pub kind: AccountKind,
    pub fiscal_year: Option<i32>,
}

/// Opens an account on a community or compound where the caller records funds: empty, its
/// chain at the genesis hash.
pub async fn open<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    n: NewAccount,
    now: DateTime<Utc>,
) -> AppResult<fund_account::Model> {
    let txn = db.begin().await?;
    let p = places::authorize_place(
        &txn,
        actor,
        policy::level_of(n.place),
        n.place_id,
        Action::FundRecord,
    )
    .await?;
    let community_id = p.community_id.ok_or(AppError::NotFound)?;
    let a = fund_account::ActiveModel {
        id: Set(Uuid::now_v7()),
        street_id: Set(p.street_id),
        community_id: Set(community_id),
        compound_id: Set(p.compound_id),
        scope_type: Set(n.place),
        scope_id: Set(n.place_id),
        name: Set(n.name),
        kind: Set(n.kind),
        fiscal_year: Set(n.fiscal_year),
        balance_fen: Set(0),
        reserved_fen: Set(0),
        last_seq: Set(0),
        last_hash: Set(GENESIS.to_string()),
        status: Set(AccountStatus::Active),
        version: Set(1),
        created_by: Set(actor.id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let detail = serde_json::json!({"account_id": a.id, "name": a.name, "kind": a.kind});
    audit_move(
        &txn,
        actor,
        audit::Action::FundAccountOpen,
        &a,
        "fund account opened",
        detail,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(a)
}

/// Closes an account with nothing in it (balance and reservations 0): 409
/// `fund_account_not_empty` otherwise; `expected` is the `If-Match` version.
pub async fn close<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<fund_account::Model> {
    use fund_account::Column as A;
    let txn = db.begin().await?;
    policy::authorized(&txn, actor, id, Action::FundRecord).await?;
    let a = lock(&txn, id).await?;
    super::require_active(&a)?;
    if expected.is_some_and(|v| v != a.version) {
        return Err(AppError::PreconditionFailed);
    }
    let empty = Condition::all()
        .add(A::BalanceFen.eq(0))
        .add(A::ReservedFen.eq(0));
    let extra = vec![(A::Status, Expr::value(AccountStatus::Closed))];
    if !touch(&txn, id, extra, empty, now).await? {
        return Err(AppError::conflict(
            ProblemCode::FundAccountNotEmpty,
            Text::new(
                "账户余额为零时才能关闭",
                "an account is closed only when its balance is 0",
            ),
        ));
    }
    let detail = serde_json::json!({"account_id": a.id, "last_seq": a.last_seq});
    audit_move(
        &txn,
        actor,
        audit::Action::FundAccountClose,
        &a,
        "fund account closed",
        detail,
        now,
    )
    .await?;
    txn.commit().await?;
    super::super::query::account_row(db, id).await
}
