//! Domain rules, generic over `ConnectionTrait`; no HTTP types here.

pub mod accounts;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod binding;
pub mod directory;
pub mod idempotency;
pub mod inbox;
pub mod invitations;
pub mod notifications;
pub mod public_tags;
pub mod residents;
pub mod residents_io;
pub mod statistics;
pub mod territory;
pub mod ticket_duplicates;
pub mod ticket_messages;
pub mod ticket_names;
pub mod ticket_settings;
pub mod ticket_views;
pub mod tickets;
pub mod transfers;
