//! Security hardening: each test here reproduces a finding of the pre-go-live review (the
//! numbers in the comments are the review's) and fails without its fix.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn count_streets(app: &TestApp, token: &str) -> usize {
    let v: Value = get_json(app, "/api/v1/streets?limit=100", token).await;
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

// ---------------------------------------------------------------------------------------------
// Personal data: lookups, masks, binding, audit
// ---------------------------------------------------------------------------------------------

const PHONE: &str = "13912341001";
const ID_NUMBER: &str = "11010519491231002X";

async fn resident_with_phone(app: &TestApp, root: &str, t: &Territory) -> uuid::Uuid {
    app.create(
        root,
        "residents",
        json!({"household_id": t.household, "name": "王五", "phone": PHONE,
               "id_number": ID_NUMBER, "tags": ["低保"]}),
    )
    .await
}

/// A fresh app with a territory and one resident holding a phone and an ID number.
async fn roster(tag: &str) -> (TestApp, String, Territory, uuid::Uuid) {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, tag).await;
    let rid = resident_with_phone(&app, &root, &t).await;
    (app, root, t, rid)
}

async fn get_json(app: &TestApp, path: &str, token: &str) -> Value {
    let res = app.get(path, token).await;
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap()
}

async fn audit_actions(app: &TestApp, root: &str, action: &str) -> Vec<Value> {
    let v: Value = app
        .get(
            &format!("/api/v1/audit-events?action={action}&limit=100"),
            root,
        )
        .await
        .json()
        .await
        .unwrap();
    v["items"].as_array().unwrap().clone()
}

// 2. A phone lookup confirms a full number: roles that may not reveal may not look up.
#[tokio::test]
async fn a_building_leader_cannot_look_residents_up_by_phone() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "查").await;
    resident_with_phone(&app, &root, &t).await;
    let leader = app
        .user_with_role(&root, "leader", "building_leader", "building", t.building)
        .await;
    // The leader still reads the roster of the building...
    let v: Value = get_json(&app, "/api/v1/residents", &leader).await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    // ...but neither the right number nor a wrong one gets an answer that tells them apart.
    for phone in [PHONE, "13912341002"] {
        let res = app
            .get(&format!("/api/v1/residents?phone={phone}"), &leader)
            .await;
        assert_problem(res, 403, "forbidden").await;
    }
}

#[tokio::test]
async fn phone_lookups_are_audited_and_a_burst_meets_429() {
    let (app, root, t, rid) = roster("限").await;
    let staff = app
        .user_with_role(&root, "staff", "community_staff", "community", t.community)
        .await;
    let v: Value = get_json(&app, &format!("/api/v1/residents?phone={PHONE}"), &staff).await;
    assert_eq!(v["items"][0]["id"], rid.to_string());
    let misses = app.get("/api/v1/residents?phone=13900000000", &staff).await;
    assert_eq!(misses.status(), StatusCode::OK);
    let events = audit_actions(&app, &root, "phone_lookup").await;
    assert_eq!(events.len(), 2, "{events:?}");
    let hit = events
        .iter()
        .find(|e| e["resident_id"] == rid.to_string())
        .expect("the hit names the resident");
    assert_eq!(hit["street_id"], t.street.to_string());
    let miss = events.iter().find(|e| e["resident_id"].is_null()).unwrap();
    assert_eq!(
        miss["street_id"],
        t.street.to_string(),
        "the caller's street"
    );

    // 100 an hour: the 98 still allowed pass, the 101st is refused with Retry-After.
    let mut last = None;
    for i in 0..98 {
        let res = app
            .get(&format!("/api/v1/residents?phone=1390000{i:04}"), &staff)
            .await;
        assert_eq!(res.status(), StatusCode::OK, "lookup {i}");
        last = Some(res);
    }
    drop(last);
    let res = app.get("/api/v1/residents?phone=13911110000", &staff).await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 3600, "{retry}");
    assert_problem(res, 429, "lookup_limit").await;
}

