//! Throughput of a simple authenticated list (`GET /api/v1/streets`), with and without the
//! pool's ping before each acquire.
//!
//!     cargo bench --bench list_throughput                      # SQLite
//!     BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench list_throughput
//!
//! Each run starts the server in-process on a fresh database, logs in, and keeps
//! `BENCH_CONCURRENCY` (default 16) clients busy for `BENCH_SECONDS` (default 5) per variant.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use linli::platform::config::Settings;
use linli::Application;

#[path = "common/mod.rs"]
mod common;
use common::{backend, env_or, fresh_db};

async fn run(ping: bool, seconds: u64, concurrency: u64) -> anyhow::Result<f64> {
    let vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", fresh_db().await?.0),
        ("LINLI_BIND", "127.0.0.1:0".into()),
        (
            "LINLI_JWT_SECRET",
            "bench-secret-bench-secret-bench-secret-00".into(),
        ),
        ("LINLI_ADMIN_USERNAME", "root".into()),
        ("LINLI_ADMIN_PASSWORD", "bench-password-1".into()),
        ("LINLI_DB_PING_BEFORE_ACQUIRE", ping.to_string()),
    ]);
    let settings = Settings::from_lookup(|k| vars.get(k).cloned())?;
    let app = Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let pair: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "root", "password": "bench-password-1"}))
        .send()
        .await?
        .json()
        .await?;
    let token = pair["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for i in 0..20 {
        client
            .post(format!("{base}/api/v1/streets"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"name": format!("街道{i}")}))
            .send()
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
            format!("{base}/api/v1/streets"),
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
