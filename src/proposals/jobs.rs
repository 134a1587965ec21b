//! The consultation's background round: the 回头看 reminders of closed proposals whose review
//! fell due, each exactly once whichever replica gets there first. (The move when a decision
//! poll closes runs in the polls' own job, in the poll-close transaction.)

pub use crate::proposals::service::closing::review_due;
