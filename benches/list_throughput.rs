//! Throughput of a simple authenticated list (`GET /api/v1/streets`), with and without the
//! pool's ping before each acquire.
//!
//!     cargo bench --bench list_throughput                      # SQLite
//!     BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench list_throughput
//!
//! Each run starts the server in-process on a fresh database, logs in, and keeps
//! `BENCH_CONCURRENCY` (default 16) clients busy for `BENCH_SECONDS` (default 5) per variant.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "common/mod.rs"]
mod common;
use common::{backend, env_or, start};

async fn run(ping: bool, seconds: u64, concurrency: u64) -> anyhow::Result<f64> {
    let ping = ping.to_string();
    let s = start(&[("LINLI_DB_PING_BEFORE_ACQUIRE", ping.as_str())]).await?;
    let (client, token) = (s.client.clone(), s.root.clone());
    for i in 0..20 {
        s.create("streets", serde_json::json!({"name": format!("街道{i}")}))
            .await?;
    }
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, token, done, url) = (
            client.clone(),
            token.clone(),
            done.clone(),
            format!("{}/streets", s.api),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                if let Ok(r) = client.get(&url).bearer_auth(&token).send().await {
                    if r.status().is_success() && r.bytes().await.is_ok() {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    s.cleanup();
    Ok(done.load(Ordering::Relaxed) as f64 / seconds as f64)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds = env_or("BENCH_SECONDS", 5);
    let concurrency = env_or("BENCH_CONCURRENCY", 16);
    let backend = backend();
    let without = run(false, seconds, concurrency).await?;
    let with = run(true, seconds, concurrency).await?;
    println!("GET /api/v1/streets, {backend}, {concurrency} clients, {seconds}s each");
    println!("  without ping before acquire: {without:>8.0} req/s");
    println!(
        "  with ping before acquire:    {with:>8.0} req/s ({:+.0}%)",
        (with / without - 1.0) * 100.0
    );
    Ok(())
}
