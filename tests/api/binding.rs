//! Residents get into the mini-program: WeChat login, a verified phone that matches the roster,
//! or a request staff approve or reject; then their own household, their data, and erasure.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::wechat::{spawn_with_fake, wechat_login_ok};

const PHONE: &str = "13912345678";

struct World {
    app: TestApp,
    root: String,
    staff: String,
    t: Territory,
    other: Territory,
    _fake: crate::wechat::Fake,
}

async fn world() -> World {
    let (app, fake) = spawn_with_fake().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "绑").await;
    let other = small_territory(&app, &root, "别").await;
    let staff = app
        .user_with_role(&root, "staff", "community_staff", "community", t.community)
        .await;
    World {
        app,
        root,
        staff,
        t,
        other,
        _fake: fake,
    }
}

async fn resident_login(app: &TestApp, openid: &str) -> (String, String) {
    let pair = wechat_login_ok(app, &format!("user:{openid}")).await;
    (
        token_of(&pair),
        pair["refresh_token"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn a_verified_phone_matching_one_resident_binds_the_account_to_that_household() {
    let w = world().await;
    let res = w
        .app
        .post(
            "/api/v1/residents",
            &w.staff,
            &json!({"household_id": w.t.household, "name": "赵六", "phone": PHONE, "id_number": "11010519491231002X"}),
        )
        .await;
    let rid = id_of(&res.json().await.unwrap());
    w.app
        .post(
            "/api/v1/residents",
            &w.staff,
            &json!({"household_id": w.t.household, "name": "赵七", "phone": "13900000009"}),
        )
        .await;

    let (token, _) = resident_login(&w.app, "o-zhao").await;
    let me: Value = w.app.get("/api/v1/me", &token).await.json().await.unwrap();
    assert_eq!(me["display_name"], "微信用户");
    let res = w
        .app
        .post(
            "/api/v1/me/phone",
            &token,
            &json!({"code": format!("phone:{PHONE}")}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["bound"], true);
    assert_eq!(v["phone_masked"], "139****5678");
    assert_eq!(v["resident_id"], rid.to_string());

    let me: Value = w.app.get("/api/v1/me", &token).await.json().await.unwrap();
    assert_eq!(
        me["display_name"], "赵六",
        "the roster's name replaces 微信用户"
    );
    assert_eq!(me["roles"][0]["role"], "resident");
    assert_eq!(me["roles"][0]["scope_id"], w.t.household.to_string());

    let res = w.app.get("/api/v1/me/household", &token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(
        !text.contains(PHONE) && !text.contains("13900000009"),
        "members are masked"
    );
    let hh: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(hh["household_id"], w.t.household.to_string());
    assert_eq!(hh["members"].as_array().unwrap().len(), 2);

    // Nothing of other households.
    let res = w
        .app
        .get(&format!("/api/v1/households/{}", w.other.household), &token)
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = w
        .app
        .get(&format!("/api/v1/households/{}", w.t.household), &token)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = w
        .app
        .get("/api/v1/households", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    let res = w.app.get(&format!("/api/v1/residents/{rid}"), &token).await;
    assert_problem(res, 404, "not_found").await;
}

#[tokio::test]
async fn an_unmatched_phone_leads_to_a_request_that_staff_in_scope_approve() {
    let w = world().await;
    let (token, _) = resident_login(&w.app, "o-new").await;
    let v: Value = w
        .app
        .post(
            "/api/v1/me/phone",
            &token,
            &json!({"code": "phone:13700000000"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["bound"], false);
    let res = w.app.get("/api/v1/me/household", &token).await;
    assert_problem(res, 404, "not_found").await;

    let body = json!({"household_id": w.t.household, "name": "钱八", "relation": "租户"});
    let res = w
        .app
        .post("/api/v1/me/binding-requests", &token, &body)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let req = id_of(&res.json().await.unwrap());
    let res = w
        .app
        .post("/api/v1/me/binding-requests", &token, &body)
        .await;
    assert_problem(res, 409, "binding_request_pending").await;
    let res = w
        .app
        .post(
            "/api/v1/me/binding-requests",
            &token,
            &json!({"household_id": Uuid::now_v7(), "name": "钱八", "relation": "租户"}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;

    // Staff of another community neither see nor decide it.
    let outsider = w
        .app
        .user_with_role(
            &w.root,
            "outsider",
            "community_staff",
            "community",
            w.other.community,
        )
        .await;
    let v: Value = w
        .app
        .get("/api/v1/binding-requests?status=pending", &outsider)
        .await
        .json()
        .await
        .unwrap();
    assert!(v["items"].as_array().unwrap().is_empty());
    let res = w
        .app
        .post(
            &format!("/api/v1/binding-requests/{req}/approve"),
            &outsider,
            &json!({}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;

    let v: Value = w
        .app
        .get("/api/v1/binding-requests?status=pending", &w.staff)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["items"][0]["id"], req.to_string());
    let res = w
        .app
        .post(
            &format!("/api/v1/binding-requests/{req}/approve"),
            &w.staff,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["status"], "approved");
    let resident = v["resident_id"].as_str().unwrap().to_string();

    // The same token now reaches the household.
    let hh: Value = w
        .app
        .get("/api/v1/me/household", &token)
        .await
        .json()
        .await
        .unwrap();
    let members = hh["members"].as_array().unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["id"], resident);
    assert_eq!(members[0]["relation"], "租户");
    assert_eq!(members[0]["has_account"], true);

    let res = w
        .app
        .post(
            &format!("/api/v1/binding-requests/{req}/approve"),
            &w.staff,
            &json!({}),
        )
        .await;
    assert_problem(res, 409, "binding_request_decided").await;
}

#[tokio::test]
async fn approval_links_an_existing_resident_of_that_name_instead_of_duplicating() {
    let w = world().await;
    let res = w
        .app
        .post(
            "/api/v1/residents",
            &w.staff,
            &json!({"household_id": w.t.household, "name": "孙九"}),
        )
        .await;
    let existing = id_of(&res.json().await.unwrap());
    let (token, _) = resident_login(&w.app, "o-sun").await;
    let res = w
        .app
        .post(
            "/api/v1/me/binding-requests",
            &token,
            &json!({"household_id": w.t.household, "name": "孙九", "relation": "户主"}),
        )
        .await;
    let req = id_of(&res.json().await.unwrap());
    let v: Value = w
        .app
        .post(
            &format!("/api/v1/binding-requests/{req}/approve"),
            &w.staff,
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["resident_id"], existing.to_string());
    let list: Value = w
        .app
        .get(
            &format!("/api/v1/residents?household_id={}", w.t.household),
            &w.staff,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_rejected_request_grants_nothing_and_tells_the_reason() {
    let w = world().await;
    let (token, _) = resident_login(&w.app, "o-rej").await;
    let res = w
        .app
        .post(
            "/api/v1/me/binding-requests",
            &token,
            &json!({"household_id": w.t.household, "name": "周十", "relation": "子女"}),
        )
        .await;
    let req = id_of(&res.json().await.unwrap());
    let path = format!("/api/v1/binding-requests/{req}/reject");
    let res = w.app.post(&path, &w.staff, &json!({})).await;
    assert_problem(res, 400, "invalid_body").await;
    let res = w
        .app
        .post(&path, &w.staff, &json!({"reason": "户主不认识此人"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mine: Value = w
        .app
        .get("/api/v1/me/binding-requests", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"][0]["status"], "rejected");
    assert_eq!(mine["items"][0]["reason"], "户主不认识此人");
    assert_eq!(mine["next_cursor"], Value::Null);
    let res = w.app.get("/api/v1/me/household", &token).await;
    assert_problem(res, 404, "not_found").await;
    let me: Value = w.app.get("/api/v1/me", &token).await.json().await.unwrap();
    assert!(me["roles"].as_array().unwrap().is_empty());
    let res = w
        .app
        .post(
            &format!("/api/v1/binding-requests/{req}/approve"),
            &w.staff,
            &json!({}),
        )
        .await;
    assert_problem(res, 409, "binding_request_decided").await;
    // A new request may follow the rejection.
    let res = w
        .app
        .post(
            "/api/v1/me/binding-requests",
            &token,
            &json!({"household_id": w.t.household, "name": "周十", "relation": "子女"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // The caller's requests page like every list: newest first, one at a time here.
    let first: Value = w
        .app
        .get("/api/v1/me/binding-requests?limit=1", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"][0]["status"], "pending");
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second: Value = w
        .app
        .get(
            &format!("/api/v1/me/binding-requests?limit=1&cursor={cursor}"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"][0]["status"], "rejected");
    assert_eq!(second["next_cursor"], Value::Null);
}

#[tokio::test]
async fn a_resident_exports_their_data_and_erasing_the_account_stops_its_tokens() {
    let w = world().await;
    w.app
        .post(
            "/api/v1/residents",
            &w.staff,
            &json!({"household_id": w.t.household, "name": "吴一", "phone": PHONE, "id_number": "11010519491231002X"}),
        )
        .await;
    w.app
        .post(
            "/api/v1/residents",
            &w.staff,
            &json!({"household_id": w.t.household, "name": "吴二", "phone": "13900000009"}),
        )
        .await;
    let (token, refresh) = resident_login(&w.app, "o-wu").await;
    w.app
        .post(
            "/api/v1/me/phone",
            &token,
            &json!({"code": format!("phone:{PHONE}")}),
        )
        .await;
    // Staff read the resident's phone once: the access shows in the resident's export.
    let rid = {
        let v: Value = w
            .app
            .get(&format!("/api/v1/residents?phone={PHONE}"), &w.staff)
            .await
            .json()
            .await
            .unwrap();
        v["items"][0]["id"].as_str().unwrap().to_string()
    };
    w.app
        .post(
            &format!("/api/v1/residents/{rid}/reveal"),
            &w.staff,
            &json!({"field": "phone", "purpose": "通知停水"}),
        )
        .await;

    let res = w.app.get("/api/v1/me/export", &token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(!text.contains("13900000009"), "nothing of other residents");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["account"]["phone"], PHONE);
    assert_eq!(v["account"]["wechat_bound"], true);
    assert_eq!(v["resident"]["id_number"], "11010519491231002X");
    assert_eq!(v["resident"]["name"], "吴一");
    assert_eq!(v["roles"][0]["role"], "resident");
    let reveals: Vec<&Value> = v["access_log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "reveal")
        .collect();
    assert_eq!(reveals.len(), 1, "{v}");
    assert_eq!(reveals[0]["purpose"], "通知停水");

    let res = w.app.delete("/api/v1/me", &token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = w.app.get("/api/v1/me", &token).await;
    assert_problem(res, 401, "invalid_token").await;
    let res = w
        .app
        .client
        .post(w.app.url("/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "invalid_refresh_token").await;

    // The roster keeps the resident, unlinked; a new login is a fresh, empty account.
    let r: Value = w
        .app
        .get(&format!("/api/v1/residents/{rid}"), &w.staff)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["has_account"], false);
    let pair = wechat_login_ok(&w.app, "user:o-wu").await;
    assert_eq!(pair["is_new_user"], true);
    let token = token_of(&pair);
    let me: Value = w.app.get("/api/v1/me", &token).await.json().await.unwrap();
    assert!(me["roles"].as_array().unwrap().is_empty());
    let v: Value = w
        .app
        .get("/api/v1/me/export", &token)
        .await
        .json()
        .await
        .unwrap();
    assert!(v["account"]["phone"].is_null() && v["resident"].is_null());
}

#[tokio::test]
async fn the_deployment_administrator_cannot_erase_itself() {
    let w = world().await;
    let res = w.app.delete("/api/v1/me", &w.root).await;
    assert_problem(res, 409, "cannot_erase_administrator").await;
}
