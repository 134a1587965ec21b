//! Offices and terms (participation design §0.4): one registry of who holds which office —
//! 居委会成员, 楼组长, 街面长, 议事员, 邻里大管家, team leaders, duty-room leaders — on which part of
//! the territory and for which period. Terms are made by appointment now and by elections
//! later. A term may grant a role assignment that ends with it: the grant carries the term's
//! end as `valid_until`, stops authorizing at that instant, and the expiry job removes it and
//! records the end on the term.

pub mod http;
pub mod jobs;
pub mod model;
pub mod policy;
pub mod query;
pub mod service;
