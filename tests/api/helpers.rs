#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use linli::platform::clock::ManualClock;
use linli::platform::config::Settings;
use linli::platform::state::AppState;
use linli::Application;
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};
use uuid::Uuid;

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
pub const ADMIN_USERNAME: &str = "root";
pub const ADMIN_PASSWORD: &str = "root-password-123";

pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    /// The environment the app was built from (reuse it to start a second replica).
    pub vars: HashMap<String, String>,
    /// The database this app created (a replica started from its variables has none).
    database: Option<TestDatabase>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self
            .vars
            .get("LINLI_UPLOAD_DIR")
            .map(std::fs::remove_dir_all);
    }
}

/// A database made for one test, removed when dropped: the SQLite file (and its WAL), or the
/// PostgreSQL database (`DROP … WITH (FORCE)`, which also ends the connections of a server still
/// running). A test run leaves nothing behind on either.
pub struct TestDatabase {
    pub url: String,
    sqlite_file: Option<std::path::PathBuf>,
}

impl TestDatabase {
    /// Takes charge of a database made elsewhere (`url` names it).
    pub fn adopt(url: &str) -> Self {
        let sqlite_file = url
            .strip_prefix("sqlite://")
            .map(|p| std::path::PathBuf::from(p.split('?').next().unwrap_or(p)));
        Self {
            url: url.to_string(),
            sqlite_file,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(f) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", f.display()));
            }
            return;
        }
        let (Ok(admin), Some((_, name))) = (
            std::env::var("TEST_DATABASE_URL"),
            self.url.rsplit_once('/'),
        ) else {
            return;
        };
        // Only what the tests made (CI's sweep uses the same prefix).
        if !name.starts_with("linli_test_")
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return;
        }
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread of its own.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let db = Database::connect(admin.as_str()).await.ok()?;
                let done = db.execute_unprepared(&sql).await.ok();
                db.close().await.ok();
                done
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("could not drop the test database {name}");
        }
    }
}

/// `TEST_DATABASE_URL` when it is PostgreSQL; otherwise says the test is skipped.
pub fn postgres_base() -> Option<String> {
    let base = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"));
    if base.is_none() {
        eprintln!("skipped: needs TEST_DATABASE_URL (PostgreSQL)");
    }
    base
}

/// A child process that is killed if the test ends before it exits.
pub struct Running(pub std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            self.0.kill().ok();
            self.0.wait().ok();
        }
    }
}

pub fn using_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
}

