//! The binary as an operator runs it: refusing bad production settings, and graceful shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_linli");

/// The child's stdout, kept open: a process whose stdout is closed dies on its next print.
type Stdout = std::io::Lines<BufReader<std::process::ChildStdout>>;

/// Starts the binary on SQLite in `dir` with `drain_secs`; returns it, the address it announced
/// on its first stdout line, and its stdout.
fn serve(dir: &std::path::Path, drain_secs: &str) -> (std::process::Child, String, Stdout) {
    let db = format!("sqlite://{}/l.db?mode=rwc", dir.display());
    let mut child = Command::new(BIN)
        .env_clear()
        .env("DATABASE_URL", db)
        .env("LINLI_BIND", "127.0.0.1:0")
        .env("LINLI_UPLOAD_DIR", dir.join("uploads"))
        .env("LINLI_DRAIN_SECS", drain_secs)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .to_string();
    (child, addr, lines)
}

#[test]
fn prod_refuses_to_start_with_a_missing_secret_and_names_it() {
    let out = Command::new(BIN)
        .env_clear()
        .env("LINLI_ENV", "prod")
        .env("LINLI_PII_KEY", "ab".repeat(32))
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("LINLI_JWT_SECRET"), "{err}");
}

#[test]
fn openapi_subcommand_prints_the_spec() {
    let out = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["openapi"], "3.1.0");
}

#[test]
fn sigterm_lets_in_flight_requests_finish_refuses_new_ones_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr, _stdout) = serve(dir.path(), "1");

    // A request in flight: headers and half the body sent, on a connection a worker has
    // certainly accepted (a first request on it has been answered).
    let body = r#"{"username":"nobody","password":"wrong-password"}"#;
    let mut conn = TcpStream::connect(&addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(conn, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut first = Vec::new();
    let mut byte = [0u8; 1];
    while !first.ends_with(b"{\"status\":\"ok\"}") {
        conn.read_exact(&mut byte).unwrap();
        first.push(byte[0]);
    }
    assert!(first.starts_with(b"HTTP/1.1 200"));
    write!(
        conn,
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    conn.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // New connections are refused once the listener is closed (allow a loaded machine a moment).
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(&addr).is_ok() {
        assert!(
            Instant::now() < deadline,
            "new connections are still accepted after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // The in-flight request completes.
    conn.write_all(&body.as_bytes()[10..]).unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0));
            break;
        }
        assert!(Instant::now() < deadline, "did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn migrate_subcommand_creates_the_schema_and_is_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/m.db?mode=rwc", dir.path().display());
    for _ in 0..2 {
        let out = Command::new(BIN)
            .env_clear()
            .env("DATABASE_URL", &db)
            .arg("migrate")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(dir.path().join("m.db").exists());
}

/// One plain HTTP/1.1 GET on a fresh connection; the status line's code.
fn get_status(addr: &str, path: &str) -> Option<u16> {
    let mut conn = TcpStream::connect(addr).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    conn.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn after_sigterm_the_replica_reports_not_ready_while_still_serving_then_stops() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr, _stdout) = serve(dir.path(), "3");
    assert_eq!(get_status(&addr, "/ready"), Some(200));

    let signalled = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // Draining: not ready, but everything else is still answered.
    let deadline = Instant::now() + Duration::from_secs(2);
    while get_status(&addr, "/ready") != Some(503) {
        assert!(Instant::now() < deadline, "/ready never said 503");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(get_status(&addr, "/health"), Some(200));
    assert_eq!(get_status(&addr, "/api/v1/streets"), Some(401));
    // Then the listener closes and the process exits 0, not before the drain is over.
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        assert!(Instant::now() < deadline, "did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(0));
    assert!(
        signalled.elapsed() >= Duration::from_secs(3),
        "stopped after {:?}, before the drain was over",
        signalled.elapsed()
    );
}
