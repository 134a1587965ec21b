//! Account management through HTTP: search, rename, deactivate and reactivate, password reset
//! and change, lifting a sign-in slow-down, and staff binding their WeChat so that their
//! notifications are really sent.

use linli::app::jobs::outbox::deliver_due;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::ticket_world::*;
use crate::wechat::{checked, me, spawn_with_fake_and, wechat_login_ok, Checked};

const PASSWORD: &str = "a-long-password-1";

async fn users(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let res = app.get(&format!("/api/v1/users?{query}"), token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page: Value = res.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

async fn username_of(app: &TestApp, token: &str) -> String {
    me(app, token).await["username"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn patch_user(app: &TestApp, token: &str, id: Uuid, body: Value) -> reqwest::Response {
    app.patch(&format!("/api/v1/users/{id}"), token, &body)
        .await
}

#[tokio::test]
async fn administrators_find_accounts_by_part_of_a_name_and_wildcards_are_literal() {
    let app = &spawn_app().await;
    let w = world(app, "账").await;
    let a = app.create_user(&w.admin, "zhang.wei", PASSWORD).await;
    patch_user(app, &w.admin, a, json!({"display_name": "张伟"}))
        .await
        .error_for_status()
        .unwrap();
    app.create_user(&w.admin, "li_na", PASSWORD).await;

    let found = users(app, &w.admin, "q=%E5%BC%A0").await; // 张
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["display_name"], "张伟");
    assert_eq!(found[0]["wechat_bound"], false);
    let found = users(app, &w.admin, "q=ZHANG").await;
    assert_eq!(found.len(), 1);
    // `%` and `_` match themselves, not everything.
    assert!(users(app, &w.admin, "q=%25").await.is_empty());
    let underscore = users(app, &w.admin, "q=_").await;
    assert_eq!(underscore.len(), 1, "{underscore:?}");
    assert_eq!(underscore[0]["username"], "li_na");
    let res = app
        .get(&format!("/api/v1/users?q={}", "长".repeat(51)), &w.admin)
        .await;
    assert_problem(res, 400, "invalid_query").await;
    // Only administrators.
    let res = app.get("/api/v1/users?q=zhang", &w.staff).await;
    assert_problem(res, 403, "forbidden").await;
}

#[tokio::test]
async fn a_deactivated_account_is_signed_out_at_once_and_can_come_back() {
    let app = &spawn_app().await;
    let w = world(app, "停").await;
    let staff_name = username_of(app, &w.staff).await;
    let pair = app.login(&staff_name, PASSWORD).await;
    let refresh = pair["refresh_token"].as_str().unwrap().to_string();

    // A street administrator manages the staff of its street.
    let res = patch_user(
        app,
        &w.street_admin,
        w.staff_id,
        json!({"is_active": false}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["is_active"], false);

    let res = app.get("/api/v1/me", &w.staff).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app.login_response(&staff_name, PASSWORD).await;
    assert_problem(res, 401, "invalid_credentials").await;
    let res = app
        .request(reqwest::Method::POST, "/api/v1/auth/refresh", None)
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let res = patch_user(app, &w.street_admin, w.staff_id, json!({"is_active": true})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let back = token_of(&app.login(&staff_name, PASSWORD).await);
    assert_eq!(app.get("/api/v1/me", &back).await.status(), StatusCode::OK);

    // A body is an object: an array is not read by position.
    let res = patch_user(app, &w.street_admin, w.staff_id, json!([null, false])).await;
    assert_problem(res, 400, "invalid_body").await;
    // Nobody deactivates itself; staff manage nobody; another street's admin sees nothing.
    let res = patch_user(
        app,
        &w.street_admin,
        w.street_admin_id,
        json!({"is_active": false}),
    )
    .await;
    assert_problem(res, 409, "cannot_deactivate_self").await;
    let res = patch_user(app, &back, w.grid_manager_id, json!({"display_name": "x"})).await;
    assert_problem(res, 403, "forbidden").await;
    let other = small_territory(app, &w.admin, "别").await;
    let (other_admin, _) =
        member(app, &w.admin, &uname("oa"), "admin", "street", other.street).await;
    let res = patch_user(app, &other_admin, w.staff_id, json!({"is_active": false})).await;
    assert_problem(res, 404, "not_found").await;
    assert_eq!(app.get("/api/v1/me", &back).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_administrator_resets_a_password_and_the_old_sessions_end() {
    let app = &spawn_app().await;
    let w = world(app, "重").await;
    let staff_name = username_of(app, &w.staff).await;
    let path = format!("/api/v1/users/{}/password", w.staff_id);
    let res = app
        .post(&path, &w.street_admin, &json!({"new_password": "short"}))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .post(
            &path,
            &w.street_admin,
            &json!({"new_password": "a-brand-new-password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    assert_eq!(
        app.get("/api/v1/me", &w.staff).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let res = app.login_response(&staff_name, PASSWORD).await;
    assert_problem(res, 401, "invalid_credentials").await;
    app.login(&staff_name, "a-brand-new-password").await;

    // It is audited, naming the account and who acted.
    let res = app
        .get("/api/v1/audit-events?action=password_reset", &w.admin)
        .await;
    let page: Value = res.json().await.unwrap();
    let events = page["items"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0]["detail"]
        .as_str()
        .unwrap()
        .contains(&w.staff_id.to_string()));
    assert_eq!(events[0]["actor_id"], w.street_admin_id.to_string());
}

#[tokio::test]
async fn everyone_renames_itself_and_changes_its_password_keeping_this_session_only() {
    let app = &spawn_app().await;
    let w = world(app, "改").await;
    let name = username_of(app, &w.staff).await;
    let other_session = token_of(&app.login(&name, PASSWORD).await);

    let res = app
        .patch(
            "/api/v1/me",
            &w.staff,
            &json!({"display_name": "  王社工 "}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(me(app, &w.staff).await["display_name"], "王社工");
    // wx.request has no PATCH: the same through POST with the override header.
    let res = app
        .request(reqwest::Method::POST, "/api/v1/me", Some(&w.staff))
        .header("X-HTTP-Method-Override", "PATCH")
        .json(&json!({"display_name": "王社工二"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(me(app, &w.staff).await["display_name"], "王社工二");
    let res = app
        .patch("/api/v1/me", &w.staff, &json!({"display_name": " "}))
        .await;
    assert_problem(res, 400, "validation_failed").await;

    let res = app
        .post(
            "/api/v1/me/password",
            &w.staff,
            &json!({"current_password": "not-it-at-all", "new_password": "another-long-one"}),
        )
        .await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "wrong_password");
    let res = app
        .post(
            "/api/v1/me/password",
            &w.staff,
            &json!({"current_password": PASSWORD, "new_password": "another-long-one"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/me", &w.staff).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/me", &other_session).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.login(&name, "another-long-one").await;
}

#[tokio::test]
async fn an_administrator_lifts_a_sign_in_slow_down() {
    let app = &spawn_app().await;
    let w = world(app, "锁").await;
    let name = username_of(app, &w.staff).await;
    let mut locked = false;
    for _ in 0..10 {
        let res = app.login_response(&name, "wrong-password-xx").await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            locked = true;
            break;
        }
    }
    assert!(locked, "the username was never slowed down");
    let res = app.login_response(&name, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    let res = app
        .post(
            &format!("/api/v1/users/{}/unlock", w.staff_id),
            &w.street_admin,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    app.login(&name, PASSWORD).await;
}

/// Confirms `binding_code` from the mini-program with the `wx.login` code `wx`.
async fn bind(app: &TestApp, binding_code: &str, wx: &str) -> Checked {
    checked(
        app.request(reqwest::Method::POST, "/api/v1/auth/wechat/bind", None)
            .json(&json!({"code": wx, "binding_code": binding_code}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// A fresh one-time binding code shown to the signed-in staff member of `token`.
async fn binding_code(app: &TestApp, token: &str) -> String {
    let res = app
        .post("/api/v1/me/wechat-binding-code", token, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Binds the WeChat identity `openid` to the staff account of `token`, as the binding flow does.
async fn bind_staff_wechat(app: &TestApp, token: &str, openid: &str) {
    let code = binding_code(app, token).await;
    let res = bind(app, &code, &format!("user:{openid}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

#[tokio::test]
async fn staff_bind_their_wechat_with_a_one_time_code_and_their_notifications_are_sent() {
    let (app, fake) =
        spawn_with_fake_and(&[("LINLI_WECHAT_TEMPLATES", "ticket_assigned=tmpl-assigned")]).await;
    let app = &app;
    let w = world(app, "绑").await;

    let code = binding_code(app, &w.property).await;
    assert_eq!(code.len(), 8);

    // A wrong code binds nothing.
    let res = bind(app, "ABCDEFGH", "user:openid-property").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    // Typed in lower case with a dash: the same code.
    let typed = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
    let res = bind(app, &typed, "user:openid-property").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let wx_token = res.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(me(app, &wx_token).await["id"], w.property_id.to_string());
    // Once only.
    let res = bind(app, &code, "user:openid-someone-else").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);

    // WeChat sign-in now reaches the staff account, and administrators see it bound.
    let login = wechat_login_ok(app, "user:openid-property").await;
    assert_eq!(
        me(app, &token_of(&login)).await["id"],
        w.property_id.to_string()
    );
    let listed = users(app, &w.admin, "q=").await;
    let row = listed
        .iter()
        .find(|u| u["id"] == w.property_id.to_string())
        .expect("the property staff account is listed");
    assert_eq!(row["wechat_bound"], true);
    assert!(!row.to_string().contains("openid-property"));

    // A ticket assigned to the property company reaches its staff on WeChat.
    let t = file(app, &w.resident, &ticket_body(&w, "电梯异响")).await;
    triage(app, &w.staff, &t["id"], "green").await;
    act_ok(
        app,
        &w.staff,
        &t["id"],
        "assign",
        json!({"property_company_id": w.company}),
    )
    .await;
    let round = deliver_due(&app.state).await.unwrap();
    assert!(round.sent >= 1, "{round:?}");
    let sent = fake.messages();
    assert!(
        sent.iter()
            .any(|m| m["touser"] == "openid-property" && m["template_id"] == "tmpl-assigned"),
        "{sent:?}"
    );

    // A WeChat that already has an account (a resident's) cannot be bound to a staff account.
    wechat_login_ok(app, "user:openid-a-resident").await;
    let code = binding_code(app, &w.staff).await;
    let res = bind(app, &code, "user:openid-a-resident").await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);

    // Unbinding: WeChat sign-in no longer reaches the staff account.
    let res = app.delete("/api/v1/me/wechat-binding", &w.property).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let login = wechat_login_ok(app, "user:openid-property").await;
    assert_ne!(
        me(app, &token_of(&login)).await["id"],
        w.property_id.to_string()
    );
}

#[tokio::test]
async fn bound_staff_are_reached_on_wechat_when_a_ticket_is_urged_and_when_it_escalates() {
    let (app, fake) = spawn_with_fake_and(&[(
        "LINLI_WECHAT_TEMPLATES",
        "ticket_urged=tmpl-urged,ticket_escalated=tmpl-escalated",
    )])
    .await;
    let app = &app;
    let w = world(app, "催").await;
    bind_staff_wechat(app, &w.property, "openid-handler").await;
    bind_staff_wechat(app, &w.grid_manager, "openid-grid").await;
    let t = accepted_ticket(app, &w, "电梯停运").await;

    // The requester urges: the property company's staff (the handlers) hear of it on WeChat.
    act_ok(
        app,
        &w.resident,
        &t["id"],
        "urge",
        json!({"note": "请尽快"}),
    )
    .await;
    let round = deliver_due(&app.state).await.unwrap();
    assert_eq!(round.sent, 1, "{round:?}");
    let sent = fake.messages();
    assert!(
        sent.iter()
            .any(|m| m["touser"] == "openid-handler" && m["template_id"] == "tmpl-urged"),
        "{sent:?}"
    );
    assert!(!sent.iter().any(|m| m["touser"] == "openid-grid"));

    // Past its 7 days the green ticket escalates to the grid manager, who hears of it too.
    app.clock.advance(chrono::Duration::days(8));
    let jobs = linli::app::jobs::tickets(&app.state).await.unwrap();
    assert_eq!(jobs.escalated, 1);
    let round = deliver_due(&app.state).await.unwrap();
    assert_eq!(round.sent, 1, "{round:?}");
    let sent = fake.messages();
    assert!(
        sent.iter()
            .any(|m| m["touser"] == "openid-grid" && m["template_id"] == "tmpl-escalated"),
        "{sent:?}"
    );
    assert_eq!(sent.len(), 2, "{sent:?}");
}
