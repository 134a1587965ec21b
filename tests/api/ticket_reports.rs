//! Ticket stats (`GET /api/v1/tickets/stats`) and the ledger export (`GET /api/v1/tickets/export`):
//! staff only, scoped exactly like the list, the filters narrowing both.

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::ticket_world::*;

const LEDGER_HEADER: [&str; 17] = [
    "编号",
    "提交时间",
    "小区",
    "楼栋",
    "类别",
    "标题",
    "内容",
    "颜色",
    "状态",
    "期限",
    "办结时间",
    "关闭时间",
    "是否按期",
    "评分",
    "评价",
    "自动关闭",
    "催办次数",
];

async fn stats(app: &TestApp, token: &str, query: &str) -> Value {
    let res = app
        .get(&format!("/api/v1/tickets/stats{query}"), token)
        .await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, 200, "stats{query}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The count of the entry of `list` whose `key` is `value`.
fn count(list: &Value, key: &str, value: Value) -> u64 {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e[key] == value)
        .unwrap_or_else(|| panic!("no {key}={value} in {list}"))["count"]
        .as_u64()
        .unwrap()
}

fn close_to(v: &Value, expected: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - expected).abs() < 0.01)
}

/// Triages (with `priority`), dispatches to the world's property company and has it accepted.
async fn accept(app: &TestApp, w: &World, id: &Value, priority: &str) {
    triage(app, &w.staff, id, priority).await;
    act_ok(
        app,
        &w.staff,
        id,
        "assign",
        json!({"property_company_id": w.company}),
    )
    .await;
    act_ok(app, &w.property, id, "accept", json!({})).await;
}

/// Resolves an accepted ticket and has the requester confirm it with `rating`.
async fn finish(app: &TestApp, w: &World, id: &Value, rating: i64) {
    act_ok(app, &w.property, id, "resolve", json!({"note": "已修好"})).await;
    act_ok(
        app,
        &w.resident,
        id,
        "confirm",
        json!({"rating": rating, "comment": "师傅很负责"}),
    )
    .await;
}

