//! The life of tickets through HTTP: green, orange and red deadlines against the test's clock,
//! escalation and auto-close by advancing it, urging, idempotent filing.

use chrono::{DateTime, Duration, Utc};
use futures_util::future::join_all;
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::ticket_world::*;

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a time: {v}"))
}

fn kinds(t: &Value) -> Vec<String> {
    t["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn get_ticket(app: &TestApp, token: &str, id: &Value) -> Value {
    let res = app
        .get(&format!("/api/v1/tickets/{}", id.as_str().unwrap()), token)
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn run_ticket_jobs(app: &TestApp) -> linli::app::jobs::TicketRound {
    linli::app::jobs::tickets(&app.state)
        .await
        .expect("ticket jobs")
}

#[tokio::test]
async fn a_green_ticket_lives_from_filing_to_confirmed_closure() {
    let app = spawn_app().await;
    let w = world(&app, "绿").await;
    let res = app
        .post(
            "/api/v1/tickets",
            &w.resident,
            &ticket_body(&w, "楼道灯不亮"),
        )
        .await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let t: Value = res.json().await.unwrap();
    let id = t["id"].clone();
    assert_eq!(
        location,
        format!("/api/v1/tickets/{}", id.as_str().unwrap())
    );
    assert_eq!(etag, "\"1\"");
    assert_eq!(t["status"], "submitted");
    assert_eq!(t["channel"], "mini_program");
    assert_eq!(t["requester_user_id"], w.resident_id.to_string());
    assert_eq!(t["category_name"], "环境卫生");
    assert_eq!(t["priority"], Value::Null);
    assert_eq!(t["due_at"], Value::Null);
    assert_eq!(t["overdue"], false);
    assert_eq!(t["escalation_level"], 0);

    let t = act_ok(
        &app,
        &w.staff,
        &id,
        "triage",
        json!({"priority": "green", "note": "简单事项"}),
    )
    .await;
    assert_eq!(t["status"], "triaged");
    assert_eq!(t["priority"], "green");
    assert_eq!(
        time(&t["due_at"]) - time(&t["triaged_at"]),
        Duration::days(7)
    );
    assert_eq!(t["next_follow_up_at"], Value::Null);

    let t = act_ok(
        &app,
        &w.staff,
        &id,
        "assign",
        json!({"property_company_id": w.company}),
    )
    .await;
    assert_eq!(t["status"], "assigned");
    assert_eq!(t["assigned_company_id"], w.company.to_string());
    let t = act_ok(&app, &w.property, &id, "accept", json!({})).await;
    assert_eq!(t["status"], "accepted");
    let t = act_ok(
        &app,
        &w.property,
        &id,
        "progress",
        json!({"note": "已报修，等配件"}),
    )
    .await;
    assert_eq!(t["status"], "accepted");
    app.clock.advance(Duration::days(2));
    let t = act_ok(
        &app,
        &w.property,
        &id,
        "resolve",
        json!({"note": "已更换灯泡"}),
    )
    .await;
    assert_eq!(t["status"], "resolved");
    assert_eq!(
        time(&t["auto_close_at"]) - time(&t["resolved_at"]),
        Duration::days(7)
    );
    let t = act_ok(
        &app,
        &w.resident,
        &id,
        "confirm",
        json!({"rating": 5, "comment": "很快"}),
    )
    .await;
    assert_eq!(t["status"], "closed");
    assert_eq!(t["rating"], 5);
    assert_eq!(t["feedback"], "很快");
    assert_eq!(t["auto_closed"], false);
    assert_eq!(t["overdue"], false);
    assert_eq!(t["version"], 7, "filed, then six moves");
    assert_eq!(
        kinds(&t),
        ["filed", "triage", "assign", "accept", "progress", "resolve", "confirm"]
    );
    let tl = t["timeline"].as_array().unwrap();
    assert_eq!(tl[1]["from_status"], "submitted");
    assert_eq!(tl[1]["to_status"], "triaged");
    assert_eq!(tl[1]["actor_user_id"], w.staff_id.to_string());
    assert_eq!(tl[4]["to_status"], Value::Null, "progress keeps the status");
    // Decisions are fields; the note holds only the words people wrote.
    assert_eq!(tl[1]["priority"], "green");
    assert_eq!(tl[1]["note"], "简单事项");
    assert_eq!(tl[6]["rating"], 5);
    assert_eq!(tl[6]["note"], "很快");

    // Closed tickets are the ledger: the requester finds it under `mine`.
    let res = app
        .get("/api/v1/tickets?mine=true&status=closed", &w.resident)
        .await;
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["id"], id);
}

#[tokio::test]
async fn an_orange_ticket_escalates_one_level_per_interval_up_to_the_street() {
    let app = spawn_app().await;
    let w = world(&app, "橙").await;
    let t = file(&app, &w.resident, &ticket_body(&w, "小区道路破损")).await;
    let id = t["id"].clone();
    let t = triage(&app, &w.grid_manager, &id, "orange").await;
    assert_eq!(
        time(&t["due_at"]) - time(&t["triaged_at"]),
        Duration::days(30)
    );
    act_ok(
        &app,
        &w.staff,
        &id,
        "assign",
        json!({"property_company_id": w.company}),
    )
    .await;
    act_ok(&app, &w.property, &id, "accept", json!({})).await;

    // Not yet due: nothing happens.
    app.clock.advance(Duration::days(29));
    assert_eq!(run_ticket_jobs(&app).await.escalated, 0);
    assert_eq!(get_ticket(&app, &w.staff, &id).await["overdue"], false);

    // Past due: one level, once, however often the job runs.
    app.clock.advance(Duration::days(1) + Duration::minutes(1));
    assert_eq!(run_ticket_jobs(&app).await.escalated, 1);
    assert_eq!(run_ticket_jobs(&app).await.escalated, 0);
    let t = get_ticket(&app, &w.staff, &id).await;
    assert_eq!(t["overdue"], true);
    assert_eq!(t["escalation_level"], 1);
    let res = app.get("/api/v1/tickets?overdue=true", &w.staff).await;
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["items"][0]["id"], id);
    let res = app.get("/api/v1/tickets?overdue=false", &w.staff).await;
    let page: Value = res.json().await.unwrap();
    assert!(page["items"].as_array().unwrap().is_empty());

    // Each further interval (24 h by default) climbs one more level, up to the street.
    for level in [2, 3] {
        app.clock.advance(Duration::hours(23));
        assert_eq!(
            run_ticket_jobs(&app).await.escalated,
            0,
            "not before the interval"
        );
        app.clock.advance(Duration::hours(1) + Duration::minutes(1));
        assert_eq!(run_ticket_jobs(&app).await.escalated, 1);
        assert_eq!(
            get_ticket(&app, &w.staff, &id).await["escalation_level"],
            level
        );
    }
    app.clock.advance(Duration::days(10));
    assert_eq!(
        run_ticket_jobs(&app).await.escalated,
        0,
        "the street is the top"
    );
    let t = get_ticket(&app, &w.staff, &id).await;
    let escalations: Vec<&Value> = t["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "escalated")
        .collect();
    assert_eq!(escalations.len(), 3);
    assert_eq!(
        escalations[0]["actor_user_id"],
        Value::Null,
        "the system did it"
    );
    assert_eq!(escalations[0]["escalated_to"], "grid_manager");
    assert_eq!(escalations[2]["escalated_to"], "street_admin");
    assert_eq!(escalations[0]["note"], Value::Null);

    // Each level told its people: the grid manager, the community staff, the street admin.
    let told = |user: Uuid| {
        entity::notification::Entity::find()
            .filter(entity::notification::Column::EventType.eq("ticket_escalated"))
            .filter(entity::notification::Column::RecipientUserId.eq(user))
            .count(&app.state.db)
    };
    assert_eq!(told(w.grid_manager_id).await.unwrap(), 1);
    assert_eq!(told(w.staff_id).await.unwrap(), 1);
    assert_eq!(told(w.street_admin_id).await.unwrap(), 1);

    // Resolving it stops the clock: overdue is about open tickets only.
    let t = act_ok(&app, &w.property, &id, "resolve", json!({"note": "已修补"})).await;
    assert_eq!(t["overdue"], false);
}

#[tokio::test]
async fn a_red_ticket_needs_a_follow_up_every_seven_days_and_auto_closes_when_unconfirmed() {
    let app = spawn_app().await;
    let w = world(&app, "红").await;
    let t = file(&app, &w.resident, &ticket_body(&w, "违章搭建")).await;
    let id = t["id"].clone();
    let t = triage(&app, &w.council, &id, "red").await;
    assert_eq!(
        t["due_at"],
        Value::Null,
        "red tickets have no fixed deadline"
    );
    let first = time(&t["next_follow_up_at"]);
    assert_eq!(first - time(&t["triaged_at"]), Duration::days(7));
    act_ok(
        &app,
        &w.staff,
        &id,
        "assign",
        json!({"handler_user_id": w.grid_manager_id}),
    )
    .await;
    act_ok(&app, &w.grid_manager, &id, "accept", json!({})).await;

    // A progress entry on day 5 moves the follow-up to day 12.
    app.clock.advance(Duration::days(5));
    let t = act_ok(
        &app,
        &w.grid_manager,
        &id,
        "progress",
        json!({"note": "已约谈业主"}),
    )
    .await;
    let second = time(&t["next_follow_up_at"]);
    assert!(second - first > Duration::days(4) && second - first < Duration::days(6));
    app.clock.advance(Duration::days(6));
    assert_eq!(run_ticket_jobs(&app).await.escalated, 0);
    assert_eq!(get_ticket(&app, &w.staff, &id).await["overdue"], false);

    // Day 13: the follow-up was missed.
    app.clock.advance(Duration::days(2));
    assert_eq!(run_ticket_jobs(&app).await.escalated, 1);
    let t = get_ticket(&app, &w.staff, &id).await;
    assert_eq!(t["overdue"], true);
    assert_eq!(t["escalation_level"], 1);

    // Following up again clears it.
    let t = act_ok(
        &app,
        &w.grid_manager,
        &id,
        "progress",
        json!({"note": "已拆除一半"}),
    )
    .await;
    assert_eq!(t["overdue"], false);
    assert_eq!(
        t["escalation_level"], 1,
        "the level reached stays on record"
    );

    // Resolved, then the requester says nothing for seven days: it closes by itself.
    act_ok(
        &app,
        &w.grid_manager,
        &id,
        "resolve",
        json!({"note": "已全部拆除"}),
    )
    .await;
    app.clock.advance(Duration::days(7) - Duration::minutes(1));
    assert_eq!(run_ticket_jobs(&app).await.auto_closed, 0);
    app.clock.advance(Duration::minutes(2));
    assert_eq!(run_ticket_jobs(&app).await.auto_closed, 1);
    assert_eq!(run_ticket_jobs(&app).await.auto_closed, 0);
    let t = get_ticket(&app, &w.resident, &id).await;
    assert_eq!(t["status"], "closed");
    assert_eq!(t["auto_closed"], true);
    assert_eq!(t["rating"], Value::Null);
    assert_eq!(kinds(&t).last().unwrap(), "auto_closed");
    let res = act(&app, &w.resident, &id, "confirm", json!({"rating": 4})).await;
    assert_problem(res, 409, "wrong_status").await;
}

#[tokio::test]
async fn a_rejected_resolution_reopens_the_ticket_to_its_handler() {
    let app = spawn_app().await;
    let w = world(&app, "重").await;
    let t = accepted_ticket(&app, &w, "垃圾桶满溢").await;
    let id = t["id"].clone();
    act_ok(&app, &w.property, &id, "resolve", json!({"note": "已清运"})).await;
    let t = act_ok(
        &app,
        &w.resident,
        &id,
        "reopen",
        json!({"reason": "第二天又满了"}),
    )
    .await;
    assert_eq!(t["status"], "accepted");
    assert_eq!(t["reopen_count"], 1);
    assert_eq!(t["reason"], "第二天又满了");
    assert_eq!(t["resolved_at"], Value::Null);
    assert_eq!(t["auto_close_at"], Value::Null);
    assert_eq!(t["assigned_company_id"], w.company.to_string());
    act_ok(
        &app,
        &w.property,
        &id,
        "resolve",
        json!({"note": "增加清运频次"}),
    )
    .await;
    let t = act_ok(&app, &w.resident, &id, "confirm", json!({"rating": 3})).await;
    assert_eq!(t["status"], "closed");
}

#[tokio::test]
async fn a_returned_ticket_goes_back_to_triage_keeping_its_deadline() {
    let app = spawn_app().await;
    let w = world(&app, "退").await;
    let t = accepted_ticket(&app, &w, "邻居噪音").await;
    let id = t["id"].clone();
    let due = t["due_at"].clone();
    let t = act_ok(
        &app,
        &w.property,
        &id,
        "return",
        json!({"reason": "不属于物业职责"}),
    )
    .await;
    assert_eq!(t["status"], "triaged");
    assert_eq!(t["assigned_company_id"], Value::Null);
    assert_eq!(t["due_at"], due);
    assert_eq!(t["reason"], "不属于物业职责");
    // The property company no longer sees it.
    let res = app
        .get(
            &format!("/api/v1/tickets/{}", id.as_str().unwrap()),
            &w.property,
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let t = act_ok(
        &app,
        &w.staff,
        &id,
        "assign",
        json!({"handler_user_id": w.grid_manager_id}),
    )
    .await;
    assert_eq!(t["handler_user_id"], w.grid_manager_id.to_string());
    act_ok(&app, &w.grid_manager, &id, "accept", json!({})).await;
}

#[tokio::test]
async fn the_requester_may_cancel_before_acceptance_and_staff_may_reject() {
    let app = spawn_app().await;
    let w = world(&app, "撤").await;
    let a = file(&app, &w.resident, &ticket_body(&w, "想撤回")).await;
    let t = act_ok(
        &app,
        &w.resident,
        &a["id"],
        "cancel",
        json!({"reason": "已自行解决"}),
    )
    .await;
    assert_eq!(t["status"], "cancelled");
    let b = file(&app, &w.resident, &ticket_body(&w, "不属于社区")).await;
    let t = act_ok(
        &app,
        &w.council,
        &b["id"],
        "reject",
        json!({"reason": "属于市政，已告知12345"}),
    )
    .await;
    assert_eq!(t["status"], "rejected");
    assert_eq!(t["reason"], "属于市政，已告知12345");
    let c = accepted_ticket(&app, &w, "已受理不可撤").await;
    let res = act(&app, &w.resident, &c["id"], "cancel", json!({})).await;
    assert_problem(res, 409, "wrong_status").await;
}

#[tokio::test]
async fn a_requester_may_urge_once_a_day_and_the_handlers_are_told() {
    let app = spawn_app().await;
    let w = world(&app, "催").await;
    let t = accepted_ticket(&app, &w, "电梯异响").await;
    let id = t["id"].clone();
    let t = act_ok(&app, &w.resident, &id, "urge", json!({"note": "请尽快"})).await;
    assert_eq!(t["urge_count"], 1);
    let res = act(&app, &w.resident, &id, "urge", json!({})).await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        retry > 23 * 3600 && retry <= 24 * 3600,
        "retry after {retry}"
    );
    assert_problem(res, 429, "already_urged_today").await;
    app.clock.advance(Duration::hours(24));
    let t = act_ok(&app, &w.resident, &id, "urge", json!({})).await;
    assert_eq!(t["urge_count"], 2);
    let urged = entity::notification::Entity::find()
        .filter(entity::notification::Column::EventType.eq("ticket_urged"))
        .filter(entity::notification::Column::RecipientUserId.eq(w.property_id))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(urged, 2);
    // Staff cannot urge.
    let res = act(&app, &w.staff, &id, "urge", json!({})).await;
    assert_problem(res, 403, "forbidden").await;
}

#[tokio::test]
async fn the_deadline_policy_is_per_community_and_changed_by_its_staff() {
    let app = spawn_app().await;
    let w = world(&app, "策").await;
    let path = format!("/api/v1/communities/{}/ticket-policy", w.t.community);
    let p: Value = app.get(&path, &w.staff).await.json().await.unwrap();
    assert_eq!(p["green_days"], 7);
    assert_eq!(p["orange_days"], 30);
    assert_eq!(p["red_follow_up_days"], 7);
    assert_eq!(p["auto_close_days"], 7);
    assert_eq!(p["is_default"], true);
    let new = json!({"green_days": 3, "orange_days": 15, "red_follow_up_days": 2,
        "escalation_interval_hours": 12, "auto_close_days": 5});
    let res = app
        .request(Method::PUT, &path, Some(&w.resident))
        .json(&new)
        .send()
        .await
        .unwrap();
    assert_problem(res, 403, "forbidden").await;
    let res = app
        .request(Method::PUT, &path, Some(&w.staff))
        .json(
            &json!({"green_days": 40, "orange_days": 30, "red_follow_up_days": 0,
            "escalation_interval_hours": 12, "auto_close_days": 5}),
        )
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "red_follow_up_days");
    let res = app
        .request(Method::PUT, &path, Some(&w.staff))
        .json(&new)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["is_default"], false);
    assert_eq!(p["green_days"], 3);

    let t = file(&app, &w.resident, &ticket_body(&w, "快办")).await;
    let t = triage(&app, &w.staff, &t["id"], "green").await;
    assert_eq!(
        time(&t["due_at"]) - time(&t["triaged_at"]),
        Duration::days(3)
    );
    let t = file(&app, &w.resident, &ticket_body(&w, "难办")).await;
    let t = triage(&app, &w.staff, &t["id"], "red").await;
    assert_eq!(
        time(&t["next_follow_up_at"]) - time(&t["triaged_at"]),
        Duration::days(2)
    );
    // Another community keeps the defaults.
    let other = small_territory(&app, &w.admin, "策二").await;
    let p: Value = app
        .get(
            &format!("/api/v1/communities/{}/ticket-policy", other.community),
            &w.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p["green_days"], 7);
}

