//! Time of importing a 10,000-row roster (`POST /api/v1/residents/import`), as new residents and
//! again as updates, and of exporting it (`GET /api/v1/residents/export`).
//!
//!     cargo bench --bench residents_import                      # SQLite
//!     BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench residents_import
//!
//! Each run starts the server in-process on a fresh database and imports `BENCH_RUNS` (default
//! 3) different files of `BENCH_ROWS` (default 10,000) rows, each into its own compound of five
//! buildings, four residents per household: each file as new residents, again as updates (the
//! same file: every row matched, none changed), and a third time edited (another phone and other
//! tags on every row: every row a change); at the end, when they total at most 100,000 (the
//! export's limit), the whole community is exported as one file. A file holds at most 10,000
//! rows (the import's limit), so 100,000 rows are `BENCH_RUNS=10`. Each phase reports the peak resident memory of the
//! bench process during it (`VmHWM`, reset before the phase through `/proc/self/clear_refs`):
//! the server runs in-process, so that is the server's and the client's together.
//!
//! After the imports the process keeps what its allocator took for them, which hides what an
//! export needs. To measure an export in a process of its own, keep the database and export
//! from it in a second run:
//!
//!     BENCH_ROWS=10000 BENCH_RUNS=10 BENCH_KEEP=1 cargo bench --bench residents_import
//!     BENCH_EXPORT_FROM='<the database URL it printed>' cargo bench --bench residents_import

use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

#[path = "common/mod.rs"]
mod common;
use common::{backend, env_or, peak_rss_mib, reset_peak_rss, rss_mib, start, start_at};
use serde_json::{json, Value};

const HEADER: [&str; 10] = [
    "姓名",
    "性别",
    "出生日期",
    "手机号",
    "身份证号",
    "楼栋",
    "单元",
    "房号",
    "与户主关系",
    "标签",
];

fn id_number(birth: NaiveDate, seq: u32) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let body = format!("110105{}{:03}", birth.format("%Y%m%d"), seq % 1000);
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{body}{}", CHECK[(sum % 11) as usize])
}

/// A roster of `rows` residents; `run` keeps ID numbers and phones apart between files. An
/// `edited` roster has the same residents (ID numbers) with another phone number and other tags
/// on every row: re-imported, every row is a change.
fn workbook(rows: usize, run: u32, edited: bool) -> anyhow::Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let ws = wb.add_worksheet();
    for (c, h) in HEADER.iter().enumerate() {
        ws.write_string(0, c as u16, *h)?;
    }
    let base = NaiveDate::from_ymd_opt(1940 + run as i32, 1, 1).unwrap_or_default();
    for i in 0..rows {
        let r = i as u32 + 1;
        let birth = base + chrono::Duration::days((i / 500) as i64);
        let household = i / 4;
        ws.write_string(r, 0, format!("居民{i}"))?;
        let dt =
            ExcelDateTime::from_ymd(birth.year() as u16, birth.month() as u8, birth.day() as u8)?;
        ws.write_datetime_with_format(r, 2, &dt, &date)?;
        let prefix = if edited { "15" } else { "13" };
        ws.write_string(r, 3, format!("{prefix}{}{:08}", run % 10, i))?;
        ws.write_string(r, 4, id_number(birth, (i % 500) as u32))?;
        ws.write_string(r, 5, format!("{}幢", household % 5 + 1))?;
        ws.write_string(r, 6, format!("{}单元", household % 3 + 1))?;
        ws.write_string(r, 7, format!("{}", 100 + household / 5))?;
        ws.write_string(r, 8, if i % 4 == 0 { "户主" } else { "家属" })?;
        if edited {
            ws.write_string(r, 9, if i % 2 == 0 { "志愿者" } else { "退休" })?;
        } else if i % 7 == 0 {
            ws.write_string(r, 9, "党员、志愿者")?;
        }
    }
    Ok(wb.save_to_buffer()?)
}

