//! Identity rules and transactions; no HTTP types.

pub mod accounts;
pub mod auth;
pub mod binding;
pub mod invitations;