#[tokio::test]
async fn categories_start_with_the_defaults_and_staff_add_more() {
    let app = spawn_app().await;
    let w = world(&app, "类").await;
    let path = format!("/api/v1/ticket-categories?community_id={}", w.t.community);
    let list: Value = app.get(&path, &w.resident).await.json().await.unwrap();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "环境卫生",
            "停车",
            "物业服务",
            "邻里纠纷",
            "设施维修",
            "安全隐患",
            "建议",
            "其他"
        ]
    );
    let body = json!({"community_id": w.t.community, "name": "垃圾分类"});
    let res = app
        .post("/api/v1/ticket-categories", &w.resident, &body)
        .await;
    assert_problem(res, 403, "forbidden").await;
    let res = app.post("/api/v1/ticket-categories", &w.staff, &body).await;
    assert_eq!(res.status(), 201);
    let res = app.post("/api/v1/ticket-categories", &w.staff, &body).await;
    assert_problem(res, 409, "already_exists").await;
    let list: Value = app.get(&path, &w.property).await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 9);
    assert_eq!(list["items"][8]["name"], "垃圾分类");

    // Someone with nothing in that community does not learn it exists.
    let other = small_territory(&app, &w.admin, "类二").await;
    let (outsider, _) = member(
        &app,
        &w.admin,
        &uname("out"),
        "community_staff",
        "community",
        other.community,
    )
    .await;
    let res = app.get(&path, &outsider).await;
    assert_problem(res, 404, "not_found").await;
    // A category of another community cannot be used.
    let theirs: Value = app
        .get(
            &format!("/api/v1/ticket-categories?community_id={}", other.community),
            &outsider,
        )
        .await
        .json()
        .await
        .unwrap();
    let mut body = ticket_body(&w, "错类");
    body["category_id"] = theirs["items"][0]["id"].clone();
    let res = app.post("/api/v1/tickets", &w.resident, &body).await;
    let p = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "category_id");
}

