//! What the benches share: environment knobs, a fresh database per run, the server started
//! in-process with a logged-in admin, and a closed-loop load driver with latency percentiles.
//! Each bench uses part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use linli::platform::config::Settings;
use linli::Application;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};
use uuid::Uuid;

pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A new database: on the PostgreSQL server of `BENCH_DATABASE_URL` when it is set, else a new
/// SQLite file in the temp directory (whose path is returned too, for removal).
pub async fn fresh_db() -> anyhow::Result<(String, Option<std::path::PathBuf>)> {
    let name = format!("linli_bench_{}", uuid::Uuid::now_v7().simple());
    Ok(match std::env::var("BENCH_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let admin = Database::connect(base.as_str()).await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            let (prefix, _) = base.rsplit_once('/').unwrap_or((&base, ""));
            (format!("{prefix}/{name}"), None)
        }
        _ => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            (format!("sqlite://{}?mode=rwc", path.display()), Some(path))
        }
    })
}

pub fn backend() -> &'static str {
    if std::env::var("BENCH_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

pub const ROOT_PASSWORD: &str = "bench-password-1";
/// The password of every account a bench creates.
pub const PASSWORD: &str = "bench-password-1";

/// The server running in-process on a fresh database, with the admin `root` logged in.
pub struct Server {
    /// `http://127.0.0.1:<port>/api/v1`
    pub api: String,
    pub client: reqwest::Client,
    /// The admin's access token.
    pub root: String,
    pub db_url: String,
    sqlite_file: Option<std::path::PathBuf>,
}

/// Starts the server on a fresh database (see [`fresh_db`]); `extra` adds or overrides
/// settings.
pub async fn start(extra: &[(&str, &str)]) -> anyhow::Result<Server> {
    let (db_url, sqlite_file) = fresh_db().await?;
    start_at(db_url, sqlite_file, extra).await
}

/// Starts the server on the database at `db_url` (an existing one, such as a database an earlier
/// run kept, or a fresh one); `sqlite_file` is what [`Server::cleanup`] removes.
pub async fn start_at(
    db_url: String,
    sqlite_file: Option<std::path::PathBuf>,
    extra: &[(&str, &str)],
) -> anyhow::Result<Server> {
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", db_url.clone()),
        ("LINLI_BIND", "127.0.0.1:0".into()),
        (
            "LINLI_JWT_SECRET",
            "bench-secret-bench-secret-bench-secret-00".into(),
        ),
        ("LINLI_ADMIN_USERNAME", "root".into()),
        ("LINLI_ADMIN_PASSWORD", ROOT_PASSWORD.into()),
    ]);
    for (k, v) in extra {
        vars.insert(k, v.to_string());
    }
    let settings = Settings::from_lookup(|k| vars.get(k).cloned())?;
    let app = Application::build(settings).await?;
    let api = format!("http://127.0.0.1:{}/api/v1", app.port());
    tokio::spawn(app.run_until_stopped());
    let mut server = Server {
        api,
        client: reqwest::Client::new(),
        root: String::new(),
        db_url,
        sqlite_file,
    };
    server.root = server.login("root", ROOT_PASSWORD).await?;
    Ok(server)
}

