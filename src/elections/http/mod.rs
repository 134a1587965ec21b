//! Elections: the election itself (create, list, read, edit the draft, results, mine), its
//! people (officers, candidates, nominators, roll objections) and its verbs. The rules live in
//! `elections::service`, the read models in `elections::query`; these handlers parse, call one
//! of them and answer.

pub mod elections;
pub mod people;
pub mod steps;
pub mod views;

use actix_web::http::header;
use actix_web::HttpResponse;

use crate::elections::query::ElectionResponse;
use crate::platform::http::etag;

/// 200 (or 201) with the election and its `ETag`.
pub fn with_etag(mut res: actix_web::HttpResponseBuilder, e: &ElectionResponse) -> HttpResponse {
    res.insert_header((header::ETAG, etag(e.version))).json(e)
}

/// Registers this domain's handlers, a literal path before a template that would also match it.
pub fn configure(cfg: &mut impl crate::platform::http::Routes) {
    cfg.service(elections::list_elections)
        .service(elections::create_election)
        .service(elections::list_my_elections)
        .service(elections::get_election)
        .service(elections::update_election)
        .service(elections::get_election_results)
        .service(views::list_election_roll)
        .service(views::get_election_result_sheet)
        .service(people::add_election_officer)
        .service(people::remove_election_officer)
        .service(people::list_candidates)
        .service(people::nominate_candidate)
        .service(people::join_nomination)
        .service(people::qualify_candidate)
        .service(people::disqualify_candidate)
        .service(people::withdraw_candidate)
        .service(people::file_roll_objection)
        .service(people::decide_roll_objection)
        .service(steps::publish_roll)
        .service(steps::open_nominations)
        .service(steps::publish_candidates)
        .service(steps::open_voting)
        .service(steps::close_voting)
        .service(steps::certify_election)
        .service(steps::publish_results)
        .service(steps::start_runoff)
        .service(steps::void_election)
        .service(steps::cancel_election);
}
