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
use actix_web::{HttpRequest, HttpResponse};

use crate::platform::error::{AppError, AppResult};
use crate::platform::error::{FieldCode, FieldError};
pub use crate::tickets::query::detail::{
    detail, responses, TicketDetail, TicketLocation, TicketResponse, TicketSummary, TimelineEntry,
};

pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// The version an `If-Match` header asks for: None when absent or `*`. A value that is no
/// version of ours can never match (412).
pub fn if_match(req: &HttpRequest) -> AppResult<Option<i32>> {
    let Some(v) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let v = v.to_str().map_err(|_| AppError::PreconditionFailed)?.trim();
    if v == "*" {
        return Ok(None);
    }
    let v = v.strip_prefix("W/").unwrap_or(v);
    Ok(Some(
        v.trim_matches('"')
            .parse::<i32>()
            .map_err(|_| AppError::PreconditionFailed)?,
    ))
}

/// 200 (or 201) with the ticket's detail and its `ETag`.
pub fn with_etag(mut res: actix_web::HttpResponseBuilder, d: &TicketDetail) -> HttpResponse {
    res.insert_header((header::ETAG, etag(d.ticket.version)))
        .json(d)
}

/// Validates free text: trimmed, non-empty, at most `max` characters; line breaks allowed,
/// other control characters not.
pub fn clean_text(field: &str, value: &str, max: usize) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(AppError::Validation(vec![FieldError::required(field)]));
    }
    if v.chars().count() > max {
        return Err(AppError::Validation(vec![FieldError::too_long(field, max)]));
    }
    if !v.chars().all(crate::platform::text::multi_line_ok) {
        return Err(AppError::invalid(
            field,
            FieldCode::Invalid,
            crate::platform::text::bad_character(),
        ));
    }
    Ok(v.to_string())
}

/// [`clean_text`] for one line (titles, names): no line breaks either.
pub fn clean_line(field: &str, value: &str, max: usize) -> AppResult<String> {
    let v = clean_text(field, value, max)?;
    if !v.chars().all(crate::platform::text::single_line_ok) {
        return Err(AppError::invalid(
            field,
            FieldCode::Invalid,
            crate::platform::text::bad_character(),
        ));
    }
    Ok(v)
}

/// [`clean_text`] for an optional field; blank counts as absent.
pub fn clean_optional(
    field: &str,
    value: &Option<String>,
    max: usize,
) -> AppResult<Option<String>> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => clean_text(field, v, max).map(Some),
    }
}

/// Registers this domain's handlers, in an order where a literal path comes before a template
/// that would also match it.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
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
