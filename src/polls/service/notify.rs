//! The notifications of a poll: voting opened, and the result is out, to every account bound to
//! the roll (queued in batches in the transaction that opened or closed it). They name the poll
//! only: nothing about anyone's ballot, and never sent because someone cast one.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::platform::error::AppResult;
use crate::platform::inbox::Subject;
use crate::platform::notifications::{self, About, Event, Payload};
use crate::polls::model;
use crate::polls::service::{engine, roster};

async fn send<C: ConnectionTrait>(
    txn: &C,
    poll_id: Uuid,
    event: Event,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let p = engine::load(txn, poll_id).await?;
    let users = roster::accounts_on_roll(txn, poll_id, p.unit).await?;
    if users.is_empty() {
        return Ok(());
    }
    let (status, note) = match event {
        Event::PollResult => (
            "已结束".to_string(),
            p.outcome.map(|o| model::outcome_label(o).to_string()),
        ),
        _ => (
            "投票中".to_string(),
            Some(format!(
                "截止 {}",
                (p.closes_at + chrono::Duration::hours(8)).format("%m-%d %H:%M")
            )),
        ),
    };
    let payload = Payload {
        title: p.title.clone(),
        status,
        note,
        at: now,
    };
    let about = About {
        subject: Subject::Poll(poll_id),
        street_id: p.street_id,
        community_id: p.community_id,
    };
    notifications::enqueue_outbox(txn, event, about, &users, &payload, now).await
}

/// Voting opened: one message per account on the roll.
pub async fn opened<C: ConnectionTrait>(
    txn: &C,
    poll_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    send(txn, poll_id, Event::PollOpened, now).await
}

/// The poll closed and its result is out.
pub async fn result_out<C: ConnectionTrait>(
    txn: &C,
    poll_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    send(txn, poll_id, Event::PollResult, now).await
}
