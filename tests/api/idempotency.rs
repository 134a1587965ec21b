//! Creating POSTs honour `Idempotency-Key`.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn post_with_key(
    app: &TestApp,
    token: &str,
    path: &str,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    app.request(Method::POST, path, Some(token))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn count_streets(app: &TestApp, token: &str) -> usize {
    let v: Value = app
        .get("/api/v1/streets?limit=100", token)
        .await
        .json()
        .await
        .unwrap();
    v["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_retry_with_the_same_key_returns_the_first_response_and_creates_nothing() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let body = json!({"name": "紫阳街道"});
    let first = post_with_key(&app, &token, "/api/v1/streets", "key-1", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let location = first.headers()["location"].clone();
    let first: Value = first.json().await.unwrap();

    let again = post_with_key(&app, &token, "/api/v1/streets", "key-1", &body).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["location"], location);
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again);
    assert_eq!(count_streets(&app, &token).await, 1);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let res = post_with_key(&app, &token, "/api/v1/streets", "k", &json!({"name": "一"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = post_with_key(&app, &token, "/api/v1/streets", "k", &json!({"name": "二"})).await;
    assert_problem(res, 422, "idempotency_key_reused").await;
    assert_eq!(count_streets(&app, &token).await, 1);
}

#[tokio::test]
async fn concurrent_posts_with_one_key_create_one_object() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let body = json!({"name": "并发街道"});
    let responses = join_all(
        (0..20).map(|_| post_with_key(&app, &token, "/api/v1/streets", "same-key", &body)),
    )
    .await;
    let mut ids = std::collections::BTreeSet::new();
    for res in responses {
        assert_eq!(res.status(), StatusCode::CREATED);
        let v: Value = res.json().await.unwrap();
        ids.insert(v["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1, "every response names the same street");
    assert_eq!(count_streets(&app, &token).await, 1);
}

#[tokio::test]
async fn a_failed_request_is_not_remembered_and_keys_are_per_user() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let res = post_with_key(&app, &token, "/api/v1/streets", "k", &json!({"name": " "})).await;
    assert_problem(res, 400, "validation_failed").await;
    let res = post_with_key(&app, &token, "/api/v1/streets", "k", &json!({"name": "好"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // Another user's identical key is theirs alone.
    let street = id_of(&res.json().await.unwrap());
    let other = app
        .user_with_role(&token, "other-admin", "admin", "street", street)
        .await;
    let res = post_with_key(
        &app,
        &other,
        "/api/v1/communities",
        "k",
        &json!({"street_id": street, "name": "社区"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(res.headers().get("idempotent-replayed").is_none());
}

#[tokio::test]
async fn an_overlong_key_is_400() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let res = post_with_key(
        &app,
        &token,
        "/api/v1/streets",
        &"k".repeat(300),
        &json!({"name": "x"}),
    )
    .await;
    assert_problem(res, 400, "validation_failed").await;
}

#[tokio::test]
async fn a_reveal_is_never_stored_or_replayed() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let t = small_territory(&app, &token, "揭").await;
    let rid = app
        .create(
            &token,
            "residents",
            json!({"household_id": t.household, "name": "甲", "phone": "13712345678"}),
        )
        .await;
    let body = json!({"field": "phone", "purpose": "核对"});
    for _ in 0..2 {
        let res = post_with_key(
            &app,
            &token,
            &format!("/api/v1/residents/{rid}/reveal"),
            "r1",
            &body,
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers().get("idempotent-replayed").is_none());
    }
    use sea_orm::{EntityTrait, PaginatorTrait};
    let stored = entity::idempotency_key::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(stored, 0, "reveals are not remembered");
    let events: Value = app
        .get(&format!("/api/v1/audit-events?resident_id={rid}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "reveal")
            .count(),
        2,
        "each reveal audited"
    );
}

#[tokio::test]
async fn a_revoked_token_cannot_replay_a_stored_response() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let body = json!({"name": "撤销街道"});
    let res = post_with_key(&app, &token, "/api/v1/streets", "k-revoked", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .request(Method::POST, "/api/v1/auth/logout", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = post_with_key(&app, &token, "/api/v1/streets", "k-revoked", &body).await;
    assert_problem(res, 401, "invalid_token").await;
}

#[tokio::test]
async fn token_responses_are_never_stored_even_with_a_key_and_a_bearer() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let pair = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let res = post_with_key(
        &app,
        &token,
        "/api/v1/auth/refresh",
        "refresh-key",
        &json!({"refresh_token": pair["refresh_token"]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    use sea_orm::{EntityTrait, PaginatorTrait};
    let stored = entity::idempotency_key::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn a_retry_after_the_object_was_deleted_is_409_not_a_replay_of_it() {
    // Replaying the 201 would hand out a Location that names nothing.
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let body = json!({"name": "临时街道"});
    let first = post_with_key(&app, &token, "/api/v1/streets", "key-gone", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let location = first.headers()["location"].to_str().unwrap().to_string();
    let res = app.delete(&location, &token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let again = post_with_key(&app, &token, "/api/v1/streets", "key-gone", &body).await;
    assert!(again.headers().get("location").is_none());
    let problem = assert_problem(again, 409, "conflict").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("已被删除"),
        "{problem}"
    );
    assert_eq!(count_streets(&app, &token).await, 0);
    // A new key creates it again; other keys' replays are untouched.
    let other = post_with_key(&app, &token, "/api/v1/streets", "key-new", &body).await;
    assert_eq!(other.status(), StatusCode::CREATED);
    let replay = post_with_key(&app, &token, "/api/v1/streets", "key-new", &body).await;
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
}
