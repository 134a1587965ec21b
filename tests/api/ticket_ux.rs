//! Tickets as the mini-program's screens need them: names instead of ids (a resident included),
//! Chinese status labels, a map location, nearby open tickets to spot duplicates, and merging a
//! duplicate into the ticket that stays.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::ticket_world::*;

/// A point in 紫阳街道, Hangzhou (GCJ-02).
const LAT: f64 = 30.2379;
const LON: f64 = 120.1762;

fn located(w: &World, title: &str, lat: f64, lon: f64) -> Value {
    let mut b = ticket_body(w, title);
    b["location"] = json!({"latitude": lat, "longitude": lon, "address": "1幢1单元楼道"});
    b
}

async fn json_of(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let text = res.text().await.expect("body");
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).expect("json")
}

async fn get_ticket(app: &TestApp, token: &str, id: &Value) -> reqwest::Response {
    app.get(
        &format!("/api/v1/tickets/{}", id.as_str().expect("id")),
        token,
    )
    .await
}

/// A resident of another household of the world's building: the neighbour.
async fn neighbour(app: &TestApp, w: &World) -> (String, Uuid) {
    let hh = app
        .create(
            &w.admin,
            "households",
            json!({"building_id": w.t.building, "unit": "1单元", "room": "102"}),
        )
        .await;
    member(app, &w.admin, &uname("nb"), "resident", "household", hh).await
}

/// The community's second default category.
async fn other_category(app: &TestApp, w: &World) -> Value {
    let cats = json_of(
        app.get(
            &format!("/api/v1/ticket-categories?community_id={}", w.t.community),
            &w.staff,
        )
        .await,
        200,
    )
    .await;
    let other = cats["items"][1]["id"].clone();
    assert!(other.is_string() && other != json!(w.category), "{cats}");
    other
}

#[tokio::test]
async fn a_resident_reads_names_on_their_own_ticket_and_gets_404_on_a_neighbours() {
    let app = spawn_app().await;
    let w = world(&app, "名").await;
    let res = app
        .patch(
            &format!("/api/v1/property-companies/{}", w.company),
            &w.admin,
            &json!({"contact_phone": "0571-87000000"}),
        )
        .await;
    json_of(res, 200).await;

    let mine = file(&app, &w.resident, &located(&w, "楼道灯不亮", LAT, LON)).await;
    triage(&app, &w.staff, &mine["id"], "green").await;
    act_ok(
        &app,
        &w.staff,
        &mine["id"],
        "assign",
        json!({"property_company_id": w.company}),
    )
    .await;
    let t = json_of(get_ticket(&app, &w.resident, &mine["id"]).await, 200).await;
    assert_eq!(t["community_name"], "名社区", "{t}");
    assert_eq!(t["compound_name"], "名小区");
    assert_eq!(t["building_name"], "1幢");
    assert_eq!(t["unit"], "1单元");
    assert_eq!(t["room"], "101");
    assert_eq!(t["assigned_company_name"], "名物业");
    assert_eq!(t["assigned_company_contact_phone"], "0571-87000000");
    assert_eq!(t["handler_name"], Value::Null, "dispatched to a company");
    assert_eq!(t["status"], "assigned");
    assert_eq!(t["status_label"], "已派单");
    assert_eq!(
        t["location"],
        json!({"latitude": LAT, "longitude": LON, "address": "1幢1单元楼道"})
    );
    // The timeline reads as the ticket went: 已提交, 已受理, 已派单.
    let labels: Vec<&str> = t["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status_label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["已提交", "已受理", "已派单"], "{t}");
    // The names are what the resident could not read directly.
    let res = app
        .get(
            &format!("/api/v1/communities/{}", w.t.community),
            &w.resident,
        )
        .await;
    assert_eq!(res.status(), 404);

    // Dispatched to a person: the handler's name.
    let theirs = file(&app, &w.resident, &ticket_body(&w, "垃圾没清")).await;
    triage(&app, &w.staff, &theirs["id"], "green").await;
    let t = act_ok(
        &app,
        &w.staff,
        &theirs["id"],
        "assign",
        json!({"handler_user_id": w.grid_manager_id}),
    )
    .await;
    let t = json_of(get_ticket(&app, &w.resident, &t["id"]).await, 200).await;
    assert!(
        t["handler_name"]
            .as_str()
            .is_some_and(|n| n.starts_with("gm")),
        "{t}"
    );
    assert_eq!(
        t["location"],
        json!({"latitude": null, "longitude": null, "address": "1幢1单元楼道"})
    );

    // The neighbour sees none of it.
    let (nb, _) = neighbour(&app, &w).await;
    assert_problem(get_ticket(&app, &nb, &mine["id"]).await, 404, "not_found").await;
}

#[tokio::test]
async fn list_items_carry_names_and_status_labels() {
    let app = spawn_app().await;
    let w = world(&app, "列").await;
    let a = file(&app, &w.resident, &ticket_body(&w, "一")).await;
    file(&app, &w.resident, &ticket_body(&w, "二")).await;
    triage(&app, &w.staff, &a["id"], "orange").await;
    for token in [&w.resident, &w.staff] {
        let page = json_of(app.get("/api/v1/tickets", token).await, 200).await;
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "{page}");
        for it in items {
            assert_eq!(it["community_name"], "列社区", "{it}");
            assert_eq!(it["compound_name"], "列小区");
            assert_eq!(it["building_name"], "1幢");
            assert_eq!(it["room"], "101");
            let label = if it["id"] == a["id"] {
                "已受理"
            } else {
                "已提交"
            };
            assert_eq!(it["status_label"], label, "{it}");
        }
    }
    // The property company never sees where an anonymous requester lives.
    let mut body = ticket_body(&w, "匿名");
    body["anonymous"] = json!(true);
    let anon = file(&app, &w.resident, &body).await;
    triage(&app, &w.staff, &anon["id"], "green").await;
    act_ok(
        &app,
        &w.staff,
        &anon["id"],
        "assign",
        json!({"property_company_id": w.company}),
    )
    .await;
    let page = json_of(app.get("/api/v1/tickets", &w.property).await, 200).await;
    let it = &page["items"][0];
    assert_eq!(it["id"], anon["id"]);
    assert_eq!(it["compound_name"], "列小区");
    for hidden in ["building_name", "unit", "room", "requester_name"] {
        assert_eq!(it[hidden], Value::Null, "{hidden}: {it}");
    }
}

