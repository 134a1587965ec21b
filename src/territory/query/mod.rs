//! Territory read models.

pub mod directory;
pub mod grids;
pub mod homes;
pub mod objects;
pub mod place_lookup;
pub mod places;
