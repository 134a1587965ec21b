//! The tickets a person filed (or that were filed for them).

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::platform::error::AppResult;
use entity::ticket;

/// A ticket as stored.
pub type Ticket = ticket::Model;

/// The tickets whose requester is `user_id`, oldest first.
pub async fn requester<C: ConnectionTrait>(db: &C, user_id: Uuid) -> AppResult<Vec<Ticket>> {
    Ok(ticket::Entity::find()
        .filter(ticket::Column::RequesterUserId.eq(user_id))
        .order_by_asc(ticket::Column::Id)
        .all(db)
        .await?)
}
