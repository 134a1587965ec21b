//! The in-app message centre (`/me/messages`) and the conversation on a ticket
//! (`/tickets/{id}/messages`): who gets which message, read state, and who may see whom.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::ticket_world::*;

/// The caller's messages (`?query`), asserting 200: the items and the next cursor.
async fn inbox_page(app: &TestApp, token: &str, query: &str) -> (Vec<Value>, Option<String>) {
    let res = app
        .get(&format!("/api/v1/me/messages?{query}"), token)
        .await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        body["items"].as_array().unwrap().clone(),
        body["next_cursor"].as_str().map(str::to_string),
    )
}

async fn inbox(app: &TestApp, token: &str) -> Vec<Value> {
    inbox_page(app, token, "limit=100").await.0
}

async fn unread(app: &TestApp, token: &str) -> u64 {
    let res = app.get("/api/v1/me/messages/unread-count", token).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["unread"]
        .as_u64()
        .unwrap()
}

fn events(items: &[Value]) -> Vec<&str> {
    items.iter().map(|m| m["event"].as_str().unwrap()).collect()
}

/// `POST /api/v1/tickets/{id}/messages` as `token`.
async fn say(app: &TestApp, token: &str, ticket: &Value, body: &str) -> reqwest::Response {
    let id = ticket["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/tickets/{id}/messages"),
        token,
        &json!({ "body": body }),
    )
    .await
}

