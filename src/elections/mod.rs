//! Elections (选举, 推选; participation design §A4): elections of a 居委会, 楼组长, 街面长, 议事会
//! or 邻里大管家 on one node of the territory, with positions and seats, officers, a voter roll
//! published with an objection window, nominations and qualification, voting through the poll
//! engine (secret, one question per position), certification by two distinct officers once
//! the ballots reconcile, and publication of the results — which starts the office terms and
//! the roles they grant. Every step is a verb with its guards and an audit trail; the rules are
//! policy per election, not constants.

pub mod engine;
pub mod http;
pub mod jobs;
pub mod model;
pub mod policy;
pub mod query;
pub mod service;
