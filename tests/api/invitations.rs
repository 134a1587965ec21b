//! Household invitation codes: staff in scope issue one, residents join with it at once, and
//! naming someone of the roster never hands over their personal data.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::ticket_world::uname;
use crate::wechat::{spawn_with_fake, wechat_login_ok};

#[tokio::test]
async fn a_resident_joins_a_household_with_the_code_staff_gave_and_gets_no_one_elses_data() {
    let (app, _fake) = spawn_with_fake().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "邀").await;
    let other = small_territory(&app, &root, "他").await;
    let staff = app
        .user_with_role(
            &root,
            &uname("cs"),
            "community_staff",
            "community",
            t.community,
        )
        .await;
    let existing = app
        .post(
            "/api/v1/residents",
            &root,
            &json!({"household_id": t.household, "name": "周八", "phone": "13900001111",
                    "id_number": "11010519491231002X"}),
        )
        .await;
    let existing = id_of(&existing.json().await.unwrap());

    // Staff of another community cannot issue one for this household.
    let res = app
        .post(
            &format!("/api/v1/households/{}/invitation-codes", other.household),
            &staff,
            &json!({}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = app
        .post(
            &format!("/api/v1/households/{}/invitation-codes", t.household),
            &staff,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let code = res.json::<Value>().await.unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();

    let resident = token_of(&wechat_login_ok(&app, "user:openid-invited").await);
    let redeem = |code: String, name: &'static str| {
        let body = json!({"code": code, "name": name, "relation": "子女"});
        let (app, token) = (&app, resident.clone());
        async move {
            app.post("/api/v1/me/household-invitation", &token, &body)
                .await
        }
    };
    let res = redeem("ZZZZZZZZ".into(), "周八").await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "code");

    // Naming an existing resident is not being them: a new roster entry, nothing of theirs.
    let typed = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
    let res = redeem(typed, "周八").await;
    assert_eq!(res.status(), StatusCode::OK);
    let m: Value = res.json().await.unwrap();
    assert_eq!(m["status"], "approved");
    assert_ne!(m["resident_id"], existing.to_string());
    let me: Value = app.get("/api/v1/me", &resident).await.json().await.unwrap();
    assert_eq!(me["resident"]["household_id"], t.household.to_string());
    assert_eq!(me["roles"][0]["role"], "resident");
    let export = app
        .get("/api/v1/me/export", &resident)
        .await
        .text()
        .await
        .unwrap();
    assert!(!export.contains("13900001111") && !export.contains("11010519491231002X"));

    // Ten accounts per code at most.
    for i in 1..10 {
        let t = token_of(&wechat_login_ok(&app, &format!("user:openid-member-{i}")).await);
        let res = app
            .post(
                "/api/v1/me/household-invitation",
                &t,
                &json!({"code": code, "name": format!("成员{i}"), "relation": "其他"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "use {}", i + 1);
    }
    let t = token_of(&wechat_login_ok(&app, "user:openid-member-11").await);
    let res = app
        .post(
            "/api/v1/me/household-invitation",
            &t,
            &json!({"code": code, "name": "成员11", "relation": "其他"}),
        )
        .await;
    assert_problem(res, 409, "invitation_used_up").await;
}
