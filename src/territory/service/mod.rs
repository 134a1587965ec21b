//! Territory rules; no HTTP types.

pub mod tree;
