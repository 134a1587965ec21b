//! Identity read models: the accounts, role assignments and binding requests a screen shows.

pub mod binding_requests;
pub mod me;
pub mod users;
