//! The territory of a sub-district: streets, communities, property companies, compounds, grids,
//! buildings and households, and the household picker residents bind through.

pub mod http;
pub mod model;
pub mod policy;
pub mod query;
pub mod service;
