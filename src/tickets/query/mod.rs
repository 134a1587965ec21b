//! Ticket read models: lists, details, timelines and the names a screen shows.

pub mod names;
pub mod views;