pub fn redis_url() -> Option<String> {
    std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A fresh database: a new PostgreSQL database next to `TEST_DATABASE_URL`, or a new SQLite file
/// in the temp directory; removed when the returned guard is dropped.
pub async fn fresh_database() -> (String, TestDatabase) {
    let url = fresh_database_url().await;
    (url.clone(), TestDatabase::adopt(&url))
}

async fn fresh_database_url() -> String {
    let name = format!("linli_test_{}", Uuid::now_v7().simple());
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let admin = Database::connect(base.as_str())
                .await
                .expect("connect to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let (prefix, _) = base.rsplit_once('/').expect("database URL has a path");
            format!("{prefix}/{name}")
        }
        _ => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            format!("sqlite://{}?mode=rwc", path.display())
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns an app; `configure` may change the environment it is built from.
pub async fn spawn_app_with(configure: impl FnOnce(&mut HashMap<String, String>)) -> TestApp {
    let (db_url, database) = fresh_database().await;
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", db_url.as_str()),
        ("LINLI_BIND", "127.0.0.1:0"),
        ("LINLI_JWT_SECRET", JWT_SECRET),
        ("LINLI_WORKERS", "1"),
        ("LINLI_ADMIN_USERNAME", ADMIN_USERNAME),
        ("LINLI_ADMIN_PASSWORD", ADMIN_PASSWORD),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    vars.insert(
        "LINLI_CACHE_PREFIX".into(),
        format!("linli-test:{}:", Uuid::now_v7().simple()),
    );
    if let Some(r) = redis_url() {
        vars.insert("REDIS_URL".into(), r);
    }
    vars.insert(
        "LINLI_UPLOAD_DIR".into(),
        std::env::temp_dir()
            .join(format!("linli_uploads_{}", Uuid::now_v7().simple()))
            .display()
            .to_string(),
    );
    configure(&mut vars);
    let mut app = start(vars).await;
    app.database = Some(database);
    app
}

/// Starts an app from exactly these variables (e.g. a second replica of another app).
pub async fn start(vars: HashMap<String, String>) -> TestApp {
    let lookup = vars.clone();
    let settings = Settings::from_lookup(move |k| lookup.get(k).cloned()).expect("test settings");
    let clock = Arc::new(ManualClock::default());
    let app = Application::build_with_clock(settings, clock.clone())
        .await
        .expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state.clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // The server closes a connection idle for 5 s (actix's keep-alive). A pooled
            // connection reused at that very moment fails with "IncompleteMessage" (seen on a
            // busy machine after a test spent seconds building a large file): never reuse one
            // that has been idle for half of that.
            .pool_idle_timeout(std::time::Duration::from_millis(2500))
            .build()
            .expect("client"),
        state,
        clock,
        vars,
        database: None,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let rb = self.client.request(method, self.url(path));
        match token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        let res = self
            .request(Method::GET, path, Some(token))
            .send()
            .await
            .expect("request");
        scanned(path, res).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        let res = self
            .request(Method::POST, path, Some(token))
            .json(body)
            .send()
            .await
            .expect("request");
        scanned(path, res).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Response {
        let res = self
            .request(Method::PATCH, path, Some(token))
            .json(body)
            .send()
            .await
            .expect("request");
        scanned(path, res).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        let res = self
            .request(Method::DELETE, path, Some(token))
            .send()
            .await
            .expect("request");
        scanned(path, res).await
    }

    /// POST /api/v1/auth/login; the raw response.
    pub async fn login_response(&self, username: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("request")
    }

    /// Logs in and returns the token pair body.
    pub async fn login(&self, username: &str, password: &str) -> Value {
        let res = self.login_response(username, password).await;
        assert_eq!(res.status(), StatusCode::OK, "login as {username}");
        res.json().await.expect("json")
    }

    /// An access token of the bootstrap (deployment) administrator.
    pub async fn admin_token(&self) -> String {
        token_of(&self.login(ADMIN_USERNAME, ADMIN_PASSWORD).await)
    }

    /// Creates a staff user through the API and returns its id.
    pub async fn create_user(&self, admin: &str, username: &str, password: &str) -> Uuid {
        let res = self
            .post(
                "/api/v1/users",
                admin,
                &json!({"username": username, "password": password, "display_name": username}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "create user {username}");
        id_of(&res.json().await.expect("json"))
    }

    /// Grants `role` on `scope_id` through the API.
    pub async fn grant(
        &self,
        admin: &str,
        user: Uuid,
        role: &str,
        scope_type: &str,
        scope_id: Uuid,
    ) {
        let res = self
            .post(
                "/api/v1/role-assignments",
                admin,
                &json!({"user_id": user, "role": role, "scope_type": scope_type, "scope_id": scope_id}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "grant {role}");
    }

    /// Creates a user with one role and returns its access token.
    pub async fn user_with_role(
        &self,
        admin: &str,
        username: &str,
        role: &str,
        scope_type: &str,
        scope_id: Uuid,
    ) -> String {
        let password = "a-long-password-1";
        let id = self.create_user(admin, username, password).await;
        self.grant(admin, id, role, scope_type, scope_id).await;
        token_of(&self.login(username, password).await)
    }

    /// POSTs `body` to a collection as `token`, asserts 201 and returns the new id.
    pub async fn create(&self, token: &str, collection: &str, body: Value) -> Uuid {
        let res = self
            .post(&format!("/api/v1/{collection}"), token, &body)
            .await;
        let status = res.status();
        let text = res.text().await.expect("body");
        assert_eq!(
            status,
            StatusCode::CREATED,
            "create in {collection}: {text}"
        );
        id_of(&serde_json::from_str(&text).expect("json"))
    }
}

pub fn token_of(pair: &Value) -> String {
    pair["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

pub fn id_of(v: &Value) -> Uuid {
    v["id"].as_str().and_then(|s| s.parse().ok()).expect("id")
}

/// Asserts the response is problem+json with `status` and `code`, and returns the body.
pub async fn assert_problem(res: Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        ct.starts_with("application/problem+json"),
        "content-type {ct}"
    );
    let request_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let english = res
        .headers()
        .get("content-language")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("en"));
    let body: Value = res.json().await.expect("problem body is JSON");
    if let Err(why) = problem_is_readable(&body, !english) {
        panic!("problem {why}: {body}");
    }
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string());
    assert_eq!(
        body["request_id"],
        request_id.as_str(),
        "request_id matches the header"
    );
    body
}

/// A small territory: street → community → compound → building → household.
pub struct Territory {
    pub street: Uuid,
    pub community: Uuid,
    pub compound: Uuid,
    pub building: Uuid,
    pub household: Uuid,
}

pub async fn small_territory(app: &TestApp, admin: &str, tag: &str) -> Territory {
    let street = app
        .create(admin, "streets", json!({"name": format!("{tag}街道")}))
        .await;
    let community = app
        .create(
            admin,
            "communities",
            json!({"street_id": street, "name": format!("{tag}社区")}),
        )
        .await;
    let compound = app
        .create(
            admin,
            "compounds",
            json!({"community_id": community, "name": format!("{tag}小区")}),
        )
        .await;
    let building = app
        .create(
            admin,
            "buildings",
            json!({"compound_id": compound, "name": "1幢"}),
        )
        .await;
    let household = app
        .create(
            admin,
            "households",
            json!({"building_id": building, "unit": "1单元", "room": "101"}),
        )
        .await;
    Territory {
        street,
        community,
        compound,
        building,
        household,
    }
}

/// Responses that legitimately carry full personal data: an audited reveal, the caller's own
/// export, an unmasked export.
fn may_carry_full_pii(path: &str) -> bool {
    path.contains("/reveal")
        || path.starts_with("/api/v1/me/export")
        || path.contains("unmasked=true")
}

/// Every JSON body that passes through the helpers is scanned for a full mainland mobile number
/// or a valid 18-digit ID number, unless the route is one that may carry them: the whole suite
/// doubles as a leak check.
async fn scanned(path: &str, res: Response) -> Response {
    let status = res.status();
    let version = res.version();
    let headers = res.headers().clone();
    let bytes = res.bytes().await.expect("body");
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if is_json && !may_carry_full_pii(path) {
        let text = String::from_utf8_lossy(&bytes);
        if let Some(found) = full_pii_in(&text) {
            panic!("response of {path} carries full personal data {found:?}: {text}");
        }
    }
    let is_problem = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if is_problem {
        let english = headers
            .get("content-language")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("en"));
        let v: Value = serde_json::from_slice(&bytes).expect("a problem body is JSON");
        if let Err(why) = problem_is_readable(&v, !english) {
            panic!("problem answered by {path} {why}: {v}");
        }
    }
    if is_json {
        if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
            if let Some(found) = time_without_milliseconds(&v) {
                panic!(
                    "response of {path} carries a time not as YYYY-MM-DDTHH:MM:SS.sssZ: {found:?}"
                );
            }
        }
    }
    let mut builder = http::Response::builder().status(status).version(version);
    for (k, v) in headers.iter() {
        builder = builder.header(k, v);
    }
    Response::from(builder.body(bytes).expect("rebuilt response"))
}

/// The codes the committed spec lists for `schema` (`ProblemCode` or `FieldCode`).
fn spec_codes(schema: &str) -> &'static [String] {
    static SPEC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let spec = SPEC.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
        serde_json::from_str(&std::fs::read_to_string(path).expect("openapi/openapi.json"))
            .expect("the spec is JSON")
    });
    static PROBLEM: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    static FIELD: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let cell = if schema == "ProblemCode" {
        &PROBLEM
    } else {
        &FIELD
    };
    cell.get_or_init(|| {
        spec["components"]["schemas"][schema]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("the spec lists {schema} as an enum"))
            .iter()
            .map(|c| c.as_str().expect("codes are strings").to_string())
            .collect()
    })
}

