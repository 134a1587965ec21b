//! Polls (投票表决): one engine for stand-alone votes, decisions of the six steps and elections
//! (participation design §A3). A poll is addressed to a place; opening it (the verb, or the job
//! at `opens_at`, exactly once) freezes its voter roll from the roster in one statement, with a
//! hash anyone can recompute; casting counts exactly one ballot per voter key, also under
//! concurrency and across replicas; closing (the verb, or the job at `closes_at`) tallies in the
//! same transaction and computes the outcome with integer arithmetic.
//!
//! Secret polls keep the secret ballot's Level 1 promise (README, "Polls and secret ballots"):
//! ballots carry no voter, no time and random (v4) ids; no per-option count is shown before
//! close; the ballot route is exempt from the idempotency store; nothing logged, audited or
//! notified ties a voter to the poll they cast in.
//!
//! Other domains (elections, proposals) drive their polls through [`service::engine`]'s
//! functions, which take a connection (their transaction) and authorize nothing.

pub mod http;
pub mod jobs;
pub mod model;
pub mod policy;
pub mod query;
pub mod service;
