//! Residents filing tickets under load (`POST /api/v1/tickets`, the write path: the ticket and
//! its first timeline entry in one transaction, and the stored answer of the `Idempotency-Key`
//! the mini-program sends), and the rows one filing writes.
//!
//!     cargo bench --bench ticket_filing                      # SQLite
//!     BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench ticket_filing
//!
//! A resident may file 10 tickets in 24 hours (`intake::MAX_FILINGS_PER_WINDOW`, a constant, not
//! a setting), so the bench uses many residents rather than raising the limit: `BENCH_RESIDENTS`
//! (default 500) accounts with the `resident` role on their own household, taken in turn, so
//! none files more than 10 and no filing is refused. `BENCH_CONCURRENCY` (default 16) clients
//! file for `BENCH_SECONDS` (default 5) after a warm-up of one filing per resident, or until
//! the residents' allowance is used up (the run is then shorter; the rate is over its real
//! length).

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;
use uuid::Uuid;

#[path = "common/mod.rs"]
mod common;
use common::{backend, drive, env_or, in_parallel, start, Load};

const BUILDINGS: u64 = 10;
const PER_RESIDENT: u64 = 10;

struct Filer {
    token: String,
    building: Uuid,
}

/// Counts of the rows the filings may write.
async fn counts(db_url: &str) -> anyhow::Result<Vec<(&'static str, i64)>> {
    let db = Database::connect(db_url).await?;
    let mut out = Vec::new();
    for table in [
        "tickets",
        "timeline_events",
        "notifications",
        "inbox_messages",
        "idempotency_keys",
        "audit_events",
    ] {
        let row = db
            .query_one(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) FROM {table}"),
            ))
            .await?
            .ok_or_else(|| anyhow::anyhow!("no count of {table}"))?;
        out.push((table, row.try_get_by_index::<i64>(0)?));
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let residents = env_or("BENCH_RESIDENTS", 500).max(1);
    let seconds = env_or("BENCH_SECONDS", 5);
    let concurrency = env_or("BENCH_CONCURRENCY", 16);
    // The jobs (escalation, outbox delivery) must not compete with the filings measured.
    let s = start(&[("LINLI_JOB_INTERVAL_SECS", "86400")]).await?;
    let common::Place {
        community,
        compound,
        buildings,
        ..
    } = s.place(BUILDINGS).await?;
    // Staff of the community, who see (and would be told of) what is filed.
    s.member("staff", "community_staff", "community", community)
        .await?;
    let categories = s
        .get(
            &s.root,
            &format!("/ticket-categories?community_id={community}"),
        )
        .await?;
    let category = common::id(&categories["items"][0])?;
    let filers: Vec<Filer> = in_parallel(residents, 4, |i| {
        let (s, building) = (&s, buildings[(i % BUILDINGS) as usize]);
        async move {
            let home = s
                .create(
                    "households",
                    json!({"building_id": building, "unit": "1单元",
                           "room": format!("{}", 101 + i / BUILDINGS)}),
                )
                .await?;
            let (_, token) = s
                .member(&format!("resident{i}"), "resident", "household", home)
                .await?;
            Ok(Filer { token, building })
        }
    })
    .await?;
    // One more resident, whose two filings count the statements of a filing: the first request
    // of a token also loads the caller's account, the second finds it kept.
    let counted = {
        let home = s
            .create(
                "households",
                json!({"building_id": buildings[0], "unit": "2单元", "room": "101"}),
            )
            .await?;
        s.member("counted", "resident", "household", home).await?.1
    };
    let mut statements = Vec::new();
    for k in 0..2 {
        let req = s
            .client
            .post(format!("{}/tickets", s.api))
            .bearer_auth(&counted)
            .header("idempotency-key", Uuid::now_v7().to_string())
            .json(&json!({"category_id": category, "compound_id": compound,
                          "title": format!("计数{k}"), "description": "楼道灯不亮"}));
        statements.push(s.statements(req).await?);
    }
    let filers = Arc::new(filers);
    let before = counts(&s.db_url).await?;

    // Filing `i` is by resident `i % residents`; `offset` numbers the filings across runs.
    let run = |offset: u64, duration: Duration, max: u64| {
        let (client, api, filers) = (s.client.clone(), s.api.clone(), filers.clone());
        let request = move |i: u64| {
            let i = i + offset;
            let f = &filers[(i % filers.len() as u64) as usize];
            let req = client
                .post(format!("{api}/tickets"))
                .bearer_auth(&f.token)
                .header("idempotency-key", Uuid::now_v7().to_string())
                .json(&json!({
                    "category_id": category,
                    "compound_id": compound,
                    "building_id": f.building,
                    "title": format!("楼道灯不亮{i}"),
                    "description": "3单元2楼到5楼的楼道灯坏了一周，晚上很黑，老人上下楼不方便。",
                }));
            async move {
                let res = req.send().await?;
                let status = res.status();
                let body = res.bytes().await?;
                anyhow::ensure!(status.as_u16() == 201, "{status}: {body:?}");
                Ok(())
            }
        };
        drive(concurrency, duration, max, request)
    };
    let warm: Load = run(0, Duration::from_secs(60), residents).await?;
    let load = run(
        warm.requests,
        Duration::from_secs(seconds),
        residents * PER_RESIDENT - warm.requests,
    )
    .await?;
    let after = counts(&s.db_url).await?;
    let filed = (warm.requests + load.requests) as f64;
    println!(
        "POST /api/v1/tickets as residents, {}, {residents} residents (at most {PER_RESIDENT} \
         filings each), {concurrency} clients, {seconds} s",
        backend()
    );
    println!("  filing a ticket {}", load.row());
    let rows: Vec<String> = before
        .iter()
        .zip(&after)
        .map(|((table, b), (_, a))| format!("{table} {:.2}", (a - b) as f64 / filed))
        .collect();
    println!("  rows written per filing: {}", rows.join(", "));
    println!(
        "  SQL statements of one filing: {} (first request of a token), {} (caller kept)",
        statements[0], statements[1]
    );
    s.cleanup();
    Ok(())
}
