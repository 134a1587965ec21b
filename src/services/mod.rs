//! Domain rules, generic over `ConnectionTrait`; no HTTP types here.

pub mod attachments;
pub mod audit;
pub mod auth;
pub mod binding;
pub mod idempotency;
pub mod notifications;
pub mod residents;
pub mod residents_io;
pub mod statistics;
pub mod territory;
pub mod ticket_settings;
pub mod ticket_views;
pub mod tickets;
