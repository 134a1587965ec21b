//! The rules around tickets: which verb from which state (409), by whom (403), with which
//! version (412); who sees which tickets (lists and by id agree); anonymity; filing rules.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::ticket_world::*;

const STATES: [&str; 8] = [
    "submitted",
    "triaged",
    "assigned",
    "accepted",
    "resolved",
    "closed",
    "cancelled",
    "rejected",
];

/// A fresh ticket in `state`, dispatched (where it got that far) to the grid manager.
async fn ticket_in(app: &TestApp, w: &World, state: &str) -> Value {
    // A resident files at most ten tickets a day; this test files many more.
    app.clock.advance(chrono::Duration::hours(3));
    let t = file(app, &w.resident, &ticket_body(w, &format!("状态{state}"))).await;
    let id = t["id"].clone();
    let path: &[(&str, &str, Value)] = &[
        ("staff", "triage", json!({"priority": "green"})),
        (
            "staff",
            "assign",
            json!({"handler_user_id": w.grid_manager_id}),
        ),
        ("gm", "accept", json!({})),
        ("gm", "resolve", json!({"note": "办好了"})),
        ("resident", "confirm", json!({"rating": 4})),
    ];
    let steps = match state {
        "submitted" => 0,
        "triaged" => 1,
        "assigned" => 2,
        "accepted" => 3,
        "resolved" => 4,
        "closed" => 5,
        "cancelled" => {
            act_ok(app, &w.resident, &id, "cancel", json!({})).await;
            0
        }
        "rejected" => {
            act_ok(app, &w.staff, &id, "reject", json!({"reason": "重复"})).await;
            0
        }
        other => panic!("unknown state {other}"),
    };
    for (who, verb, body) in &path[..steps] {
        let token = match *who {
            "staff" => &w.staff,
            "gm" => &w.grid_manager,
            _ => &w.resident,
        };
        act_ok(app, token, &id, verb, body.clone()).await;
    }
    id
}