/// Like [`say`], asserting 201; the message.
async fn say_ok(app: &TestApp, token: &str, ticket: &Value, body: &str) -> Value {
    let res = say(app, token, ticket, body).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// The conversation on `ticket` as `token` sees it: the raw body text and the items.
async fn conversation(app: &TestApp, token: &str, ticket: &Value) -> (String, Vec<Value>) {
    let id = ticket["id"].as_str().unwrap();
    let res = app
        .get(&format!("/api/v1/tickets/{id}/messages?limit=100"), token)
        .await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    (text, v["items"].as_array().unwrap().clone())
}

#[tokio::test]
async fn filing_dispatching_and_closing_a_ticket_fill_the_right_message_centres() {
    let app = &spawn_app().await;
    let w = world(app, "信").await;
    let t = file(app, &w.resident, &ticket_body(&w, "楼道灯坏了")).await;
    let id = t["id"].as_str().unwrap();
    // Filing tells nobody: the requester did it, and no one is assigned yet.
    for token in [&w.resident, &w.staff, &w.property, &w.grid_manager] {
        assert!(inbox(app, token).await.is_empty());
    }

    triage(app, &w.staff, &t["id"], "green").await;
    let mine = inbox(app, &w.resident).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    let m = &mine[0];
    assert_eq!(m["event"], "ticket_status_changed");
    assert_eq!(m["title"], "诉求已受理");
    assert!(m["body"].as_str().unwrap().contains("楼道灯坏了"), "{m}");
    assert_eq!(m["subject_type"], "ticket");
    assert_eq!(m["subject_id"], id);
    assert_eq!(m["read"], false);
    assert_eq!(m["read_at"], Value::Null);
    assert!(m["created_at"].is_string());

    // Dispatch: the property company's staff get the assignment, the requester the status.
    act_ok(
        app,
        &w.staff,
        &t["id"],
        "assign",
        json!({"property_company_id": w.company}),
    )
    .await;
    let theirs = inbox(app, &w.property).await;
    assert_eq!(events(&theirs), ["ticket_assigned"]);
    assert_eq!(theirs[0]["title"], "新的派单");
    assert_eq!(theirs[0]["subject_id"], id);
    assert_eq!(
        events(&inbox(app, &w.resident).await),
        ["ticket_status_changed", "ticket_status_changed"],
        "newest first"
    );
    assert_eq!(inbox(app, &w.resident).await[0]["title"], "诉求已派单");

    // Accept, resolve, confirm: the requester hears of the first two; closing it themselves,
    // they are not told of their own act.
    act_ok(app, &w.property, &t["id"], "accept", json!({})).await;
    act_ok(
        app,
        &w.property,
        &t["id"],
        "resolve",
        json!({"note": "已更换灯泡"}),
    )
    .await;
    act_ok(app, &w.resident, &t["id"], "confirm", json!({"rating": 5})).await;
    let mine = inbox(app, &w.resident).await;
    assert_eq!(mine.len(), 4, "{mine:?}");
    assert_eq!(mine[0]["title"], "诉求已办结");
    assert!(mine[0]["body"].as_str().unwrap().contains("已更换灯泡"));

    // Staff closing one (rejecting it) tells the requester, with the reason.
    let other = file(app, &w.resident, &ticket_body(&w, "不是诉求")).await;
    act_ok(
        app,
        &w.staff,
        &other["id"],
        "reject",
        json!({"reason": "不属于受理范围"}),
    )
    .await;
    let mine = inbox(app, &w.resident).await;
    assert_eq!(mine.len(), 5);
    assert_eq!(mine[0]["title"], "诉求不予受理");
    assert_eq!(mine[0]["subject_id"], other["id"]);
    assert!(mine[0]["body"].as_str().unwrap().contains("不属于受理范围"));

    // Nobody else was told anything.
    assert_eq!(inbox(app, &w.property).await.len(), 1);
    for token in [&w.staff, &w.grid_manager, &w.council, &w.admin] {
        assert!(inbox(app, token).await.is_empty());
    }

    // Counting and reading lists mark nothing read.
    assert_eq!(unread(app, &w.resident).await, 5);
    let (page, next) = inbox_page(app, &w.resident, "limit=2").await;
    assert_eq!(page.len(), 2);
    let (rest, _) = inbox_page(
        app,
        &w.resident,
        &format!("limit=100&cursor={}", next.unwrap()),
    )
    .await;
    assert_eq!(rest.len(), 3);
    assert_eq!(rest[0]["id"], mine[2]["id"], "the next page follows on");
    assert_eq!(unread(app, &w.resident).await, 5);
    assert_eq!(inbox_page(app, &w.resident, "unread=true").await.0.len(), 5);
}

#[tokio::test]
async fn marking_read_is_idempotent_private_and_counted_once() {
    let app = &spawn_app().await;
    let w = world(app, "读").await;
    let a = file(app, &w.resident, &ticket_body(&w, "一")).await;
    let b = file(app, &w.resident, &ticket_body(&w, "二")).await;
    triage(app, &w.staff, &a["id"], "green").await;
    triage(app, &w.staff, &b["id"], "green").await;
    act_ok(
        app,
        &w.staff,
        &a["id"],
        "assign",
        json!({"property_company_id": w.company}),
    )
    .await;
    let mine = inbox(app, &w.resident).await;
    assert_eq!(mine.len(), 3);
    assert_eq!(unread(app, &w.resident).await, 3);
    let first = mine[0]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/me/messages/{first}/read");

    // Another user cannot read it, or even learn it exists.
    let res = app.post(&path, &w.property, &json!({})).await;
    assert_problem(res, 404, "not_found").await;
    let res = app.post(&path, &w.admin, &json!({})).await;
    assert_problem(res, 404, "not_found").await;
    assert_eq!(unread(app, &w.resident).await, 3);

    // 20 at once: every one answers the message read, and it counts once.
    let calls = (0..20).map(|_| async {
        let res = app
            .request(reqwest::Method::POST, &path, Some(&w.resident))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json::<Value>().await.unwrap()
    });
    let answers = futures_util::future::join_all(calls).await;
    let read_at = &answers[0]["read_at"];
    assert!(read_at.is_string());
    for a in &answers {
        assert_eq!(a["read"], true);
        assert_eq!(a["id"], first.as_str());
        assert_eq!(&a["read_at"], read_at, "the first reading is kept");
    }
    assert_eq!(unread(app, &w.resident).await, 2);
    let unread_items = inbox_page(app, &w.resident, "unread=true").await.0;
    assert_eq!(unread_items.len(), 2);
    assert!(unread_items.iter().all(|m| m["id"] != first.as_str()));

    // Later, again: the same.
    app.clock.advance(Duration::minutes(5));
    let res = app.post(&path, &w.resident, &json!({})).await;
    assert_eq!(res.json::<Value>().await.unwrap()["read_at"], *read_at);

    // Read all: the two left, then none.
    let res = app
        .post("/api/v1/me/messages/read-all", &w.resident, &json!({}))
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["marked"], 2);
    let res = app
        .post("/api/v1/me/messages/read-all", &w.resident, &json!({}))
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["marked"], 0);
    assert_eq!(unread(app, &w.resident).await, 0);
    // Reading all is the caller's own: the property staff's message is still unread.
    assert_eq!(unread(app, &w.property).await, 1);

    let res = app
        .post(
            &format!("/api/v1/me/messages/{}/read", Uuid::now_v7()),
            &w.resident,
            &json!({}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;

    // Read messages are kept for the retention period (90 days by default), unread ones for good.
    app.clock.advance(Duration::days(91));
    let done = linli::app::jobs::housekeeping(&app.state).await.unwrap();
    assert_eq!(done.inbox_messages, 3);
    assert!(inbox(app, &w.resident).await.is_empty());
    assert_eq!(inbox(app, &w.property).await.len(), 1);
}

#[tokio::test]
async fn the_requester_and_the_handler_talk_on_a_ticket_and_nobody_else_sees_it() {
    let app = &spawn_app().await;
    let w = world(app, "聊").await;
    let resident_name = me_name(app, &w.resident).await;
    let t = accepted_ticket(app, &w, "水管漏水").await;

    let m = say_ok(app, &w.resident, &t, "  师傅大概几点能到？\n家里有老人  ").await;
    assert_eq!(m["side"], "requester");
    assert_eq!(m["body"], "师傅大概几点能到？\n家里有老人", "trimmed");
    assert_eq!(m["author_user_id"], w.resident_id.to_string());
    assert_eq!(m["author_name"], resident_name.as_str());
    assert_eq!(m["mine"], true);

    // The handler (the property company) is told in the message centre, and reads it.
    let theirs = inbox(app, &w.property).await;
    assert_eq!(events(&theirs)[0], "ticket_message");
    assert_eq!(theirs[0]["title"], "诉求有新留言");
    assert_eq!(theirs[0]["subject_id"], t["id"]);
    assert!(theirs[0]["body"]
        .as_str()
        .unwrap()
        .contains("师傅大概几点能到"));
    let (_, items) = conversation(app, &w.property, &t).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["author_name"], resident_name.as_str());
    assert_eq!(items[0]["mine"], false);

    let reply = say_ok(app, &w.property, &t, "下午三点到").await;
    assert_eq!(reply["side"], "staff");
    assert_eq!(reply["author_user_id"], w.property_id.to_string());
    let property_name = me_name(app, &w.property).await;
    let told = inbox(app, &w.resident).await;
    assert_eq!(told[0]["event"], "ticket_message");
    assert!(told[0]["body"]
        .as_str()
        .unwrap()
        .contains(&format!("{property_name}：下午三点到")));
    // The community staff read along and may write too (staff side).
    let (_, items) = conversation(app, &w.staff, &t).await;
    assert_eq!(items.len(), 2);
    say_ok(app, &w.staff, &t, "社区已督办").await;

    // Oldest first, in pages.
    let id = t["id"].as_str().unwrap();
    let res = app
        .get(
            &format!("/api/v1/tickets/{id}/messages?limit=2"),
            &w.resident,
        )
        .await;
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["items"][0]["body"], "师傅大概几点能到？\n家里有老人");
    assert_eq!(page["items"][1]["body"], "下午三点到");
    assert_eq!(page["items"][1]["mine"], false);
    let cursor = page["next_cursor"].as_str().unwrap();
    let res = app
        .get(
            &format!("/api/v1/tickets/{id}/messages?cursor={cursor}"),
            &w.resident,
        )
        .await;
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["body"], "社区已督办");
    assert_eq!(page["next_cursor"], Value::Null);

    // A neighbour (another resident of the same building) neither reads nor writes: 404.
    let neighbour_home = app
        .create(
            &w.admin,
            "households",
            json!({"building_id": w.t.building, "unit": "1单元", "room": "102"}),
        )
        .await;
    let (neighbour, _) = member(
        app,
        &w.admin,
        &uname("nb"),
        "resident",
        "household",
        neighbour_home,
    )
    .await;
    let res = app
        .get(&format!("/api/v1/tickets/{id}/messages"), &neighbour)
        .await;
    assert_problem(res, 404, "not_found").await;
    assert_problem(say(app, &neighbour, &t, "我也想问").await, 404, "not_found").await;
    // Nor does staff of another street.
    let far = small_territory(app, &w.admin, "远").await;
    let (far_staff, _) = member(
        app,
        &w.admin,
        &uname("fs"),
        "community_staff",
        "community",
        far.community,
    )
    .await;
    assert_problem(say(app, &far_staff, &t, "路过").await, 404, "not_found").await;
    let (_, items) = conversation(app, &w.resident, &t).await;
    assert_eq!(items.len(), 3);
}

