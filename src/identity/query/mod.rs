//! Identity read models other domains ask for.

pub mod role_holders;
