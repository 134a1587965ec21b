//! Roster read models: what roster screens show; no HTTP types.

pub mod roster;
pub mod transfers;
