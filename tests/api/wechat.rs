//! WeChat login through HTTP, and the WeChat client's access token, against a fake WeChat server
//! on loopback whose behaviour each test scripts through the `code` it sends.
//!
//! Codes the fake understands (`jscode2session` and `getuserphonenumber`):
//! `user:<openid>`, `union:<openid>:<unionid>`, `slow:<ms>:<openid>`, `phone:<number>`,
//! `errcode:<n>`, `http500`, `html`, `no-openid`.
//!
//! Subscribe messages (`/cgi-bin/message/subscribe/send`) are recorded; a test scripts failures
//! with [`Fake::fail_next_sends`] and [`Fake::refuse_openid`].
//!
//! Text checks (`/wxa/msg_sec_check`) are recorded without their text ([`Fake::sec_checks`]) and
//! scripted by the content: `[risky]` → risky (label 20001), `[review]` → review (10001),
//! `[down]` → HTTP 500, `[slow]` → answers after 3 s, `[errcode]` → errcode -1; anything else
//! passes (label 100).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use futures_util::future::join_all;
use linli::platform::error::AppError;
use linli::platform::wechat::WeChatClient;
use reqwest::{Method, Response, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};

use crate::helpers::*;

// ---------------------------------------------------------------------------------------------
// The fake WeChat server
// ---------------------------------------------------------------------------------------------

const APPID: &str = "wx-fake-appid";
const SECRET: &str = "fake-app-secret-never-to-be-seen";
const SESSION_KEY: &str = "fake-session-key-never-to-be-seen==";

#[derive(Default)]
struct FakeState {
    session_calls: AtomicUsize,
    token_calls: AtomicUsize,
    phone_calls: AtomicUsize,
    /// How long /cgi-bin/token takes, to widen the window in which callers could race.
    token_delay_ms: AtomicUsize,
    /// The next this many /cgi-bin/token calls answer "system busy".
    token_failures: AtomicUsize,
    /// Access tokens the fake answers 40001 for.
    rejected: Mutex<HashSet<String>>,
    /// Every subscribe message accepted: `{"touser", "template_id", "page", "data",
    /// "miniprogram_state", "lang"}`.
    messages: Mutex<Vec<Value>>,
    /// Subscribe-message calls, accepted or not.
    send_calls: AtomicUsize,
    /// The next this many subscribe messages answer "system busy" (-1).
    send_failures: AtomicUsize,
    /// Openids whose subscribe messages answer 43101 (not subscribed).
    refusing: Mutex<HashSet<String>>,
    /// Every text check that reached the fake with a valid token: `{"openid", "scene",
    /// "version", "title", "chars"}` (the title as sent, the content's length).
    sec_checks: Mutex<Vec<Value>>,
}

pub(crate) struct Fake {
    url: String,
    state: Arc<FakeState>,
}

impl Fake {
    pub(crate) fn token_calls(&self) -> usize {
        self.state.token_calls.load(Ordering::SeqCst)
    }
    fn session_calls(&self) -> usize {
        self.state.session_calls.load(Ordering::SeqCst)
    }
    fn phone_calls(&self) -> usize {
        self.state.phone_calls.load(Ordering::SeqCst)
    }
    /// Every access-token fetch takes `ms` milliseconds from now on.
    pub(crate) fn delay_token(&self, ms: usize) {
        self.state.token_delay_ms.store(ms, Ordering::SeqCst);
    }
    /// The subscribe messages accepted so far.
    pub(crate) fn messages(&self) -> Vec<Value> {
        self.state.messages.lock().unwrap().clone()
    }
    pub(crate) fn send_calls(&self) -> usize {
        self.state.send_calls.load(Ordering::SeqCst)
    }
    /// The next `n` subscribe messages answer errcode -1 (system busy).
    pub(crate) fn fail_next_sends(&self, n: usize) {
        self.state.send_failures.store(n, Ordering::SeqCst);
    }
    /// Subscribe messages to `openid` answer errcode 43101 (the user refused them).
    pub(crate) fn refuse_openid(&self, openid: &str) {
        self.state
            .refusing
            .lock()
            .unwrap()
            .insert(openid.to_string());
    }
    /// The text checks so far.
    pub(crate) fn sec_checks(&self) -> Vec<Value> {
        self.state.sec_checks.lock().unwrap().clone()
    }
    pub(crate) fn reject(&self, token: &str) {
        self.state
            .rejected
            .lock()
            .unwrap()
            .insert(token.to_string());
    }
}