async fn me_name(app: &TestApp, token: &str) -> String {
    let res = app.get("/api/v1/me", token).await;
    res.json::<Value>().await.unwrap()["display_name"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn an_anonymous_requester_stays_anonymous_to_the_property_company_in_the_conversation() {
    let app = &spawn_app().await;
    let w = world(app, "匿").await;
    let name = me_name(app, &w.resident).await;
    let mut body = ticket_body(&w, "噪音扰民");
    body["anonymous"] = json!(true);
    let t = file(app, &w.resident, &body).await;
    triage(app, &w.staff, &t["id"], "green").await;
    act_ok(
        app,
        &w.staff,
        &t["id"],
        "assign",
        json!({"property_company_id": w.company}),
    )
    .await;
    say_ok(app, &w.resident, &t, "晚上十点后还在装修").await;
    say_ok(app, &w.property, &t, "已联系施工方").await;
    say_ok(app, &w.resident, &t, "谢谢").await;

    // The property company sees 居民, with no name and no id, anywhere in the response.
    let (text, items) = conversation(app, &w.property, &t).await;
    assert_eq!(items.len(), 3);
    for m in items.iter().filter(|m| m["side"] == "requester") {
        assert_eq!(m["author_name"], "居民");
        assert_eq!(m["author_user_id"], Value::Null);
        assert_eq!(m["mine"], false);
    }
    assert!(!text.contains(&w.resident_id.to_string()), "{text}");
    assert!(!text.contains(&name), "{text}");
    // Nor in the message that told them.
    let told = inbox(app, &w.property).await;
    let text = serde_json::to_string(&told).unwrap();
    assert!(told.iter().any(|m| m["event"] == "ticket_message"));
    assert!(!text.contains(&name) && !text.contains(&w.resident_id.to_string()));
    assert!(text.contains("居民：晚上十点后还在装修"), "{text}");

    // The community staff who triage see who it is, as on the ticket; the requester sees
    // their own messages as theirs.
    let (_, items) = conversation(app, &w.staff, &t).await;
    assert_eq!(items[0]["author_name"], name.as_str());
    assert_eq!(items[0]["author_user_id"], w.resident_id.to_string());
    let (_, items) = conversation(app, &w.resident, &t).await;
    assert_eq!(items[0]["mine"], true);
    assert_eq!(items[1]["author_name"], me_name(app, &w.property).await);
}

#[tokio::test]
async fn messages_are_limited_in_length_and_rate_and_end_with_the_ticket() {
    let app = &spawn_app().await;
    let w = world(app, "限").await;
    let t = accepted_ticket(app, &w, "路灯不亮").await;

    for (body, code) in [("   ", "required"), ("a\u{0007}b", "invalid")] {
        let problem = assert_problem(
            say(app, &w.resident, &t, body).await,
            400,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "body");
        assert_eq!(problem["errors"][0]["code"], code, "{problem}");
    }
    let problem = assert_problem(
        say(app, &w.resident, &t, &"长".repeat(501)).await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["code"], "too_long");
    let res = app
        .post(
            &format!("/api/v1/tickets/{}/messages", t["id"].as_str().unwrap()),
            &w.resident,
            &json!({"body": "x", "side": "staff"}),
        )
        .await;
    assert_problem(res, 400, "invalid_body").await;
    // 500 characters, once trimmed, is fine.
    say_ok(app, &w.resident, &t, &format!(" {} ", "长".repeat(500))).await;

    // 30 an hour per author and ticket; the 31st waits, with Retry-After.
    for i in 1..30 {
        say_ok(app, &w.resident, &t, &format!("第{i}条")).await;
    }
    let res = say(app, &w.resident, &t, "第31条").await;
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=3600).contains(&retry), "{retry}");
    let problem = assert_problem(res, 429, "ticket_message_limit").await;
    assert!(problem["detail"].as_str().unwrap().contains("30"));
    // Others may still write; the requester again once the hour has passed.
    say_ok(app, &w.property, &t, "收到").await;
    app.clock.advance(Duration::minutes(61));
    say_ok(app, &w.resident, &t, "还在吗").await;

    // Once the ticket is closed the conversation is over, for both sides.
    act_ok(
        app,
        &w.property,
        &t["id"],
        "resolve",
        json!({"note": "已修好"}),
    )
    .await;
    say_ok(app, &w.resident, &t, "确认修好了").await;
    act_ok(app, &w.resident, &t["id"], "confirm", json!({"rating": 4})).await;
    for token in [&w.resident, &w.property] {
        assert_problem(
            say(app, token, &t, "还有一个问题").await,
            409,
            "ticket_conversation_closed",
        )
        .await;
    }
    // It can still be read.
    let (_, items) = conversation(app, &w.resident, &t).await;
    assert_eq!(items.len(), 33);
}

