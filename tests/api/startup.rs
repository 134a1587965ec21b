//! The binary at start-up, as operators run it: replicas migrating together, production
//! settings and logs, the demo seed, create-admin's documented forms, and errors said once.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use migration::{MigratorTrait, SchemaManager};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::*;

const BIN: &str = env!("CARGO_BIN_EXE_linli");
const PROD_JWT_SECRET: &str = "9f2c4e1a7b3d8f60c5e2a9d4b7f1c3e8a6d0b5f2";
const PROD_PII_KEY: &str = "3b9e5c1f7a2d8e4b6c0f9a3d5e7b1c4f8a2e6d0b9c3f5a7e1d4b8c2f6a0e9d3b";
/// Nothing listens on port 1: connecting is refused at once.
const UNREACHABLE_DATABASE: &str = "postgres://postgres@127.0.0.1:1/x";

/// A database nobody has touched: a new PostgreSQL database when `TEST_DATABASE_URL` is
/// PostgreSQL, else a SQLite file in a directory removed with the value.
struct FreshDb {
    url: String,
    _dir: Option<tempfile::TempDir>,
    /// Drops the PostgreSQL database with the value.
    _database: Option<TestDatabase>,
}

async fn fresh_db() -> FreshDb {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => fresh_postgres(&base).await,
        _ => fresh_sqlite(),
    }
}

async fn fresh_postgres(base: &str) -> FreshDb {
    // The `linli_test_` prefix lets CI drop what a run leaves behind.
    let name = format!("linli_test_startup_{}", Uuid::now_v7().simple());
    let admin = Database::connect(base).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    admin.close().await.ok();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    let url = format!("{prefix}/{name}");
    FreshDb {
        _database: Some(TestDatabase::adopt(&url)),
        url,
        _dir: None,
    }
}

fn fresh_sqlite() -> FreshDb {
    let dir = tempfile::tempdir().unwrap();
    FreshDb {
        url: format!("sqlite://{}/linli.db?mode=rwc", dir.path().display()),
        _dir: Some(dir),
        _database: None,
    }
}

/// The binary with nothing from this process's environment but what is given.
fn linli(vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear().envs(vars.iter().copied());
    cmd
}

/// A production environment with real-looking secrets; SQLite allowed by the switch.
fn prod_vars(database_url: &str) -> Vec<(&str, &str)> {
    vec![
        ("LINLI_ENV", "prod"),
        ("LINLI_JWT_SECRET", PROD_JWT_SECRET),
        ("LINLI_PII_KEY", PROD_PII_KEY),
        ("DATABASE_URL", database_url),
        ("LINLI_ALLOW_SQLITE_IN_PROD", "true"),
    ]
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every line of `stderr` is a JSON object; returns them.
fn json_lines(stderr: &str) -> Vec<Value> {
    stderr
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {l:?}\nstderr:\n{stderr}"))
        })
        .collect()
}

fn message(event: &Value) -> &str {
    event["fields"]["message"].as_str().unwrap_or_default()
}

