//! Territory read models.

pub mod directory;
pub mod grids;
pub mod objects;
pub mod places;
