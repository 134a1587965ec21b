//! The caller is kept in memory under its account's authorization epoch (`access::callers`,
//! `access::epoch`), and never served stale: every change of what the caller is or may do counts
//! from the very next request, on every replica, and a cache that lost the epoch sends the
//! request to the database.

use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use linli::access::epoch::{changing_key, epoch_key};

const PASSWORD: &str = "a-long-password-1";

struct World {
    app: TestApp,
    root: String,
    t: Territory,
    user: Uuid,
    token: String,
}

async fn world_on(app: TestApp) -> World {
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "缓").await;
    let user = app.create_user(&root, "cached_one", PASSWORD).await;
    let token = token_of(&app.login("cached_one", PASSWORD).await);
    World {
        app,
        root,
        t,
        user,
        token,
    }
}

async fn world() -> World {
    world_on(spawn_app().await).await
}

/// `GET /me` as `token` on `app`: the caller as the server sees it (name and roles come from the
/// `Actor` the request was given).
async fn me(app: &TestApp, token: &str) -> Value {
    let res = app.get("/api/v1/me", token).await;
    assert_eq!(res.status(), StatusCode::OK, "GET /me");
    res.json().await.expect("json")
}

async fn roles(app: &TestApp, token: &str) -> Vec<String> {
    me(app, token).await["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .map(|r| r["role"].as_str().expect("role").to_string())
        .collect()
}

/// The caller's view of the community: 200 with a role on it, 404 without.
async fn community_status(app: &TestApp, w: &World, token: &str) -> StatusCode {
    app.get(&format!("/api/v1/communities/{}", w.t.community), token)
        .await
        .status()
}

/// Asks twice, so the second answer comes from whatever the replica keeps.
async fn warm(app: &TestApp, token: &str) -> Value {
    me(app, token).await;
    me(app, token).await
}

async fn grant_staff(w: &World, through: &TestApp) -> Uuid {
    let res = through
        .post(
            "/api/v1/role-assignments",
            &w.root,
            &json!({"user_id": w.user, "role": "community_staff", "scope_type": "community", "scope_id": w.t.community}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    id_of(&res.json().await.expect("json"))
}

/// An administrator changes the account (`PATCH /users/{id}`) through the replica `through`.
async fn change_account(w: &World, through: &TestApp, change: Value) {
    let res = through
        .patch(&format!("/api/v1/users/{}", w.user), &w.root, &change)
        .await;
    assert_eq!(res.status(), StatusCode::OK, "PATCH {change}");
}

async fn rename(w: &World, through: &TestApp, name: &str) {
    change_account(w, through, json!({"display_name": name})).await;
}

#[tokio::test]
async fn a_granted_role_and_a_revoked_one_count_from_the_very_next_request() {
    let w = world().await;
    assert!(warm(&w.app, &w.token).await["roles"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        community_status(&w.app, &w, &w.token).await,
        StatusCode::NOT_FOUND
    );

    let assignment = grant_staff(&w, &w.app).await;
    assert_eq!(roles(&w.app, &w.token).await, ["community_staff"]);
    assert_eq!(community_status(&w.app, &w, &w.token).await, StatusCode::OK);

    let res = w
        .app
        .delete(&format!("/api/v1/role-assignments/{assignment}"), &w.root)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(roles(&w.app, &w.token).await.is_empty());
    let res = w
        .app
        .get(&format!("/api/v1/communities/{}", w.t.community), &w.token)
        .await;
    assert_problem(res, 404, "not_found").await;
}

#[tokio::test]
async fn a_renamed_account_shows_its_new_name_from_the_very_next_request() {
    let w = world().await;
    assert_eq!(warm(&w.app, &w.token).await["display_name"], "cached_one");
    rename(&w, &w.app, "改过的名字").await;
    assert_eq!(me(&w.app, &w.token).await["display_name"], "改过的名字");
    let res = w
        .app
        .patch(
            "/api/v1/me",
            &w.token,
            &json!({"display_name": "自己起的名字"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(me(&w.app, &w.token).await["display_name"], "自己起的名字");
}

#[tokio::test]
async fn a_deactivated_account_is_refused_from_the_very_next_request_and_a_reactivated_one_signs_in(
) {
    let w = world().await;
    warm(&w.app, &w.token).await;
    change_account(&w, &w.app, json!({"is_active": false})).await;
    let res = w.app.get("/api/v1/me", &w.token).await;
    assert_problem(res, 401, "invalid_token").await;

    change_account(&w, &w.app, json!({"is_active": true})).await;
    let token = token_of(&w.app.login("cached_one", PASSWORD).await);
    assert_eq!(me(&w.app, &token).await["id"], w.user.to_string());
}

#[tokio::test]
async fn a_reset_password_and_an_erased_account_stop_their_tokens_at_once() {
    let w = world().await;
    warm(&w.app, &w.token).await;
    let res = w
        .app
        .post(
            &format!("/api/v1/users/{}/password", w.user),
            &w.root,
            &json!({"new_password": "another-long-password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = w.app.get("/api/v1/me", &w.token).await;
    assert_problem(res, 401, "invalid_token").await;

    let token = token_of(&w.app.login("cached_one", "another-long-password").await);
    let other = token_of(&w.app.login("cached_one", "another-long-password").await);
    warm(&w.app, &other).await;
    let res = w.app.delete("/api/v1/me", &token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = w.app.get("/api/v1/me", &other).await;
    assert_problem(res, 401, "invalid_token").await;
}

#[tokio::test]
async fn a_change_through_one_replica_counts_on_the_other_from_its_next_request() {
    if redis_url().is_none() {
        eprintln!("skipped: needs TEST_REDIS_URL");
        return;
    }
    let a = spawn_app().await;
    let b = start(a.vars.clone()).await;
    let w = world_on(a).await;
    assert!(roles(&b, &w.token).await.is_empty());
    warm(&b, &w.token).await;

    let assignment = grant_staff(&w, &w.app).await;
    assert_eq!(roles(&b, &w.token).await, ["community_staff"]);
    assert_eq!(community_status(&b, &w, &w.token).await, StatusCode::OK);

    rename(&w, &w.app, "甲改的名字").await;
    assert_eq!(me(&b, &w.token).await["display_name"], "甲改的名字");

    let res = w
        .app
        .delete(&format!("/api/v1/role-assignments/{assignment}"), &w.root)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(roles(&b, &w.token).await.is_empty());
    assert_eq!(
        community_status(&b, &w, &w.token).await,
        StatusCode::NOT_FOUND
    );

    change_account(&w, &w.app, json!({"is_active": false})).await;
    let res = b.get("/api/v1/me", &w.token).await;
    assert_problem(res, 401, "invalid_token").await;
}

/// Takes the account's roles away behind the server's back: no epoch changes, so only a server
/// that reads the database sees it.
async fn revoke_in_the_database(app: &TestApp, user: Uuid) {
    let gone = entity::role_assignment::Entity::delete_many()
        .filter(entity::role_assignment::Column::UserId.eq(user))
        .exec(&app.state.db)
        .await
        .expect("delete");
    assert_eq!(gone.rows_affected, 1);
}

/// Grants the account a role and has the replica keep the caller with it.
async fn staff_kept(w: &World) {
    grant_staff(w, &w.app).await;
    assert_eq!(
        warm(&w.app, &w.token).await["roles"][0]["role"],
        "community_staff"
    );
}

#[tokio::test]
async fn a_missing_epoch_sends_the_request_to_the_database() {
    let w = world().await;
    staff_kept(&w).await;
    w.app
        .state
        .cache
        .delete(&epoch_key(w.user))
        .await
        .expect("evict the epoch");
    revoke_in_the_database(&w.app, w.user).await;
    assert!(roles(&w.app, &w.token).await.is_empty());
    assert_eq!(
        community_status(&w.app, &w, &w.token).await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn while_a_change_is_in_flight_the_kept_caller_is_not_used() {
    let w = world().await;
    staff_kept(&w).await;
    w.app
        .state
        .cache
        .incr_expire(&changing_key(w.user), std::time::Duration::from_secs(60))
        .await
        .expect("mark a change");
    revoke_in_the_database(&w.app, w.user).await;
    assert!(roles(&w.app, &w.token).await.is_empty());
    assert!(roles(&w.app, &w.token).await.is_empty());
}

#[tokio::test]
async fn a_flushed_redis_serves_no_kept_caller() {
    let Some(redis) = crate::outages::OwnRedis::start() else {
        eprintln!("skipped: no redis-server on this machine");
        return;
    };
    let w = world_on(crate::outages::app_on(&redis).await).await;
    staff_kept(&w).await;
    crate::outages::flush_all(&redis);
    revoke_in_the_database(&w.app, w.user).await;
    assert!(roles(&w.app, &w.token).await.is_empty());
    // And what it keeps from now on is kept under a new epoch, still current.
    assert!(warm(&w.app, &w.token).await["roles"]
        .as_array()
        .unwrap()
        .is_empty());
    grant_staff(&w, &w.app).await;
    assert_eq!(roles(&w.app, &w.token).await, ["community_staff"]);
}

/// The statements `GET path` runs as `token`, and whether one of them is the caller's.
async fn statements_of(app: &TestApp, path: &str, token: &str) -> (usize, usize) {
    let request_id = format!("caller-{}", Uuid::now_v7().simple());
    linli::platform::statements::watch(&request_id);
    let res = app
        .request(Method::GET, path, Some(token))
        .header("x-request-id", &request_id)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    let stmts = linli::platform::statements::take(&request_id);
    // `access::actor::load_caller`, the one statement that reads the account and its roles.
    let identity = stmts
        .iter()
        .filter(|s| s.sql.contains("u_is_superadmin"))
        .count();
    (stmts.len(), identity)
}

#[tokio::test]
async fn a_kept_caller_costs_no_statement_and_the_first_request_one() {
    let w = world().await;
    grant_staff(&w, &w.app).await;
    let path = format!("/api/v1/communities/{}", w.t.community);
    let (first, first_identity) = statements_of(&w.app, &path, &w.token).await;
    let (second, second_identity) = statements_of(&w.app, &path, &w.token).await;
    let (third, third_identity) = statements_of(&w.app, &path, &w.token).await;
    assert_eq!(first_identity, 1, "the first request reads the caller");
    assert_eq!(
        (second_identity, third_identity),
        (0, 0),
        "later ones do not"
    );
    assert_eq!((second, third), (first - 1, first - 1));

    // A change costs the next request its one statement again, and only that one.
    rename(&w, &w.app, "又改了").await;
    let (after, after_identity) = statements_of(&w.app, &path, &w.token).await;
    assert_eq!((after, after_identity), (first, 1));
}