/// How many statements `GET path` ran.
async fn statements_for(app: &TestApp, token: &str, path: &str) -> usize {
    crate::plans::statements_of(app, token, path).await.len()
}

#[tokio::test]
async fn a_page_of_tickets_costs_the_same_statements_whatever_names_it_shows() {
    let app = spawn_app().await;
    let w = world(&app, "数").await;
    let first = file(&app, &w.resident, &ticket_body(&w, "一")).await;
    triage(&app, &w.staff, &first["id"], "green").await;
    let one = statements_for(&app, &w.staff, "/api/v1/tickets").await;
    // More tickets, naming a company, a handler, another household and building.
    let (nb, _) = neighbour(&app, &w).await;
    let b2 = app
        .create(
            &w.admin,
            "buildings",
            json!({"compound_id": w.t.compound, "name": "2幢"}),
        )
        .await;
    for (i, token) in [&w.resident, &nb, &w.resident, &nb].into_iter().enumerate() {
        let mut body = ticket_body(&w, &format!("第{i}"));
        body["building_id"] = json!(b2);
        let t = file(&app, token, &body).await;
        triage(&app, &w.staff, &t["id"], "green").await;
        let to = if i % 2 == 0 {
            json!({"property_company_id": w.company})
        } else {
            json!({"handler_user_id": w.grid_manager_id})
        };
        act_ok(&app, &w.staff, &t["id"], "assign", to).await;
    }
    let five = statements_for(&app, &w.staff, "/api/v1/tickets").await;
    assert_eq!(one, five, "a page of 1 and of 5 tickets");
    let page = json_of(app.get("/api/v1/tickets", &w.staff).await, 200).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert!(
        items.iter().any(|t| t["handler_name"].is_string()),
        "{page}"
    );
    assert!(items.iter().any(|t| t["assigned_company_name"] == "数物业"));
    assert!(items
        .iter()
        .any(|t| t["room"] == "102" && t["building_name"] == "2幢"));
}