#[tokio::test]
async fn fifty_concurrent_posts_with_one_idempotency_key_create_one_ticket() {
    let app = spawn_app().await;
    let w = world(&app, "幂").await;
    let body = ticket_body(&w, "只应有一张");
    let sends = (0..50).map(|_| {
        app.request(Method::POST, "/api/v1/tickets", Some(&w.resident))
            .header("Idempotency-Key", "file-once-7f3a")
            .json(&body)
            .send()
    });
    let results = join_all(sends).await;
    let mut created_ids = std::collections::HashSet::new();
    for r in results {
        let r = r.unwrap();
        let status = r.status().as_u16();
        assert!(status == 201 || status == 409, "status {status}");
        if status == 201 {
            let v: Value = r.json().await.unwrap();
            created_ids.insert(v["id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(created_ids.len(), 1, "every success is the same ticket");
    let n = entity::ticket::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(n, 1);
    // A retry after the dust settles replays the first answer.
    let r = app
        .request(Method::POST, "/api/v1/tickets", Some(&w.resident))
        .header("Idempotency-Key", "file-once-7f3a")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    let v: Value = r.json().await.unwrap();
    assert!(created_ids.contains(v["id"].as_str().unwrap()));
}

/// The stored response of the first filing is lost (the process died between committing the
/// ticket and storing it): a retry still finds the ticket instead of filing a second one.
#[tokio::test]
async fn a_retry_whose_stored_response_was_lost_still_files_one_ticket() {
    let app = spawn_app().await;
    let w = world(&app, "崩").await;
    let body = ticket_body(&w, "崩溃窗口");
    let send = || {
        app.request(Method::POST, "/api/v1/tickets", Some(&w.resident))
            .header("Idempotency-Key", "crash-window-1")
            .json(&body)
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    entity::idempotency_key::Entity::delete_many()
        .exec(&app.state.db)
        .await
        .unwrap();
    let res = send().await.unwrap();
    assert_eq!(res.status(), 201);
    assert!(
        res.headers().get("idempotent-replayed").is_none(),
        "not a replay"
    );
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    let n = entity::ticket::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(n, 1);
    // Keys are per filer: the same key from someone else is their own ticket.
    let res = app
        .request(Method::POST, "/api/v1/tickets", Some(&w.staff))
        .header("Idempotency-Key", "crash-window-1")
        .json(
            &json!({"category_id": w.category, "title": "代报", "description": "电话",
            "compound_id": w.t.compound, "channel": "phone", "requester_name": "赵"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}

/// Two API replicas run their jobs against one database at the same time: each level is
/// reached once, with one timeline entry and one notification per recipient.
#[tokio::test]
async fn escalation_happens_once_per_level_with_two_replicas() {
    let app = spawn_app().await;
    let w = world(&app, "双").await;
    // The second replica shares the database (and Redis), not the process.
    let other = if using_postgres() {
        Some(start(app.vars.clone()).await)
    } else {
        None
    };
    let mut ids = Vec::new();
    for i in 0..5 {
        let t = file(&app, &w.resident, &ticket_body(&w, &format!("超期{i}"))).await;
        triage(&app, &w.staff, &t["id"], "green").await;
        ids.push(t["id"].clone());
    }
    let day = Duration::days(1) + Duration::minutes(1);
    for (step, expected) in [(Duration::days(8), 5), (day, 5), (day, 5), (day, 0)] {
        app.clock.advance(step);
        if let Some(o) = &other {
            o.clock.advance(step);
        }
        let second = other.as_ref().unwrap_or(&app);
        let rounds = join_all([
            linli::app::jobs::tickets(&app.state),
            linli::app::jobs::tickets(&second.state),
            linli::app::jobs::tickets(&app.state),
            linli::app::jobs::tickets(&second.state),
        ])
        .await;
        let raised: u64 = rounds.into_iter().map(|r| r.unwrap().escalated).sum();
        assert_eq!(
            raised, expected,
            "tickets raised by all four rounds together"
        );
    }
    for id in &ids {
        let t = get_ticket(&app, &w.staff, id).await;
        assert_eq!(t["escalation_level"], 3);
        let n = kinds(&t).iter().filter(|k| *k == "escalated").count();
        assert_eq!(n, 3, "one entry per level");
    }
    let notes = entity::notification::Entity::find()
        .filter(entity::notification::Column::EventType.eq("ticket_escalated"))
        .count(&app.state.db)
        .await
        .unwrap();
    // Per ticket: the grid manager, the community staff member, the street admin.
    assert_eq!(notes, 5 * 3);
}

#[tokio::test]
async fn a_residents_tickets_are_in_their_export_and_outlive_their_erased_account() {
    let app = spawn_app().await;
    let w = world(&app, "删").await;
    let t = file(&app, &w.resident, &ticket_body(&w, "我的诉求")).await;
    act_ok(&app, &w.resident, &t["id"], "urge", json!({})).await;
    let export: Value = app
        .get("/api/v1/me/export", &w.resident)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(export["tickets"][0]["id"], t["id"]);
    assert_eq!(kinds(&export["tickets"][0]), ["filed", "urge"]);

    let res = app.delete("/api/v1/me", &w.resident).await;
    assert_eq!(res.status(), 204);
    // The community keeps the ticket in its ledger, without the requester.
    let kept = get_ticket(&app, &w.staff, &t["id"]).await;
    assert_eq!(kept["title"], "我的诉求");
    assert_eq!(kept["requester_user_id"], Value::Null);
    assert_eq!(kept["requester_name"], Value::Null);
    for e in kept["timeline"].as_array().unwrap() {
        assert_ne!(e["actor_user_id"], w.resident_id.to_string());
        assert_eq!(e["actor_name"], Value::Null);
    }
    let queued = entity::notification::Entity::find()
        .filter(entity::notification::Column::RecipientUserId.eq(w.resident_id))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(queued, 0);
}

#[tokio::test]
async fn a_resident_may_file_ten_tickets_a_day() {
    let app = spawn_app().await;
    let w = world(&app, "限").await;
    for i in 0..10 {
        file(&app, &w.resident, &ticket_body(&w, &format!("第{i}件"))).await;
    }
    let res = app
        .post("/api/v1/tickets", &w.resident, &ticket_body(&w, "第十一件"))
        .await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 23 * 3600, "retry after {retry}");
    assert_problem(res, 429, "daily_filing_limit").await;
    // Staff taking calls are not limited by it; and a day later the resident may file again.
    let mut body = ticket_body(&w, "电话");
    body["channel"] = json!("phone");
    body["requester_name"] = json!("钱");
    file(&app, &w.staff, &body).await;
    app.clock.advance(Duration::hours(24));
    file(&app, &w.resident, &ticket_body(&w, "次日")).await;
}