impl Server {
    pub async fn login(&self, username: &str, password: &str) -> anyhow::Result<String> {
        let pair = self
            .post(
                "",
                "/auth/login",
                json!({"username": username, "password": password}),
            )
            .await?;
        pair["access_token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow::anyhow!("login {username}: {pair}"))
    }

    /// POSTs `body` to `path` (under `/api/v1`) as `token` (none when empty); any non-2xx is an
    /// error carrying the answer.
    pub async fn post(&self, token: &str, path: &str, body: Value) -> anyhow::Result<Value> {
        let mut req = self.client.post(format!("{}{path}", self.api)).json(&body);
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        let res = req.send().await?;
        let status = res.status();
        let text = res.text().await?;
        anyhow::ensure!(status.is_success(), "POST {path}: {status} {text}");
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, token: &str, path: &str) -> anyhow::Result<Value> {
        let res = self
            .client
            .get(format!("{}{path}", self.api))
            .bearer_auth(token)
            .send()
            .await?;
        let status = res.status();
        let text = res.text().await?;
        anyhow::ensure!(status.is_success(), "GET {path}: {status} {text}");
        Ok(serde_json::from_str(&text)?)
    }

    /// Creates one of `collection` as the admin and returns its id.
    pub async fn create(&self, collection: &str, body: Value) -> anyhow::Result<Uuid> {
        let v = self
            .post(&self.root, &format!("/{collection}"), body)
            .await?;
        id(&v)
    }

    /// A new account holding `role` on `scope_type` `scope_id`, logged in: its id and token.
    pub async fn member(
        &self,
        username: &str,
        role: &str,
        scope_type: &str,
        scope_id: Uuid,
    ) -> anyhow::Result<(Uuid, String)> {
        let user = self
            .create(
                "users",
                json!({"username": username, "password": PASSWORD, "display_name": username}),
            )
            .await?;
        self.create(
            "role-assignments",
            json!({"user_id": user, "role": role, "scope_type": scope_type, "scope_id": scope_id}),
        )
        .await?;
        Ok((user, self.login(username, PASSWORD).await?))
    }

    /// How many SQL statements `req` runs in the server (`linli::platform::statements`, which
    /// keeps those of the request sent with a watched `X-Request-Id`); a non-2xx is an error.
    pub async fn statements(&self, req: reqwest::RequestBuilder) -> anyhow::Result<usize> {
        let request_id = format!("bench-{}", Uuid::now_v7().simple());
        linli::platform::statements::watch(&request_id);
        let res = req.header("x-request-id", &request_id).send().await?;
        let status = res.status();
        let text = res.text().await?;
        let n = linli::platform::statements::take(&request_id).len();
        anyhow::ensure!(status.is_success(), "{status}: {text}");
        Ok(n)
    }

    /// A community named `name` on `street`, with one compound: their ids.
    pub async fn community(&self, street: Uuid, name: &str) -> anyhow::Result<(Uuid, Uuid)> {
        let community = self
            .create("communities", json!({"street_id": street, "name": name}))
            .await?;
        let compound = self
            .create(
                "compounds",
                json!({"community_id": community, "name": "小区"}),
            )
            .await?;
        Ok((community, compound))
    }

    /// A street, a community with one compound, and `buildings` buildings in it.
    pub async fn place(&self, buildings: u64) -> anyhow::Result<Place> {
        let street = self.create("streets", json!({"name": "街道"})).await?;
        let (community, compound) = self.community(street, "社区").await?;
        let mut ids = Vec::new();
        for b in 0..buildings {
            ids.push(
                self.create(
                    "buildings",
                    json!({"compound_id": compound, "name": format!("{}幢", b + 1)}),
                )
                .await?,
            );
        }
        Ok(Place {
            street,
            community,
            compound,
            buildings: ids,
        })
    }

    /// Removes the SQLite file (a PostgreSQL database is left for inspection).
    pub fn cleanup(&self) {
        if let Some(f) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", f.display()));
            }
        }
    }
}

pub struct Place {
    pub street: Uuid,
    pub community: Uuid,
    pub compound: Uuid,
    pub buildings: Vec<Uuid>,
}

pub fn id(v: &Value) -> anyhow::Result<Uuid> {
    v["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no id in {v}"))
}

/// Runs `jobs` (each `job(i)` one future, `i` < `n`) with at most `concurrency` at once, in
/// order of `i` as slots free up: for setup that should keep both cores busy.
pub async fn in_parallel<T, F, Fut>(n: u64, concurrency: usize, job: F) -> anyhow::Result<Vec<T>>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    use futures_util::stream::{self, StreamExt, TryStreamExt};
    stream::iter((0..n).map(job))
        .buffered(concurrency)
        .try_collect()
        .await
}

/// What a load run measured.
pub struct Load {
    pub requests: u64,
    pub elapsed: Duration,
    /// Every request's latency, sorted.
    pub latencies: Vec<Duration>,
}

impl Load {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    pub fn quantile(&self, q: f64) -> Duration {
        let n = self.latencies.len();
        if n == 0 {
            return Duration::ZERO;
        }
        self.latencies[((n as f64 * q).ceil() as usize).clamp(1, n) - 1]
    }

    /// `req/s  p50  p99`, for a table row.
    pub fn row(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        format!(
            "{:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} requests)",
            self.per_second(),
            ms(self.quantile(0.5)),
            ms(self.quantile(0.99)),
            self.requests
        )
    }
}

/// Closed-loop load: `concurrency` clients, each sending its next request as soon as the last
/// one is answered, for `duration` or until `max` requests were started. Request `i` is
/// `request(i)`, numbered across clients; an error (a non-2xx included) stops the run.
pub async fn drive<F, Fut>(
    concurrency: u64,
    duration: Duration,
    max: u64,
    request: F,
) -> anyhow::Result<Load>
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (next, request) = (next.clone(), request.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= max {
                    break;
                }
                let t = Instant::now();
                request(i).await?;
                times.push(t.elapsed());
            }
            anyhow::Ok(times)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Ok(Load {
        requests: latencies.len() as u64,
        elapsed,
        latencies,
    })
}

/// The peak resident set size of this process so far (`VmHWM`), in MiB; None off Linux.
pub fn peak_rss_mib() -> Option<f64> {
    status_mib("VmHWM:")
}

/// The process's resident memory now (`VmRSS`), in MiB; None off Linux.
pub fn rss_mib() -> Option<f64> {
    status_mib("VmRSS:")
}

/// A size in kB of `/proc/self/status`, in MiB.
fn status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// Starts a new peak for [`peak_rss_mib`] at the current RSS (Linux: `5` to `clear_refs`); a
/// no-op elsewhere.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