/// (verb, who, body, states it succeeds from, states where the caller is not a party)
type Case<'a> = (&'a str, &'a str, Value, &'a [&'a str], &'a [&'a str]);

#[tokio::test]
async fn every_verb_is_allowed_only_from_its_states() {
    let app = spawn_app().await;
    let w = world(&app, "态").await;
    let cases: Vec<Case> = vec![
        (
            "triage",
            &w.staff,
            json!({"priority": "orange"}),
            &["submitted"],
            &[],
        ),
        (
            "assign",
            &w.staff,
            json!({"property_company_id": w.company}),
            &["triaged", "assigned"],
            &[],
        ),
        (
            "reject",
            &w.staff,
            json!({"reason": "不受理"}),
            &["submitted", "triaged"],
            &[],
        ),
        (
            "accept",
            &w.grid_manager,
            json!({}),
            &["assigned"],
            &["submitted", "triaged", "cancelled", "rejected"],
        ),
        (
            "return",
            &w.grid_manager,
            json!({"reason": "非本人职责"}),
            &["assigned", "accepted"],
            &["submitted", "triaged", "cancelled", "rejected"],
        ),
        (
            "resolve",
            &w.grid_manager,
            json!({"note": "好了"}),
            &["accepted"],
            &["submitted", "triaged", "cancelled", "rejected"],
        ),
        (
            "progress",
            &w.grid_manager,
            json!({"note": "在办"}),
            &["triaged", "assigned", "accepted"],
            &[],
        ),
        (
            "confirm",
            &w.resident,
            json!({"rating": 5}),
            &["resolved"],
            &[],
        ),
        (
            "reopen",
            &w.resident,
            json!({"reason": "没修好"}),
            &["resolved"],
            &[],
        ),
        (
            "cancel",
            &w.resident,
            json!({}),
            &["submitted", "triaged", "assigned"],
            &[],
        ),
        (
            "urge",
            &w.resident,
            json!({}),
            &["submitted", "triaged", "assigned", "accepted"],
            &[],
        ),
    ];
    for (verb, who, body, ok_from, not_party) in cases {
        for state in STATES {
            let id = ticket_in(&app, &w, state).await;
            let res = act(&app, who, &id, verb, body.clone()).await;
            let expected = if not_party.contains(&state) {
                403
            } else if ok_from.contains(&state) {
                200
            } else {
                409
            };
            assert_eq!(
                res.status().as_u16(),
                expected,
                "{verb} from {state}: {}",
                res.text().await.unwrap_or_default()
            );
            if expected == 409 {
                // The ticket did not move.
                let t: Value = app
                    .get(
                        &format!("/api/v1/tickets/{}", id.as_str().unwrap()),
                        &w.staff,
                    )
                    .await
                    .json()
                    .await
                    .unwrap();
                assert_eq!(t["status"], state);
            }
        }
    }
}

#[tokio::test]
async fn only_the_right_roles_may_perform_each_verb() {
    let app = spawn_app().await;
    let w = world(&app, "角").await;
    // A ticket at each stage, dispatched to the property company.
    let submitted = file(&app, &w.resident, &ticket_body(&w, "待分类")).await["id"].clone();
    let triaged = file(&app, &w.resident, &ticket_body(&w, "待派")).await["id"].clone();
    triage(&app, &w.staff, &triaged, "green").await;
    let accepted = accepted_ticket(&app, &w, "在办").await["id"].clone();
    let resolved = accepted_ticket(&app, &w, "待确认").await["id"].clone();
    act_ok(
        &app,
        &w.property,
        &resolved,
        "resolve",
        json!({"note": "好了"}),
    )
    .await;

    let forbidden: Vec<(&str, &Value, &str, Value)> = vec![
        // Residents do not triage, dispatch, reject or work tickets, even their own.
        (
            &w.resident,
            &submitted,
            "triage",
            json!({"priority": "red"}),
        ),
        (&w.resident, &submitted, "reject", json!({"reason": "x"})),
        (
            &w.resident,
            &triaged,
            "assign",
            json!({"property_company_id": w.company}),
        ),
        (&w.resident, &accepted, "resolve", json!({"note": "x"})),
        (&w.resident, &accepted, "progress", json!({"note": "x"})),
        // Property staff work what they are given; they do not triage, dispatch or close.
        (
            &w.property,
            &accepted,
            "assign",
            json!({"property_company_id": w.company}),
        ),
        (&w.property, &resolved, "confirm", json!({"rating": 5})),
        (&w.property, &accepted, "urge", json!({})),
        (&w.property, &accepted, "cancel", json!({})),
        // Council members triage but do not dispatch.
        (
            &w.council,
            &triaged,
            "assign",
            json!({"property_company_id": w.company}),
        ),
        (&w.council, &accepted, "resolve", json!({"note": "x"})),
        // Community staff dispatch but are not the handler of a company's ticket, and do not
        // speak for the requester.
        (&w.staff, &accepted, "resolve", json!({"note": "x"})),
        (&w.staff, &resolved, "confirm", json!({"rating": 5})),
        (&w.staff, &resolved, "reopen", json!({"reason": "x"})),
        (&w.staff, &accepted, "urge", json!({})),
        (&w.staff, &submitted, "cancel", json!({})),
        // The grid manager follows up but is not this ticket's handler.
        (&w.grid_manager, &accepted, "resolve", json!({"note": "x"})),
        (&w.grid_manager, &accepted, "return", json!({"reason": "x"})),
    ];
    for (who, id, verb, body) in forbidden {
        let res = act(&app, who, id, verb, body).await;
        assert_eq!(res.status(), 403, "{verb} on {id}");
    }
    // Outsiders do not learn the ticket exists.
    let other = small_territory(&app, &w.admin, "角二").await;
    let (outsider, _) = member(
        &app,
        &w.admin,
        &uname("os"),
        "community_staff",
        "community",
        other.community,
    )
    .await;
    let (stranger, _) = member(
        &app,
        &w.admin,
        &uname("st"),
        "resident",
        "household",
        other.household,
    )
    .await;
    for who in [&outsider, &stranger] {
        let res = act(
            &app,
            who,
            &triaged,
            "assign",
            json!({"property_company_id": w.company}),
        )
        .await;
        assert_problem(res, 404, "not_found").await;
    }
}

#[tokio::test]
async fn if_match_guards_every_transition() {
    let app = spawn_app().await;
    let w = world(&app, "版").await;
    let t = file(&app, &w.resident, &ticket_body(&w, "版本")).await;
    let id = t["id"].as_str().unwrap().to_string();
    let post = |token: &str, verb: &str, etag: &str, body: Value| {
        app.request(
            Method::POST,
            &format!("/api/v1/tickets/{id}/{verb}"),
            Some(token),
        )
        .header("If-Match", etag.to_string())
        .json(&body)
        .send()
    };
    // The requester urges: the version moves on from 1 to 2.
    let res = post(&w.resident, "urge", "\"1\"", json!({})).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    // Staff still holding version 1 triage: stale.
    let res = post(&w.staff, "triage", "\"1\"", json!({"priority": "green"}))
        .await
        .unwrap();
    assert_problem(res, 412, "precondition_failed").await;
    let res = post(
        &w.staff,
        "triage",
        "W/\"not-ours\"",
        json!({"priority": "green"}),
    )
    .await
    .unwrap();
    assert_problem(res, 412, "precondition_failed").await;
    let t: Value = app
        .get(&format!("/api/v1/tickets/{id}"), &w.staff)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        t["status"], "submitted",
        "a refused transition changes nothing"
    );
    // With the current ETag (weak or strong) it goes through; `*` matches anything.
    let res = post(&w.staff, "triage", "W/\"2\"", json!({"priority": "green"}))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = post(
        &w.staff,
        "assign",
        "*",
        json!({"property_company_id": w.company}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    // GET answers the same ETag.
    let res = app.get(&format!("/api/v1/tickets/{id}"), &w.property).await;
    assert_eq!(res.headers()["etag"], "\"4\"");
}

async fn ids_in(app: &TestApp, token: &str, query: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/tickets?limit=2{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let res = app.get(&path, token).await;
        assert_eq!(res.status(), 200, "{path}");
        let page: Value = res.json().await.unwrap();
        for t in page["items"].as_array().unwrap() {
            assert!(
                ids.insert(t["id"].as_str().unwrap().to_string()),
                "no repeats across pages"
            );
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn each_role_sees_exactly_its_tickets_in_lists_and_by_id() {
    let app = spawn_app().await;
    let w = world(&app, "域").await;
    // A second compound of the same community, outside the grid, with its own resident.
    let compound2 = app
        .create(
            &w.admin,
            "compounds",
            json!({"community_id": w.t.community, "name": "域二小区"}),
        )
        .await;
    let building2 = app
        .create(
            &w.admin,
            "buildings",
            json!({"compound_id": compound2, "name": "2幢"}),
        )
        .await;
    let household2 = app
        .create(
            &w.admin,
            "households",
            json!({"building_id": building2, "unit": "1", "room": "202"}),
        )
        .await;
    let (resident2, _) = member(
        &app,
        &w.admin,
        &uname("r2"),
        "resident",
        "household",
        household2,
    )
    .await;
    let (neighbour, _) = member(
        &app,
        &w.admin,
        &uname("nb"),
        "resident",
        "household",
        w.t.household,
    )
    .await;
    // Another community entirely.
    let other = small_territory(&app, &w.admin, "域外").await;
    let (other_staff, _) = member(
        &app,
        &w.admin,
        &uname("os"),
        "community_staff",
        "community",
        other.community,
    )
    .await;

    let mine = file(&app, &w.resident, &ticket_body(&w, "一号")).await["id"].clone();
    let dispatched = accepted_ticket(&app, &w, "二号").await["id"].clone();
    let mut body = ticket_body(&w, "三号");
    body["compound_id"] = json!(compound2);
    body["building_id"] = json!(building2);
    let elsewhere = file(&app, &resident2, &body).await["id"].clone();
    let s = |v: &Value| v.as_str().unwrap().to_string();
    let all: HashSet<String> = [s(&mine), s(&dispatched), s(&elsewhere)].into();

    let expectations: Vec<(&str, &str, HashSet<String>)> = vec![
        ("resident", &w.resident, [s(&mine), s(&dispatched)].into()),
        (
            "neighbour in the same household",
            &neighbour,
            HashSet::new(),
        ),
        (
            "resident of the other compound",
            &resident2,
            [s(&elsewhere)].into(),
        ),
        ("property staff", &w.property, [s(&dispatched)].into()),
        (
            "grid manager",
            &w.grid_manager,
            [s(&mine), s(&dispatched)].into(),
        ),
        ("community staff", &w.staff, all.clone()),
        ("council member", &w.council, all.clone()),
        ("street admin", &w.street_admin, all.clone()),
        ("another community's staff", &other_staff, HashSet::new()),
    ];
    for (who, token, expected) in expectations {
        assert_eq!(ids_in(&app, token, "").await, expected, "list of {who}");
        assert_eq!(
            ids_in(&app, token, "&sort=due").await,
            expected,
            "list by due date of {who}"
        );
        for id in &all {
            let res = app.get(&format!("/api/v1/tickets/{id}"), token).await;
            let status = res.status().as_u16();
            assert_eq!(
                status,
                if expected.contains(id) { 200 } else { 404 },
                "{who} GET {id}"
            );
        }
    }
    // The views narrow further.
    assert_eq!(ids_in(&app, &w.resident, "&mine=true").await.len(), 2);
    assert_eq!(ids_in(&app, &w.staff, "&mine=true").await.len(), 0);
    assert_eq!(
        ids_in(&app, &w.property, "&assigned_to_me=true").await,
        [s(&dispatched)].into()
    );
    assert_eq!(
        ids_in(&app, &w.staff, &format!("&compound_id={compound2}")).await,
        [s(&elsewhere)].into()
    );
    assert_eq!(
        ids_in(&app, &w.staff, "&status=submitted").await,
        [s(&mine), s(&elsewhere)].into()
    );
    assert_eq!(
        ids_in(&app, &w.staff, "&priority=green&status=accepted,resolved").await,
        [s(&dispatched)].into()
    );
    let res = app.get("/api/v1/tickets?limit=0", &w.staff).await;
    let p = assert_problem(res, 400, "invalid_query").await;
    assert_eq!(p["errors"][0]["field"], "limit");
    let res = app.get("/api/v1/tickets?status=open", &w.staff).await;
    assert_problem(res, 400, "invalid_query").await;
    let res = app
        .get("/api/v1/tickets?sort=due&cursor=Yy4x", &w.staff)
        .await;
    assert_problem(res, 400, "invalid_query").await;
}

#[tokio::test]
async fn due_order_puts_the_soonest_deadline_first_and_undated_last() {
    let app = spawn_app().await;
    let w = world(&app, "序").await;
    let mut expected = Vec::new();
    for (title, priority) in [
        ("橙", Some("orange")),
        ("无", None),
        ("绿", Some("green")),
        ("红", Some("red")),
    ] {
        let t = file(&app, &w.resident, &ticket_body(&w, title)).await;
        if let Some(p) = priority {
            triage(&app, &w.staff, &t["id"], p).await;
        }
        expected.push((title, t["id"].as_str().unwrap().to_string()));
    }
    let mut order = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tickets?sort=due&limit=1&cursor={c}"),
            None => "/api/v1/tickets?sort=due&limit=1".to_string(),
        };
        let page: Value = app.get(&path, &w.staff).await.json().await.unwrap();
        for t in page["items"].as_array().unwrap() {
            order.push(t["title"].as_str().unwrap().to_string());
        }
        assert!(order.len() <= 4, "the cursor went round: {order:?}");
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    // Green and red both fall due in 7 days (green first: triaged earlier), orange in 30.
    assert_eq!(order, ["绿", "红", "橙", "无"]);
}

#[tokio::test]
async fn an_anonymous_requester_is_hidden_from_the_property_company_but_not_from_staff() {
    let app = spawn_app().await;
    let w = world(&app, "匿").await;
    let mut body = ticket_body(&w, "物业乱收费");
    body["anonymous"] = json!(true);
    let t = file(&app, &w.resident, &body).await;
    let id = t["id"].clone();
    assert_eq!(
        t["requester_user_id"],
        w.resident_id.to_string(),
        "the requester sees themself"
    );
    triage(&app, &w.staff, &id, "orange").await;
    let t = act_ok(
        &app,
        &w.staff,
        &id,
        "assign",
        json!({"property_company_id": w.company}),
    )
    .await;
    assert_eq!(
        t["requester_user_id"],
        w.resident_id.to_string(),
        "staff see the requester"
    );
    assert!(t["requester_name"].is_string());
    let t = act_ok(&app, &w.property, &id, "accept", json!({})).await;
    assert_eq!(t["anonymous"], true);
    assert_eq!(t["requester_user_id"], Value::Null);
    assert_eq!(t["requester_name"], Value::Null);
    let filed = &t["timeline"][0];
    assert_eq!(filed["kind"], "filed");
    assert_eq!(filed["actor_user_id"], Value::Null);
    assert_eq!(filed["actor_name"], Value::Null);
    let list: Value = app
        .get("/api/v1/tickets", &w.property)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["requester_name"], Value::Null);
    let list: Value = app
        .get("/api/v1/tickets", &w.staff)
        .await
        .json()
        .await
        .unwrap();
    assert!(list["items"][0]["requester_name"].is_string());
}

#[tokio::test]
async fn staff_file_on_a_residents_behalf_with_the_channel_recorded() {
    let app = spawn_app().await;
    let w = world(&app, "代").await;
    let mut body = ticket_body(&w, "电话反映漏水");
    body["channel"] = json!("phone");
    body["requester_name"] = json!("王阿姨");
    let t = file(&app, &w.staff, &body).await;
    assert_eq!(t["channel"], "phone");
    assert_eq!(t["requester_name"], "王阿姨");
    assert_eq!(
        t["requester_user_id"],
        w.staff_id.to_string(),
        "staff confirm on her behalf"
    );
    // The channel is the ticket's field, not written again into the filing step's note.
    assert_eq!(t["timeline"][0]["note"], Value::Null);
    // On behalf of a roster resident whose account is linked: they become the requester.
    let roster = app
        .create(
            &w.admin,
            "residents",
            json!({"household_id": w.t.household, "name": "李四"}),
        )
        .await;
    let mut body = ticket_body(&w, "上门反映");
    body["channel"] = json!("visit");
    body["resident_id"] = json!(roster);
    let t = file(&app, &w.grid_manager, &body).await;
    assert_eq!(t["requester_name"], "李四");
    assert_eq!(t["household_id"], w.t.household.to_string());
    // Staff must say how it came in, and name the requester.
    let res = app
        .post("/api/v1/tickets", &w.staff, &ticket_body(&w, "无渠道"))
        .await;
    let p = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "channel");
    let mut body = ticket_body(&w, "无人");
    body["channel"] = json!("patrol");
    let res = app.post("/api/v1/tickets", &w.staff, &body).await;
    let p = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "resident_id");
    // Residents cannot claim a channel, property staff cannot file.
    let mut body = ticket_body(&w, "冒充");
    body["channel"] = json!("phone");
    body["requester_name"] = json!("别人");
    let res = app.post("/api/v1/tickets", &w.resident, &body).await;
    assert_problem(res, 403, "forbidden").await;
    let res = app
        .post("/api/v1/tickets", &w.property, &ticket_body(&w, "物业"))
        .await;
    assert_problem(res, 403, "forbidden").await;
}

#[tokio::test]
async fn filing_rejects_bad_input_with_the_field_named() {
    let app = spawn_app().await;
    let w = world(&app, "验").await;
    let cases: Vec<(Value, u16, &str)> = {
        let base = ticket_body(&w, "正常");
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            b
        };
        vec![
            (with("title", json!("  ")), 400, "title"),
            (with("title", json!("长".repeat(51))), 400, "title"),
            (
                with("description", json!("x".repeat(2001))),
                400,
                "description",
            ),
            (
                with("location", json!({"address": "x".repeat(201)})),
                400,
                "location.address",
            ),
            (with("status", json!("closed")), 400, "status"),
            (
                with("compound_id", json!(uuid::Uuid::now_v7())),
                400,
                "compound_id",
            ),
            (
                with("building_id", json!(uuid::Uuid::now_v7())),
                400,
                "building_id",
            ),
            (
                with("category_id", json!(uuid::Uuid::now_v7())),
                400,
                "category_id",
            ),
            (
                with("attachment_ids", json!([uuid::Uuid::now_v7()])),
                400,
                "attachment_ids",
            ),
        ]
    };
    for (body, status, field) in cases {
        let res = app.post("/api/v1/tickets", &w.resident, &body).await;
        assert_eq!(res.status().as_u16(), status, "{field}");
        let p: Value = res.json().await.unwrap();
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    let n: Value = app
        .get("/api/v1/tickets", &w.staff)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        n["items"].as_array().unwrap().is_empty(),
        "nothing was filed"
    );
    // Confirm ratings are 1..5.
    let t = accepted_ticket(&app, &w, "评分").await;
    act_ok(
        &app,
        &w.property,
        &t["id"],
        "resolve",
        json!({"note": "好"}),
    )
    .await;
    for bad in [0, 6] {
        let res = act(
            &app,
            &w.resident,
            &t["id"],
            "confirm",
            json!({"rating": bad}),
        )
        .await;
        let p = assert_problem(res, 400, "validation_failed").await;
        assert_eq!(p["errors"][0]["field"], "rating");
    }
    // Dispatch names exactly one target, and only eligible people.
    let t = file(&app, &w.resident, &ticket_body(&w, "派单")).await;
    triage(&app, &w.staff, &t["id"], "green").await;
    let res = act(&app, &w.staff, &t["id"], "assign", json!({})).await;
    assert_problem(res, 400, "validation_failed").await;
    let res = act(
        &app,
        &w.staff,
        &t["id"],
        "assign",
        json!({"handler_user_id": w.resident_id}),
    )
    .await;
    let p = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "handler_user_id");
}

