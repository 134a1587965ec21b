//! Deliberation over HTTP: a subject's comments (proposals, notices), one comment, deleting
//! one's own, reporting, and the moderators' queue and decisions. The rules live in
//! `deliberation::service`, the read models in `deliberation::query`.

pub mod comments;
pub mod moderation;

use actix_web::http::header;
use actix_web::HttpResponse;

use crate::deliberation::query::CommentResponse;
use crate::platform::http::etag;

/// 200 (or 201) with the comment and its `ETag`.
pub fn with_etag(mut res: actix_web::HttpResponseBuilder, c: &CommentResponse) -> HttpResponse {
    res.insert_header((header::ETAG, etag(c.version))).json(c)
}

/// Registers this domain's handlers (a literal path before a template that would match it).
pub fn configure(cfg: &mut impl crate::platform::http::Routes) {
    cfg.service(comments::list_proposal_comments)
        .service(comments::create_proposal_comment)
        .service(comments::list_notice_comments)
        .service(comments::create_notice_comment)
        .service(moderation::list_comment_queue)
        .service(comments::get_comment)
        .service(comments::delete_comment)
        .service(comments::report_comment)
        .service(moderation::hide_comment)
        .service(moderation::unhide_comment)
        .service(moderation::approve_comment);
}