#[tokio::test]
async fn filing_rejects_a_bad_location_naming_the_field_and_code() {
    let app = spawn_app().await;
    let w = world(&app, "位").await;
    let cases = [
        (
            json!({"latitude": 90.5, "longitude": LON}),
            "location.latitude",
            "out_of_range",
        ),
        (
            json!({"latitude": -91, "longitude": LON}),
            "location.latitude",
            "out_of_range",
        ),
        (
            json!({"latitude": LAT, "longitude": 180.01}),
            "location.longitude",
            "out_of_range",
        ),
        (json!({"latitude": LAT}), "location.longitude", "required"),
        (
            json!({"longitude": LON, "address": "东门"}),
            "location.latitude",
            "required",
        ),
        (
            json!({"address": "长".repeat(201)}),
            "location.address",
            "too_long",
        ),
    ];
    for (location, field, code) in cases {
        let mut body = ticket_body(&w, "位置");
        body["location"] = location.clone();
        let p = assert_problem(
            app.post("/api/v1/tickets", &w.resident, &body).await,
            400,
            "validation_failed",
        )
        .await;
        assert_eq!(p["errors"][0]["field"], field, "{location}: {p}");
        assert_eq!(p["errors"][0]["code"], code, "{location}: {p}");
    }
    let mut body = ticket_body(&w, "位置");
    body["location"] = json!({"latitude": LAT, "longitude": LON, "altitude": 5});
    assert_problem(
        app.post("/api/v1/tickets", &w.resident, &body).await,
        400,
        "invalid_body",
    )
    .await;
    // At the edges, and the point alone, it is accepted.
    let t = file(&app, &w.resident, &{
        let mut b = ticket_body(&w, "边界");
        b["location"] = json!({"latitude": -90, "longitude": 180});
        b
    })
    .await;
    assert_eq!(
        t["location"],
        json!({"latitude": -90.0, "longitude": 180.0, "address": null})
    );
    let page = json_of(app.get("/api/v1/tickets", &w.staff).await, 200).await;
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        1,
        "only the good one"
    );
}

/// A resident's ticket at the point, rejected by staff.
async fn rejected(app: &TestApp, w: &World, title: &str) -> Value {
    let t = file(app, &w.resident, &located(w, title, LAT, LON)).await;
    act_ok(
        app,
        &w.staff,
        &t["id"],
        "reject",
        json!({"reason": "不属实"}),
    )
    .await
}

/// A resident's ticket (`body`) filed under the community's second category.
async fn of_other_category(app: &TestApp, w: &World, mut body: Value) -> Value {
    body["category_id"] = other_category(app, w).await;
    file(app, &w.resident, &body).await
}

/// Takes a ticket all the way to `closed` through the grid manager.
async fn close(app: &TestApp, w: &World, id: &Value) {
    triage(app, &w.staff, id, "green").await;
    act_ok(
        app,
        &w.staff,
        id,
        "assign",
        json!({"handler_user_id": w.grid_manager_id}),
    )
    .await;
    act_ok(app, &w.grid_manager, id, "accept", json!({})).await;
    act_ok(
        app,
        &w.grid_manager,
        id,
        "resolve",
        json!({"note": "修好了"}),
    )
    .await;
    let t = act_ok(app, &w.resident, id, "confirm", json!({"rating": 5})).await;
    assert_eq!(t["status"], "closed");
}

/// A ticket (`body`, moved) in a second compound of the community, outside the grid manager's
/// grid, taken by community staff on the phone.
async fn beyond_the_grid(app: &TestApp, w: &World, mut body: Value) -> Value {
    let compound = app
        .create(
            &w.admin,
            "compounds",
            json!({"community_id": w.t.community, "name": format!("二{}", uname("c"))}),
        )
        .await;
    body["compound_id"] = json!(compound);
    body["building_id"] = Value::Null;
    body["channel"] = json!("phone");
    body["requester_name"] = json!("王阿姨");
    file(app, &w.staff, &body).await
}

fn ids_of(page: &Value) -> Vec<Value> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["id"].clone())
        .collect()
}