struct Bench {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Bench {
    async fn import(
        &self,
        compound: &uuid::Uuid,
        file: &[u8],
    ) -> anyhow::Result<(Duration, Value)> {
        let boundary = "----linli-bench-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"roster.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let started = Instant::now();
        let res = self
            .client
            .post(format!(
                "{}/api/v1/residents/import?compound_id={compound}",
                self.base
            ))
            .bearer_auth(&self.token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await?;
        let status = res.status();
        let v: Value = res.json().await?;
        let took = started.elapsed();
        anyhow::ensure!(status.is_success(), "import: {status} {v}");
        Ok((took, v))
    }

    /// Exports the residents of `place` (`compound_id=…` or `community_id=…`).
    async fn export(&self, place: &str) -> anyhow::Result<(Duration, usize)> {
        let started = Instant::now();
        let res = self
            .client
            .get(format!("{}/api/v1/residents/export?{place}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?;
        anyhow::ensure!(res.status().is_success(), "export: {}", res.status());
        let bytes = res.bytes().await?;
        Ok((started.elapsed(), bytes.len()))
    }
}

/// The process's peak RSS since the last reset: server and client together (the server runs
/// in-process; the client holds the file and the request body, or the exported bytes).
fn peak() -> String {
    peak_rss_mib()
        .map(|m| format!("{m:.0} MiB"))
        .unwrap_or_else(|| "n/a".into())
}

fn rss() -> String {
    rss_mib()
        .map(|m| format!("{m:.0} MiB"))
        .unwrap_or_else(|| "n/a".into())
}

/// Most residents one export may hold (`residents::service::io::MAX_EXPORT_ROWS`).
const MAX_EXPORT_ROWS: usize = 100_000;

/// `BENCH_RUNS` exports of the (one) community of a database an earlier run kept, in a fresh
/// process: the peak is the export's own (and the client's copy of the file).
async fn export_from(db_url: String) -> anyhow::Result<()> {
    let runs = env_or("BENCH_RUNS", 3);
    let server = start_at(db_url, None, &[]).await?;
    let bench = Bench {
        client: server.client.clone(),
        base: server.api.trim_end_matches("/api/v1").to_string(),
        token: server.root.clone(),
    };
    let communities: Value = server
        .client
        .get(format!("{}/communities?limit=1", server.api))
        .bearer_auth(&server.root)
        .send()
        .await?
        .json()
        .await?;
    let community = communities["items"][0]["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no community in {communities}"))?
        .to_string();
    println!(
        "GET /api/v1/residents/export, {}, a kept database",
        backend()
    );
    for run in 0..runs {
        let before = rss();
        reset_peak_rss();
        let (exported, size) = bench.export(&format!("community_id={community}")).await?;
        println!(
            "  run {run}: the community in {} ({} KiB; RSS {before} before, peak {})",
            ms(exported),
            size / 1024,
            peak()
        );
    }
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:>7.0} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if let Ok(url) = std::env::var("BENCH_EXPORT_FROM") {
        return export_from(url).await;
    }
    let runs = env_or("BENCH_RUNS", 3) as u32;
    let rows = env_or("BENCH_ROWS", 10_000) as usize;
    let backend = backend();
    let server = start(&[]).await?;
    let bench = Bench {
        client: server.client.clone(),
        base: server.api.trim_end_matches("/api/v1").to_string(),
        token: server.root.clone(),
    };
    let street = server.create("streets", json!({"name": "街道"})).await?;
    let community = server
        .create("communities", json!({"street_id": street, "name": "社区"}))
        .await?;

    println!("POST /api/v1/residents/import, {backend}, {rows} rows per file (.xlsx)");
    let (mut all_created, mut all_updated, mut all_changed) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for run in 0..runs {
        let compound = server
            .create(
                "compounds",
                json!({"community_id": community, "name": format!("小区{run}")}),
            )
            .await?;
        for b in 1..=5 {
            server
                .create(
                    "buildings",
                    json!({"compound_id": compound, "name": format!("{b}幢")}),
                )
                .await?;
        }
        let file = workbook(rows, run, false)?;
        let edited = workbook(rows, run, true)?;
        reset_peak_rss();
        let (created, v1) = bench.import(&compound, &file).await?;
        let created_peak = peak();
        all_created += created;
        reset_peak_rss();
        let (updated, v2) = bench.import(&compound, &file).await?;
        let updated_peak = peak();
        all_updated += updated;
        reset_peak_rss();
        let (changed, v3) = bench.import(&compound, &edited).await?;
        let changed_peak = peak();
        all_changed += changed;
        reset_peak_rss();
        let (exported, size) = bench.export(&format!("compound_id={compound}")).await?;
        let exported_peak = peak();
        println!(
            "  run {run}: file {:>5} KiB  create {} ({} new, {} households, peak {created_peak})  \
             update {} ({} matched, peak {updated_peak})  \
             edited {} ({} matched, peak {changed_peak})  export {} ({} KiB, peak {exported_peak})",
            file.len() / 1024,
            ms(created),
            v1["created"],
            v1["households_created"],
            ms(updated),
            v2["updated"],
            ms(changed),
            v3["updated"],
            ms(exported),
            size / 1024,
        );
    }
    println!(
        "  all {} rows: create {}, update (the same file) {}, update (every row edited) {}",
        runs as usize * rows,
        ms(all_created),
        ms(all_updated),
        ms(all_changed)
    );
    // The whole community in one file, when the export allows that many.
    let total = runs as usize * rows;
    if total <= MAX_EXPORT_ROWS {
        let before = rss();
        reset_peak_rss();
        let (exported, size) = bench.export(&format!("community_id={community}")).await?;
        println!(
            "  export of the community: {total} residents in {} ({} KiB; RSS {before} before, peak {})",
            ms(exported),
            size / 1024,
            peak()
        );
    }
    if std::env::var("BENCH_KEEP").is_ok() {
        println!("  kept the database: BENCH_EXPORT_FROM='{}'", server.db_url);
    } else {
        server.cleanup();
    }
    Ok(())
}