#[tokio::test]
async fn the_export_carries_the_message_centre_and_an_erased_resident_leaves_the_conversation() {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let app = &spawn_app().await;
    let w = world(app, "删").await;
    let name = me_name(app, &w.resident).await;
    let t = accepted_ticket(app, &w, "外墙脱落").await;
    say_ok(app, &w.resident, &t, "很危险，请尽快处理").await;
    say_ok(app, &w.property, &t, "已拉警戒线").await;

    let res = app.get("/api/v1/me/export", &w.resident).await;
    assert_eq!(res.status(), StatusCode::OK);
    let export: Value = res.json().await.unwrap();
    let inbox_events: Vec<&str> = export["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["event"].as_str().unwrap())
        .collect();
    assert_eq!(inbox_events.len(), 4, "{inbox_events:?}");
    assert_eq!(inbox_events[0], "ticket_message");
    let written = export["ticket_messages"].as_array().unwrap();
    assert_eq!(written.len(), 1);
    assert_eq!(written[0]["body"], "很危险，请尽快处理");

    let res = app.delete("/api/v1/me", &w.resident).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let left = entity::inbox_message::Entity::find()
        .filter(entity::inbox_message::Column::RecipientUserId.eq(w.resident_id))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(left, 0, "the erased account's message centre goes with it");
    // The conversation stays with the ticket, without the resident's account or name.
    let (text, items) = conversation(app, &w.staff, &t).await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["side"], "requester");
    assert_eq!(items[0]["author_name"], "居民");
    assert_eq!(items[0]["author_user_id"], Value::Null);
    assert!(!text.contains(&name) && !text.contains(&w.resident_id.to_string()));
    assert_eq!(items[1]["author_user_id"], w.property_id.to_string());
}

