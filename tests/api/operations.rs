use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn health_answers_ok() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn ready_answers_ok_when_database_and_cache_answer() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_echoes_a_given_one() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/health")).send().await.unwrap();
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(!generated.is_empty());

    let res = app
        .client
        .get(app.url("/nowhere"))
        .header("x-request-id", "client-chosen-id-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "client-chosen-id-42");
    let body = assert_problem(res, 404, "not_found").await;
    assert_eq!(body["request_id"], "client-chosen-id-42");

    // An unusable id (too long, odd characters) is replaced, not echoed.
    let res = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "bad id with spaces");
}

pub const METRICS_TOKEN: &str = "metrics-token-for-the-tests";

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app_with(|v| {
        v.insert("LINLI_METRICS_TOKEN".into(), METRICS_TOKEN.into());
    })
    .await;
    for _ in 0..3 {
        app.client.get(app.url("/health")).send().await.unwrap();
    }
    app.client
        .get(app.url("/api/v1/streets"))
        .send()
        .await
        .unwrap();
    let text = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#"linli_http_requests_total{method="GET",route="/health",status="200"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"linli_http_requests_total{method="GET",route="/api/v1/streets",status="401"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains("linli_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    assert!(!html.contains("cdn"), "no CDN references");
    let res = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
}

#[tokio::test]
async fn served_spec_is_the_committed_file() {
    let app = spawn_app().await;
    let served = app
        .client
        .get(app.url("/api-docs/openapi.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap();
    assert!(
        served == committed,
        "the served spec differs from openapi/openapi.json"
    );
}

/// The workers route with actix's own config, the spec is collected with utoipa's (`Routes`):
/// every operation the spec declares must reach its handler on the running server, which
/// without a token answers 401 (the fallback would answer 404 or 405).
#[tokio::test]
async fn every_operation_of_the_spec_is_routed_to_its_handler() {
    let app = spawn_app().await;
    let spec: Value = serde_json::from_str(linli::SERVED_SPEC).unwrap();
    let nil = "00000000-0000-0000-0000-000000000000";
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op["security"] != serde_json::json!([{"bearer": []}]) {
                continue;
            }
            let mut url = path.clone();
            for name in ["id", "voter_key", "variant", "community_id", "user_id"] {
                url = url.replace(&format!("{{{name}}}"), nil);
            }
            assert!(
                !url.contains('{'),
                "{path}: a path parameter this test does not fill"
            );
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = app
                .client
                .request(method.clone(), app.url(&url))
                .send()
                .await
                .unwrap();
            assert_eq!(
                res.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {url} did not reach its handler"
            );
            checked += 1;
        }
    }
    assert!(checked > 250, "only {checked} operations checked");
}
