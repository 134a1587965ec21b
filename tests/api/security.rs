//! Security hardening: each test here reproduces a finding of the pre-go-live review (the
//! numbers in the comments are the review's) and fails without its fix.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn count_streets(app: &TestApp, token: &str) -> usize {
    let v: Value = app
        .get("/api/v1/streets?limit=100", token)
        .await
        .json()
        .await
        .unwrap();
    v["items"].as_array().unwrap().len()
}

// 10. `Authorization: BEARER <token>` authenticates (the scheme is case-insensitive), so the
// idempotency store must see the same caller and replay a retry instead of creating twice.
#[tokio::test]
async fn an_upper_case_bearer_scheme_still_replays_an_idempotent_post() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    for scheme in ["BEARER", "bearer", "BeArEr"] {
        let key = format!("key-{scheme}");
        let name = format!("{scheme}街道");
        let mut statuses = Vec::new();
        for _ in 0..2 {
            let res = app
                .client
                .post(app.url("/api/v1/streets"))
                .header("Authorization", format!("{scheme} {token}"))
                .header("Idempotency-Key", &key)
                .json(&json!({ "name": name }))
                .send()
                .await
                .unwrap();
            statuses.push((
                res.status(),
                res.headers().get("idempotent-replayed").cloned(),
            ));
        }
        assert_eq!(statuses[0].0, StatusCode::CREATED, "{scheme}");
        assert_eq!(statuses[1].0, StatusCode::CREATED, "{scheme}");
        assert_eq!(
            statuses[1].1.as_ref().and_then(|v| v.to_str().ok()),
            Some("true"),
            "{scheme}: the retry is a replay"
        );
    }
    assert_eq!(count_streets(&app, &token).await, 3);
}

// Low: the idempotency fingerprint covers the query string too.
#[tokio::test]
async fn the_same_key_with_another_query_string_is_not_a_replay() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let send = |q: &'static str| {
        app.request(Method::POST, &format!("/api/v1/streets{q}"), Some(&token))
            .header("Idempotency-Key", "query-key")
            .json(&json!({"name": "查询街道"}))
            .send()
    };
    let first = send("?a=1").await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let second = send("?a=2").await.unwrap();
    assert_problem(second, 422, "idempotency_key_reused").await;
}

use crate::operations::METRICS_TOKEN;

async fn metrics_text(app: &TestApp) -> String {
    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.text().await.unwrap()
}

// 6. `/metrics` is served only to the operator's token, and no request can add label values.
#[tokio::test]
async fn metrics_need_the_token_and_are_off_without_one() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_problem(res, 404, "not_found").await;

    let app = spawn_app_with(|v| {
        v.insert("LINLI_METRICS_TOKEN".into(), METRICS_TOKEN.into());
    })
    .await;
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_problem(res, 401, "unauthorized").await;
    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("metrics-token-for-the-testz")
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "unauthorized").await;
    // A user's access token is not the metrics token.
    let token = app.admin_token().await;
    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "unauthorized").await;
    metrics_text(&app).await;
}

#[tokio::test]
async fn made_up_methods_and_paths_do_not_grow_the_metrics() {
    let app = spawn_app_with(|v| {
        v.insert("LINLI_METRICS_TOKEN".into(), METRICS_TOKEN.into());
    })
    .await;
    for i in 0..300 {
        let method = Method::from_bytes(format!("M{i}X").as_bytes()).unwrap();
        app.client
            .request(method, app.url(&format!("/nowhere/{i}")))
            .send()
            .await
            .unwrap();
        app.client
            .get(app.url(&format!("/api/v1/streets/{i}/x{i}")))
            .send()
            .await
            .unwrap();
    }
    let text = metrics_text(&app).await;
    let series = text
        .lines()
        .filter(|l| l.starts_with("linli_http_requests_total{"))
        .count();
    assert!(
        series < 10,
        "{series} series after 600 odd requests:\n{text}"
    );
    assert!(!text.contains("M1X"), "{text}");
    assert!(text.contains(r#"method="other""#), "{text}");
}
