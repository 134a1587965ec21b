//! Residents' requests (诉求): intake, the workflow of verbs with deadlines and escalation,
//! duplicates and merging, the conversation, photos, categories and policies, lists, stats and
//! the ledger.

pub mod http;
pub mod model;
pub mod policy;
pub mod query;
pub mod service;
