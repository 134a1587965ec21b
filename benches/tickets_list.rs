//! Latency of one page of the ticket list as the table grows: the first page and a page from
//! the middle (by cursor), newest first and by due date, and the overdue filter, for community
//! staff, on a small and a large ticket table.
//!
//!     cargo bench --bench tickets_list                      # SQLite
//!     BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench tickets_list
//!
//! `BENCH_TICKETS_SMALL` (default 1000) and `BENCH_TICKETS_LARGE` (default 50000) set the table
//! sizes; `BENCH_REQUESTS` (default 200) the sequential requests per measurement. Tickets are
//! inserted directly (a third green with a due date, a third red with a follow-up, a third
//! untriaged), spread over two communities of which the staff member sees one; a resident filed
//! five of them.

use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::Utc;
use sea_orm::{Database, EntityTrait};
use serde_json::{json, Value};
use uuid::Uuid;

#[path = "common/mod.rs"]
mod common;
use common::{backend, env_or, start, PASSWORD};

struct Setup {
    base: String,
    token: String,
    /// A user who filed five tickets of the table and sees nothing else.
    resident: String,
    client: reqwest::Client,
    mid: entity::ticket::Model,
}

async fn setup(n: u64) -> anyhow::Result<Setup> {
    // The jobs must not touch the table while it is measured.
    let s = start(&[("LINLI_JOB_INTERVAL_SECS", "86400")]).await?;
    let street = s.create("streets", json!({"name": "街道"})).await?;
    let mut places = Vec::new();
    for c in 0..2 {
        let (community, compound) = s.community(street, &format!("社区{c}")).await?;
        let cats = s
            .get(
                &s.root,
                &format!("/ticket-categories?community_id={community}"),
            )
            .await?;
        places.push((community, compound, common::id(&cats["items"][0])?));
    }
    let (_, token) = s
        .member("staff", "community_staff", "community", places[0].0)
        .await?;
    let resident_id = s
        .create(
            "users",
            json!({"username": "resident", "password": PASSWORD, "display_name": "居民"}),
        )
        .await?;
    let resident = s.login("resident", PASSWORD).await?;
    let db_url = s.db_url.clone();

    use entity::ticket::{Channel, Priority, Status};
    let db = Database::connect(db_url.as_str()).await?;
    let now = Utc::now();
    let mut batch = Vec::new();
    let mut mid = None;
    for i in 0..n {
        let (community, compound, category) = places[(i % 2) as usize];
        let created = now - chrono::Duration::minutes((n - i) as i64);
        let (status, priority, due, follow_up) = match i % 3 {
            0 => (
                Status::Triaged,
                Some(Priority::Green),
                Some(created + chrono::Duration::days(7)),
                None,
            ),
            1 => (
                Status::Accepted,
                Some(Priority::Red),
                None,
                Some(created + chrono::Duration::days(7)),
            ),
            _ => (Status::Submitted, None, None, None),
        };
        let t = entity::ticket::Model {
            id: Uuid::now_v7(),
            street_id: street,
            community_id: community,
            compound_id: compound,
            building_id: None,
            household_id: None,
            category_id: category,
            title: format!("诉求{i}"),
            description: "楼道灯不亮，晚上很黑".into(),
            location: None,
            latitude: None,
            longitude: None,
            merged_into_id: None,
            channel: Channel::MiniProgram,
            anonymous: false,
            requester_user_id: Some(if i % (n / 5).max(1) == 0 {
                resident_id
            } else {
                Uuid::now_v7()
            }),
            requester_name: Some("居民".into()),
            requester_resident_id: None,
            created_by: Uuid::now_v7(),
            idempotency_key: None,
            status,
            priority,
            triaged_at: priority.map(|_| created),
            due_at: due,
            next_follow_up_at: follow_up,
            deadline_at: due.or(follow_up),
            escalate_at: due.or(follow_up),
            escalation_level: 0,
            assigned_company_id: None,
            handler_user_id: None,
            assigned_at: None,
            accepted_at: None,
            resolved_at: None,
            auto_close_at: None,
            closed_at: None,
            auto_closed: false,
            rating: None,
            feedback: None,
            reason: None,
            last_urged_at: None,
            urge_count: 0,
            reopen_count: 0,
            version: 1,
            created_at: created,
            updated_at: created,
        };
        if i == n / 2 {
            mid = Some(t.clone());
        }
        batch.push(to_active(t));
        if batch.len() == 500 {
            entity::ticket::Entity::insert_many(std::mem::take(&mut batch))
                .exec_without_returning(&db)
                .await?;
        }
    }
    if !batch.is_empty() {
        entity::ticket::Entity::insert_many(batch)
            .exec_without_returning(&db)
            .await?;
    }
    Ok(Setup {
        base: s.api.clone(),
        token,
        resident,
        client: s.client.clone(),
        mid: mid.ok_or_else(|| anyhow::anyhow!("no tickets"))?,
    })
}

