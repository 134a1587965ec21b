//! Every rejection is problem+json with a stable code; 5xx reveal nothing.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use sea_orm::TransactionTrait;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn malformed_json_is_400_malformed_json() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "malformed_json").await;
}

#[tokio::test]
async fn unknown_field_is_400_naming_the_field() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "a", "password": "b", "role": "admin"}))
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, 400, "invalid_body").await;
    assert_eq!(body["errors"][0]["field"], "role");
    assert_eq!(body["errors"][0]["code"], "unknown_field");
}

#[tokio::test]
async fn wrong_type_and_missing_field_are_400_invalid_body() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": 5, "password": "b"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_body").await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "a"}))
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, 400, "invalid_body").await;
    assert_eq!(body["errors"][0]["field"], "password");
    assert_eq!(body["errors"][0]["code"], "required");
}

#[tokio::test]
async fn bad_path_and_query_parameters_are_400() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let res = app.get("/api/v1/streets/not-a-uuid", &token).await;
    assert_problem(res, 400, "invalid_path").await;
    let res = app.get("/api/v1/streets?limit=many", &token).await;
    assert_problem(res, 400, "invalid_query").await;
    let res = app.get("/api/v1/streets?colour=red", &token).await;
    assert_problem(res, 400, "invalid_query").await;
}

#[tokio::test]
async fn unknown_routes_are_404_problem() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/api/v1/nothing-here",
        "/api/v2/streets",
        "/api/v1/streets/x/y",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_problem(res, 404, "not_found").await;
    }
}

#[tokio::test]
async fn wrong_methods_are_405_problem_with_allow() {
    let app = spawn_app().await;
    let res = app
        .request(Method::PUT, "/api/v1/streets", None)
        .send()
        .await
        .unwrap();
    let allow = res.headers()["allow"].to_str().unwrap().to_string();
    assert_problem(res, 405, "method_not_allowed").await;
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");

    let res = app
        .request(Method::GET, "/api/v1/auth/login", None)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["allow"], "POST");
    assert_problem(res, 405, "method_not_allowed").await;

    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/streets/{}", uuid::Uuid::now_v7()),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_problem(res, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn a_literal_segment_names_its_own_route_not_an_id() {
    // `/residents/import` is not `/residents/{id}` with id "import": another method there is a
    // 405 naming that route's methods, not a 400 about a malformed id.
    let app = spawn_app().await;
    let token = app.admin_token().await;
    for (method, path, allow) in [
        (Method::PATCH, "/api/v1/residents/import", "POST"),
        (Method::DELETE, "/api/v1/residents/import", "POST"),
        (Method::GET, "/api/v1/residents/import", "POST"),
        (Method::PATCH, "/api/v1/residents/stats", "GET"),
        (Method::DELETE, "/api/v1/residents/export", "GET"),
        (Method::POST, "/api/v1/residents/stats", "GET"),
        (Method::OPTIONS, "/api/v1/residents/export", "GET"),
        (Method::PUT, "/api/v1/tickets/stats", "GET"),
    ] {
        let res = app
            .request(method.clone(), path, Some(&token))
            .send()
            .await
            .unwrap();
        let got = res
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(got.as_deref(), Some(allow), "{method} {path}");
        assert_problem(res, 405, "method_not_allowed").await;
    }
    // A malformed id on the templated route itself is still a 400.
    let res = app
        .request(Method::PATCH, "/api/v1/residents/not-an-id", Some(&token))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_path").await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = spawn_app().await;
    let big = "x".repeat(70 * 1024);
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": big, "password": "p"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 413, "payload_too_large").await;
}

