//! Ticket rules and transactions; no HTTP types.

pub mod attachments;
pub mod duplicates;
pub mod escalation;
pub mod intake;
pub mod messages;
pub mod notify;
pub mod operations;
pub mod referral;
pub mod settings;
pub mod timeline;
pub mod verbs;
pub mod workflow;
