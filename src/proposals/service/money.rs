//! The proposal's money and labour figures (`allocated_fen`, `received_fen`, `spent_fen`,
//! `pledged_money_fen`, `labour_done_minutes`): caches of the fund ledger, the allocations and
//! the pledges, written only by the funds and pledges services, in the same transaction as the
//! entry, allocation or pledge that changes them, by one conditional update that never lets a
//! figure fall below zero (and the table's CHECKs behind it). The proposals' own verbs only read
//! them (start_implementation's "committed ≥ budget" is `allocated_fen + received_fen`).

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::platform::error::{AppError, AppResult};

/// One of the cached figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cache {
    /// Approved allocations less what they released.
    Allocated,
    /// Money received for the proposal: income entries carrying it, less their reversals and
    /// refunds.
    Received,
    /// Money paid for the proposal: its expense entries, less their reversals.
    Spent,
    /// Money pledged and not yet received (neither fulfilled, cancelled nor lapsed).
    PledgedMoney,
    /// Minutes of labour pledges confirmed.
    LabourDone,
}

impl Cache {
    fn column(self) -> &'static str {
        match self {
            Cache::Allocated => "allocated_fen",
            Cache::Received => "received_fen",
            Cache::Spent => "spent_fen",
            Cache::PledgedMoney => "pledged_money_fen",
            Cache::LabourDone => "labour_done_minutes",
        }
    }
}

/// Adds `delta` to `cache` of proposal `id`: `UPDATE proposals SET c = c + :d, updated_at… WHERE
/// id = :id AND c + :d >= 0`. A change that would go below zero is a bug of the caller (the
/// ledger never allows it): 500, and the transaction rolls back.
pub async fn add<C: ConnectionTrait>(db: &C, id: Uuid, cache: Cache, delta: i64) -> AppResult<()> {
    if delta == 0 {
        return Ok(());
    }
    let col = Alias::new(cache.column());
    let update = Query::update()
        .table(Alias::new("proposals"))
        .value(col.clone(), Expr::col(col.clone()).add(delta))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .and_where(Expr::col(col).add(delta).gte(0))
        .to_owned();
    let done = db.execute(db.get_database_backend().build(&update)).await?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(AppError::internal(anyhow::anyhow!(
            "proposal {id}: {} would fall below zero by {delta}",
            cache.column()
        )))
    }
}

/// The cached figures of a proposal as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    pub allocated_fen: i64,
    pub received_fen: i64,
    pub spent_fen: i64,
    pub pledged_money_fen: i64,
    pub labour_done_minutes: i64,
}

/// The figures of proposal `id` (404 when there is none).
pub async fn read<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<Figures> {
    let caches = [
        Cache::Allocated,
        Cache::Received,
        Cache::Spent,
        Cache::PledgedMoney,
        Cache::LabourDone,
    ];
    let mut select = Query::select();
    for c in caches {
        select.expr_as(
            Expr::col(Alias::new(c.column())).cast_as(Alias::new("bigint")),
            Alias::new(c.column()),
        );
    }
    select
        .from(Alias::new("proposals"))
        .and_where(Expr::col(Alias::new("id")).eq(id));
    let row = db
        .query_one(db.get_database_backend().build(&select))
        .await?
        .ok_or(AppError::NotFound)?;
    let get = |c: Cache| row.try_get::<i64>("", c.column());
    Ok(Figures {
        allocated_fen: get(Cache::Allocated)?,
        received_fen: get(Cache::Received)?,
        spent_fen: get(Cache::Spent)?,
        pledged_money_fen: get(Cache::PledgedMoney)?,
        labour_done_minutes: get(Cache::LabourDone)?,
    })
}
