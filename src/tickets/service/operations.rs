//! The ticket operations as a screen runs them: each one unit of work (the rule's own
//! transaction, or one opened here), answered with the ticket as the caller sees it afterwards.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::error::AppResult;
use crate::platform::signed_urls::Signer;
use crate::tickets::query::detail::{detail, TicketDetail};
use crate::tickets::service::duplicates;
use crate::tickets::service::intake::{self, NewTicket};
use crate::tickets::service::verbs::Command;
use crate::tickets::service::workflow;

/// Files a ticket and reads it back in the same transaction: the caller never gets a ticket
/// that is not there, nor one filed without its answer.
pub async fn file(
    db: &DatabaseConnection,
    user: &Actor,
    input: NewTicket,
    now: DateTime<Utc>,
    urls: &Signer,
) -> AppResult<TicketDetail> {
    let txn = db.begin().await?;
    let t = intake::file(&txn, user, input, now).await?;
    let d = detail(&txn, user, t, now, urls).await?;
    txn.commit().await?;
    Ok(d)
}

/// Applies one verb (see [`workflow::apply`]) and shows the ticket after it.
pub async fn apply(
    db: &DatabaseConnection,
    user: &Actor,
    id: Uuid,
    if_match: Option<i32>,
    cmd: Command,
    now: DateTime<Utc>,
    urls: &Signer,
) -> AppResult<TicketDetail> {
    let t = workflow::apply(db, user, id, if_match, cmd, now).await?;
    detail(db, user, t, now, urls).await
}

/// Merges the duplicate `id` into `into_id` (see [`duplicates::merge`]) and shows the
/// duplicate after it.
pub async fn merge(
    db: &DatabaseConnection,
    user: &Actor,
    id: Uuid,
    into_id: Uuid,
    if_match: Option<i32>,
    now: DateTime<Utc>,
    urls: &Signer,
) -> AppResult<TicketDetail> {
    let t = duplicates::merge(db, user, id, into_id, if_match, now).await?;
    detail(db, user, t, now, urls).await
}