#[tokio::test]
async fn a_conversation_page_has_the_bounds_of_every_list() {
    let app = &spawn_app().await;
    let w = world(app, "页").await;
    let t = accepted_ticket(app, &w, "门禁坏了").await;
    say_ok(app, &w.resident, &t, "门禁刷不开").await;
    let path = format!("/api/v1/tickets/{}/messages?", t["id"].as_str().unwrap());
    let res = app.get(&format!("{path}limit=0"), &w.resident).await;
    assert_problem(res, 400, "invalid_query").await;
    let res = app.get(&format!("{path}limit=1"), &w.resident).await;
    assert_eq!(res.status(), StatusCode::OK);
    for cursor in ["AAAAAAAAAAAAAAAAAAAAAA", "zzzzzzzzzzzzzzzzzzzzzw"] {
        let res = app
            .get(&format!("{path}cursor={cursor}"), &w.resident)
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{cursor}");
    }
    for cursor in ["", "AAAAAAAAAAAAAAAAAAAAAB", "AAAA"] {
        let res = app
            .get(&format!("{path}cursor={cursor}"), &w.resident)
            .await;
        assert_problem(res, 400, "invalid_query").await;
    }
    // Above 100 is clamped, as everywhere.
    let res = app.get(&format!("{path}limit=1000"), &w.resident).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// The `ticket_message` entries of the caller's message centre.
async fn told_of_messages(app: &TestApp, token: &str) -> usize {
    inbox(app, token)
        .await
        .iter()
        .filter(|m| m["event"] == "ticket_message")
        .count()
}

#[tokio::test]
async fn a_requesters_message_reaches_the_staff_who_may_still_read_the_ticket() {
    let app = &spawn_app().await;
    let w = world(app, "达").await;
    // No handler yet: the community's staff hear of it.
    let t = file(app, &w.resident, &ticket_body(&w, "垃圾没人收")).await;
    say_ok(app, &w.resident, &t, "三天没收了").await;
    assert_eq!(told_of_messages(app, &w.staff).await, 1);
    assert_eq!(told_of_messages(app, &w.property).await, 0);
    assert_eq!(
        told_of_messages(app, &w.resident).await,
        0,
        "not of their own"
    );

    // The property company takes it, writes, and hands it back; it goes to the grid manager.
    let t = accepted_ticket(app, &w, "楼道堆物").await;
    say_ok(app, &w.property, &t, "明天上门").await;
    say_ok(app, &w.staff, &t, "请尽快处理").await;
    assert_eq!(told_of_messages(app, &w.resident).await, 2);
    act_ok(
        app,
        &w.property,
        &t["id"],
        "return",
        json!({"reason": "不属于物业范围"}),
    )
    .await;
    act_ok(
        app,
        &w.staff,
        &t["id"],
        "assign",
        json!({"handler_user_id": w.grid_manager_id}),
    )
    .await;
    let before = told_of_messages(app, &w.staff).await;
    say_ok(app, &w.resident, &t, "还没人来").await;
    // The new handler and the community staff who took part hear of it; the property company,
    // which may no longer read the ticket, does not.
    assert_eq!(told_of_messages(app, &w.grid_manager).await, 1);
    assert_eq!(told_of_messages(app, &w.staff).await, before + 1);
    assert_eq!(told_of_messages(app, &w.property).await, 0);
    let id = t["id"].as_str().unwrap();
    let res = app
        .get(&format!("/api/v1/tickets/{id}/messages"), &w.property)
        .await;
    assert_problem(res, 404, "not_found").await;
}

#[tokio::test]
async fn a_message_reaches_the_requesters_wechat_where_a_ticket_message_template_is_configured() {
    use crate::wechat::{me, spawn_with_fake_and, wechat_login_ok};
    let (app, fake) =
        spawn_with_fake_and(&[("LINLI_WECHAT_TEMPLATES", "ticket_message=tmpl-message")]).await;
    let app = &app;
    let w = world(app, "微").await;
    let wx = token_of(&wechat_login_ok(app, "user:openid-talker").await);
    let wx_id: Uuid = me(app, &wx).await["id"].as_str().unwrap().parse().unwrap();
    app.grant(&w.admin, wx_id, "resident", "household", w.t.household)
        .await;
    let t = file(app, &wx, &ticket_body(&w, "电梯困人")).await;
    triage(app, &w.staff, &t["id"], "red").await;
    say_ok(app, &w.staff, &t, "维保人员十分钟内到").await;

    let round = linli::app::jobs::outbox::deliver_due(&app.state)
        .await
        .unwrap();
    assert_eq!(round.sent, 1, "{round:?}");
    let sent = fake.messages();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["touser"], "openid-talker");
    assert_eq!(sent[0]["template_id"], "tmpl-message");
    assert_eq!(sent[0]["data"]["phrase2"]["value"], "新留言");
    let note = sent[0]["data"]["thing4"]["value"].as_str().unwrap();
    assert!(note.contains("维保人员"), "{note}");

    // The app asks consent for it from everyone: both sides receive it.
    let res = app
        .request(reqwest::Method::GET, "/api/v1/client-config", None)
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["subscribe_templates"],
        json!([{ "event": "ticket_message", "audience": "both",
                 "template_id": "tmpl-message", "page": "pages/tickets/detail" }])
    );
    // Staff see it in the outbox under its own event.
    let id = t["id"].as_str().unwrap();
    let res = app
        .get(
            &format!("/api/v1/notifications?event_type=ticket_message&ticket_id={id}"),
            &w.staff,
        )
        .await;
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["items"][0]["status"], "sent");
}

#[tokio::test]
async fn an_automatic_closing_is_told_to_the_requester_in_chinese() {
    let app = &spawn_app().await;
    let w = world(app, "自").await;
    let t = accepted_ticket(app, &w, "下水道堵了").await;
    act_ok(
        app,
        &w.property,
        &t["id"],
        "resolve",
        json!({"note": "已疏通"}),
    )
    .await;
    app.clock.advance(Duration::days(30));
    let done = linli::app::jobs::tickets(&app.state).await.unwrap();
    assert_eq!(done.auto_closed, 1);
    let newest = &inbox(app, &w.resident).await[0];
    assert_eq!(newest["title"], "诉求已关闭");
    assert_eq!(newest["body"], "「下水道堵了」：超时未确认，已自动关闭");
}
