//! Ticket read models: lists, details, timelines and the names a screen shows.

pub mod filed_by;
pub mod names;
pub mod views;
