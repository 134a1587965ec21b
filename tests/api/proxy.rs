//! The shipped nginx configuration (the `proxy` stage of the Dockerfile) run with Debian's
//! nginx in front of two replicas on loopback, as compose runs it in front of `api`: requests
//! arrive over TLS, and a rolling restart of the replicas under load loses none of them.
//!
//! Needs an `nginx` binary and `openssl`; without them the test says so and passes, unless
//! `LINLI_TEST_NGINX=required` (CI sets it, after installing Debian's nginx).

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

const BIN: &str = env!("CARGO_BIN_EXE_linli");
const DOCKERFILE: &str = include_str!("../../Dockerfile");
const PII_KEY: &str = "5d2b8e0f4a6c1e9b3d7f2a8c6e0b4d1f9a3c7e5b2d8f0a6c4e1b9d3f7a5c2e8b";

fn nginx() -> Option<PathBuf> {
    let found = ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() && std::env::var("LINLI_TEST_NGINX").as_deref() == Ok("required") {
        panic!("LINLI_TEST_NGINX=required but no nginx binary was found");
    }
    found
}

/// `fail_timeout` of the shipped upstream: how long nginx leaves out a replica it could not
/// reach, so how long a rolling restart waits before stopping the next one.
fn fail_timeout(conf: &str) -> Duration {
    let secs = conf
        .split_whitespace()
        .find_map(|w| w.strip_prefix("fail_timeout="))
        .and_then(|v| v.trim_end_matches(';').strip_suffix('s'))
        .and_then(|v| v.parse().ok())
        .expect("the shipped upstream names fail_timeout in seconds");
    Duration::from_secs(secs)
}

/// The nginx configuration exactly as the Dockerfile installs it.
fn shipped_config() -> &'static str {
    let open = "COPY <<\"NGINX\" /etc/nginx/conf.d/default.conf\n";
    let start = DOCKERFILE
        .find(open)
        .expect("the Dockerfile's nginx heredoc")
        + open.len();
    let len = DOCKERFILE[start..]
        .find("\nNGINX\n")
        .expect("the end of the nginx heredoc");
    &DOCKERFILE[start..=start + len]
}