#[tokio::test]
async fn nearby_lists_open_tickets_of_the_category_within_the_radius_and_the_callers_reach() {
    let app = spawn_app().await;
    let w = world(&app, "近").await;
    let base = file(&app, &w.resident, &located(&w, "路灯坏了", LAT, LON)).await;
    // About 111 m north, and about 1 km north.
    let near = file(
        &app,
        &w.resident,
        &located(&w, "路灯不亮", LAT + 0.001, LON),
    )
    .await;
    let far = file(
        &app,
        &w.resident,
        &located(&w, "远处路灯", LAT + 0.009, LON),
    )
    .await;
    let other_kind = of_other_category(&app, &w, located(&w, "别的类别", LAT, LON + 0.0005)).await;
    let rejected = rejected(&app, &w, "已驳回").await;
    let closed = file(&app, &w.resident, &located(&w, "已关闭", LAT, LON)).await;
    close(&app, &w, &closed["id"]).await;
    let beyond_grid =
        beyond_the_grid(&app, &w, located(&w, "隔壁小区路灯", LAT + 0.0002, LON)).await;

    let path = |r: &str| format!("/api/v1/tickets/{}/nearby{r}", base["id"].as_str().unwrap());
    let page = json_of(app.get(&path(""), &w.grid_manager).await, 200).await;
    assert_eq!(ids_of(&page), [near["id"].clone()], "{page}");
    let d = page["items"][0]["distance_m"].as_u64().unwrap();
    assert!((105..=118).contains(&d), "about 111 m: {d}");
    assert_eq!(page["items"][0]["status_label"], "已提交");
    assert_eq!(page["next_cursor"], Value::Null);

    // Community staff reach the other compound too: nearest first.
    let page = json_of(app.get(&path(""), &w.staff).await, 200).await;
    assert_eq!(
        ids_of(&page),
        [beyond_grid["id"].clone(), near["id"].clone()],
        "{page}"
    );
    let page = json_of(app.get(&path("?radius_m=2000"), &w.staff).await, 200).await;
    assert_eq!(
        ids_of(&page),
        [
            beyond_grid["id"].clone(),
            near["id"].clone(),
            far["id"].clone()
        ]
    );
    for not in [&other_kind, &rejected, &closed] {
        assert!(!ids_of(&page).contains(&not["id"]), "{not}");
    }

    for bad in ["?radius_m=0", "?radius_m=2001", "?radius_m=abc"] {
        assert_problem(app.get(&path(bad), &w.staff).await, 400, "invalid_query").await;
    }
    // Residents and property companies do not look for duplicates.
    assert_problem(app.get(&path(""), &w.resident).await, 403, "forbidden").await;
    assert_problem(app.get(&path(""), &w.property).await, 404, "not_found").await;
    // Without a map point there is nothing to be near.
    let plain = file(&app, &w.resident, &ticket_body(&w, "没有位置")).await;
    assert_problem(
        app.get(
            &format!("/api/v1/tickets/{}/nearby", plain["id"].as_str().unwrap()),
            &w.staff,
        )
        .await,
        409,
        "ticket_has_no_location",
    )
    .await;
}

async fn merge(app: &TestApp, token: &str, id: &Value, into: &Value) -> reqwest::Response {
    act(app, token, id, "merge", json!({"into_ticket_id": into})).await
}

/// Asserts that merging `id` into `into` as `token` answers `status` with `code`.
async fn refused(
    app: &TestApp,
    token: &str,
    (id, into): (&Value, &Value),
    status: u16,
    code: &str,
) -> Value {
    assert_problem(merge(app, token, id, into).await, status, code).await
}

