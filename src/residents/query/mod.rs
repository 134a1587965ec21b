//! Residents read models other domains ask for.

pub mod resident_refs;