/// A ticket reached by two of the caller's scope terms (their community, and being its
/// requester) is listed once, on every page and in both orders.
#[tokio::test]
async fn tickets_reached_twice_by_the_scope_are_listed_once() {
    let app = spawn_app().await;
    let w = world(&app, "重叠").await;
    let mut expected = HashSet::new();
    for i in 0..5 {
        let mut body = ticket_body(&w, &format!("代报{i}"));
        body["channel"] = json!("phone");
        body["requester_name"] = json!("老王");
        let t = file(&app, &w.staff, &body).await;
        if i % 2 == 0 {
            triage(&app, &w.staff, &t["id"], "green").await;
        }
        expected.insert(t["id"].as_str().unwrap().to_string());
    }
    expected.insert(
        file(&app, &w.resident, &ticket_body(&w, "居民")).await["id"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    assert_eq!(ids_in(&app, &w.staff, "").await, expected);
    assert_eq!(ids_in(&app, &w.staff, "&sort=due").await, expected);
    assert_eq!(ids_in(&app, &w.staff, "&mine=true").await.len(), 5);
}

/// A status this version does not know (written by a newer release, or by hand) is an error
/// wherever the ticket is read or counted: never shown as another status, never left out of
/// the figures, never moved by a verb.
#[tokio::test]
async fn an_unknown_stored_status_is_an_error_everywhere_not_another_status() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let w = world(&app, "怪").await;
    let t = file(&app, &w.resident, &ticket_body(&w, "状态未知")).await;
    let id = t["id"].as_str().unwrap().to_string();
    let key = if using_postgres() {
        format!("'{id}'")
    } else {
        // SQLite keeps a uuid as its 16 bytes.
        let bytes = uuid::Uuid::parse_str(&id).unwrap();
        let hex: String = bytes
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        format!("X'{hex}'")
    };
    let done = app
        .state
        .db
        .execute_unprepared(&format!(
            "UPDATE tickets SET status = 'on_hold' WHERE id = {key}"
        ))
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
    let detail = app.get(&format!("/api/v1/tickets/{id}"), &w.staff).await;
    assert_problem(detail, 500, "internal_error").await;
    let list = app.get("/api/v1/tickets", &w.staff).await;
    assert_problem(list, 500, "internal_error").await;
    let stats = app
        .get(
            &format!("/api/v1/tickets/stats?community_id={}", w.t.community),
            &w.staff,
        )
        .await;
    assert_problem(stats, 500, "internal_error").await;
    let res = act(
        &app,
        &w.staff,
        &Value::String(id),
        "triage",
        json!({"priority": "green"}),
    )
    .await;
    assert_problem(res, 500, "internal_error").await;
}
