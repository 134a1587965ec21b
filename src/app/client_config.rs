//! `GET /api/v1/client-config`: what the mini-program needs to know about this deployment
//! before it asks the user anything.
//!
//! Public, deliberately: nothing in it is secret or personal (WeChat shows a template's id to
//! anyone who inspects the mini-program, which carries the ids anyway), it is the same for every
//! caller, and the app needs it where no one is signed in yet (the first screen, the sign-in
//! page). Answering it without a token also keeps it out of the revocation check, so it works
//! while Redis is down.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::platform::notifications::Event;
use crate::platform::state::AppState;

/// A notification event that may be sent as a WeChat subscribe message.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubscribeEvent {
    /// To the requester: their ticket's status changed.
    TicketStatusChanged,
    /// To the handlers: a ticket was dispatched to them.
    TicketAssigned,
    /// To the handlers: the requester urged a ticket.
    TicketUrged,
    /// To the staff of the level a ticket was escalated to.
    TicketEscalated,
    /// To the other side of a ticket's conversation: a new message.
    TicketMessage,
    /// To the residents a notice is addressed to: it was published.
    NoticePublished,
    /// To the accounts on a poll's roll: voting has opened.
    PollOpened,
    /// To the accounts on a poll's roll: its result is out.
    PollResult,
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

/// Who receives an event, so the app asks each user only for what may reach them.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubscribeAudience {
    /// Whoever filed the ticket (a resident).
    Requester,
    /// Staff who handle or supervise tickets.
    Staff,
    /// Both: the requester and the staff on the ticket.
    Both,
    /// The residents a notice is addressed to.
    Residents,
    /// The residents on a poll's roll.
    Voters,
}

impl From<Event> for SubscribeEvent {
    fn from(e: Event) -> Self {
        match e {
            Event::TicketStatusChanged => SubscribeEvent::TicketStatusChanged,
            Event::TicketAssigned => SubscribeEvent::TicketAssigned,
            Event::TicketUrged => SubscribeEvent::TicketUrged,
            Event::TicketEscalated => SubscribeEvent::TicketEscalated,
            Event::TicketMessage => SubscribeEvent::TicketMessage,
            Event::NoticePublished => SubscribeEvent::NoticePublished,
            Event::PollOpened => SubscribeEvent::PollOpened,
            Event::PollResult => SubscribeEvent::PollResult,
            Event::ProposalStepped => SubscribeEvent::ProposalStepped,
            Event::ProposalPollOpen => SubscribeEvent::ProposalPollOpen,
            Event::ProposalResult => SubscribeEvent::ProposalResult,
            Event::ProposalProgress => SubscribeEvent::ProposalProgress,
            Event::ProposalEvaluationOpen => SubscribeEvent::ProposalEvaluationOpen,
            Event::ProposalReviewDue => SubscribeEvent::ProposalReviewDue,
            Event::ProposalCommented => SubscribeEvent::ProposalCommented,
        }
    }
}

fn audience(e: Event) -> SubscribeAudience {
    match e {
        Event::TicketStatusChanged => SubscribeAudience::Requester,
        Event::TicketAssigned | Event::TicketUrged | Event::TicketEscalated => {
            SubscribeAudience::Staff
        }
        Event::TicketMessage => SubscribeAudience::Both,
        Event::NoticePublished => SubscribeAudience::Residents,
        Event::PollOpened | Event::PollResult => SubscribeAudience::Voters,
        Event::ProposalStepped
        | Event::ProposalPollOpen
        | Event::ProposalResult
        | Event::ProposalProgress
        | Event::ProposalEvaluationOpen
        | Event::ProposalCommented => SubscribeAudience::Residents,
        Event::ProposalReviewDue => SubscribeAudience::Staff,
    }
}

/// One subscribe-message template the server sends.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscribeTemplate {
    pub event: SubscribeEvent,
    pub audience: SubscribeAudience,
    /// The template id to pass to `wx.requestSubscribeMessage` (`tmplIds`).
    pub template_id: String,
    /// The mini-program page the message opens; the server appends `?id=<ticket id>` (a
    /// notice's: `?id=<notice id>`; a poll's: `?id=<poll id>`).
    pub page: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientConfig {
    /// Exactly the events this server sends as subscribe messages (`LINLI_WECHAT_TEMPLATES`),
    /// in a fixed order; an event without a template is never sent and is not listed, so the
    /// app never asks consent for a message that will not come. Empty when none are configured.
    pub subscribe_templates: Vec<SubscribeTemplate>,
}

/// The subscribe-message templates this server sends (no token needed).
///
/// For each event it sends: who receives it, the template id to ask consent for and the page
/// the message opens. Events without a template are never sent and not listed.
#[utoipa::path(tag = "notifications", security(()),
    responses((status = 200, body = ClientConfig,
        headers(("Cache-Control" = String, description = "`public, max-age=300`")))))]
#[get("/client-config")]
pub async fn get_client_config(state: web::Data<AppState>) -> HttpResponse {
    let page = |e: Event| match e {
        Event::NoticePublished => state.settings.wechat_notice_page.clone(),
        Event::PollOpened | Event::PollResult => state.settings.wechat_poll_page.clone(),
        Event::ProposalStepped
        | Event::ProposalPollOpen
        | Event::ProposalResult
        | Event::ProposalProgress
        | Event::ProposalEvaluationOpen
        | Event::ProposalReviewDue
        | Event::ProposalCommented => state.settings.wechat_proposal_page.clone(),
        _ => state.settings.wechat_page.clone(),
    };
    let subscribe_templates = Event::ALL
        .into_iter()
        .filter_map(|e| {
            let template_id = state.settings.wechat_templates.get(e.as_str())?;
            Some(SubscribeTemplate {
                event: e.into(),
                audience: audience(e),
                template_id: template_id.clone(),
                page: page(e),
            })
        })
        .collect();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(ClientConfig {
            subscribe_templates,
        })
}