async fn categories(app: &TestApp, w: &World) -> Vec<(Uuid, String)> {
    let res = app
        .get(
            &format!("/api/v1/ticket-categories?community_id={}", w.t.community),
            &w.staff,
        )
        .await;
    let v: Value = res.json().await.unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().parse().unwrap(),
                c["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A second compound in the world's community.
async fn second_compound(app: &TestApp, w: &World) -> Uuid {
    app.create(
        &w.admin,
        "compounds",
        json!({"community_id": w.t.community, "name": "第二小区"}),
    )
    .await
}

fn rfc3339(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[tokio::test]
async fn stats_count_tickets_by_status_colour_category_and_compound() {
    let app = spawn_app().await;
    let w = world(&app, "trs").await;
    let cats = categories(&app, &w).await;
    assert!(cats.len() >= 2, "two default categories at least");
    let other_compound = second_compound(&app, &w).await;

    // Untriaged, in the first category.
    file(&app, &w.resident, &ticket_body(&w, "楼道灯不亮")).await;
    // Green, triaged only, in the second category.
    let mut body = ticket_body(&w, "垃圾未清运");
    body["category_id"] = json!(cats[1].0);
    let t = file(&app, &w.resident, &body).await;
    triage(&app, &w.staff, &t["id"], "green").await;
    // Red, assigned.
    let t = file(&app, &w.resident, &ticket_body(&w, "外墙渗水")).await;
    triage(&app, &w.staff, &t["id"], "red").await;
    act_ok(
        &app,
        &w.staff,
        &t["id"],
        "assign",
        json!({"property_company_id": w.company}),
    )
    .await;
    // Orange, closed with a rating of 4.
    let t = file(&app, &w.resident, &ticket_body(&w, "电梯异响")).await;
    accept(&app, &w, &t["id"], "orange").await;
    finish(&app, &w, &t["id"], 4).await;
    // Filed by staff in the second compound, on a caller's behalf.
    file(
        &app,
        &w.staff,
        &json!({
            "category_id": w.category,
            "title": "路灯不亮",
            "description": "小区门口路灯坏了",
            "compound_id": other_compound,
            "channel": "phone",
            "requester_name": "王大爷",
        }),
    )
    .await;

    let s = stats(&app, &w.staff, "").await;
    assert_eq!(s["total"], 5);
    let by_status = &s["by_status"];
    assert_eq!(by_status.as_array().unwrap().len(), 9, "every status: {s}");
    assert_eq!(count(by_status, "status", json!("submitted")), 2);
    assert_eq!(count(by_status, "status", json!("triaged")), 1);
    assert_eq!(count(by_status, "status", json!("assigned")), 1);
    assert_eq!(count(by_status, "status", json!("accepted")), 0);
    assert_eq!(count(by_status, "status", json!("closed")), 1);
    let closed = by_status
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["status"] == "closed")
        .unwrap();
    assert_eq!(closed["label"], "已关闭");
    let by_priority = &s["by_priority"];
    assert_eq!(count(by_priority, "priority", json!("green")), 1);
    assert_eq!(count(by_priority, "priority", json!("orange")), 1);
    assert_eq!(count(by_priority, "priority", json!("red")), 1);
    assert_eq!(count(by_priority, "priority", Value::Null), 2);
    let by_category = &s["by_category"];
    assert_eq!(count(by_category, "category_id", json!(w.category)), 4);
    assert_eq!(count(by_category, "category_id", json!(cats[1].0)), 1);
    assert_eq!(
        by_category[0]["category_id"],
        json!(w.category),
        "most first"
    );
    assert_eq!(by_category[0]["name"], json!(cats[0].1));
    let by_compound = &s["by_compound"];
    assert_eq!(by_compound.as_array().unwrap().len(), 2);
    assert_eq!(count(by_compound, "compound_id", json!(w.t.compound)), 4);
    assert_eq!(count(by_compound, "compound_id", json!(other_compound)), 1);
    assert_eq!(by_compound[1]["name"], "第二小区");
    assert_eq!(s["closed"], 1);
    assert!(close_to(&s["average_rating"], 4.0), "{s}");
    assert_eq!(s["overdue_open"], 0);

    // The list agrees with the total.
    let res = app.get("/api/v1/tickets?limit=100", &w.staff).await;
    let list: Value = res.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn on_time_rate_is_the_share_of_closed_tickets_closed_by_their_due_date() {
    let app = spawn_app().await;
    let w = world(&app, "trt").await;

    // Green (due in 7 days), closed at once: on time, rated 5.
    let early = file(&app, &w.resident, &ticket_body(&w, "按期")).await;
    accept(&app, &w, &early["id"], "green").await;
    finish(&app, &w, &early["id"], 5).await;
    // Red (no due date), closed: counts as closed, not in the rate.
    let red = file(&app, &w.resident, &ticket_body(&w, "无期限")).await;
    accept(&app, &w, &red["id"], "red").await;
    finish(&app, &w, &red["id"], 4).await;
    // Green, resolved in time but confirmed after the due date: late (closure is what counts).
    let late = file(&app, &w.resident, &ticket_body(&w, "逾期")).await;
    accept(&app, &w, &late["id"], "green").await;
    act_ok(
        &app,
        &w.property,
        &late["id"],
        "resolve",
        json!({"note": "好了"}),
    )
    .await;
    // Green and still open: overdue once the clock passes its due date.
    let open = file(&app, &w.resident, &ticket_body(&w, "未办")).await;
    accept(&app, &w, &open["id"], "green").await;
    app.clock.advance(Duration::days(8));
    act_ok(
        &app,
        &w.resident,
        &late["id"],
        "confirm",
        json!({"rating": 3}),
    )
    .await;

    let s = stats(&app, &w.staff, "").await;
    assert_eq!(s["closed"], 3, "{s}");
    assert_eq!(s["closed_on_time"], 1);
    assert!(close_to(&s["on_time_rate"], 0.5), "{s}");
    assert!(close_to(&s["average_rating"], 4.0), "{s}");
    assert_eq!(s["overdue_open"], 1);

    // Nothing closed with a due date, nothing rated: null, not 0.
    let s = stats(&app, &w.staff, "?status=accepted").await;
    assert_eq!(s["total"], 1);
    assert_eq!(s["on_time_rate"], Value::Null);
    assert_eq!(s["average_rating"], Value::Null);
    assert_eq!(s["average_hours_to_close"], Value::Null);
    assert_eq!(s["overdue_open"], 1);
}

#[tokio::test]
async fn average_hours_to_close_runs_from_filing_to_closing() {
    let app = spawn_app().await;
    let w = world(&app, "trh").await;
    let a = file(&app, &w.resident, &ticket_body(&w, "十小时")).await;
    let b = file(&app, &w.resident, &ticket_body(&w, "三十小时")).await;
    accept(&app, &w, &a["id"], "green").await;
    accept(&app, &w, &b["id"], "green").await;
    app.clock.advance(Duration::hours(10));
    finish(&app, &w, &a["id"], 5).await;
    app.clock.advance(Duration::hours(20));
    finish(&app, &w, &b["id"], 3).await;

    let s = stats(&app, &w.staff, "").await;
    assert_eq!(s["closed"], 2);
    assert!(close_to(&s["average_hours_to_close"], 20.0), "{s}");
    assert!(close_to(&s["average_rating"], 4.0), "{s}");
    assert!(close_to(&s["on_time_rate"], 1.0), "{s}");
}

#[tokio::test]
async fn stats_are_scoped_like_the_list_and_refused_to_residents() {
    let app = spawn_app().await;
    let w = world(&app, "trsc").await;
    let other = world(&app, "trso").await;
    let mine = file(&app, &w.resident, &ticket_body(&w, "本公司")).await;
    accept(&app, &w, &mine["id"], "green").await;
    let elsewhere = file(&app, &w.resident, &ticket_body(&w, "别家公司")).await;
    let rival = app
        .create(
            &w.admin,
            "property-companies",
            json!({"street_id": w.t.street, "name": "别家物业"}),
        )
        .await;
    triage(&app, &w.staff, &elsewhere["id"], "orange").await;
    act_ok(
        &app,
        &w.staff,
        &elsewhere["id"],
        "assign",
        json!({"property_company_id": rival}),
    )
    .await;
    file(&app, &w.resident, &ticket_body(&w, "未派单")).await;

    assert_eq!(stats(&app, &w.staff, "").await["total"], 3);
    assert_eq!(stats(&app, &w.grid_manager, "").await["total"], 3);
    assert_eq!(stats(&app, &w.admin, "").await["total"], 3);

    // Another community's staff: nothing of these.
    let s = stats(&app, &other.staff, "").await;
    assert_eq!(s["total"], 0);
    assert_eq!(s["by_category"], json!([]));
    assert_eq!(s["by_compound"], json!([]));
    assert_eq!(s["average_hours_to_close"], Value::Null);
    let s = stats(
        &app,
        &other.staff,
        &format!("?community_id={}", w.t.community),
    )
    .await;
    assert_eq!(s["total"], 0, "a filter does not widen the scope");

    // Property staff: only what is assigned to their company.
    let s = stats(&app, &w.property, "").await;
    assert_eq!(s["total"], 1, "{s}");
    assert_eq!(count(&s["by_status"], "status", json!("accepted")), 1);

    // Residents see their own tickets in the list, but have no reports.
    let res = app.get("/api/v1/tickets/stats", &w.resident).await;
    assert_problem(res, 403, "forbidden").await;
    let res = app.get("/api/v1/tickets/export", &w.resident).await;
    assert_problem(res, 403, "forbidden").await;
}

#[tokio::test]
async fn filters_narrow_the_stats() {
    let app = spawn_app().await;
    let w = world(&app, "trf").await;
    let cats = categories(&app, &w).await;
    let other_compound = second_compound(&app, &w).await;
    let started = Utc::now();
    let a = file(&app, &w.resident, &ticket_body(&w, "甲")).await;
    accept(&app, &w, &a["id"], "green").await;
    finish(&app, &w, &a["id"], 5).await;
    let mut body = ticket_body(&w, "乙");
    body["category_id"] = json!(cats[1].0);
    let b = file(&app, &w.resident, &body).await;
    triage(&app, &w.staff, &b["id"], "red").await;
    file(
        &app,
        &w.staff,
        &json!({
            "category_id": w.category,
            "title": "丙",
            "description": "路灯坏了",
            "compound_id": other_compound,
            "channel": "visit",
            "requester_name": "李阿姨",
        }),
    )
    .await;

    let total = |q: &'static str| {
        let (app, staff) = (&app, &w.staff);
        async move { stats(app, staff, q).await["total"].as_u64().unwrap() }
    };
    assert_eq!(total("").await, 3);
    assert_eq!(total("?status=closed").await, 1);
    assert_eq!(total("?status=closed,triaged").await, 2);
    assert_eq!(total("?priority=red").await, 1);
    assert_eq!(total("?overdue=false").await, 3);
    let s = stats(&app, &w.staff, &format!("?category_id={}", cats[1].0)).await;
    assert_eq!(s["total"], 1);
    assert_eq!(s["by_category"].as_array().unwrap().len(), 1);
    let s = stats(&app, &w.staff, &format!("?compound_id={other_compound}")).await;
    assert_eq!(s["total"], 1);
    assert_eq!(s["by_compound"][0]["compound_id"], json!(other_compound));
    let s = stats(&app, &w.staff, &format!("?building_id={}", w.t.building)).await;
    assert_eq!(s["total"], 2);

    // The period: `from` inclusive, `to` exclusive, on the filing time.
    let before = rfc3339(started - Duration::minutes(1));
    let after = rfc3339(Utc::now() + Duration::minutes(1));
    let q = format!("?from={before}&to={after}");
    assert_eq!(stats(&app, &w.staff, &q).await["total"], 3);
    let q = format!("?from={after}");
    assert_eq!(stats(&app, &w.staff, &q).await["total"], 0);
    let q = format!("?to={before}");
    assert_eq!(stats(&app, &w.staff, &q).await["total"], 0);
    let q = "?from=2026-01-01T00:00:00%2B08:00&to=2026-01-01T00:00:00%2B08:00";
    assert_eq!(stats(&app, &w.staff, q).await["total"], 0);

    let q = format!("/api/v1/tickets/stats?from={after}&to={before}");
    assert_problem(app.get(&q, &w.staff).await, 400, "invalid_query").await;
    let q = "/api/v1/tickets/stats?from=yesterday";
    assert_problem(app.get(q, &w.staff).await, 400, "invalid_query").await;
    let q = "/api/v1/tickets/stats?status=done";
    assert_problem(app.get(q, &w.staff).await, 400, "invalid_query").await;
    let q = "/api/v1/tickets/export?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z";
    assert_problem(app.get(q, &w.staff).await, 400, "invalid_query").await;
}

/// Every cell of the first worksheet, as text.
fn read_sheet(bytes: &[u8]) -> Vec<Vec<String>> {
    crate::residents_io::sheet_text(bytes, "%Y-%m-%d %H:%M")
}

async fn export(app: &TestApp, token: &str, query: &str) -> Vec<Vec<String>> {
    let res = app
        .get(&format!("/api/v1/tickets/export{query}"), token)
        .await;
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    read_sheet(&bytes)
}

#[tokio::test]
async fn export_is_an_audited_xlsx_ledger_without_requester_names() {
    let app = spawn_app().await;
    let w = world(&app, "tre").await;
    let other = world(&app, "treo").await;
    let done = file(&app, &w.resident, &ticket_body(&w, "电梯异响")).await;
    let requester = done["requester_name"].as_str().unwrap().to_string();
    assert!(!requester.is_empty());
    accept(&app, &w, &done["id"], "green").await;
    finish(&app, &w, &done["id"], 4).await;
    file(
        &app,
        &w.staff,
        &json!({
            "category_id": w.category,
            "title": "路灯不亮",
            "description": "小区门口路灯坏了",
            "compound_id": w.t.compound,
            "channel": "phone",
            "requester_name": "王大爷",
        }),
    )
    .await;

    let res = app.get("/api/v1/tickets/export", &w.staff).await;
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    assert_eq!(
        headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let disposition = headers["content-disposition"].to_str().unwrap().to_string();
    let name = disposition
        .strip_prefix("attachment; filename=\"tickets-")
        .and_then(|s| s.strip_suffix(".xlsx\""))
        .unwrap_or_else(|| panic!("{disposition}"));
    assert!(
        name.len() == 8 && name.chars().all(|c| c.is_ascii_digit()),
        "{disposition}"
    );
    let rows = read_sheet(&res.bytes().await.unwrap());
    assert_eq!(rows.len(), 3, "header and two tickets: {rows:?}");
    assert_eq!(rows[0], LEDGER_HEADER);
    let col = |title: &str| LEDGER_HEADER.iter().position(|h| *h == title).unwrap();
    // Oldest first.
    let row = &rows[1];
    assert_eq!(row[col("编号")], done["id"].as_str().unwrap());
    assert_eq!(row[col("标题")], "电梯异响");
    assert_eq!(row[col("内容")], "楼道灯坏了，晚上很黑");
    assert_eq!(row[col("小区")], "tre小区");
    assert_eq!(row[col("楼栋")], "1幢");
    assert_eq!(row[col("颜色")], "绿色");
    assert_eq!(row[col("状态")], "已关闭");
    assert_eq!(row[col("是否按期")], "是");
    assert_eq!(row[col("评分")], "4");
    assert_eq!(row[col("评价")], "师傅很负责");
    assert_eq!(row[col("自动关闭")], "否");
    assert_eq!(row[col("催办次数")], "0");
    assert!(!row[col("提交时间")].is_empty());
    assert!(!row[col("期限")].is_empty());
    assert!(!row[col("办结时间")].is_empty());
    assert!(!row[col("关闭时间")].is_empty());
    assert_eq!(rows[2][col("标题")], "路灯不亮");
    assert_eq!(rows[2][col("状态")], "已提交");
    assert_eq!(rows[2][col("颜色")], "");
    for cell in rows.iter().flatten() {
        assert!(
            !cell.contains(&requester) && !cell.contains("王大爷"),
            "a requester's name in the ledger: {cell}"
        );
    }

    // Filtered, and scoped: another community's staff get the header only.
    let rows = export(&app, &w.staff, "?status=closed").await;
    assert_eq!(rows.len(), 2);
    let rows = export(&app, &other.staff, "").await;
    assert_eq!(rows, vec![LEDGER_HEADER.map(String::from).to_vec()]);

    // Every export is in the audit log.
    let res = app
        .get("/api/v1/audit-events?action=tickets_export", &w.admin)
        .await;
    assert_eq!(res.status(), 200);
    let events: Value = res.json().await.unwrap();
    let events = events["items"].as_array().unwrap();
    assert_eq!(events.len(), 3, "{events:?}");
    let first = &events[0];
    assert_eq!(first["actor_id"], json!(w.staff_id));
    assert_eq!(first["purpose"], "ticket ledger export");
    assert_eq!(first["community_id"], json!(w.t.community));
    let detail: Value = serde_json::from_str(first["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["rows"], 2);
    // The community's staff see their community's exports.
    let res = app
        .get("/api/v1/audit-events?action=tickets_export", &w.staff)
        .await;
    let mine: Value = res.json().await.unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);

    let res = app.get("/api/v1/tickets/export", &w.resident).await;
    assert_problem(res, 403, "forbidden").await;
}
