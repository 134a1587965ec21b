//! Accounts and sign-in: staff and residents, passwords and WeChat, role assignments, binding
//! a resident account to the roster, invitation codes, and what a person may see of themselves.

pub mod http;
pub mod policy;
pub mod query;
pub mod service;
