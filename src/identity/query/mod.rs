//! Identity read models other domains count by.

pub mod counts;
