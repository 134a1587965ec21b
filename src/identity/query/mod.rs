//! Identity read models: the accounts, role assignments and binding requests a screen shows, and
//! what other domains ask for.

pub mod binding_requests;
pub mod counts;
pub mod me;
pub mod role_holders;
pub mod users;
