//! Territory rules; no HTTP types.

pub mod grids;
pub mod households;
pub mod objects;
pub mod tree;