type Query = web::Query<HashMap<String, String>>;

fn wx_error(errcode: i64) -> HttpResponse {
    HttpResponse::Ok().json(json!({"errcode": errcode, "errmsg": format!("fake error {errcode}")}))
}

fn credentials_ok(q: &Query) -> bool {
    q.get("appid").map(String::as_str) == Some(APPID)
        && q.get("secret").map(String::as_str) == Some(SECRET)
}

/// The scripted answers shared by jscode2session and getuserphonenumber; `None`: not scripted.
fn scripted(code: &str) -> Option<HttpResponse> {
    if let Some(n) = code.strip_prefix("errcode:") {
        return Some(wx_error(n.parse().unwrap()));
    }
    match code {
        "http500" => Some(HttpResponse::InternalServerError().body("upstream exploded")),
        "html" => Some(
            HttpResponse::Ok()
                .content_type("text/html")
                .body("<html><body>502 Bad Gateway</body></html>"),
        ),
        _ => None,
    }
}

async fn fake_jscode2session(state: web::Data<FakeState>, q: Query) -> HttpResponse {
    state.session_calls.fetch_add(1, Ordering::SeqCst);
    if !credentials_ok(&q) {
        return wx_error(40125);
    }
    if q.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return wx_error(40002);
    }
    let code = q.get("js_code").cloned().unwrap_or_default();
    if let Some(res) = scripted(&code) {
        return res;
    }
    let parts: Vec<&str> = code.split(':').collect();
    match parts.as_slice() {
        ["user", openid] => HttpResponse::Ok()
            // WeChat really answers this one as text/plain.
            .content_type("text/plain")
            .body(json!({"openid": openid, "session_key": SESSION_KEY}).to_string()),
        ["union", openid, unionid] => HttpResponse::Ok()
            .json(json!({"openid": openid, "unionid": unionid, "session_key": SESSION_KEY})),
        ["slow", ms, openid] => {
            tokio::time::sleep(Duration::from_millis(ms.parse().unwrap())).await;
            HttpResponse::Ok().json(json!({"openid": openid, "session_key": SESSION_KEY}))
        }
        ["no-openid"] => HttpResponse::Ok().json(json!({"session_key": SESSION_KEY})),
        _ => wx_error(40029),
    }
}

async fn fake_token(state: web::Data<FakeState>, q: Query) -> HttpResponse {
    let n = state.token_calls.fetch_add(1, Ordering::SeqCst) + 1;
    let delay = state.token_delay_ms.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(delay as u64)).await;
    if !credentials_ok(&q) || q.get("grant_type").map(String::as_str) != Some("client_credential") {
        return wx_error(40013);
    }
    let failing = state
        .token_failures
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| f.checked_sub(1))
        .is_ok();
    if failing {
        return wx_error(-1);
    }
    HttpResponse::Ok().json(json!({"access_token": format!("fake-token-{n}"), "expires_in": 7200}))
}

async fn fake_phone(state: web::Data<FakeState>, q: Query, body: web::Json<Value>) -> HttpResponse {
    state.phone_calls.fetch_add(1, Ordering::SeqCst);
    let token = q.get("access_token").cloned().unwrap_or_default();
    if !token.starts_with("fake-token-") || state.rejected.lock().unwrap().contains(&token) {
        return wx_error(40001);
    }
    let code = body["code"].as_str().unwrap_or_default();
    if let Some(res) = scripted(code) {
        return res;
    }
    match code.strip_prefix("phone:") {
        Some(number) => HttpResponse::Ok().json(json!({
            "errcode": 0,
            "errmsg": "ok",
            "phone_info": {
                "phoneNumber": number,
                "purePhoneNumber": number,
                "countryCode": "86",
                "watermark": {"timestamp": 1_700_000_000, "appid": APPID}
            }
        })),
        None => wx_error(40029),
    }
}

