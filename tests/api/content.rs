//! The content check (§0.3) over HTTP: a WeChat resident's text goes to WeChat's msgSecCheck
//! (the fake in `wechat.rs`) with their own openid; staff without WeChat go through their
//! street's keyword list; WeChat down, failing or slow keeps the text for review in bounded
//! time; and the keyword list is kept per street, normalised and within the caller's scope.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::ticket_world::{member, uname};
use crate::wechat::{me, spawn_with_fake, wechat_login_ok, Fake};

struct Setup {
    app: TestApp,
    fake: Fake,
    admin: String,
    t: Territory,
    /// A resident signed in with WeChat, of the territory's household.
    wx: String,
    openid: String,
    /// Community staff with a password (no WeChat).
    staff: String,
}

async fn setup(tag: &str) -> Setup {
    let (app, fake) = spawn_with_fake().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, tag).await;
    let openid = format!("o-{}", uname("wx"));
    let wx = token_of(&wechat_login_ok(&app, &format!("user:{openid}")).await);
    let wx_id: Uuid = me(&app, &wx).await["id"].as_str().unwrap().parse().unwrap();
    app.grant(&admin, wx_id, "resident", "household", t.household)
        .await;
    let (staff, _) = member(
        &app,
        &admin,
        &uname("cs"),
        "community_staff",
        "community",
        t.community,
    )
    .await;
    Setup {
        app,
        fake,
        admin,
        t,
        wx,
        openid,
        staff,
    }
}

/// POST /content-check as `token`; asserts 200 and returns `(verdict, label)`.
async fn check(app: &TestApp, token: &str, body: Value) -> (String, Value) {
    let res = app.post("/api/v1/content-check", token, &body).await;
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{v}");
    (
        v["verdict"].as_str().unwrap().to_string(),
        v["label"].clone(),
    )
}