fn wait_with_deadline(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("the process did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts three `linli migrate` at once on `url` and expects all three to succeed.
fn three_migrations_at_once(url: &str) {
    let children: Vec<Child> = (0..3)
        .map(|_| {
            linli(&[("DATABASE_URL", url), ("RUST_LOG", "warn")])
                .arg("migrate")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a concurrent `linli migrate` failed: {}",
            text(&out.stderr)
        );
    }
}

async fn assert_schema_complete(url: &str) {
    let db = Database::connect(url).await.unwrap();
    let applied = migration::Migrator::get_applied_migrations(&db)
        .await
        .unwrap();
    assert_eq!(applied.len(), migration::Migrator::migrations().len());
    assert!(migration::Migrator::get_pending_migrations(&db)
        .await
        .unwrap()
        .is_empty());
    for table in [
        "streets",
        "users",
        "residents",
        "tickets",
        "idempotency_keys",
    ] {
        assert!(
            SchemaManager::new(&db).has_table(table).await.unwrap(),
            "{table} is missing"
        );
    }
    db.close().await.ok();
}

#[tokio::test]
async fn three_migrations_started_together_on_one_fresh_postgres_database_all_succeed() {
    let Some(base) = postgres_base() else {
        return;
    };
    for _ in 0..2 {
        let db = fresh_postgres(&base).await;
        three_migrations_at_once(&db.url);
        assert_schema_complete(&db.url).await;
    }
}

#[tokio::test]
async fn three_migrations_started_together_on_one_fresh_sqlite_file_all_succeed() {
    for _ in 0..2 {
        let db = fresh_sqlite();
        three_migrations_at_once(&db.url);
        assert_schema_complete(&db.url).await;
    }
}

#[test]
fn prod_lists_every_configuration_problem_at_once_as_json_lines() {
    let out = linli(&[
        ("LINLI_ENV", "prod"),
        ("LINLI_ADMIN_USERNAME", "admin"),
        ("LINLI_ADMIN_PASSWORD", "change-me-admin-password"),
    ])
    .arg("serve")
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    let events = json_lines(&stderr);
    let named = |what: &str| {
        events
            .iter()
            .filter(|e| e["level"] == "ERROR" && message(e).contains(what))
            .count()
    };
    for what in [
        "LINLI_JWT_SECRET",
        "LINLI_PII_KEY",
        "LINLI_ALLOW_SQLITE_IN_PROD",
        "LINLI_ADMIN_PASSWORD",
    ] {
        assert_eq!(named(what), 1, "{what} once in:\n{stderr}");
    }
    assert_eq!(events.len(), 4, "{stderr}");
}

#[tokio::test]
async fn prod_serve_writes_nothing_to_stdout_and_only_json_lines_to_stderr() {
    let db = fresh_db().await;
    let uploads = tempfile::tempdir().unwrap();
    let upload_dir = uploads.path().display().to_string();
    let mut vars = prod_vars(&db.url);
    vars.extend([
        ("LINLI_BIND", "127.0.0.1:0"),
        ("LINLI_WORKERS", "1"),
        ("LINLI_UPLOAD_DIR", upload_dir.as_str()),
    ]);
    let mut child = Running(
        linli(&vars)
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stdout = child.0.stdout.take().unwrap();
    let stdout_reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        stdout.read_to_end(&mut all).unwrap();
        all
    });
    let (lines_tx, lines_rx) = mpsc::channel::<String>();
    let stderr = child.0.stderr.take().unwrap();
    let stderr_reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            let _ = lines_tx.send(line);
        }
    });

    // The address is in the start-up event.
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let address = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines_rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no listening event; stderr so far:\n{seen:#?}"));
        seen.push(line.clone());
        let event: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
        if let Some(a) = message(&event).strip_prefix("linli listening on http://") {
            break a.to_string();
        }
    };
    for path in ["/health", "/no-such-page"] {
        let mut conn = TcpStream::connect(&address).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        write!(
            conn,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        conn.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 "), "{response}");
    }

    let killed = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_with_deadline(&mut child.0, Duration::from_secs(30));
    assert_eq!(status.code(), Some(0));
    stderr_reader.join().unwrap();
    seen.extend(lines_rx.try_iter());
    let stdout = stdout_reader.join().unwrap();

    assert!(stdout.is_empty(), "stdout in production: {}", text(&stdout));
    let all = seen.join("\n");
    let events = json_lines(&all);
    assert!(
        events.iter().any(|e| message(e).contains("linli stopped")),
        "{all}"
    );
    // Several replicas need Redis: production without it says so.
    assert!(
        events
            .iter()
            .any(|e| e["level"] == "WARN" && message(e).starts_with("REDIS_URL")),
        "{all}"
    );
}

