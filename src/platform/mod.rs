//! What every domain stands on and that knows no domain: errors and languages, the request
//! context, configuration, the database and its statements, clock, cache, storage, PII sealing,
//! the WeChat client, the HTTP extractors and middleware, and the activity pieces keyed by
//! subject (audit, outbox, message centre, idempotency), and the append-only ledger with reversals
//! that money and points are kept in.
//!
//! Nothing under `platform/` imports a domain (`tests/api/architecture.rs` checks it).

pub mod attachments;
pub mod audit;
pub mod cache;
pub mod cell_text;
pub mod clock;
pub mod config;
pub mod content;
pub mod context;
pub mod db;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod image_meta;
pub mod inbox;
pub mod lang;
pub mod ledger;
pub mod limits;
pub mod net;
pub mod notifications;
pub mod paging;
pub mod pii;
pub mod rfc3339;
pub mod signed_urls;
pub mod slots;
pub mod state;
pub mod statements;
pub mod statistics;
pub mod storage;
pub mod telemetry;
pub mod text;
pub mod thumbnail;
pub mod timeline;
pub mod tokens;
pub mod wechat;
pub mod xlsx_read;
