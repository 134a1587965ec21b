//! Deliberation (民事民议, participation design §A2): comments on what residents deliberate
//! (proposals; notices too), one level of replies, each with an alignment (for, against,
//! neutral); the content check before anything is shown; an hourly limit per author; reports by
//! residents, hidden automatically at the community's report count; moderators hiding, unhiding
//! and passing comments with reasons, every decision audited.
//!
//! Generic over the subject: `service::subject` is the one place that knows how to read a
//! proposal or a notice, whether it still takes comments, and whose community's policy applies.

pub mod http;
pub mod model;
pub mod policy;
pub mod query;
pub mod service;
