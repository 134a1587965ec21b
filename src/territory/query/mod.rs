//! Territory read models.

pub mod directory;
pub mod place_lookup;