/// The shipped configuration with only its addresses changed: the upstream `api:8080` becomes
/// the given replicas (same parameters), it listens on loopback ports, and reads the test's
/// certificate.
fn on_loopback(conf: &str, replicas: &[u16], http: u16, https: u16, tls: &Path) -> String {
    let mut out = String::new();
    let (mut upstream, mut plain, mut secure) = (false, false, false);
    for line in conf.lines() {
        let t = line.trim();
        if let Some(params) = t.strip_prefix("server api:8080") {
            // `resolve` re-resolves a name (nginx 1.27.3+, the image's); these are addresses,
            // and Debian's nginx predates it.
            let params = params.replace(" resolve", "");
            for port in replicas {
                out.push_str(&format!("    server 127.0.0.1:{port}{params}\n"));
            }
            upstream = true;
            continue;
        }
        if t.starts_with("listen [::]") {
            continue;
        }
        let line = match t {
            "listen 80;" => {
                plain = true;
                format!("    listen 127.0.0.1:{http};")
            }
            "listen 443 ssl;" => {
                secure = true;
                format!("    listen 127.0.0.1:{https} ssl;")
            }
            _ => line.replace("/etc/nginx/tls/", &format!("{}/", tls.display())),
        };
        out.push_str(&line);
        out.push('\n');
    }
    assert!(
        upstream && plain && secure,
        "the shipped nginx configuration no longer has `server api:8080`, `listen 80;` and \
         `listen 443 ssl;`: update this test with it"
    );
    out
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn self_signed_certificate(dir: &Path) {
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=localhost"])
        .arg("-keyout")
        .arg(dir.join("privkey.pem"))
        .arg("-out")
        .arg(dir.join("fullchain.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success(), "openssl could not make a certificate");
}

struct Replica {
    port: u16,
    vars: Vec<(String, String)>,
    log: PathBuf,
}

impl Replica {
    fn start(&self) -> Running {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        Running(
            Command::new(BIN)
                .env_clear()
                .envs(self.vars.iter().map(|(k, v)| (k, v)))
                .env("LINLI_BIND", format!("127.0.0.1:{}", self.port))
                .arg("serve")
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        )
    }
}

async fn wait_ready(client: &Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(url).send().await {
            if r.status() == 200 {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{url} did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// SIGTERM, then the exit the replica makes of it (at most 30 s).
fn terminate(r: &mut Running) -> std::process::ExitStatus {
    let pid = r.0.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = r.0.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the replica did not stop within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[derive(Default)]
struct Tally {
    reads: AtomicUsize,
    writes: AtomicUsize,
    failures: Mutex<Vec<String>>,
}

/// One client of the proxy: reads `/me`, and every third request creates a street.
async fn load(
    client: Client,
    base: String,
    token: String,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
) {
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let write = n % 3 == 0;
        let sent = if write {
            client
                .post(format!("{base}/api/v1/streets"))
                .bearer_auth(&token)
                .json(&json!({"name": format!("街道{}", Uuid::now_v7().simple())}))
                .send()
                .await
        } else {
            client
                .get(format!("{base}/api/v1/me"))
                .bearer_auth(&token)
                .send()
                .await
        };
        let outcome = match sent {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!(
                "{} {}",
                r.status(),
                r.text().await.unwrap_or_default()
            )),
            Err(e) => Err(format!("{e:?}")),
        };
        match outcome {
            Ok(()) if write => {
                tally.writes.fetch_add(1, Ordering::Relaxed);
            }
            Ok(()) => {
                tally.reads.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => tally
                .failures
                .lock()
                .unwrap()
                .push(format!("{} {e}", if write { "POST" } else { "GET" })),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_behind_the_shipped_nginx_loses_no_request() {
    let Some(nginx) = nginx() else {
        eprintln!("skipped: no nginx binary (set LINLI_TEST_NGINX=required to fail instead)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tls = dir.path().join("tls");
    fs::create_dir(&tls).unwrap();
    self_signed_certificate(&tls);

    // Two replicas on one database (and one Redis when the suite has one).
    let (db_url, _sqlite) = fresh_database().await;
    let mut vars: Vec<(String, String)> = [
        ("DATABASE_URL", db_url.as_str()),
        ("LINLI_JWT_SECRET", JWT_SECRET),
        ("LINLI_PII_KEY", PII_KEY),
        ("LINLI_ADMIN_USERNAME", ADMIN_USERNAME),
        ("LINLI_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("LINLI_TRUSTED_PROXIES", "127.0.0.1"),
        ("LINLI_DRAIN_SECS", "1"),
        ("LINLI_WORKERS", "2"),
        ("RUST_LOG", "warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    vars.push((
        "LINLI_CACHE_PREFIX".into(),
        format!("linli-test:{}:", Uuid::now_v7().simple()),
    ));
    vars.push((
        "LINLI_UPLOAD_DIR".into(),
        dir.path().join("uploads").display().to_string(),
    ));
    if let Some(r) = redis_url() {
        vars.push(("REDIS_URL".into(), r));
    }
    let replicas: Vec<Replica> = (0..2)
        .map(|i| Replica {
            port: free_port(),
            vars: vars.clone(),
            log: dir.path().join(format!("replica{i}.log")),
        })
        .collect();
    let direct = Client::builder().build().unwrap();
    let mut running = Vec::new();
    // One after the other: the first creates the admin.
    for r in &replicas {
        running.push(r.start());
        wait_ready(&direct, &format!("http://127.0.0.1:{}/ready", r.port)).await;
    }

    // nginx with the shipped configuration, in a prefix of its own.
    let (http, https) = (free_port(), free_port());
    let ports: Vec<u16> = replicas.iter().map(|r| r.port).collect();
    fs::write(
        dir.path().join("linli.conf"),
        on_loopback(shipped_config(), &ports, http, https, &tls),
    )
    .unwrap();
    let prefix = dir.path();
    let user = if Command::new("id").arg("-u").output().unwrap().stdout == b"0\n" {
        "user root;"
    } else {
        ""
    };
    let main = format!(
        "{user}\nworker_processes 1;\ndaemon off;\npid {p}/nginx.pid;\nerror_log {p}/error.log warn;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  log_format upstreams '$request_method $status $upstream_addr $upstream_status';\n  \
         access_log {p}/access.log upstreams;\n  client_body_temp_path {p}/body;\n  \
         proxy_temp_path {p}/proxy;\n  fastcgi_temp_path {p}/fastcgi;\n  uwsgi_temp_path {p}/uwsgi;\n  \
         scgi_temp_path {p}/scgi;\n  include {p}/linli.conf;\n}}\n",
        p = prefix.display()
    );
    fs::write(dir.path().join("nginx.conf"), main).unwrap();
    let checked = Command::new(&nginx)
        .arg("-t")
        .arg("-p")
        .arg(prefix)
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "nginx -t refused the shipped configuration: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let _proxy = Running(
        Command::new(&nginx)
            .arg("-p")
            .arg(prefix)
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = Client::builder()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("https://127.0.0.1:{https}");
    wait_ready(&client, &format!("{base}/ready")).await;

    // Plain HTTP only redirects to HTTPS.
    let plain = client
        .get(format!("http://127.0.0.1:{http}/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 308);
    assert!(plain.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("https://"));

    let login = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let token = token_of(&login.json::<Value>().await.unwrap());

    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..6)
        .map(|_| {
            tokio::spawn(load(
                client.clone(),
                base.clone(),
                token.clone(),
                tally.clone(),
                stop.clone(),
            ))
        })
        .collect();
    let done = |t: &Tally| t.reads.load(Ordering::Relaxed) + t.writes.load(Ordering::Relaxed);

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut served_while_down = Vec::new();
    for (i, r) in replicas.iter().enumerate() {
        let before = done(&tally);
        let old = &mut running[i];
        let status = tokio::task::block_in_place(|| terminate(old));
        assert!(
            status.success(),
            "replica {i} exited with {status} on SIGTERM"
        );
        running[i] = r.start();
        wait_ready(&direct, &format!("http://127.0.0.1:{}/ready", r.port)).await;
        served_while_down.push(done(&tally) - before);
        // As the README's rolling procedure says: nginx takes a replica it could not reach
        // back only after fail_timeout.
        tokio::time::sleep(fail_timeout(shipped_config()) + Duration::from_millis(500)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }

    let failures = tally.failures.lock().unwrap().clone();
    let (reads, writes) = (
        tally.reads.load(Ordering::Relaxed),
        tally.writes.load(Ordering::Relaxed),
    );
    eprintln!(
        "rolling restart: {reads} reads, {writes} writes, {} failed; served while a replica \
         was down or starting: {served_while_down:?}",
        failures.len()
    );
    if !failures.is_empty() {
        let errors = fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
        let errors: Vec<&str> = errors.lines().take(20).collect();
        panic!(
            "{} requests lost during the rolling restart, the first: {:#?}\nnginx said: {errors:#?}",
            failures.len(),
            &failures[..failures.len().min(5)]
        );
    }
    assert!(
        reads > 100 && writes > 50,
        "too little load to mean anything"
    );
    assert!(
        served_while_down.iter().all(|&n| n > 0),
        "no request was served while a replica restarted: {served_while_down:?}"
    );
    // Both replicas served through the proxy.
    let access = fs::read_to_string(dir.path().join("access.log")).unwrap();
    for port in &ports {
        assert!(
            access.contains(&format!("127.0.0.1:{port}")),
            "replica on {port} served nothing through nginx"
        );
    }
}