/// The ticket_status_changed notifications of ticket `id`, as (recipient) user ids.
async fn told(app: &TestApp, w: &World, id: &Value) -> Vec<String> {
    let page = json_of(
        app.get(
            &format!(
                "/api/v1/notifications?ticket_id={}&event_type=ticket_status_changed",
                id.as_str().unwrap()
            ),
            &w.admin,
        )
        .await,
        200,
    )
    .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["recipient_user_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn merging_links_both_tickets_tells_both_requesters_and_ends_the_duplicate() {
    let app = spawn_app().await;
    let w = world(&app, "并").await;
    let (nb, nb_id) = neighbour(&app, &w).await;
    let survivor = file(&app, &w.resident, &located(&w, "楼道灯不亮", LAT, LON)).await;
    triage(&app, &w.staff, &survivor["id"], "green").await;
    let dup = file(&app, &nb, &located(&w, "楼道很黑", LAT, LON)).await;

    let merged = json_of(
        merge(&app, &w.grid_manager, &dup["id"], &survivor["id"]).await,
        200,
    )
    .await;
    assert_eq!(merged["status"], "merged", "{merged}");
    assert_eq!(merged["status_label"], "已合并");
    assert_eq!(merged["merged_into_id"], survivor["id"]);
    assert_eq!(merged["merged_into"]["id"], survivor["id"]);
    assert_eq!(merged["merged_into"]["title"], "楼道灯不亮");
    assert_eq!(merged["merged_into"]["status_label"], "已受理");
    assert!(merged["closed_at"].is_string());
    let last = merged["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["kind"], "merged");
    assert_eq!(last["related_ticket_id"], survivor["id"]);
    assert_eq!(last["to_status"], "merged");
    assert_eq!(last["status_label"], "已合并");

    let s = json_of(get_ticket(&app, &w.staff, &survivor["id"]).await, 200).await;
    assert_eq!(s["status"], "triaged", "the survivor carries on");
    let last = s["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "merged_in", "{s}");
    assert_eq!(last["related_ticket_id"], dup["id"]);
    assert_eq!(last["status_label"], "已受理");
    assert_eq!(s["merged_duplicates"][0]["id"], dup["id"]);
    assert_eq!(s["merged_duplicates"][0]["status"], "merged");

    // Both requesters are told; each reads only their own ticket.
    assert!(told(&app, &w, &dup["id"])
        .await
        .contains(&nb_id.to_string()));
    assert!(told(&app, &w, &survivor["id"])
        .await
        .contains(&w.resident_id.to_string()));
    let mine = json_of(get_ticket(&app, &nb, &dup["id"]).await, 200).await;
    assert_eq!(mine["merged_into"]["title"], "楼道灯不亮");
    assert_problem(
        get_ticket(&app, &nb, &survivor["id"]).await,
        404,
        "not_found",
    )
    .await;
    let theirs = json_of(get_ticket(&app, &w.resident, &survivor["id"]).await, 200).await;
    assert_eq!(
        theirs["merged_duplicates"],
        json!([]),
        "not the neighbour's"
    );

    // Terminal: a second merge, and every verb, is a clean 409.
    refused(
        &app,
        &w.grid_manager,
        (&dup["id"], &survivor["id"]),
        409,
        "ticket_already_merged",
    )
    .await;
    assert_problem(
        act(&app, &nb, &dup["id"], "urge", json!({})).await,
        409,
        "ticket_already_merged",
    )
    .await;
    assert_problem(
        act(
            &app,
            &w.staff,
            &dup["id"],
            "triage",
            json!({"priority": "red"}),
        )
        .await,
        409,
        "ticket_already_merged",
    )
    .await;
    // Nor is it near anything any more, and the list filters on it.
    let page = json_of(
        app.get(
            &format!(
                "/api/v1/tickets/{}/nearby",
                survivor["id"].as_str().unwrap()
            ),
            &w.staff,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(ids_of(&page), Vec::<Value>::new());
    let page = json_of(
        app.get("/api/v1/tickets?status=merged", &w.staff).await,
        200,
    )
    .await;
    assert_eq!(ids_of(&page), [dup["id"].clone()]);
}

#[tokio::test]
async fn merging_refuses_itself_finished_tickets_other_categories_and_tickets_out_of_reach() {
    let app = spawn_app().await;
    let w = world(&app, "拒").await;
    let a = file(&app, &w.resident, &located(&w, "甲", LAT, LON)).await;
    let b = file(&app, &w.resident, &located(&w, "乙", LAT, LON)).await;
    let c = file(&app, &w.resident, &located(&w, "丙", LAT, LON)).await;
    let rejected = rejected(&app, &w, "丁").await;
    let other_kind = of_other_category(&app, &w, located(&w, "戊", LAT, LON)).await;
    // Another compound, outside the grid manager's reach.
    let beyond = beyond_the_grid(&app, &w, located(&w, "己", LAT, LON)).await;
    // `a` goes to the property company, and `b` is merged into it.
    triage(&app, &w.staff, &a["id"], "green").await;
    act_ok(
        &app,
        &w.staff,
        &a["id"],
        "assign",
        json!({"property_company_id": w.company}),
    )
    .await;
    json_of(merge(&app, &w.staff, &b["id"], &a["id"]).await, 200).await;

    let p = refused(
        &app,
        &w.staff,
        (&c["id"], &c["id"]),
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "into_ticket_id", "{p}");
    let nowhere = json!(Uuid::now_v7());
    let cases = [
        (
            &w.staff,
            &c["id"],
            &rejected["id"],
            409,
            "merge_target_not_open",
        ),
        (&w.staff, &c["id"], &b["id"], 409, "merge_target_not_open"),
        (&w.staff, &rejected["id"], &c["id"], 409, "wrong_status"),
        (
            &w.staff,
            &c["id"],
            &other_kind["id"],
            409,
            "merge_category_mismatch",
        ),
        (&w.grid_manager, &c["id"], &beyond["id"], 404, "not_found"),
        (&w.grid_manager, &beyond["id"], &c["id"], 404, "not_found"),
        (&w.grid_manager, &c["id"], &nowhere, 404, "not_found"),
        // The requester and the property company may see a ticket but not merge it.
        (&w.resident, &c["id"], &a["id"], 403, "forbidden"),
        (&w.property, &a["id"], &c["id"], 403, "forbidden"),
    ];
    for (token, id, into, status, code) in cases {
        refused(&app, token, (id, into), status, code).await;
    }
    // Nothing refused above changed a ticket.
    let t = json_of(get_ticket(&app, &w.staff, &c["id"]).await, 200).await;
    assert_eq!(t["status"], "submitted");
    assert_eq!(t["merged_into_id"], Value::Null);
    assert_eq!(t["timeline"].as_array().unwrap().len(), 1, "{t}");
}
