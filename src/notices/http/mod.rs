//! Notices (公告): writing and publishing them, reading and confirming them, following them up,
//! and the moderation queue. The rules live in `notices::service`, the read models in
//! `notices::query`; these handlers parse, call one of them and answer.

pub mod follow_up;
pub mod notices;
pub mod reading;

use actix_web::http::header;
use actix_web::HttpResponse;

use crate::notices::query::NoticeResponse;
use crate::platform::http::etag;

/// 200 (or 201) with the notice and its `ETag`.
pub fn with_etag(mut res: actix_web::HttpResponseBuilder, n: &NoticeResponse) -> HttpResponse {
    res.insert_header((header::ETAG, etag(n.version))).json(n)
}

/// Registers this domain's handlers, in an order where a literal path comes before a template
/// that would also match it.
pub fn configure(cfg: &mut impl crate::platform::http::Routes) {
    cfg.service(notices::list_notices)
        .service(notices::create_notice)
        .service(reading::list_my_notices)
        .service(follow_up::list_moderation_queue)
        .service(notices::get_notice)
        .service(notices::update_notice)
        .service(notices::publish_notice)
        .service(notices::withdraw_notice)
        .service(follow_up::approve_notice)
        .service(follow_up::send_back_notice)
        .service(reading::read_notice)
        .service(reading::confirm_notice)
        .service(follow_up::get_notice_receipts)
        .service(follow_up::list_unreached_households)
        .service(follow_up::record_offline_reach);
}