async fn add_word(app: &TestApp, token: &str, street: Uuid, word: &str, verdict: &str) -> Value {
    let res = app
        .post(
            "/api/v1/content-keywords",
            token,
            &json!({"street_id": street, "word": word, "verdict": verdict}),
        )
        .await;
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

#[tokio::test]
async fn a_wechat_resident_s_text_is_checked_by_wechat_with_their_own_openid() {
    let s = setup("内容甲").await;
    let street = s.t.street;
    let body = |text: &str| json!({"street_id": street, "body": text});

    assert_eq!(
        check(&s.app, &s.wx, body("楼下的桂花开了")).await,
        ("pass".to_string(), Value::Null)
    );
    assert_eq!(
        check(&s.app, &s.wx, body("便宜卖房 [review]")).await,
        ("review".to_string(), json!("ad"))
    );
    assert_eq!(
        check(&s.app, &s.wx, body("[risky] 的话")).await,
        ("risky".to_string(), json!("politics"))
    );
    let (verdict, _) = check(
        &s.app,
        &s.wx,
        json!({"street_id": street, "title": "标题 [risky]", "body": "正文", "scene": "comment"}),
    )
    .await;
    assert_eq!(verdict, "risky");

    let calls = s.fake.sec_checks();
    assert_eq!(calls.len(), 4, "{calls:?}");
    for c in &calls {
        assert_eq!(
            c["openid"],
            s.openid.as_str(),
            "the author's openid is sent"
        );
        assert_eq!(c["version"], 2);
    }
    assert_eq!(
        calls[0]["scene"], 3,
        "forum unless the caller names a scene"
    );
    assert_eq!(calls[3]["scene"], 2);
    assert_eq!(calls[3]["title"], "标题 [risky]");
    assert!(calls[0]["title"].is_null());
}

#[tokio::test]
async fn wechat_down_failing_or_slow_keeps_the_text_for_review_in_bounded_time() {
    let s = setup("内容乙").await;
    let street = s.t.street;
    for text in ["[down] 正文", "[errcode] 正文"] {
        assert_eq!(
            check(&s.app, &s.wx, json!({"street_id": street, "body": text})).await,
            ("review".to_string(), json!("check_unavailable")),
            "{text}"
        );
    }
    // The fake answers after 3 s; the app waits 1 s (LINLI_WECHAT_TIMEOUT_MS=1000).
    let started = Instant::now();
    assert_eq!(
        check(
            &s.app,
            &s.wx,
            json!({"street_id": street, "body": "[slow] 正文"})
        )
        .await,
        ("review".to_string(), json!("check_unavailable"))
    );
    let took = started.elapsed();
    assert!(took < Duration::from_millis(2500), "took {took:?}");
    assert_eq!(s.fake.sec_checks().len(), 3);
}

#[tokio::test]
async fn a_long_text_is_checked_in_pieces_and_the_worst_piece_decides() {
    let s = setup("内容丙").await;
    let text = format!("{}[risky]", "邻".repeat(6000));
    let (verdict, label) = check(
        &s.app,
        &s.wx,
        json!({"street_id": s.t.street, "title": "长文", "body": text}),
    )
    .await;
    assert_eq!((verdict.as_str(), label), ("risky", json!("politics")));
    let calls = s.fake.sec_checks();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(calls.iter().all(|c| c["chars"].as_u64().unwrap() <= 2500));
    assert_eq!(
        calls.iter().filter(|c| c["title"] == "长文").count(),
        1,
        "the title goes with one piece"
    );
}

#[tokio::test]
async fn staff_text_goes_through_the_street_list_and_never_to_wechat() {
    let s = setup("内容丁").await;
    let street = s.t.street;
    add_word(&s.app, &s.staff, street, "敏 感", "review").await;
    add_word(&s.app, &s.admin, street, "Ｆｏｒｂｉｄ", "risky").await;
    let body = |text: &str| json!({"street_id": street, "body": text});

    let res = s
        .app
        .post("/api/v1/content-check", &s.staff, &body("这里有敏-感词"))
        .await;
    let text = res.text().await.unwrap();
    assert!(
        !text.contains('敏'),
        "the answer never names the word: {text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (&v["verdict"], &v["label"]),
        (&json!("review"), &json!("keyword"))
    );
    assert_eq!(
        check(&s.app, &s.staff, body("这里有敏感词")).await.0,
        "review"
    );
    assert_eq!(
        check(&s.app, &s.staff, body("please f o r b i d")).await,
        ("risky".to_string(), json!("keyword"))
    );
    assert_eq!(
        check(
            &s.app,
            &s.staff,
            json!({"street_id": street, "title": "敏感", "body": "正文"})
        )
        .await
        .0,
        "review",
        "the title is checked too"
    );
    assert_eq!(
        check(&s.app, &s.staff, body("敏捷地感谢大家")).await,
        ("pass".to_string(), Value::Null)
    );
    // Markers the fake would refuse mean nothing to the list.
    assert_eq!(check(&s.app, &s.staff, body("[risky]")).await.0, "pass");
    assert!(s.fake.sec_checks().is_empty(), "no text went to WeChat");

    // Another street's list does not apply.
    let other = small_territory(&s.app, &s.admin, "内容丁二").await;
    assert_eq!(
        check(
            &s.app,
            &s.admin,
            json!({"street_id": other.street, "body": "敏感"})
        )
        .await
        .0,
        "pass"
    );
}

#[tokio::test]
async fn keywords_are_kept_per_street_normalised_within_scope() {
    let s = setup("内容戊").await;
    let street = s.t.street;
    let w = add_word(&s.app, &s.staff, street, "  敏   感\u{3000}", "review").await;
    assert_eq!(w["word"], "敏 感");
    assert_eq!(w["verdict"], "review");
    assert_eq!(w["street_id"], street.to_string());
    let id = id_of(&w);

    // The same word however spaced or cased is a duplicate.
    let dup = s
        .app
        .post(
            "/api/v1/content-keywords",
            &s.admin,
            &json!({"street_id": street, "word": "敏 感", "verdict": "risky"}),
        )
        .await;
    assert_problem(dup, 409, "already_exists").await;

    for (word, code) in [
        ("，。 、", "invalid"),
        ("", "required"),
        ("字字字字字字字字字字字字字字字字字字字字字", "too_long"),
    ] {
        let res = s
            .app
            .post(
                "/api/v1/content-keywords",
                &s.staff,
                &json!({"street_id": street, "word": word, "verdict": "review"}),
            )
            .await;
        let p = assert_problem(res, 400, "validation_failed").await;
        assert_eq!(p["errors"][0]["code"], code, "{word}: {p}");
    }
    let res = s
        .app
        .post(
            "/api/v1/content-keywords",
            &s.staff,
            &json!({"street_id": street, "word": "词", "verdict": "review", "created_by": Uuid::now_v7()}),
        )
        .await;
    assert_problem(res, 400, "invalid_body").await;

    // No such street: nothing to add to, nothing to check against.
    let res = s
        .app
        .post(
            "/api/v1/content-keywords",
            &s.admin,
            &json!({"street_id": Uuid::now_v7(), "word": "词", "verdict": "review"}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = s
        .app
        .post(
            "/api/v1/content-check",
            &s.admin,
            &json!({"street_id": Uuid::now_v7(), "body": "词"}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;

    // A page, oldest first, then the next.
    add_word(&s.app, &s.staff, street, "乙", "risky").await;
    add_word(&s.app, &s.staff, street, "丙", "review").await;
    let list = |q: String| {
        let app = &s.app;
        let token = s.staff.clone();
        async move {
            let res = app
                .get(&format!("/api/v1/content-keywords?{q}"), &token)
                .await;
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Value>().await.unwrap()
        }
    };
    let first = list(format!("street_id={street}&limit=2")).await;
    let words: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["word"].as_str().unwrap())
        .collect();
    assert_eq!(words, ["敏 感", "乙"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = list(format!("street_id={street}&limit=2&cursor={cursor}")).await;
    assert_eq!(second["items"][0]["word"], "丙");
    assert!(second["next_cursor"].is_null());

    // Staff of another street see nothing of this one; a resident of it may not keep it.
    let other = small_territory(&s.app, &s.admin, "内容戊二").await;
    let (stranger, _) = member(
        &s.app,
        &s.admin,
        &uname("cs"),
        "community_staff",
        "community",
        other.community,
    )
    .await;
    let path = format!("/api/v1/content-keywords/{id}");
    assert_problem(s.app.delete(&path, &stranger).await, 404, "not_found").await;
    assert_problem(
        s.app
            .get(
                &format!("/api/v1/content-keywords?street_id={street}"),
                &stranger,
            )
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(s.app.delete(&path, &s.wx).await, 403, "forbidden").await;
    let res = s
        .app
        .post(
            "/api/v1/content-check",
            &stranger,
            &json!({"street_id": street, "body": "你好"}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;

    // Removed: the word no longer matches, and a second removal finds nothing.
    assert_eq!(
        s.app.delete(&path, &s.staff).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(s.app.delete(&path, &s.staff).await, 404, "not_found").await;
    assert_eq!(
        check(
            &s.app,
            &s.staff,
            json!({"street_id": street, "body": "敏感"})
        )
        .await
        .0,
        "pass"
    );
}

#[tokio::test]
async fn content_check_validates_its_body() {
    let s = setup("内容己").await;
    let street = s.t.street;
    let res = s
        .app
        .post(
            "/api/v1/content-check",
            &s.staff,
            &json!({"street_id": street, "body": "  "}),
        )
        .await;
    let p = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "body");
    let res = s
        .app
        .post(
            "/api/v1/content-check",
            &s.staff,
            &json!({"street_id": street, "body": "x".repeat(10_001)}),
        )
        .await;
    let p = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(p["errors"][0]["code"], "too_long");
    let res = s
        .app
        .post(
            "/api/v1/content-check",
            &s.staff,
            &json!({"street_id": street, "body": "你好", "scene": "chat"}),
        )
        .await;
    assert_problem(res, 400, "invalid_body").await;
    assert!(s.fake.sec_checks().is_empty());
}

#[tokio::test]
async fn a_check_with_an_access_token_wechat_rejects_refreshes_it_once() {
    let s = setup("内容庚").await;
    let body = json!({"street_id": s.t.street, "body": "你好"});
    assert_eq!(check(&s.app, &s.wx, body.clone()).await.0, "pass");
    assert_eq!(s.fake.token_calls(), 1);
    s.fake.reject("fake-token-1");
    assert_eq!(check(&s.app, &s.wx, body).await.0, "pass");
    assert_eq!(s.fake.token_calls(), 2, "one refresh");
    assert_eq!(
        s.fake.sec_checks().len(),
        2,
        "the rejected call is not recorded"
    );
}