fn to_active(t: entity::ticket::Model) -> entity::ticket::ActiveModel {
    use sea_orm::{ActiveModelTrait, IntoActiveModel};
    // Every field marked as set, so the insert writes them all.
    t.into_active_model().reset_all()
}

/// Median and 95th percentile of `requests` sequential GETs of `path`.
async fn measure(
    s: &Setup,
    token: &str,
    path: &str,
    requests: u64,
) -> anyhow::Result<(Duration, Duration)> {
    let mut times = Vec::new();
    for _ in 0..requests {
        let started = Instant::now();
        let res = s
            .client
            .get(format!("{}{path}", s.base))
            .bearer_auth(token)
            .send()
            .await?;
        anyhow::ensure!(res.status().is_success(), "{path}: {}", res.status());
        let body: Value = res.json().await?;
        anyhow::ensure!(
            body["items"].as_array().is_some_and(|a| !a.is_empty()),
            "{path}: empty page"
        );
        times.push(started.elapsed());
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
    Ok((at(0.5), at(0.95)))
}

fn cursor(raw: String) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let requests = env_or("BENCH_REQUESTS", 200);
    let sizes = [
        env_or("BENCH_TICKETS_SMALL", 1_000),
        env_or("BENCH_TICKETS_LARGE", 50_000),
    ];
    println!(
        "GET /api/v1/tickets?limit=20 as community staff (sees half the table), {}, {requests} sequential requests; median / p95 in ms",
        backend()
    );
    let mut rows: Vec<(String, Vec<(Duration, Duration)>)> = Vec::new();
    for (k, n) in sizes.into_iter().enumerate() {
        let s = setup(n).await?;
        let deadline = s
            .mid
            .deadline_at
            .or(s.mid.due_at)
            .and_then(|d| d.timestamp_nanos_opt());
        let due_cursor = match deadline {
            Some(nanos) => cursor(format!("d.{nanos}.{}", s.mid.id)),
            None => cursor(format!("n.{}", s.mid.id)),
        };
        let cases = [
            ("newest first, first page", "/tickets?limit=20".to_string()),
            (
                "resident, own tickets",
                "/tickets?limit=20&mine=true".to_string(),
            ),
            (
                "newest first, middle page",
                format!(
                    "/tickets?limit=20&cursor={}",
                    cursor(format!("c.{}", s.mid.id))
                ),
            ),
            (
                "by due date, first page",
                "/tickets?limit=20&sort=due".to_string(),
            ),
            (
                "by due date, middle page",
                format!("/tickets?limit=20&sort=due&cursor={due_cursor}"),
            ),
            (
                "status=submitted",
                "/tickets?limit=20&status=submitted".to_string(),
            ),
        ];
        for (i, (name, path)) in cases.iter().enumerate() {
            let token = if name.starts_with("resident") {
                &s.resident
            } else {
                &s.token
            };
            let m = measure(&s, token, path, requests).await?;
            if k == 0 {
                rows.push((name.to_string(), vec![m]));
            } else {
                rows[i].1.push(m);
            }
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{:<28} {:>16} {:>16}",
        "",
        format!("{} tickets", sizes[0]),
        format!("{} tickets", sizes[1])
    );
    for (name, ms_pairs) in rows {
        let cell = |i: usize| {
            ms_pairs
                .get(i)
                .map(|(a, b)| format!("{:.2} / {:.2}", ms(*a), ms(*b)))
                .unwrap_or_default()
        };
        println!("{name:<28} {:>16} {:>16}", cell(0), cell(1));
    }
    Ok(())
}
