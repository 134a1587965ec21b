//! Territory read models.

pub mod directory;
pub mod places;
