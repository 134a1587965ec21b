//! The content check as staff and residents reach it: a street's keyword list, and checking a
//! text before publishing it.

pub mod check;
pub mod keywords;

/// Registers this domain's handlers.
pub fn configure(cfg: &mut impl crate::platform::http::Routes) {
    cfg.service(keywords::list_content_keywords)
        .service(keywords::create_content_keyword)
        .service(keywords::delete_content_keyword)
        .service(check::check_content);
}
