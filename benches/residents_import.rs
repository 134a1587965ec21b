//! Time of importing a 10,000-row roster (`POST /api/v1/residents/import`), as new residents and
//! again as updates, and of exporting it (`GET /api/v1/residents/export`).
//!
//!     cargo bench --bench residents_import                      # SQLite
//!     BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench residents_import
//!
//! Each run starts the server in-process on a fresh database and imports `BENCH_RUNS` (default
//! 3) different files of `BENCH_ROWS` (default 10,000) rows, each into its own compound of five
//! buildings, four residents per household.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use linli::platform::config::Settings;
use linli::Application;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

#[path = "common/mod.rs"]
mod common;
use common::{backend, env_or, fresh_db};
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

/// A roster of `rows` residents; `run` keeps ID numbers and phones apart between files.
fn workbook(rows: usize, run: u32) -> anyhow::Result<Vec<u8>> {
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
        ws.write_string(r, 3, format!("13{}{:08}", run % 10, i))?;
        ws.write_string(r, 4, id_number(birth, (i % 500) as u32))?;
        ws.write_string(r, 5, format!("{}幢", household % 5 + 1))?;
        ws.write_string(r, 6, format!("{}单元", household % 3 + 1))?;
        ws.write_string(r, 7, format!("{}", 100 + household / 5))?;
        ws.write_string(r, 8, if i % 4 == 0 { "户主" } else { "家属" })?;
        if i % 7 == 0 {
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
    async fn create(&self, collection: &str, body: Value) -> anyhow::Result<String> {
        let res = self
            .client
            .post(format!("{}/api/v1/{collection}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let v: Value = res.json().await?;
        v["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow::anyhow!("create {collection}: {v}"))
    }

    async fn import(&self, compound: &str, file: &[u8]) -> anyhow::Result<(Duration, Value)> {
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

    async fn export(&self, compound: &str) -> anyhow::Result<(Duration, usize)> {
        let started = Instant::now();
        let res = self
            .client
            .get(format!(
                "{}/api/v1/residents/export?compound_id={compound}",
                self.base
            ))
            .bearer_auth(&self.token)
            .send()
            .await?;
        anyhow::ensure!(res.status().is_success(), "export: {}", res.status());
        let bytes = res.bytes().await?;
        Ok((started.elapsed(), bytes.len()))
    }
}

fn ms(d: Duration) -> String {
    format!("{:>7.0} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs = env_or("BENCH_RUNS", 3) as u32;
    let rows = env_or("BENCH_ROWS", 10_000) as usize;
    let backend = backend();
    let (db_url, sqlite_file) = fresh_db().await?;
    let vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", db_url),
        ("LINLI_BIND", "127.0.0.1:0".into()),
        (
            "LINLI_JWT_SECRET",
            "bench-secret-bench-secret-bench-secret-00".into(),
        ),
        ("LINLI_ADMIN_USERNAME", "root".into()),
        ("LINLI_ADMIN_PASSWORD", "bench-password-1".into()),
    ]);
    let settings = Settings::from_lookup(|k| vars.get(k).cloned())?;
    let app = Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let pair: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "root", "password": "bench-password-1"}))
        .send()
        .await?
        .json()
        .await?;
    let token = pair["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let bench = Bench {
        client,
        base,
        token,
    };
    let street = bench.create("streets", json!({"name": "街道"})).await?;
    let community = bench
        .create("communities", json!({"street_id": street, "name": "社区"}))
        .await?;

    println!("POST /api/v1/residents/import, {backend}, {rows} rows per file (.xlsx)");
    for run in 0..runs {
        let compound = bench
            .create(
                "compounds",
                json!({"community_id": community, "name": format!("小区{run}")}),
            )
            .await?;
        for b in 1..=5 {
            bench
                .create(
                    "buildings",
                    json!({"compound_id": compound, "name": format!("{b}幢")}),
                )
                .await?;
        }
        let file = workbook(rows, run)?;
        let (created, v1) = bench.import(&compound, &file).await?;
        let (updated, v2) = bench.import(&compound, &file).await?;
        let (exported, size) = bench.export(&compound).await?;
        println!(
            "  run {run}: file {:>5} KiB  create {} ({} new, {} households)  update {} ({} matched)  export {} ({} KiB)",
            file.len() / 1024,
            ms(created),
            v1["created"],
            v1["households_created"],
            ms(updated),
            v2["updated"],
            ms(exported),
            size / 1024,
        );
    }
    if let Some(f) = sqlite_file {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", f.display()));
        }
    }
    Ok(())
}
