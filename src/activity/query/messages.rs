//! Messages of the message centre (站内消息) as the mini-program lists them.

use chrono::{DateTime, Utc};
use sea_orm::ActiveEnum;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::inbox::{self, Message};
use crate::platform::notifications::Event;

/// What a message is about: the page the mini-program opens with `subject_id`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectType {
    /// A ticket (诉求): `GET /api/v1/tickets/{subject_id}`.
    Ticket,
    /// A resident's transfer between communities (迁入/迁出):
    /// `GET /api/v1/resident-transfers/{subject_id}`.
    ResidentTransfer,
    /// A notice (公告): `GET /api/v1/notices/{subject_id}`.
    Notice,
    /// A poll (投票): `GET /api/v1/polls/{subject_id}`.
    Poll,
    /// A proposal (议题): `GET /api/v1/proposals/{subject_id}`.
    Proposal,
}

/// What a message reports: the WeChat subscribe events, and those told in the message centre
/// only.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InboxEvent {
    TicketStatusChanged,
    TicketAssigned,
    TicketUrged,
    TicketEscalated,
    TicketMessage,
    /// To the receiving community's staff: a resident's transfer waits for them.
    TransferFiled,
    /// To who filed it: the receiving community accepted the transfer.
    TransferAccepted,
    /// To who filed it: the receiving community refused the transfer (the body says why).
    TransferRefused,
    /// To the author, the supporting households' accounts, the lead and the building leaders of its place: a proposal moved to another step.
    ProposalStepped,
    /// To the same: a proposal's decision poll opened.
    ProposalPollOpen,
    /// To the same: a proposal's decision poll closed (passed, failed).
    ProposalResult,
    /// To the author and the supporting households' accounts: the lead reported progress.
    ProposalProgress,
    /// To the author, supporters and lead: the work is complete and its evaluation (评议) is open.
    ProposalEvaluationOpen,
    /// To the lead and the community's council and staff: a closed proposal's 回头看 review is due.
    ProposalReviewDue,
    /// To a proposal's author or a comment's author: a comment on the proposal, or a reply.
    ProposalCommented,
}

impl InboxEvent {
    fn parse(s: &str) -> Option<InboxEvent> {
        if let Some(e) = Event::parse(s) {
            return Some(match e {
                Event::TicketStatusChanged => InboxEvent::TicketStatusChanged,
                Event::TicketAssigned => InboxEvent::TicketAssigned,
                Event::TicketUrged => InboxEvent::TicketUrged,
                Event::TicketEscalated => InboxEvent::TicketEscalated,
                Event::TicketMessage => InboxEvent::TicketMessage,
                // Notices are read in their own list (`/me/notices`), never in the message
                // centre.
                Event::NoticePublished => return None,
                // Polls are found in `/me/polls`, not in the message centre.
                Event::PollOpened | Event::PollResult => return None,
                Event::ProposalStepped => InboxEvent::ProposalStepped,
                Event::ProposalPollOpen => InboxEvent::ProposalPollOpen,
                Event::ProposalResult => InboxEvent::ProposalResult,
                Event::ProposalProgress => InboxEvent::ProposalProgress,
                Event::ProposalEvaluationOpen => InboxEvent::ProposalEvaluationOpen,
                Event::ProposalReviewDue => InboxEvent::ProposalReviewDue,
                Event::ProposalCommented => InboxEvent::ProposalCommented,
            });
        }
        match s {
            inbox::TRANSFER_FILED => Some(InboxEvent::TransferFiled),
            inbox::TRANSFER_ACCEPTED => Some(InboxEvent::TransferAccepted),
            inbox::TRANSFER_REFUSED => Some(InboxEvent::TransferRefused),
            _ => None,
        }
    }
}

/// One message of the caller's message centre, enough for the list screen.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxMessageResponse {
    pub id: Uuid,
    /// What happened (the WeChat subscribe events, and transfers told here only). Null only for an
    /// event this server version does not know (written by a newer replica during an upgrade).
    pub event: Option<InboxEvent>,
    pub subject_type: SubjectType,
    pub subject_id: Uuid,
    /// A short Chinese title (at most 60 characters), e.g. `诉求已受理`.
    pub title: String,
    /// A Chinese line naming the ticket and what happened (at most 200 characters).
    pub body: String,
    pub read: bool,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub read_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

impl From<Message> for InboxMessageResponse {
    fn from(m: Message) -> Self {
        Self {
            id: m.id,
            event: InboxEvent::parse(&m.event),
            subject_type: match inbox::SubjectType::try_from_value(&m.subject_type) {
                Ok(inbox::SubjectType::ResidentTransfer) => SubjectType::ResidentTransfer,
                Ok(inbox::SubjectType::Notice) => SubjectType::Notice,
                Ok(inbox::SubjectType::Poll) => SubjectType::Poll,
                Ok(inbox::SubjectType::Proposal) => SubjectType::Proposal,
                // Tickets, and what the message centre is never about.
                _ => SubjectType::Ticket,
            },
            subject_id: m.subject_id,
            title: m.title,
            body: m.body,
            read: m.read_at.is_some(),
            read_at: m.read_at,
            created_at: m.created_at,
        }
    }
}
