//! Domain rules, generic over `ConnectionTrait`; no HTTP types here.

pub mod auth;
pub mod idempotency;
pub mod territory;
