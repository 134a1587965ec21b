//! The SQL statements one request runs, for the tests that hold lists to a fixed number of
//! statements and to index-range plans (`tests/api/plans.rs`).
//!
//! Every statement of the pool passes through [`observe`] (sea-orm's metric callback, run on the
//! task that executed it). Nothing is kept unless a test asked for a request id with [`watch`]:
//! then the statements run while that request is handled (the request id is the task-local set by
//! `middleware::request_context`) are kept until [`take`]n. Not reachable over HTTP.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use sea_orm::Statement;

static WATCHING: AtomicBool = AtomicBool::new(false);
static WATCHED: Mutex<BTreeMap<String, Vec<Statement>>> = Mutex::new(BTreeMap::new());

/// The metric callback of the pool: records the statement if its request is watched.
pub fn observe(info: &sea_orm::metric::Info<'_>) {
    if !WATCHING.load(Ordering::Relaxed) {
        return;
    }
    let Some(id) = crate::platform::context::current_request_id() else {
        return;
    };
    if let Ok(mut watched) = WATCHED.lock() {
        if let Some(list) = watched.get_mut(&id) {
            list.push(info.statement.clone());
        }
    }
}

/// Starts keeping the statements of the request sent with `X-Request-Id: <request_id>`.
pub fn watch(request_id: &str) {
    if let Ok(mut watched) = WATCHED.lock() {
        watched.insert(request_id.to_string(), Vec::new());
        WATCHING.store(true, Ordering::Relaxed);
    }
}

/// The statements kept for `request_id`, in the order they ran; stops keeping them.
pub fn take(request_id: &str) -> Vec<Statement> {
    match WATCHED.lock() {
        Ok(mut watched) => {
            let out = watched.remove(request_id).unwrap_or_default();
            if watched.is_empty() {
                WATCHING.store(false, Ordering::Relaxed);
            }
            out
        }
        Err(_) => Vec::new(),
    }
}
