//! Roster rules and transactions; no HTTP types.

pub mod io;
pub mod linked_accounts;
pub mod public_tags;
pub mod roster;
pub mod transfers;