async fn fake_subscribe_send(
    state: web::Data<FakeState>,
    q: Query,
    body: web::Json<Value>,
) -> HttpResponse {
    state.send_calls.fetch_add(1, Ordering::SeqCst);
    let token = q.get("access_token").cloned().unwrap_or_default();
    if !token.starts_with("fake-token-") || state.rejected.lock().unwrap().contains(&token) {
        return wx_error(40001);
    }
    let (Some(touser), Some(template_id)) = (body["touser"].as_str(), body["template_id"].as_str())
    else {
        return wx_error(47003);
    };
    if !body["data"].is_object() {
        return wx_error(47003);
    }
    let failing = state
        .send_failures
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| f.checked_sub(1))
        .is_ok();
    if failing {
        return wx_error(-1);
    }
    if state.refusing.lock().unwrap().contains(touser) {
        return wx_error(43101);
    }
    state.messages.lock().unwrap().push(json!({
        "touser": touser,
        "template_id": template_id,
        "page": body["page"],
        "data": body["data"],
        "miniprogram_state": body["miniprogram_state"],
        "lang": body["lang"],
    }));
    HttpResponse::Ok().json(json!({"errcode": 0, "errmsg": "ok"}))
}

async fn fake_msg_sec_check(
    state: web::Data<FakeState>,
    q: Query,
    body: web::Json<Value>,
) -> HttpResponse {
    let token = q.get("access_token").cloned().unwrap_or_default();
    if !token.starts_with("fake-token-") || state.rejected.lock().unwrap().contains(&token) {
        return wx_error(40001);
    }
    let content = body["content"].as_str().unwrap_or_default().to_string();
    state.sec_checks.lock().unwrap().push(json!({
        "openid": body["openid"],
        "scene": body["scene"],
        "version": body["version"],
        "title": body["title"],
        "chars": content.chars().count(),
    }));
    if content.chars().count() > 2500 {
        return wx_error(87014);
    }
    let verdict = |suggest: &str, label: i64| {
        HttpResponse::Ok().json(json!({
            "errcode": 0,
            "errmsg": "ok",
            "result": {"suggest": suggest, "label": label},
            "detail": [],
            "trace_id": "fake-trace-1",
        }))
    };
    let title = body["title"].as_str().unwrap_or_default();
    let has = |mark: &str| content.contains(mark) || title.contains(mark);
    if has("[down]") {
        HttpResponse::InternalServerError().body("upstream exploded")
    } else if has("[slow]") {
        tokio::time::sleep(Duration::from_secs(3)).await;
        verdict("pass", 100)
    } else if has("[errcode]") {
        wx_error(-1)
    } else if has("[risky]") {
        verdict("risky", 20001)
    } else if has("[review]") {
        verdict("review", 10001)
    } else {
        verdict("pass", 100)
    }
}

async fn start_fake() -> Fake {
    let state = Arc::new(FakeState::default());
    let data = web::Data::from(state.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/sns/jscode2session", web::get().to(fake_jscode2session))
            .route("/cgi-bin/token", web::get().to(fake_token))
            .route(
                "/wxa/business/getuserphonenumber",
                web::post().to(fake_phone),
            )
            .route(
                "/cgi-bin/message/subscribe/send",
                web::post().to(fake_subscribe_send),
            )
            .route("/wxa/msg_sec_check", web::post().to(fake_msg_sec_check))
    })
    .workers(2)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    Fake {
        url: format!("http://127.0.0.1:{port}"),
        state,
    }
}

/// An app configured for the fake, with a 1 s WeChat timeout.
pub(crate) async fn spawn_with_fake() -> (TestApp, Fake) {
    spawn_with_fake_and(&[]).await
}

/// Like [`spawn_with_fake`], with these variables set as well (e.g. `LINLI_WECHAT_TEMPLATES`).
pub(crate) async fn spawn_with_fake_and(vars: &[(&str, &str)]) -> (TestApp, Fake) {
    let fake = start_fake().await;
    let url = fake.url.clone();
    let app = spawn_app_with(|v| {
        v.insert("LINLI_WECHAT_APPID".into(), APPID.into());
        v.insert("LINLI_WECHAT_SECRET".into(), SECRET.into());
        v.insert("LINLI_WECHAT_API_BASE".into(), url);
        v.insert("LINLI_WECHAT_TIMEOUT_MS".into(), "1000".into());
        for (k, val) in vars {
            v.insert(k.to_string(), val.to_string());
        }
    })
    .await;
    (app, fake)
}

