//! The roster: residents, their tags, import and export, transfers between households.

pub mod http;
pub mod policy;
pub mod query;
pub mod service;
