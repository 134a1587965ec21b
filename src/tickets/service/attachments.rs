//! A ticket's photos, kept by `platform::attachments` under the subject `ticket`: attached on
//! filing, progress or resolution with the timeline entry they came with, and seen by whoever
//! may see the ticket.

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::access::policy::{self, Action};
use crate::access::Actor;
use crate::platform::attachments::{self, Attachment, StoredPhoto, SubjectType};
use crate::platform::error::{AppError, AppResult};
use entity::ticket;

/// Attaches the caller's own unattached uploads `ids` to ticket `ticket_id` and its timeline
/// entry `event_id` (a 400 on `attachment_ids` for anything else; nothing is attached).
pub async fn link<C: ConnectionTrait>(
    db: &C,
    uploader: Uuid,
    ids: &[Uuid],
    ticket_id: Uuid,
    event_id: Uuid,
) -> AppResult<()> {
    let subject = (SubjectType::Ticket, ticket_id);
    attachments::link(db, uploader, ids, subject, Some(event_id)).await
}

/// The photos of a ticket, oldest first.
pub async fn for_ticket<C: ConnectionTrait>(db: &C, ticket_id: Uuid) -> AppResult<Vec<Attachment>> {
    attachments::of_subject(db, SubjectType::Ticket, ticket_id).await
}

/// The photo `id` if `user` may see it: their own upload before it is attached; afterwards, as
/// its subject's domain decides (a ticket's photos to whoever may see the ticket, a notice's to
/// whoever may read the notice). 404 otherwise.
pub async fn visible_photo<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    id: Uuid,
) -> AppResult<StoredPhoto> {
    let a = attachments::find(db, id).await?;
    match attachments::subject_of(&a) {
        None if a.uploader_user_id == user.id => {}
        None => return Err(AppError::NotFound),
        Some((SubjectType::Ticket, ticket_id)) => {
            policy::find_visible::<ticket::Entity, _>(db, user, Action::TicketRead, ticket_id)
                .await?;
        }
        // A notice's photos: whoever may read the notice (residents: once published).
        Some((SubjectType::Notice, notice_id)) => {
            crate::notices::service::readable_notice(db, user, notice_id).await?;
        }
        // Receipts and invoices of a fund ledger: whoever may read the account (公示).
        Some((SubjectType::FundEntry, entry_id)) => {
            crate::funds::query::entry_visible(db, user, entry_id).await?;
        }
        Some((SubjectType::FundExpense, expense_id)) => {
            crate::funds::query::expense_visible(db, user, expense_id).await?;
        }
        // A proposal's photos and its updates': whoever may read the proposal.
        Some((SubjectType::Proposal, proposal_id)) => {
            crate::proposals::policy::readable_proposal(db, user, proposal_id).await?;
        }
        Some((SubjectType::ProposalUpdate, update_id)) => {
            crate::proposals::query::update_visible(db, user, update_id).await?;
        }
        // No other subject holds photos yet; each that will decides for its own.
        Some((SubjectType::ResidentTransfer | SubjectType::Poll, _)) => {
            return Err(AppError::NotFound)
        }
    }
    Ok(a.into())
}
