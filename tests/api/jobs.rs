//! Housekeeping removes what can no longer be used, and nothing else.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn housekeeping_removes_expired_idempotency_keys_and_dead_refresh_tokens_only() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let res = app
        .request(Method::POST, "/api/v1/streets", Some(&token))
        .header("Idempotency-Key", "k1")
        .json(&json!({"name": "街"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let pair = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    // Spend one refresh token and revoke a family by logging out.
    let res = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": pair["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let live = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let res = app
        .request(Method::POST, "/api/v1/auth/logout", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let count_keys = || entity::idempotency_key::Entity::find().count(&app.state.db);
    let count_tokens = || entity::refresh_token::Entity::find().count(&app.state.db);
    let tokens_before = count_tokens().await.unwrap();

    // Nothing has expired yet.
    let done = linli::app::jobs::housekeeping(&app.state).await.unwrap();
    assert_eq!(done, linli::app::jobs::Housekeeping::default());

    // A day and more later: the key has expired, the revoked family is old enough to go.
    app.clock.advance(Duration::hours(49));
    let done = linli::app::jobs::housekeeping(&app.state).await.unwrap();
    assert_eq!(done.idempotency_keys, 1);
    assert_eq!(count_keys().await.unwrap(), 0);
    assert!(done.refresh_tokens >= 1);
    assert_eq!(
        count_tokens().await.unwrap(),
        tokens_before - done.refresh_tokens
    );

    // The live session's refresh token survived and still works.
    let res = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": live["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
