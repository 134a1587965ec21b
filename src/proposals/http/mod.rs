//! The consultation domain's http room (§A1.4): proposals, their verbs, timeline, stats and
//! export, and the consultation policies. The rules live in `proposals::service`, the read
//! models in `proposals::query`; these handlers parse, call one of them and answer.

pub mod proposals;
pub mod reports;
pub mod settings;
pub mod steps;
pub mod verbs;

use actix_web::http::header;
use actix_web::HttpResponse;

use crate::platform::error::AppResult;
use crate::platform::http::etag;
use crate::platform::state::AppState;
use crate::proposals::query::{self, ProposalResponse};

/// 200 (or 201) with `body` and the `ETag` of its version.
pub fn with_etag(mut res: actix_web::HttpResponseBuilder, body: &ProposalResponse) -> HttpResponse {
    res.insert_header((header::ETAG, etag(body.summary.version)))
        .json(body)
}

/// The proposal `id` as the caller now sees it, 200 with its ETag.
pub async fn answer(
    state: &AppState,
    user: &crate::access::Actor,
    id: uuid::Uuid,
) -> AppResult<HttpResponse> {
    let r = query::detail(&state.db, user, id).await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}

/// Registers this domain's handlers, a literal path before a template that would also match it.
pub fn configure(cfg: &mut impl crate::platform::http::Routes) {
    cfg.service(reports::get_proposal_stats)
        .service(reports::export_proposals)
        .service(proposals::list_proposals)
        .service(proposals::create_proposal)
        .service(proposals::get_proposal)
        .service(proposals::update_proposal)
        .service(proposals::list_proposal_revisions)
        .service(proposals::get_proposal_timeline)
        .service(settings::get_consultation_policy)
        .service(settings::put_consultation_policy)
        .service(verbs::support_proposal)
        .service(verbs::unsupport_proposal)
        .service(verbs::accept_proposal)
        .service(verbs::reject_proposal)
        .service(verbs::refer_proposal)
        .service(verbs::merge_proposal)
        .service(verbs::withdraw_proposal)
        .service(verbs::cancel_proposal)
        .service(verbs::hold_proposal)
        .service(verbs::resume_proposal)
        .service(steps::open_proposal_decision)
        .service(steps::cancel_proposal_decision)
        .service(steps::set_proposal_lead)
        .service(steps::start_proposal_implementation)
        .service(steps::create_proposal_update)
        .service(steps::add_proposal_milestones)
        .service(steps::complete_proposal)
        .service(steps::create_proposal_acceptance)
        .service(steps::close_proposal)
        .service(steps::mark_proposal_golden);
}
