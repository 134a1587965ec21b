//! Moderation: the content check's keyword lists that staff keep per street, and checking a
//! text before publishing it (`platform::content` does the checking). It will also hold the
//! moderation queue of what waits in `pending_review`.

pub mod http;
pub mod policy;
pub mod service;
