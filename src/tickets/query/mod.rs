//! Ticket read models: lists, details, timelines and the names a screen shows.

pub mod attachments;
pub mod detail;
pub mod filed_by;
pub mod messages;
pub mod names;
pub mod settings;
pub mod stats;
pub mod views;
