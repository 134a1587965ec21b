//! Territory: flat resources with the parent id in the body and as a list filter.
//!
//! Parents are fixed at creation (the copies of ancestor ids that make scoping one condition
//! stay true); move something by deleting and recreating it.

pub mod buildings;
pub mod communities;
pub mod compounds;
pub mod grids;
pub mod households;
pub mod property_companies;
pub mod streets;

pub const NAME_MAX: usize = 100;
