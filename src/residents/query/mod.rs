//! Roster read models: what roster screens show, and what other domains ask for; no HTTP types.

pub mod counts;
pub mod resident_refs;
pub mod roster;
pub mod transfers;
