//! Identity read models other domains ask for.

pub mod counts;
pub mod role_holders;
