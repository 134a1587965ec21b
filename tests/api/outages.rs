//! Dependencies going away and coming back: every request that needs one answers in bounded
//! time while it is gone, and service resumes by itself once it is back.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::*;

/// A Redis of the test's own, on a free port, that the test may stop, start again and flush
/// (also used by `caller_cache`).
pub(crate) struct OwnRedis {
    port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    fn start_on(port: u16) -> Option<OwnRedis> {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut r = OwnRedis {
            port,
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                r.stop();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(r)
    }

    pub(crate) fn start() -> Option<OwnRedis> {
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        Self::start_on(port)
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An app whose cache is `redis`.
pub(crate) async fn app_on(redis: &OwnRedis) -> TestApp {
    let url = redis.url();
    spawn_app_with(|v| {
        v.insert("REDIS_URL".into(), url);
    })
    .await
}

async fn status_within(app: &TestApp, path: &str, token: Option<&str>) -> (StatusCode, Duration) {
    let started = Instant::now();
    let res = app
        .request(reqwest::Method::GET, path, token)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("an answer, not a hang");
    (res.status(), started.elapsed())
}

#[tokio::test]
async fn with_redis_down_requests_answer_503_within_3_s_and_recover_within_5_s_of_its_return() {
    let Some(mut redis) = OwnRedis::start() else {
        eprintln!("skipped: no redis-server on this machine");
        return;
    };
    let app = app_on(&redis).await;
    let token = app.admin_token().await;
    assert_eq!(
        status_within(&app, "/api/v1/me", Some(&token)).await.0,
        StatusCode::OK
    );

    redis.stop();
    let mut slowest = Duration::ZERO;
    for path in ["/api/v1/me", "/ready", "/api/v1/streets"] {
        for _ in 0..2 {
            let (status, took) = status_within(&app, path, Some(&token)).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
            assert!(took < Duration::from_secs(3), "{path} took {took:?}");
            slowest = slowest.max(took);
        }
    }
    let res = app
        .request(reqwest::Method::GET, "/api/v1/me", Some(&token))
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 503, "service_unavailable").await;

    let port = redis.port;
    let back = OwnRedis::start_on(port).expect("redis restarts on its port");
    let returned = Instant::now();
    loop {
        let (status, _) = status_within(&app, "/api/v1/me", Some(&token)).await;
        if status == StatusCode::OK {
            break;
        }
        assert!(
            returned.elapsed() < Duration::from_secs(5),
            "still {status} {:?} after Redis returned",
            returned.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "redis down: slowest 503 {slowest:?}; service back {:?} after redis returned",
        returned.elapsed()
    );
    let (status, _) = status_within(&app, "/ready", None).await;
    assert_eq!(status, StatusCode::OK);
    drop(back);
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[tokio::test]
async fn with_redis_stalled_requests_answer_503_within_3_s_and_recover_when_it_resumes() {
    let Some(redis) = OwnRedis::start() else {
        eprintln!("skipped: no redis-server on this machine");
        return;
    };
    let app = app_on(&redis).await;
    let token = app.admin_token().await;
    let child = redis.child.as_ref().expect("running");
    // A stalled Redis accepts connections and never answers: the hard case for timeouts.
    signal(child, "-STOP");
    let mut slowest = Duration::ZERO;
    for path in ["/api/v1/me", "/ready"] {
        let (status, took) = status_within(&app, path, Some(&token)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert!(took < Duration::from_secs(3), "{path} took {took:?}");
        slowest = slowest.max(took);
    }
    signal(child, "-CONT");
    let resumed = Instant::now();
    loop {
        let (status, _) = status_within(&app, "/api/v1/me", Some(&token)).await;
        if status == StatusCode::OK {
            break;
        }
        assert!(
            resumed.elapsed() < Duration::from_secs(5),
            "still {status} after Redis resumed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "redis stalled: slowest 503 {slowest:?}; service back {:?} after it resumed",
        resumed.elapsed()
    );
}

pub(crate) fn flush_all(redis: &OwnRedis) {
    let out = Command::new("redis-cli")
        .args(["-p", &redis.port.to_string(), "FLUSHALL"])
        .output()
        .expect("redis-cli");
    assert!(out.status.success());
}

// A cache that restarts empty (or is flushed) lifts neither a logout nor a slow-down: both are
// kept in the database, and the cache is reloaded from it.
#[tokio::test]
async fn a_flushed_redis_neither_revives_a_logged_out_token_nor_lifts_a_slow_down() {
    let Some(redis) = OwnRedis::start() else {
        eprintln!("skipped: no redis-server on this machine");
        return;
    };
    let app = app_on(&redis).await;
    let pair = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let token = token_of(&pair);
    let res = app
        .request(reqwest::Method::POST, "/api/v1/auth/logout", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    flush_all(&redis);
    for _ in 0..3 {
        let (status, _) = status_within(&app, "/api/v1/me", Some(&token)).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "a logged-out token stays out"
        );
    }
    // A second replica that never saw the logout agrees.
    let other = start(app.vars.clone()).await;
    let (status, _) = status_within(&other, "/api/v1/me", Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    for _ in 0..5 {
        let res = app.login_response(ADMIN_USERNAME, "wrong-password-1").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app.login_response(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    flush_all(&redis);
    let res = app.login_response(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the slow-down outlives the flush"
    );
}
