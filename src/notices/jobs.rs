//! The notices' background round: publishing scheduled notices whose time has come.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use uuid::Uuid;

use crate::notices::model::Status;
use crate::platform::error::AppResult;
use entity::notice;

/// Notices published per round at most (the rest wait for the next tick).
const BATCH: u64 = 100;

/// Publishes the scheduled notices due at `now`, each exactly once whichever replica's job gets
/// there first: each in a transaction of its own, which publishes only if its conditional move
/// from `scheduled` changed the row. Returns how many this call published.
pub async fn publish_due<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let due: Vec<Uuid> = notice::Entity::find()
        .select_only()
        .column(notice::Column::Id)
        .filter(notice::Column::Status.eq(Status::Scheduled))
        .filter(notice::Column::PublishAt.lte(now))
        .order_by_asc(notice::Column::PublishAt)
        .limit(BATCH)
        .into_tuple()
        .all(db)
        .await?;
    let mut published = 0;
    for id in due {
        let txn = db.begin().await?;
        if crate::notices::service::go_public(&txn, id, Status::Scheduled, now).await? {
            txn.commit().await?;
            published += 1;
        }
    }
    Ok(published)
}