#[tokio::test]
async fn seed_demo_is_refused_in_prod_without_force() {
    let db = fresh_db().await;
    let vars = prod_vars(&db.url);
    let out = linli(&vars).args(["seed", "demo"]).output().unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    let events = json_lines(&stderr);
    assert!(
        events.iter().any(|e| message(e).contains("--force")),
        "{stderr}"
    );
    let conn = Database::connect(db.url.as_str()).await.unwrap();
    assert!(
        !SchemaManager::new(&conn)
            .has_table("streets")
            .await
            .unwrap(),
        "nothing was written"
    );
    conn.close().await.ok();

    let out = linli(&vars)
        .args(["seed", "demo", "--force"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(
        printed.contains("Demo data created") && printed.contains("password"),
        "{printed}"
    );
}

/// An app on `url` (no bootstrap admin), to log in to what the binary created.
async fn app_on(url: &str) -> TestApp {
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", url),
        ("LINLI_BIND", "127.0.0.1:0"),
        ("LINLI_JWT_SECRET", JWT_SECRET),
        ("LINLI_WORKERS", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    vars.insert(
        "LINLI_CACHE_PREFIX".into(),
        format!("linli-test:{}:", Uuid::now_v7().simple()),
    );
    vars.insert(
        "LINLI_UPLOAD_DIR".into(),
        std::env::temp_dir()
            .join(format!("linli_uploads_{}", Uuid::now_v7().simple()))
            .display()
            .to_string(),
    );
    if let Some(r) = redis_url() {
        vars.insert("REDIS_URL".into(), r);
    }
    start(vars).await
}

fn assert_created(out: &Output, username: &str) {
    assert!(
        out.status.success(),
        "create-admin failed: {}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains(&format!("administrator \"{username}\" created")),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test]
async fn create_admin_takes_the_password_from_linli_admin_password_alone_or_with_the_username() {
    let db = fresh_db().await;
    let out = linli(&[
        ("DATABASE_URL", &db.url),
        ("LINLI_ADMIN_PASSWORD", "password-from-the-environment"),
    ])
    .args(["create-admin", "--username", "envadmin"])
    .stdin(Stdio::null())
    .output()
    .unwrap();
    assert_created(&out, "envadmin");

    let out = linli(&[
        ("DATABASE_URL", &db.url),
        ("LINLI_ADMIN_USERNAME", "bothadmin"),
        ("LINLI_ADMIN_PASSWORD", "password-of-both-variables"),
    ])
    .args(["create-admin", "--username", "bothadmin"])
    .stdin(Stdio::null())
    .output()
    .unwrap();
    assert_created(&out, "bothadmin");

    let app = app_on(&db.url).await;
    for (username, password) in [
        ("envadmin", "password-from-the-environment"),
        ("bothadmin", "password-of-both-variables"),
    ] {
        let res = app.login_response(username, password).await;
        assert_eq!(res.status(), StatusCode::OK, "{username} logs in");
    }

    // `serve` still needs the pair: a password alone would create nobody at start.
    let mut child = Running(
        linli(&[
            ("DATABASE_URL", &db.url),
            ("LINLI_BIND", "127.0.0.1:0"),
            ("LINLI_ADMIN_PASSWORD", "password-from-the-environment"),
        ])
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap(),
    );
    let status = wait_with_deadline(&mut child.0, Duration::from_secs(30));
    let mut stderr = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("set together"), "{stderr}");
}

#[tokio::test]
async fn create_admin_reads_the_password_from_standard_input() {
    let db = fresh_db().await;
    let mut child = linli(&[("DATABASE_URL", &db.url)])
        .args(["create-admin", "--username", "stdinadmin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"password-from-standard-input\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_created(&out, "stdinadmin");

    let app = app_on(&db.url).await;
    let res = app
        .login_response("stdinadmin", "password-from-standard-input")
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// `linli create-admin` run on a terminal: util-linux's `script` gives it one, and what is
/// written to `script`'s input is typed there.
fn create_admin_on_a_terminal(database_url: &str, username: &str, typed: &str) -> Output {
    let mut child = Command::new("script")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .args([
            "-qec",
            &format!("'{BIN}' create-admin --username {username}"),
            "/dev/null",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(typed.as_bytes()).unwrap();
    // Input stays open until the command is done: at its end `script` would end the session.
    let out = child.wait_with_output();
    drop(input);
    out.unwrap()
}

#[tokio::test]
async fn create_admin_prompts_twice_for_the_password_on_a_terminal() {
    if !Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipped: needs util-linux's `script` to provide a terminal");
        return;
    }
    let db = fresh_db().await;
    let out = create_admin_on_a_terminal(
        &db.url,
        "differs",
        "typed-password-one\ntyped-password-two\n",
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).contains("the passwords differ"),
        "{}",
        text(&out.stdout)
    );

    let out = create_admin_on_a_terminal(
        &db.url,
        "ttyadmin",
        "typed-password-123\ntyped-password-123\n",
    );
    let printed = text(&out.stdout);
    assert!(out.status.success(), "{printed}");
    assert!(
        printed.contains("password: ") && printed.contains("again: "),
        "{printed}"
    );
    assert!(
        printed.contains("administrator \"ttyadmin\" created"),
        "{printed}"
    );
    let app = app_on(&db.url).await;
    let res = app.login_response("ttyadmin", "typed-password-123").await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[test]
fn a_failing_command_reports_its_error_once() {
    // Development: one plain line.
    let out = linli(&[
        ("DATABASE_URL", UNREACHABLE_DATABASE),
        ("LINLI_DB_ACQUIRE_TIMEOUT_MS", "300"),
    ])
    .arg("migrate")
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("linli: "), "{stderr}");
    assert_eq!(stderr.matches("Connection Error").count(), 1, "{stderr}");
    assert_eq!(stderr.matches("pool timed out").count(), 1, "{stderr}");

    // Production: one JSON event.
    let mut vars = prod_vars(UNREACHABLE_DATABASE);
    vars.push(("LINLI_DB_ACQUIRE_TIMEOUT_MS", "300"));
    let out = linli(&vars).arg("migrate").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    let events = json_lines(&stderr);
    assert_eq!(events.len(), 1, "{stderr}");
    assert_eq!(events[0]["level"], "ERROR");
    assert_eq!(
        message(&events[0]).matches("pool timed out").count(),
        1,
        "{stderr}"
    );
}

/// Rolling back to the previous release after an upgrade that added migrations: the older
/// binary finds migrations it does not know, all newer than its own, and runs without
/// migrating; an unknown *older* migration means another database, and stops it.
#[tokio::test]
async fn an_older_release_runs_on_a_database_a_newer_one_migrated() {
    let db = fresh_db().await;
    let migrate = || {
        linli(&[("DATABASE_URL", db.url.as_str()), ("RUST_LOG", "warn")])
            .arg("migrate")
            .output()
            .unwrap()
    };
    assert!(migrate().status.success());
    let record = |version: &str| {
        let url = db.url.clone();
        let sql =
            format!("INSERT INTO seaql_migrations (version, applied_at) VALUES ('{version}', 0)");
        async move {
            let conn = Database::connect(url.as_str()).await.unwrap();
            conn.execute_unprepared(&sql).await.unwrap();
            conn.close().await.ok();
        }
    };

    record("m20991231_000001_from_a_newer_release").await;
    let out = migrate();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("newer release"),
        "{}",
        text(&out.stderr)
    );

    record("m20000101_000001_from_somewhere_else").await;
    let out = migrate();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("m20000101_000001_from_somewhere_else"),
        "{}",
        text(&out.stderr)
    );
}

/// A test's database goes with it: the PostgreSQL database is dropped (connections of the server
/// still running included), the SQLite file and its WAL removed.
#[tokio::test]
async fn a_test_app_leaves_no_database_behind() {
    let app = spawn_app().await;
    let url = app.vars["DATABASE_URL"].clone();
    let token = app.admin_token().await;
    let res = app.get("/api/v1/streets", &token).await;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    drop(app);
    let postgres = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"));
    match postgres {
        Some(base) => {
            let (_, name) = url.rsplit_once('/').unwrap();
            let admin = Database::connect(base.as_str()).await.unwrap();
            let row = admin
                .query_one(sea_orm::Statement::from_string(
                    admin.get_database_backend(),
                    format!("SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"),
                ))
                .await
                .unwrap()
                .unwrap();
            let n: i64 = row.try_get("", "n").unwrap();
            admin.close().await.ok();
            assert_eq!(n, 0, "{name} is still there");
        }
        None => {
            let path = url
                .strip_prefix("sqlite://")
                .and_then(|p| p.split('?').next())
                .unwrap();
            assert!(
                !std::path::Path::new(path).exists(),
                "{path} is still there"
            );
        }
    }
}

/// The request statement timeout does not apply to migrations: one that fills a new column of a
/// large table takes longer than any request may, and killing it halfway would fail the upgrade
/// (seen on the bench's million residents). With a 1 ms timeout every request would be cut off,
/// and `linli migrate` still builds the whole schema.
#[tokio::test]
async fn migrations_are_not_cut_short_by_the_request_statement_timeout() {
    let Some(base) = postgres_base() else {
        return;
    };
    let db = fresh_postgres(&base).await;
    let out = linli(&[
        ("DATABASE_URL", db.url.as_str()),
        ("RUST_LOG", "warn"),
        ("LINLI_DB_STATEMENT_TIMEOUT_MS", "1"),
    ])
    .arg("migrate")
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "migrate failed: {}",
        text(&out.stderr)
    );
    assert_schema_complete(&db.url).await;
}
