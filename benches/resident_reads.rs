//! A resident's reads under load: `GET /api/v1/me` and `GET /api/v1/me/notices` (the first page,
//! and a page deep in the list through the cursor).
//!
//!     cargo bench --bench resident_reads                      # SQLite
//!     BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench resident_reads
//!
//! The server runs in-process on a fresh database: one community, one compound of ten buildings,
//! `BENCH_HOUSEHOLDS` (default 200) households spread over them, one resident account (the
//! `resident` role on the household) each, and `BENCH_NOTICES` (default 200) notices published in
//! turn to a building, the compound, the community and the street, so each resident has about
//! three quarters of them; each resident has read five. `BENCH_CONCURRENCY` (default 16) clients,
//! each request as a resident taken in turn, run for `BENCH_SECONDS` (default 5) per case after
//! a second of warm-up; then one more request of the case counts its SQL statements (the caller's
//! account is kept by then, so no identity statement). The deep page is the one after `BENCH_DEEP_PAGES` (default 5) pages of
//! 20, reached by following `next_cursor` beforehand.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use uuid::Uuid;

#[path = "common/mod.rs"]
mod common;
use common::{backend, drive, env_or, in_parallel, start, Server};

const BUILDINGS: u64 = 10;

/// The path a case requests as a resident.
type PathOf = fn(&Resident) -> String;

struct Resident {
    token: String,
    deep_cursor: String,
}

async fn world(s: &Server, households: u64, notices: u64) -> anyhow::Result<Vec<Resident>> {
    let common::Place {
        street,
        community,
        compound,
        buildings,
    } = s.place(BUILDINGS).await?;
    let homes: Vec<Uuid> = in_parallel(households, 4, |i| {
        s.create(
            "households",
            json!({"building_id": buildings[(i % BUILDINGS) as usize],
                   "unit": "1单元", "room": format!("{}", 101 + i / BUILDINGS)}),
        )
    })
    .await?;
    // Account creation and login each hash a password (argon2): the slow part of the setup.
    let tokens: Vec<String> = in_parallel(households, 4, |i| {
        let home = homes[i as usize];
        async move {
            let (_, token) = s
                .member(&format!("resident{i}"), "resident", "household", home)
                .await?;
            Ok(token)
        }
    })
    .await?;
    for i in 0..notices {
        let (scope_type, scope_id) = match i % 4 {
            0 => ("building", buildings[(i / 4 % BUILDINGS) as usize]),
            1 => ("compound", compound),
            2 => ("community", community),
            _ => ("street", street),
        };
        let title = format!("通知{i}");
        let draft = s
            .post(
                &s.root,
                "/notices",
                json!({"scope_type": scope_type, "scope_id": scope_id, "category": "notice",
                       "title": title, "body": format!("{title}：本周六上午小区消杀，请关好门窗。")}),
            )
            .await?;
        let id = common::id(&draft)?;
        s.post(&s.root, &format!("/notices/{id}/publish"), json!({}))
            .await?;
    }
    let deep_pages = env_or("BENCH_DEEP_PAGES", 5);
    in_parallel(households, 4, |i| {
        let token = tokens[i as usize].clone();
        async move {
            let first = s.get(&token, "/me/notices?limit=20").await?;
            let items = first["items"].as_array().cloned().unwrap_or_default();
            anyhow::ensure!(!items.is_empty(), "resident{i} has no notices");
            for n in items.iter().take(5) {
                let id = n["id"].as_str().unwrap_or_default();
                s.post(&token, &format!("/notices/{id}/read"), json!({}))
                    .await?;
            }
            let mut cursor = String::new();
            for _ in 0..deep_pages {
                let path = if cursor.is_empty() {
                    "/me/notices?limit=20".to_string()
                } else {
                    format!("/me/notices?limit=20&cursor={cursor}")
                };
                match s.get(&token, &path).await?["next_cursor"].as_str() {
                    Some(c) => cursor = c.to_string(),
                    None => break,
                }
            }
            anyhow::ensure!(!cursor.is_empty(), "resident{i}: a single page");
            Ok(Resident {
                token,
                deep_cursor: cursor,
            })
        }
    })
    .await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let households = env_or("BENCH_HOUSEHOLDS", 200).max(1);
    let notices = env_or("BENCH_NOTICES", 200).max(4);
    let seconds = env_or("BENCH_SECONDS", 5);
    let concurrency = env_or("BENCH_CONCURRENCY", 16);
    // The jobs must not run while reads are measured (notices are published by the verb).
    let s = start(&[("LINLI_JOB_INTERVAL_SECS", "86400")]).await?;
    let residents = Arc::new(world(&s, households, notices).await?);
    let sample = s.get(&residents[0].token, "/me/notices?limit=20").await?;
    println!(
        "{}, {households} households with one resident account each, {notices} notices \
         (resident0: {} unread), {concurrency} clients, {seconds} s per case",
        backend(),
        sample["unread_count"]
    );
    let cases: [(&str, PathOf); 3] = [
        ("GET /me", |_| "/me".into()),
        ("GET /me/notices, first page", |_| {
            "/me/notices?limit=20".into()
        }),
        ("GET /me/notices, deep page", |r| {
            format!("/me/notices?limit=20&cursor={}", r.deep_cursor)
        }),
    ];
    for (name, path) in cases {
        let request = {
            let (client, api, residents) = (s.client.clone(), s.api.clone(), residents.clone());
            move |i: u64| {
                let r = &residents[(i % residents.len() as u64) as usize];
                let req = client
                    .get(format!("{api}{}", path(r)))
                    .bearer_auth(&r.token);
                async move {
                    let res = req.send().await?;
                    let status = res.status();
                    let body = res.bytes().await?;
                    anyhow::ensure!(status.is_success(), "{status}: {body:?}");
                    Ok(())
                }
            }
        };
        drive(
            concurrency,
            Duration::from_secs(1),
            u64::MAX,
            request.clone(),
        )
        .await?;
        let load = drive(concurrency, Duration::from_secs(seconds), u64::MAX, request).await?;
        // Once the run is over, the caller kept by the replica (the steady state).
        let r = &residents[0];
        let statements = s
            .statements(
                s.client
                    .get(format!("{}{}", s.api, path(r)))
                    .bearer_auth(&r.token),
            )
            .await?;
        println!("  {name:<30} {}  {statements} SQL statements", load.row());
    }
    s.cleanup();
    Ok(())
}