// ---------------------------------------------------------------------------------------------
// Helpers local to this file
// ---------------------------------------------------------------------------------------------

/// A response whose body was read and checked to carry neither the session_key nor the AppSecret.
pub(crate) struct Checked {
    pub(crate) status: StatusCode,
    retry_after: Option<String>,
    pub(crate) body: Value,
}

/// Every WeChat response of this file passes through here: the body must never carry the
/// session_key or the AppSecret.
pub(crate) async fn checked(res: Response) -> Checked {
    let status = res.status();
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = res.text().await.unwrap();
    assert!(!text.contains(SESSION_KEY), "session_key leaked: {text}");
    assert!(!text.contains(SECRET), "AppSecret leaked: {text}");
    Checked {
        status,
        retry_after,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

pub(crate) async fn wechat_login_raw(app: &TestApp, body: &Value) -> Response {
    app.request(Method::POST, "/api/v1/auth/wechat/login", None)
        .json(body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn wechat_login(app: &TestApp, code: &str) -> Checked {
    checked(wechat_login_raw(app, &json!({ "code": code })).await).await
}

/// Logs in with `code`, asserts 200 and returns the body.
pub(crate) async fn wechat_login_ok(app: &TestApp, code: &str) -> Value {
    let res = wechat_login(app, code).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.body
}

/// The caller of `token`, through /me.
pub(crate) async fn me(app: &TestApp, token: &str) -> Value {
    let res = checked(app.get("/api/v1/me", token).await).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.body
}

async fn user_by_openid(app: &TestApp, openid: &str) -> Option<entity::user::Model> {
    entity::user::Entity::find()
        .filter(entity::user::Column::WechatOpenid.eq(openid))
        .one(&app.state.db)
        .await
        .unwrap()
}

async fn wechat_user_count(app: &TestApp) -> u64 {
    entity::user::Entity::find()
        .filter(entity::user::Column::WechatOpenid.is_not_null())
        .count(&app.state.db)
        .await
        .unwrap()
}

/// Formats an error with its whole cause chain, as the log line would show it.
fn described(err: &AppError) -> String {
    let mut out = format!("{err} / {err:?}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        out.push_str(&format!(" / {s}"));
        source = s.source();
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Login
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn first_wechat_login_creates_an_account_whose_tokens_work() {
    let (app, fake) = spawn_with_fake().await;
    let pair = wechat_login_ok(&app, "user:openid-first").await;
    assert_eq!(pair["is_new_user"], true);
    assert_eq!(pair["token_type"], "Bearer");
    assert!(pair["expires_in"].as_i64().unwrap() > 0);
    assert!(pair["refresh_token"].is_string());
    assert_eq!(fake.session_calls(), 1);

    let me = me(&app, &token_of(&pair)).await;
    assert_eq!(me["display_name"], "微信用户");
    assert_eq!(me["username"], Value::Null);
    assert_eq!(me["is_superadmin"], false);
    assert_eq!(me["roles"], json!([]));
    let stored = user_by_openid(&app, "openid-first").await.unwrap();
    assert_eq!(stored.id.to_string(), me["id"].as_str().unwrap());
    assert!(stored.is_active && stored.password_hash.is_none());
    assert_eq!(stored.wechat_unionid, None);

    // The refresh token belongs to the usual rotating family.
    let res = app
        .request(Method::POST, "/api/v1/auth/refresh", None)
        .json(&json!({"refresh_token": pair["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn second_wechat_login_finds_the_same_account_and_keeps_the_unionid() {
    let (app, _fake) = spawn_with_fake().await;
    let first = wechat_login_ok(&app, "union:openid-again:unionid-again").await;
    assert_eq!(first["is_new_user"], true);
    let second = wechat_login_ok(&app, "user:openid-again").await;
    assert_eq!(second["is_new_user"], false);
    assert_eq!(
        me(&app, &token_of(&first)).await["id"],
        me(&app, &token_of(&second)).await["id"]
    );
    let stored = user_by_openid(&app, "openid-again").await.unwrap();
    assert_eq!(stored.wechat_unionid.as_deref(), Some("unionid-again"));
    assert_eq!(wechat_user_count(&app).await, 1);
}

#[tokio::test]
async fn a_unionid_that_appears_later_is_stored() {
    let (app, _fake) = spawn_with_fake().await;
    wechat_login_ok(&app, "user:openid-late").await;
    assert_eq!(
        user_by_openid(&app, "openid-late")
            .await
            .unwrap()
            .wechat_unionid,
        None
    );
    let again = wechat_login_ok(&app, "union:openid-late:unionid-late").await;
    assert_eq!(again["is_new_user"], false);
    assert_eq!(
        user_by_openid(&app, "openid-late")
            .await
            .unwrap()
            .wechat_unionid
            .as_deref(),
        Some("unionid-late")
    );
}

#[tokio::test]
async fn different_openids_get_different_accounts() {
    let (app, _fake) = spawn_with_fake().await;
    let a = wechat_login_ok(&app, "user:openid-one").await;
    let b = wechat_login_ok(&app, "user:openid-two").await;
    assert_eq!(b["is_new_user"], true);
    assert_ne!(
        me(&app, &token_of(&a)).await["id"],
        me(&app, &token_of(&b)).await["id"]
    );
}

#[tokio::test]
async fn concurrent_first_logins_of_one_openid_create_one_account() {
    let (app, _fake) = spawn_with_fake().await;
    let results = join_all((0..10).map(|_| wechat_login(&app, "user:openid-rush"))).await;
    let mut ids = HashSet::new();
    let mut new_users = 0;
    for r in &results {
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        if r.body["is_new_user"] == true {
            new_users += 1;
        }
        ids.insert(me(&app, &token_of(&r.body)).await["id"].clone());
    }
    assert_eq!(new_users, 1, "exactly one login created the account");
    assert_eq!(ids.len(), 1, "every login signed in the same account");
    assert_eq!(wechat_user_count(&app).await, 1);
}

#[tokio::test]
async fn a_deactivated_wechat_account_cannot_log_in() {
    use sea_orm::{ActiveModelTrait, Set};
    let (app, _fake) = spawn_with_fake().await;
    let pair = wechat_login_ok(&app, "user:openid-gone").await;
    let mut user: entity::user::ActiveModel =
        user_by_openid(&app, "openid-gone").await.unwrap().into();
    user.is_active = Set(false);
    user.update(&app.state.db).await.unwrap();

    let res = wechat_login_raw(&app, &json!({"code": "user:openid-gone"})).await;
    assert_problem(res, 401, "invalid_credentials").await;
    let res = app.get("/api/v1/me", &token_of(&pair)).await;
    assert_problem(res, 401, "invalid_token").await;
    assert_eq!(wechat_user_count(&app).await, 1, "no second account");
}

#[tokio::test]
async fn wechat_login_validates_the_body_before_calling_wechat() {
    let (app, fake) = spawn_with_fake().await;
    let cases = [
        (json!({"code": ""}), "validation_failed"),
        (json!({"code": "x".repeat(129)}), "validation_failed"),
        (json!({}), "invalid_body"),
        (json!({"code": 42}), "invalid_body"),
        (
            json!({"code": "user:openid-x", "openid": "someone-else"}),
            "invalid_body",
        ),
    ];
    for (body, code) in cases {
        let res = wechat_login_raw(&app, &body).await;
        let problem = assert_problem(res, 400, code).await;
        assert!(problem["errors"][0]["field"] == "code" || code == "invalid_body");
    }
    assert_eq!(fake.session_calls(), 0);
    // 128 characters is still accepted (and refused by WeChat as an unknown code).
    let res = wechat_login_raw(&app, &json!({"code": "x".repeat(128)})).await;
    assert_problem(res, 401, "wechat_code_invalid").await;
}

// ---------------------------------------------------------------------------------------------
// Login: every error the fake can return
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn wechat_errors_map_to_our_problems() {
    let (app, fake) = spawn_with_fake().await;
    let cases = [
        ("errcode:40029", 401, "wechat_code_invalid"),
        ("errcode:40163", 401, "wechat_code_invalid"),
        ("errcode:45011", 429, "rate_limited"),
        ("errcode:-1", 503, "service_unavailable"),
        ("http500", 503, "service_unavailable"),
        ("errcode:40226", 403, "wechat_user_blocked"),
        ("html", 502, "bad_gateway"),
        ("no-openid", 502, "bad_gateway"),
        ("errcode:99999", 502, "bad_gateway"),
    ];
    for (code, status, problem_code) in cases {
        let res = wechat_login(&app, code).await;
        assert_eq!(res.status.as_u16(), status, "{code}: {}", res.body);
        assert_eq!(res.body["code"], problem_code, "{code}: {}", res.body);
        assert_eq!(res.body["status"], status, "{code}");
        if status == 429 {
            assert_eq!(res.retry_after.as_deref(), Some("10"), "{code}");
        }
        if status == 503 || status == 429 {
            let secs: u64 = res.retry_after.as_deref().unwrap().parse().unwrap();
            assert!(secs >= 1, "{code}: Retry-After");
        }
        if status >= 500 {
            let detail = res.body["detail"].as_str().unwrap();
            assert!(
                !detail.contains("WeChat") && !detail.contains("errcode"),
                "{detail}"
            );
        }
    }
    assert_eq!(fake.session_calls(), cases.len());
    assert_eq!(
        wechat_user_count(&app).await,
        0,
        "no account from a failure"
    );
}

#[tokio::test]
async fn wechat_login_answers_503_when_wechat_is_too_slow() {
    let (app, _fake) = spawn_with_fake().await;
    let started = Instant::now();
    let res = wechat_login(&app, "slow:3000:openid-slow").await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{}", res.body);
    assert_eq!(res.body["code"], "service_unavailable");
    assert!(res.retry_after.is_some());
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "gave up after the 1 s timeout, not after WeChat answered ({:?})",
        started.elapsed()
    );
    // Within the timeout, slow is fine.
    let ok = wechat_login_ok(&app, "slow:100:openid-slowish").await;
    assert_eq!(ok["is_new_user"], true);
}

#[tokio::test]
async fn wechat_login_answers_503_when_wechat_is_unreachable() {
    // Nothing listens on port 1: the connection is refused. (A port bound and released here
    // could be taken meanwhile by another test's server, which then answers something else.)
    let app = spawn_app_with(|v| {
        v.insert("LINLI_WECHAT_APPID".into(), APPID.into());
        v.insert("LINLI_WECHAT_SECRET".into(), SECRET.into());
        v.insert("LINLI_WECHAT_API_BASE".into(), "http://127.0.0.1:1".into());
    })
    .await;
    let res = wechat_login(&app, "user:openid-x").await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{}", res.body);
    assert_eq!(res.body["code"], "service_unavailable");

    // The error (which is what gets logged) names neither the AppSecret nor the code.
    let err = app
        .state
        .wechat
        .jscode2session("user:openid-secret-code")
        .await
        .unwrap_err();
    let text = described(&err);
    assert!(matches!(err, AppError::Unavailable { .. }), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(!text.contains("openid-secret-code"), "{text}");
}

#[tokio::test]
async fn wechat_login_answers_503_when_wechat_is_not_configured() {
    let fake = start_fake().await;
    let url = fake.url.clone();
    let app = spawn_app_with(|v| {
        v.insert("LINLI_WECHAT_API_BASE".into(), url);
    })
    .await;
    let res = wechat_login_raw(&app, &json!({"code": "user:openid-x"})).await;
    assert_problem(res, 503, "service_unavailable").await;
    // Half a configuration is none.
    let url = fake.url.clone();
    let half = spawn_app_with(|v| {
        v.insert("LINLI_WECHAT_APPID".into(), APPID.into());
        v.insert("LINLI_WECHAT_API_BASE".into(), url);
    })
    .await;
    let res = wechat_login_raw(&half, &json!({"code": "user:openid-x"})).await;
    assert_problem(res, 503, "service_unavailable").await;
    assert!(matches!(
        half.state.wechat.access_token().await,
        Err(AppError::Unavailable { .. })
    ));
    assert_eq!(fake.session_calls() + fake.token_calls(), 0);
}

#[tokio::test]
async fn the_session_key_stays_on_the_server() {
    let (app, _fake) = spawn_with_fake().await;
    // The client gets it (it is WeChat's answer) but never shows it.
    let session = app
        .state
        .wechat
        .jscode2session("user:openid-key")
        .await
        .unwrap();
    assert_eq!(session.session_key.expose(), SESSION_KEY);
    assert!(!format!("{session:?}").contains(SESSION_KEY));
    // No body of a login answers it (every login of this file is checked the same way).
    let pair = wechat_login_ok(&app, "user:openid-key").await;
    me(&app, &token_of(&pair)).await;
}

// ---------------------------------------------------------------------------------------------
// Access token and phone number (no route uses them yet: the client is called directly)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn many_concurrent_callers_fetch_the_access_token_once() {
    let (app, fake) = spawn_with_fake().await;
    fake.state.token_delay_ms.store(200, Ordering::SeqCst);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let wechat = app.state.wechat.clone();
            tokio::spawn(async move { wechat.access_token().await })
        })
        .collect();
    let tokens: HashSet<String> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(fake.token_calls(), 1);
    // Later callers use the cached token.
    assert_eq!(
        app.state.wechat.access_token().await.unwrap(),
        *tokens.iter().next().unwrap()
    );
    assert_eq!(fake.token_calls(), 1);
}

#[tokio::test]
async fn two_clients_sharing_the_cache_fetch_the_access_token_once() {
    // Two clients are two processes' worth of in-process locks: only the lock in the cache
    // keeps them from both fetching.
    let (app, fake) = spawn_with_fake().await;
    fake.state.token_delay_ms.store(300, Ordering::SeqCst);
    let other = Arc::new(WeChatClient::new(&app.state.settings, app.state.cache.clone()).unwrap());
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let wechat = if i % 2 == 0 {
                app.state.wechat.clone()
            } else {
                other.clone()
            };
            tokio::spawn(async move { wechat.access_token().await })
        })
        .collect();
    let tokens: HashSet<String> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(fake.token_calls(), 1);
}

#[tokio::test]
async fn a_failed_token_fetch_is_reported_and_the_next_call_fetches_again() {
    let (app, fake) = spawn_with_fake().await;
    fake.state.token_failures.store(1, Ordering::SeqCst);
    let err = app.state.wechat.access_token().await.unwrap_err();
    assert!(matches!(err, AppError::Unavailable { .. }), "{err:?}");
    // The lock was released: the next caller fetches at once instead of waiting it out.
    let started = Instant::now();
    let token = app.state.wechat.access_token().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(token, "fake-token-2");
    assert_eq!(fake.token_calls(), 2);
}

#[tokio::test]
async fn a_rejected_access_token_is_refreshed_once_and_the_call_retried() {
    let (app, fake) = spawn_with_fake().await;
    let wechat = app.state.wechat.clone();
    assert_eq!(wechat.access_token().await.unwrap(), "fake-token-1");
    assert_eq!(
        wechat.get_phone_number("phone:13800138000").await.unwrap(),
        "13800138000"
    );
    assert_eq!((fake.token_calls(), fake.phone_calls()), (1, 1));

    fake.reject("fake-token-1");
    assert_eq!(
        wechat.get_phone_number("phone:13900139000").await.unwrap(),
        "13900139000"
    );
    assert_eq!(fake.token_calls(), 2, "exactly one refresh");
    assert_eq!(fake.phone_calls(), 3, "one rejected call, one retry");
    assert_eq!(wechat.access_token().await.unwrap(), "fake-token-2");

    // Many callers holding the same rejected token still cause one refresh.
    fake.state.token_delay_ms.store(200, Ordering::SeqCst);
    fake.reject("fake-token-2");
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let wechat = wechat.clone();
            tokio::spawn(async move {
                wechat
                    .get_phone_number(&format!("phone:1370000000{i}"))
                    .await
            })
        })
        .collect();
    for r in join_all(tasks).await {
        assert!(r.unwrap().unwrap().starts_with("1370000000"));
    }
    assert_eq!(
        fake.token_calls(),
        3,
        "one refresh for ten rejected callers"
    );
    assert_eq!(wechat.access_token().await.unwrap(), "fake-token-3");
}

#[tokio::test]
async fn a_token_rejected_again_after_the_refresh_is_not_retried_forever() {
    let (app, fake) = spawn_with_fake().await;
    let wechat = app.state.wechat.clone();
    wechat.access_token().await.unwrap();
    for n in 1..=5 {
        fake.reject(&format!("fake-token-{n}"));
    }
    let err = wechat
        .get_phone_number("phone:13800138000")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Unavailable { .. }), "{err:?}");
    assert_eq!(fake.token_calls(), 2);
    assert_eq!(fake.phone_calls(), 2);
}

#[tokio::test]
async fn phone_number_errors_map_like_login_errors() {
    let (app, _fake) = spawn_with_fake().await;
    let wechat = app.state.wechat.clone();
    type Expected = fn(&AppError) -> bool;
    let cases: [(&str, Expected); 5] = [
        ("errcode:40029", |e| {
            matches!(e, AppError::WeChatCodeInvalid)
        }),
        ("errcode:45011", |e| {
            matches!(e, AppError::RateLimited { .. })
        }),
        ("errcode:-1", |e| matches!(e, AppError::Unavailable { .. })),
        ("http500", |e| matches!(e, AppError::Unavailable { .. })),
        ("html", |e| matches!(e, AppError::BadGateway(_))),
    ];
    for (code, expected) in cases {
        let err = wechat.get_phone_number(code).await.unwrap_err();
        assert!(expected(&err), "{code}: {err:?}");
        assert!(
            !described(&err).contains("fake-token-"),
            "{code}: token in {err:?}"
        );
    }
}

#[tokio::test]
async fn a_second_replica_sharing_redis_reuses_the_access_token() {
    if redis_url().is_none() {
        eprintln!("skipped: TEST_REDIS_URL is not set");
        return;
    }
    let (app, fake) = spawn_with_fake().await;
    let token = app.state.wechat.access_token().await.unwrap();
    let replica = start(app.vars.clone()).await;
    assert_eq!(replica.state.wechat.access_token().await.unwrap(), token);
    assert_eq!(fake.token_calls(), 1);

    // When the token is rejected, the replicas refresh it once between them.
    fake.state.token_delay_ms.store(200, Ordering::SeqCst);
    fake.reject(&token);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let wechat = if i % 2 == 0 {
                app.state.wechat.clone()
            } else {
                replica.state.wechat.clone()
            };
            tokio::spawn(async move { wechat.get_phone_number("phone:13800138000").await })
        })
        .collect();
    for r in join_all(tasks).await {
        assert_eq!(r.unwrap().unwrap(), "13800138000");
    }
    assert_eq!(fake.token_calls(), 2);

    // And a login through the replica finds the account the first one created.
    let first = wechat_login_ok(&app, "user:openid-replicas").await;
    let again = wechat_login_ok(&replica, "user:openid-replicas").await;
    assert_eq!(again["is_new_user"], false);
    assert_eq!(
        me(&app, &token_of(&first)).await["id"],
        me(&replica, &token_of(&again)).await["id"]
    );
}

#[tokio::test]
async fn wechat_login_attempts_are_limited_per_address() {
    let fake = start_fake().await;
    let url = fake.url.clone();
    let app = spawn_app_with(|v| {
        v.insert("LINLI_WECHAT_APPID".into(), APPID.into());
        v.insert("LINLI_WECHAT_SECRET".into(), SECRET.into());
        v.insert("LINLI_WECHAT_API_BASE".into(), url);
        v.insert("LINLI_WECHAT_LOGIN_MAX_PER_IP".into(), "3".into());
    })
    .await;
    for _ in 0..3 {
        let res = wechat_login(&app, "bogus").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    let res = wechat_login(&app, "user:o-limited").await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(res.retry_after.is_some());
    assert_eq!(res.body["code"], "rate_limited");
    assert_eq!(
        fake.session_calls(),
        3,
        "the refused attempt never reached WeChat"
    );
}