fn has_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Every problem the suite sees is checked: its `code` and every field error's `code` are ones
/// the spec lists, and — unless the response says it is in English — its `title`, `detail` and
/// every field `message` are written in Chinese. The whole suite doubles as the check that no
/// English or unlisted code reaches a resident.
pub fn problem_is_readable(v: &Value, chinese: bool) -> Result<(), String> {
    let code = v["code"].as_str().ok_or("without a code")?;
    if !spec_codes("ProblemCode").iter().any(|c| c == code) {
        return Err(format!("with code {code:?}, which the spec does not list"));
    }
    let mut texts = vec![
        ("title", v["title"].as_str()),
        ("detail", v["detail"].as_str()),
    ];
    for e in v["errors"].as_array().into_iter().flatten() {
        let fc = e["code"]
            .as_str()
            .ok_or("with a field error without a code")?;
        if !spec_codes("FieldCode").iter().any(|c| c == fc) {
            return Err(format!(
                "with field code {fc:?}, which the spec does not list"
            ));
        }
        texts.push(("errors[].message", e["message"].as_str()));
    }
    if chinese {
        for (name, text) in texts {
            let text = text.ok_or(format!("without {name}"))?;
            if !has_chinese(text) {
                return Err(format!("with a {name} not in Chinese ({text:?})"));
            }
        }
    }
    Ok(())
}

/// The first string in `v` that starts like a time (`YYYY-MM-DDT`) but is not RFC 3339 in UTC
/// with exactly three fractional digits, as every time in a response must be: the whole suite
/// checks the format too.
pub fn time_without_milliseconds(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => {
            let b = s.as_bytes();
            let time_like = b.len() >= 11
                && b[..4].iter().all(u8::is_ascii_digit)
                && b[4] == b'-'
                && b[7] == b'-'
                && b[10] == b'T';
            let ok = || {
                let d = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
                b.len() == 24
                    && d(0..4)
                    && d(5..7)
                    && d(8..10)
                    && d(11..13)
                    && b[13] == b':'
                    && d(14..16)
                    && b[16] == b':'
                    && d(17..19)
                    && b[19] == b'.'
                    && d(20..23)
                    && b[23] == b'Z'
            };
            (time_like && !ok()).then(|| s.clone())
        }
        Value::Array(items) => items.iter().find_map(time_without_milliseconds),
        Value::Object(map) => map.values().find_map(time_without_milliseconds),
        _ => None,
    }
}

