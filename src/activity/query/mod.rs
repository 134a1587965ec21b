//! The activity read models: audit events, notifications and messages as screens show them.

pub mod audit;
pub mod messages;
pub mod notifications;
