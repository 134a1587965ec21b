//! Notices (公告): written by staff, and by leaders within their reach, addressed to one place of
//! the territory (and optionally to residents carrying some tags), checked, published once (by
//! the verb, or by the job at `publish_at`), read and confirmed by each recipient once, and
//! followed up household by household (reads, and leaders' offline visits, calls and board
//! postings). Published notices are never edited, only withdrawn; receipts stay.

pub mod http;
pub mod jobs;
pub mod model;
pub mod policy;
pub mod query;
pub mod service;
