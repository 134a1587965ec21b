//! Territory rules; no HTTP types.

pub mod households;
pub mod tree;