#[test]
fn the_problem_scanner_wants_listed_codes_and_chinese_words() {
    let ok = json!({"code": "not_found", "title": "未找到", "detail": "没有找到，或您无权查看",
        "errors": [{"field": "q", "code": "too_long", "message": "不能超过 50 个字"}]});
    assert_eq!(problem_is_readable(&ok, true), Ok(()));
    let english = json!({"code": "not_found", "title": "未找到", "detail": "not found"});
    assert!(problem_is_readable(&english, true)
        .unwrap_err()
        .contains("detail"));
    assert_eq!(problem_is_readable(&english, false), Ok(()));
    let unlisted = json!({"code": "oops", "title": "未找到", "detail": "没有"});
    assert!(problem_is_readable(&unlisted, false)
        .unwrap_err()
        .contains("oops"));
    let field = json!({"code": "validation_failed", "title": "请求有误", "detail": "有误",
        "errors": [{"field": "q", "code": "unknown_building", "message": "too long"}]});
    assert!(problem_is_readable(&field, true)
        .unwrap_err()
        .contains("message"));
    let bad_field = json!({"code": "validation_failed", "title": "请求有误", "detail": "有误",
        "errors": [{"field": "q", "code": "weird", "message": "太长"}]});
    assert!(problem_is_readable(&bad_field, true)
        .unwrap_err()
        .contains("weird"));
}

#[test]
fn the_time_scanner_wants_exactly_milliseconds_in_utc() {
    let bad = |s: &str| time_without_milliseconds(&json!({ "a": [s] }));
    assert_eq!(bad("2026-11-30T12:05:00.123Z"), None);
    assert_eq!(bad("紫阳街道"), None);
    assert_eq!(bad("2026-11-30"), None);
    for s in [
        "2026-11-30T12:05:00Z",
        "2026-11-30T12:05:00.123456Z",
        "2026-11-30T12:05:00.123456789Z",
        "2026-11-30T12:05:00.123+00:00",
    ] {
        assert_eq!(bad(s).as_deref(), Some(s));
    }
}

/// The first full phone or valid ID number in `text`: a maximal run of digits (and `X`) that is
/// not part of a longer word (UUIDs, tokens).
pub fn full_pii_in(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_digit() || bytes[i] == b'X' || bytes[i] == b'x')
            {
                i += 1;
            }
            let before = start.checked_sub(1).map(|j| bytes[j]);
            let after = bytes.get(i).copied();
            let bounded =
                |b: Option<u8>| b.is_none_or(|b| !(b.is_ascii_alphanumeric() || b == b'-'));
            if bounded(before) && bounded(after) {
                let run = &text[start..i];
                let phone = run.len() == 11
                    && run.bytes().all(|b| b.is_ascii_digit())
                    && run.starts_with('1')
                    && (b'3'..=b'9').contains(&run.as_bytes()[1]);
                let id = run.len() == 18
                    && linli::residents::service::roster::parse_id_number(run, chrono::Utc::now())
                        .is_ok();
                if phone || id {
                    return Some(run.to_string());
                }
            }
        } else {
            i += 1;
        }
    }
    None
}

#[test]
fn the_leak_scanner_finds_full_values_and_ignores_masks_and_ids() {
    assert_eq!(
        full_pii_in(r#"{"p":"13812341234"}"#).as_deref(),
        Some("13812341234")
    );
    assert_eq!(
        full_pii_in(r#"{"i":"11010519491231002X"}"#).as_deref(),
        Some("11010519491231002X")
    );
    assert!(full_pii_in(r#"{"p":"138****1234","i":"**************002X"}"#).is_none());
    assert!(full_pii_in(r#"{"id":"01a20183-7a47-76c9-ba10-138123412345"}"#).is_none());
    assert!(
        full_pii_in(r#"{"bad":"110105194912310021"}"#).is_none(),
        "not a valid ID"
    );
}

/// Reverts the migrations from `name` on (the later ones first) on the app's database, to test
/// what a migration does to rows written before it; `migration::Migrator::up` goes forward again.
pub async fn migrate_back_before(app: &TestApp, name: &str) {
    use migration::MigratorTrait;
    let names: Vec<String> = migration::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let at = names
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no migration {name}"));
    let steps = u32::try_from(names.len() - at).unwrap();
    migration::Migrator::down(&app.state.db, Some(steps))
        .await
        .unwrap();
}
