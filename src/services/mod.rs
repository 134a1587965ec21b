//! Domain rules, generic over `ConnectionTrait`; no HTTP types here.

pub mod audit;
pub mod auth;
pub mod binding;
pub mod idempotency;
pub mod residents;
pub mod residents_io;
pub mod territory;
