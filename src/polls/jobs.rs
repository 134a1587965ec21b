//! The polls' background round: opening scheduled polls at `opens_at` and closing open ones at
//! `closes_at`, each exactly once whichever replica's job gets there first (the conditional
//! updates of `engine::open_in` and `engine::close_in`, each in a transaction of its own).

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use uuid::Uuid;

use crate::platform::error::AppResult;
use crate::polls::model::Status;
use crate::polls::service::{engine, notify};
use entity::poll;

/// Polls opened or closed per round at most (the rest wait for the next tick).
const BATCH: u64 = 50;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub opened: u64,
    pub closed: u64,
}

async fn due<C: ConnectionTrait>(
    db: &C,
    status: Status,
    at: poll::Column,
    now: DateTime<Utc>,
) -> AppResult<Vec<Uuid>> {
    Ok(poll::Entity::find()
        .select_only()
        .column(poll::Column::Id)
        .filter(poll::Column::Status.eq(status))
        .filter(at.lte(now))
        .order_by_asc(at)
        .limit(BATCH)
        .into_tuple()
        .all(db)
        .await?)
}

/// Opens the scheduled polls due at `now` and closes the open ones due, each exactly once. A
/// scheduled poll whose closing time passed before it could open is left for staff (it would
/// take no ballot). Election polls are closed here too; the election's own job moves on.
pub async fn run_due<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> AppResult<Round> {
    let mut round = Round::default();
    for id in due(db, Status::Scheduled, poll::Column::OpensAt, now).await? {
        let txn = db.begin().await?;
        let p = engine::load(&txn, id).await?;
        if p.closes_at <= now {
            continue;
        }
        if engine::open_in(&txn, id, now).await? {
            notify::opened(&txn, id, now).await?;
            txn.commit().await?;
            round.opened += 1;
        }
    }
    for id in due(db, Status::Open, poll::Column::ClosesAt, now).await? {
        let txn = db.begin().await?;
        if engine::close_in(&txn, id, now, None).await? {
            // A proposal's decision or evaluation poll moves its proposal in this transaction.
            crate::proposals::service::decision::on_poll_closed_in(&txn, id, now).await?;
            notify::result_out(&txn, id, now).await?;
            txn.commit().await?;
            round.closed += 1;
        }
    }
    Ok(round)
}
