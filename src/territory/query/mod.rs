//! Territory read models.

pub mod directory;
