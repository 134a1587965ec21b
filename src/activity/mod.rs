//! What happened and who was told: the audit log, the notification outbox and the message
//! centre, as read through the API. Writing them is `platform`'s (keyed by subject).

pub mod http;
pub mod query;
