//! Roster read models: what roster screens show; no HTTP types.

pub mod counts;
pub mod roster;
pub mod transfers;
