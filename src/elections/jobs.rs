//! The elections' background round: an election whose voting time is over moves from `voting`
//! to `counting` exactly once, whichever replica gets there first (its poll is closed in the
//! same transaction if the poll job has not closed it yet).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use uuid::Uuid;

use crate::elections::engine;
use crate::elections::model::Status;
use crate::platform::error::AppResult;
use entity::election;

/// Elections moved per round at most (the rest wait for the next tick).
const BATCH: u64 = 100;

/// Moves the elections whose voting ended by `now` to counting; how many this call moved.
pub async fn count_due<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let due: Vec<(Uuid, Option<Uuid>)> = election::Entity::find()
        .select_only()
        .column(election::Column::Id)
        .column(election::Column::PollId)
        .filter(election::Column::Status.eq(Status::Voting))
        .filter(election::Column::VotingEndsAt.lte(now))
        .order_by_asc(election::Column::VotingEndsAt)
        .limit(BATCH)
        .into_tuple()
        .all(db)
        .await?;
    let mut moved = 0;
    for (id, poll) in due {
        let txn = db.begin().await?;
        let done = election::Entity::update_many()
            .col_expr(election::Column::Status, Expr::value(Status::Counting))
            .col_expr(
                election::Column::Version,
                Expr::col(election::Column::Version).add(1),
            )
            .col_expr(election::Column::UpdatedAt, Expr::value(now))
            .filter(election::Column::Id.eq(id))
            .filter(election::Column::Status.eq(Status::Voting))
            .exec(&txn)
            .await?;
        if done.rows_affected != 1 {
            continue;
        }
        if let Some(p) = poll {
            engine::close(&txn, p, now).await?;
        }
        txn.commit().await?;
        moved += 1;
    }
    Ok(moved)
}