#[tokio::test]
async fn non_json_content_type_is_415() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "text/plain")
        .body(r#"{"username":"a","password":"b"}"#)
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn exhausted_pool_answers_503_with_retry_after_and_leaks_nothing() {
    let app = spawn_app_with(|v| {
        v.insert("LINLI_DB_MAX_CONNECTIONS".into(), "1".into());
        v.insert("LINLI_DB_ACQUIRE_TIMEOUT_MS".into(), "300".into());
    })
    .await;
    let token = app.admin_token().await;
    // Hold the only connection of every pool: on PostgreSQL requests use their worker's own.
    let mut held = vec![app.state.db.begin().await.unwrap()];
    for pool in app.state.worker_pools.all() {
        held.push(pool.begin().await.unwrap());
    }
    assert_eq!(
        held.len(),
        if using_postgres() { 2 } else { 1 },
        "one worker, so one pool of its own on PostgreSQL"
    );
    let res = app
        .request(Method::GET, "/api/v1/streets", Some(&token))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("answered instead of hanging");
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    let body = assert_problem(res, 503, "service_unavailable").await;
    let text = body.to_string().to_lowercase();
    for leak in [
        "sqlx",
        "pool",
        "select",
        "sqlite",
        "postgres",
        "timed out",
        ".rs",
    ] {
        assert!(!text.contains(leak), "503 body leaks {leak:?}: {text}");
    }
    let res = app
        .client
        .get(app.url("/ready"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_problem(res, 503, "service_unavailable").await;
    for txn in held {
        txn.rollback().await.unwrap();
    }
    // And it recovers.
    let res = app.get("/api/v1/streets", &token).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_lost_database_connection_answers_503_then_recovers() {
    if !using_postgres() {
        eprintln!("skipped: needs TEST_DATABASE_URL (PostgreSQL)");
        return;
    }
    use sea_orm::{ConnectionTrait, Database};
    let app = spawn_app_with(|v| {
        v.insert("LINLI_DB_MAX_CONNECTIONS".into(), "1".into());
    })
    .await;
    let token = app.admin_token().await;
    // Kill the server side of every connection of the app's database, as a PostgreSQL restart
    // or a network cut would.
    let url = app.vars["DATABASE_URL"].clone();
    let db_name = url.rsplit('/').next().unwrap().to_string();
    let admin = Database::connect(std::env::var("TEST_DATABASE_URL").unwrap().as_str())
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{db_name}' AND pid <> pg_backend_pid()"
        ))
        .await
        .unwrap();
    let res = app
        .request(Method::GET, "/api/v1/streets", Some(&token))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, 503, "service_unavailable").await;
    assert!(!body.to_string().contains("terminating"), "{body}");
    // The pool drops the dead connection and opens a new one.
    let res = app.get("/api/v1/streets", &token).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn problems_are_chinese_by_default_and_english_on_request() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let path = format!("/api/v1/streets/{}", uuid::Uuid::now_v7());
    let zh = app.get(&path, &token).await;
    assert_eq!(zh.headers()["content-language"], "zh-CN");
    assert!(zh.headers()["vary"]
        .to_str()
        .unwrap()
        .contains("Accept-Language"));
    let zh = assert_problem(zh, 404, "not_found").await;
    assert_eq!(zh["detail"], "没有找到，或您无权查看");

    for header in ["en", "en-US,en;q=0.9", "zh;q=0.1, en;q=0.8"] {
        let en = app
            .request(Method::GET, &path, Some(&token))
            .header("accept-language", header)
            .send()
            .await
            .unwrap();
        assert_eq!(en.headers()["content-language"], "en", "{header}");
        let en = assert_problem(en, 404, "not_found").await;
        assert_eq!(en["detail"], "not found", "{header}");
        assert_eq!(en["title"], "Not found", "{header}");
    }

    // Field messages follow the same choice; the codes do not change with the language.
    let long = "长".repeat(51);
    let path = format!("/api/v1/users?q={long}");
    let zh = assert_problem(app.get(&path, &token).await, 400, "invalid_query").await;
    assert_eq!(zh["errors"][0]["code"], "too_long");
    assert_eq!(zh["errors"][0]["limit"], 50);
    assert_eq!(zh["errors"][0]["message"], "不能超过 50 个字");
    let en = app
        .request(Method::GET, &path, Some(&token))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let en = assert_problem(en, 400, "invalid_query").await;
    assert_eq!(en["errors"][0]["code"], "too_long");
    assert_eq!(en["errors"][0]["message"], "at most 50 characters");
}
