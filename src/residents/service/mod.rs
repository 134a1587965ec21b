//! Roster rules and transactions; no HTTP types.

pub mod entries;
pub mod io;
pub mod limits;
pub mod linked_accounts;
pub mod public_tags;
pub mod roster;
pub mod roster_files;
pub mod transfers;
