//! Tickets (诉求): filing, the workflow verbs, lists, stats and the ledger export, and the
//! per-community settings (categories, deadline policy). The rules live in `tickets::service`
//! and the read models in `tickets::query`; these handlers parse, call one of them and answer.

pub mod attachments;
pub mod conversation;
pub mod duplicates;
pub mod intake;
pub mod reports;
pub mod settings;
pub mod verbs;
pub mod views;

use actix_web::http::header;
use actix_web::HttpResponse;

pub use crate::tickets::query::detail::{
    detail, responses, TicketDetail, TicketLocation, TicketResponse, TicketSummary, TimelineEntry,
};

pub use crate::platform::http::{clean_line, clean_optional, clean_text, etag, if_match};

/// 200 (or 201) with the ticket's detail and its `ETag`.
pub fn with_etag(mut res: actix_web::HttpResponseBuilder, d: &TicketDetail) -> HttpResponse {
    res.insert_header((header::ETAG, etag(d.ticket.version)))
        .json(d)
}

/// Registers this domain's handlers, in an order where a literal path comes before a template
/// that would also match it.
pub fn configure(cfg: &mut impl crate::platform::http::Routes) {
    cfg.service(attachments::upload_attachment)
        .service(attachments::get_attachment)
        .service(attachments::get_signed_attachment)
        .service(settings::list_ticket_categories)
        .service(settings::create_ticket_category)
        .service(settings::get_ticket_policy)
        .service(settings::update_ticket_policy)
        .service(views::list_tickets)
        .service(intake::create_ticket)
        .service(reports::get_ticket_stats)
        .service(reports::export_tickets)
        .service(intake::get_ticket)
        .service(verbs::triage_ticket)
        .service(verbs::assign_ticket)
        .service(verbs::accept_ticket)
        .service(verbs::return_ticket)
        .service(verbs::progress_ticket)
        .service(verbs::resolve_ticket)
        .service(verbs::confirm_ticket)
        .service(verbs::reopen_ticket)
        .service(verbs::cancel_ticket)
        .service(verbs::reject_ticket)
        .service(verbs::urge_ticket)
        .service(duplicates::list_nearby_tickets)
        .service(duplicates::merge_ticket)
        .service(conversation::list_ticket_messages)
        .service(conversation::post_ticket_message);
}
