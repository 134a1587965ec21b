//! Black-box tests: a real server on port 0, a fresh database per test (a new SQLite file, or a
//! new PostgreSQL database when `TEST_DATABASE_URL` is set) and a fresh Redis key prefix (when
//! `TEST_REDIS_URL` is set; otherwise the in-process cache). Tests speak HTTP to it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod access_matrix;
mod accounts;
mod allocations;
mod architecture;
mod attachments;
mod auth;
mod backup;
mod binding;
mod caller_cache;
mod comments;
mod comments_moderation;
mod comments_proposals;
mod content;
mod contract;
mod demo;
mod directory;
mod elections;
mod elections_life;
mod elections_views;
mod errors;
mod funds;
mod idempotency;
mod invitations;
mod jobs;
mod ledger;
mod ledger_formulas;
mod lifecycle;
mod logs;
mod messages;
mod miniprogram;
mod notices;
mod notifications;
mod offices;
mod operations;
mod outages;
mod plans;
mod pledges;
mod polls;
mod polls_secrecy;
mod proposal_walk;
mod proposals;
mod proposals_life;
mod proxy;
mod public_tags;
mod residents;
mod residents_io;
mod roster;
mod security;
mod spec;
mod staff;
mod startup;
mod statement_counts;
mod territory;
mod ticket_reports;
mod ticket_rules;
mod ticket_ux;
mod ticket_world;
mod tickets;
mod timeline;
mod wechat;
