//! Notifications about a ticket: the outbox and the message centre keyed by the ticket, where
//! its street's and community's staff may see the outbox row.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::platform::error::AppResult;
use crate::platform::inbox::Subject;
use crate::platform::notifications::{enqueue_about, About, Event, Payload};
use entity::ticket;

/// What a notification about `t` is about.
pub fn about(t: &ticket::Model) -> About {
    About {
        subject: Subject::Ticket(t.id),
        street_id: t.street_id,
        community_id: Some(t.community_id),
    }
}

/// Queues `event` about `t` for `recipients`, in the caller's transaction.
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    event: Event,
    t: &ticket::Model,
    recipients: &[Uuid],
    payload: &Payload,
    now: DateTime<Utc>,
) -> AppResult<()> {
    enqueue_about(db, event, about(t), recipients, payload, now).await
}