// 5. Staff who may not reveal see an age band, not the birth date; nobody but the owner sees
// the owner's phone mask.
#[tokio::test]
async fn masks_show_less_to_those_who_may_not_reveal() {
    let (app, root, t, rid) = roster("掩").await;
    let staff = app
        .user_with_role(&root, "staff", "community_staff", "community", t.community)
        .await;
    let leader = app
        .user_with_role(&root, "leader", "building_leader", "building", t.building)
        .await;
    let by_staff: Value = get_json(&app, &format!("/api/v1/residents/{rid}"), &staff).await;
    assert_eq!(by_staff["birth_date"], "1949-12-31");
    assert_eq!(by_staff["phone_masked"], "139******01");
    let by_leader: Value = get_json(&app, &format!("/api/v1/residents/{rid}"), &leader).await;
    assert_eq!(by_leader["birth_date"], Value::Null);
    assert_eq!(by_leader["age_band"], "70-79");
    assert_eq!(by_leader["phone_masked"], "139******01");
    let page: Value = get_json(&app, "/api/v1/residents", &leader).await;
    assert_eq!(page["items"][0]["birth_date"], Value::Null);
}

// 5. Whether an ID number is registered in another community is not for this one's staff to
// learn: registering it is not a 409 there.
#[tokio::test]
async fn an_id_number_registered_in_another_community_is_no_conflict_here() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let a = small_territory(&app, &root, "甲").await;
    let b = small_territory(&app, &root, "乙").await;
    resident_with_phone(&app, &root, &a).await;
    let staff_b = app
        .user_with_role(
            &root,
            "staff-b",
            "community_staff",
            "community",
            b.community,
        )
        .await;
    let res = app
        .post(
            "/api/v1/residents",
            &staff_b,
            &json!({"household_id": b.household, "name": "王五", "id_number": ID_NUMBER}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // Within one community an ID number is still registered once.
    let res = app
        .post(
            "/api/v1/residents",
            &staff_b,
            &json!({"household_id": b.household, "name": "王五", "id_number": ID_NUMBER}),
        )
        .await;
    assert_problem(res, 409, "id_number_registered").await;
}

// Low: a stated purpose must say something.
#[tokio::test]
async fn a_reveal_purpose_of_dots_or_invisible_characters_is_refused() {
    let (app, root, _t, rid) = roster("目").await;
    for purpose in ["..", "\u{200B}\u{200B}\u{200B}", "核对\u{202E}x", "!!"] {
        let res = app
            .post(
                &format!("/api/v1/residents/{rid}/reveal"),
                &root,
                &json!({"field": "phone", "purpose": purpose}),
            )
            .await;
        assert_problem(res, 400, "validation_failed").await;
    }
    assert!(audit_actions(&app, &root, "reveal").await.is_empty());
}

// Low: personal-data writes are audited in the resident's street's log.
#[tokio::test]
async fn roster_writes_and_imports_are_audited() {
    let (app, root, t, rid) = roster("审").await;
    let res = app
        .patch(
            &format!("/api/v1/residents/{rid}"),
            &root,
            &json!({"phone": "13912349999"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let updates = audit_actions(&app, &root, "resident_update").await;
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert!(updates[0]["detail"].as_str().unwrap().contains("phone"));
    assert_eq!(updates[0]["street_id"], t.street.to_string());
    assert!(updates[0]["actor_name"].is_string());
    assert_eq!(audit_actions(&app, &root, "resident_create").await.len(), 1);

    let csv = "姓名,手机号,楼栋,单元,房号\n李四,13800000002,1幢,1单元,101\n";
    let res = crate::residents_io::upload(&app, &root, t.compound, "r.csv", csv.as_bytes()).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let imports = audit_actions(&app, &root, "import").await;
    assert_eq!(imports.len(), 1);
    assert_eq!(imports[0]["street_id"], t.street.to_string());

    let res = app.delete(&format!("/api/v1/residents/{rid}"), &root).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(audit_actions(&app, &root, "resident_delete").await.len(), 1);
}

// Low: an export that names another street's ids (and finds nothing) is logged in the caller's
// own street, not written into the other street's log.
#[tokio::test]
async fn an_empty_export_naming_a_foreign_street_is_logged_at_home() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let home = small_territory(&app, &root, "家").await;
    let foreign = small_territory(&app, &root, "外").await;
    let staff = app
        .user_with_role(
            &root,
            "staff",
            "community_staff",
            "community",
            home.community,
        )
        .await;
    let res = app
        .get(
            &format!(
                "/api/v1/residents/export?community_id={}",
                foreign.community
            ),
            &staff,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let events = audit_actions(&app, &root, "export").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["street_id"], home.street.to_string());
    assert_eq!(events[0]["community_id"], Value::Null);
}

// 3. A binding request only names someone. Approving it must not hand the requester the
// personal data of an existing resident of that name without a second factor or a staff choice.
async fn binding_world() -> (
    TestApp,
    crate::wechat::Fake,
    String,
    String,
    Territory,
    uuid::Uuid,
) {
    let (app, fake) = crate::wechat::spawn_with_fake().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "绑").await;
    let staff = app
        .user_with_role(&root, "staff", "community_staff", "community", t.community)
        .await;
    let victim = resident_with_phone(&app, &root, &t).await;
    (app, fake, root, staff, t, victim)
}

async fn request_binding(
    app: &TestApp,
    openid: &str,
    household: uuid::Uuid,
) -> (String, uuid::Uuid) {
    let pair = crate::wechat::wechat_login_ok(app, &format!("user:{openid}")).await;
    let token = token_of(&pair);
    let res = app
        .post(
            "/api/v1/me/binding-requests",
            &token,
            &json!({"household_id": household, "name": "王五", "relation": "户主"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    (token, id_of(&res.json().await.unwrap()))
}

#[tokio::test]
async fn approving_a_request_by_name_alone_attaches_no_personal_data() {
    let (app, _fake, _root, staff, t, victim) = binding_world().await;
    let (token, req) = request_binding(&app, "o-claimant", t.household).await;

    // Staff see what an approval could attach before deciding.
    let list: Value = get_json(&app, "/api/v1/binding-requests?status=pending", &staff).await;
    let item = &list["items"][0];
    assert_eq!(item["candidates"][0]["resident_id"], victim.to_string());
    assert_eq!(item["candidates"][0]["same_name"], true);
    assert_eq!(item["candidates"][0]["phone_masked"], "139******01");
    assert!(item.get("phone_verified_match").is_none());

    // An empty body (what wx.request sends without data) approves without a choice.
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/binding-requests/{req}/approve"),
            Some(&staff),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    assert_ne!(
        v["resident_id"],
        victim.to_string(),
        "a new entry, not the named one"
    );

    let export = app
        .get("/api/v1/me/export", &token)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !export.contains(PHONE) && !export.contains(ID_NUMBER),
        "{export}"
    );
    assert!(!export.contains("低保"), "{export}");
}

#[tokio::test]
async fn a_verified_phone_or_an_explicit_choice_attaches_the_existing_resident() {
    let (app, _fake, _root, staff, t, victim) = binding_world().await;
    // The requester's WeChat-verified phone is the resident's: a second factor.
    let (token, req) = request_binding(&app, "o-owner", t.household).await;
    // The phone matches exactly one resident, so /me/phone binds at once; unbind that effect by
    // checking the request path instead: verify the phone after the request is filed.
    let res = app
        .post(
            "/api/v1/me/phone",
            &token,
            &json!({"code": format!("phone:{PHONE}")}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let bound: Value = res.json().await.unwrap();
    assert_eq!(bound["resident_id"], victim.to_string());

    // Another claimant, chosen explicitly by staff for a bare entry of the same household.
    let bare = app
        .create(
            &staff,
            "residents",
            json!({"household_id": t.household, "name": "王六", "phone": "13912341003"}),
        )
        .await;
    let (token2, req2) = request_binding(&app, "o-chosen", t.household).await;
    let res = app
        .post(
            &format!("/api/v1/binding-requests/{req2}/approve"),
            &staff,
            &json!({"resident_id": bare}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = get_json(&app, "/api/v1/me/export", &token2).await;
    assert_eq!(me["resident"]["id"], bare.to_string());
    assert_eq!(me["resident"]["phone"], "13912341003");
    let _ = req;
}

// Two concurrent decisions on one request: exactly one wins.
#[tokio::test]
async fn two_concurrent_approvals_give_one_200_and_one_409() {
    let (app, _fake, _root, staff, t, _victim) = binding_world().await;
    let (_token, req) = request_binding(&app, "o-race", t.household).await;
    let path = format!("/api/v1/binding-requests/{req}/approve");
    let empty = json!({});
    let (a, b) = tokio::join!(
        app.post(&path, &staff, &empty),
        app.post(&path, &staff, &empty)
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
}

// Low: personal data is never cached, and responses carry the usual security headers.
#[tokio::test]
async fn api_responses_are_not_cacheable_and_carry_security_headers() {
    let (app, root, _t, rid) = roster("缓").await;
    for path in [
        "/api/v1/residents".to_string(),
        format!("/api/v1/residents/{rid}"),
        "/api/v1/me".to_string(),
        "/api/v1/nowhere".to_string(),
    ] {
        let res = app.get(&path, &root).await;
        let h = res.headers();
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(h.contains_key("content-security-policy"), "{path}");
    }
    // The Swagger UI keeps its scripts.
    let res = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert!(!res.headers().contains_key("content-security-policy"));
}

// Low: NUL and other control or invisible characters are refused with 400 everywhere text
// comes in (PostgreSQL answered 500 to a NUL in a filter).
#[tokio::test]
async fn control_and_invisible_characters_are_refused_with_400() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    for q in ["q=%00", "tag=a%00b", "q=%E2%80%AE", "tag=%0D"] {
        let res = app.get(&format!("/api/v1/residents?{q}"), &root).await;
        assert_problem(res, 400, "invalid_query").await;
    }
    let res = app
        .request(Method::POST, "/api/v1/auth/login", None)
        .json(&json!({"username": "ro\u{0}ot", "password": "whatever-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    for name in [
        "恶意\u{202E}txt.exe",
        "零宽\u{200B}字符",
        "回车\r街道",
        "空\u{0}字",
    ] {
        let res = app
            .post("/api/v1/streets", &root, &json!({ "name": name }))
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{name:?}");
    }
    assert_eq!(count_streets(&app, &root).await, 0);
}

// Low: a street admin's user list holds neither the deployment administrator nor residents'
// WeChat accounts.
#[tokio::test]
async fn a_street_admin_does_not_list_the_deployment_admin_or_wechat_accounts() {
    let (app, _fake) = crate::wechat::spawn_with_fake().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "用").await;
    let admin = app
        .user_with_role(&root, "street-admin", "admin", "street", t.street)
        .await;
    let waiting = app
        .create_user(&root, "waiting-staff", "a-long-password-1")
        .await;
    let pair = crate::wechat::wechat_login_ok(&app, "user:o-somebody").await;
    let wechat_user = crate::wechat::me(&app, &token_of(&pair)).await["id"].clone();
    let root_id = crate::wechat::me(&app, &root).await["id"].clone();

    let v: Value = get_json(&app, "/api/v1/users?limit=100", &admin).await;
    let ids: Vec<&Value> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["id"])
        .collect();
    assert!(
        ids.contains(&&json!(waiting)),
        "staff waiting for a role are listed"
    );
    assert!(!ids.contains(&&root_id), "not the deployment admin");
    assert!(
        !ids.contains(&&wechat_user),
        "not residents' WeChat accounts"
    );
}

// 8. Guesses from one address slow that address down; the owner signs in from another.
#[tokio::test]
async fn failed_logins_from_one_address_do_not_lock_the_owner_out_elsewhere() {
    let app = spawn_app_with(|v| {
        v.insert("LINLI_TRUSTED_PROXIES".into(), "127.0.0.1, ::1".into());
    })
    .await;
    let from = |ip: &'static str, password: &'static str| {
        app.request(Method::POST, "/api/v1/auth/login", None)
            .header("x-forwarded-for", ip)
            .json(&json!({ "username": ADMIN_USERNAME, "password": password }))
            .send()
    };
    for _ in 0..5 {
        let res = from("203.0.113.66", "wrong-password").await.unwrap();
        assert_problem(res, 401, "invalid_credentials").await;
    }
    let res = from("203.0.113.66", ADMIN_PASSWORD).await.unwrap();
    assert_problem(res, 429, "login_locked").await;
    let res = from("198.51.100.20", ADMIN_PASSWORD).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the owner, elsewhere");
}

// 9. A staff member who erases their own account leaves the record of what they did as staff:
// timeline entries keep their name, audit events keep who acted.
#[tokio::test]
async fn a_staff_erasure_keeps_the_actor_snapshot_in_timelines_and_audit() {
    use crate::ticket_world::{file, ticket_body, triage, world};
    let app = spawn_app().await;
    let w = world(&app, "抹").await;
    let ticket = file(&app, &w.resident, &ticket_body(&w, "楼道灯坏了")).await;
    triage(&app, &w.staff, &ticket["id"], "green").await;
    let staff_name = crate::wechat::me(&app, &w.staff).await["display_name"].clone();
    let rid = resident_with_phone(&app, &w.admin, &w.t).await;
    let res = app
        .post(
            &format!("/api/v1/residents/{rid}/reveal"),
            &w.staff,
            &json!({"field": "phone", "purpose": "通知维修"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let res = app.delete("/api/v1/me", &w.staff).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let detail: Value = app
        .get(
            &format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap()),
            &w.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    let triaged = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "triage")
        .unwrap()
        .clone();
    assert_eq!(triaged["actor_name"], staff_name, "{triaged}");
    assert_eq!(triaged["actor_user_id"], Value::Null);
    let events = audit_actions(&app, &w.admin, "reveal").await;
    assert_eq!(events[0]["actor_name"], staff_name);
}

// 4. Where an anonymous requester lives names them as surely as their name: the property
// company sees neither, and cannot filter by building to find them.
#[tokio::test]
async fn the_property_company_sees_no_building_or_household_of_an_anonymous_ticket() {
    use crate::ticket_world::{act_ok, file, ticket_body, triage, world};
    let app = spawn_app().await;
    let w = world(&app, "匿").await;
    let mut body = ticket_body(&w, "噪音扰民");
    body["anonymous"] = json!(true);
    let t = file(&app, &w.resident, &body).await;
    triage(&app, &w.staff, &t["id"], "green").await;
    act_ok(
        &app,
        &w.staff,
        &t["id"],
        "assign",
        json!({"property_company_id": w.company}),
    )
    .await;
    let id = t["id"].as_str().unwrap();
    let seen = get_json(&app, &format!("/api/v1/tickets/{id}"), &w.property).await;
    assert_eq!(seen["requester_name"], Value::Null);
    assert_eq!(seen["building_id"], Value::Null);
    assert_eq!(seen["household_id"], Value::Null);
    let by_building = get_json(
        &app,
        &format!("/api/v1/tickets?building_id={}", w.t.building),
        &w.property,
    )
    .await;
    assert!(
        by_building["items"].as_array().unwrap().is_empty(),
        "{by_building}"
    );
    let all = get_json(&app, "/api/v1/tickets", &w.property).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1, "still listed");

    // The triaging staff and the requester still see where it is.
    let staff = get_json(&app, &format!("/api/v1/tickets/{id}"), &w.staff).await;
    assert_eq!(staff["building_id"], w.t.building.to_string());
    let own = get_json(&app, &format!("/api/v1/tickets/{id}"), &w.resident).await;
    assert_eq!(own["building_id"], w.t.building.to_string());
}
