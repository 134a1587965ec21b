//! No N+1 on the lists `plans::every_list_answers_a_page_of_20_in_a_fixed_number_of_statements`
//! does not reach (its world has no notices, offices or keywords): the notices (staff's list, a
//! resident's own, a notice's receipts and unreached households), the moderation queue, the
//! content keywords, the office terms and a resident's offices, each counted on a full page of
//! 20 against a fixed bound.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::ticket_world::{member, uname};

/// Rows of each kind: more than a page, so every list answers a full page of 20.
const N: usize = 22;

/// The statements of `GET path` as `token` (their SQL), with the status and the items of the
/// answer (of `items`, or of `buildings` for a notice's receipts).
async fn count(app: &TestApp, token: &str, path: &str) -> (u16, usize, Vec<String>) {
    let request_id = format!("count-{}", Uuid::now_v7().simple());
    linli::platform::statements::watch(&request_id);
    let res = app
        .request(reqwest::Method::GET, path, Some(token))
        .header("x-request-id", &request_id)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let stmts = linli::platform::statements::take(&request_id);
    let items = body["items"]
        .as_array()
        .or(body["buildings"].as_array())
        .map_or(0, Vec::len);
    (status, items, stmts.into_iter().map(|s| s.sql).collect())
}

async fn posted(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let res = app.post(path, token, &body).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert!(status.is_success(), "POST {path}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn notices_offices_moderation_and_keyword_lists_answer_a_page_in_a_fixed_number_of_statements(
) {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "计数").await;
    let (staff, _) = member(
        &app,
        &root,
        &uname("cs"),
        "community_staff",
        "community",
        t.community,
    )
    .await;
    // N more buildings of one household each (a notice's receipts are per building) …
    for i in 0..N {
        let b = app
            .create(
                &root,
                "buildings",
                json!({"compound_id": t.compound, "name": format!("{}幢", 11 + i)}),
            )
            .await;
        app.create(
            &root,
            "households",
            json!({"building_id": b, "unit": "1单元", "room": "101"}),
        )
        .await;
    }
    // … and a resident in each of N households of the first.
    let mut residents = Vec::new();
    for i in 0..N {
        let h = app
            .create(
                &root,
                "households",
                json!({"building_id": t.building, "unit": "1单元", "room": format!("{}", 201 + i)}),
            )
            .await;
        residents.push(
            member(&app, &root, &uname("r"), "resident", "household", h)
                .await
                .0,
        );
    }
    // N notices to the community, published; every resident reads the first.
    let mut notices = Vec::new();
    for i in 0..N {
        let d = posted(
            &app,
            &staff,
            "/api/v1/notices",
            json!({"scope_type": "community", "scope_id": t.community, "category": "notice",
                   "title": format!("停水通知{i}"), "body": "明天停水，请相互转告。"}),
        )
        .await;
        let id = d["id"].as_str().unwrap().to_string();
        posted(
            &app,
            &staff,
            &format!("/api/v1/notices/{id}/publish"),
            json!({}),
        )
        .await;
        notices.push(id);
    }
    let first = &notices[0];
    for r in &residents {
        let res = app
            .post(&format!("/api/v1/notices/{first}/read"), r, &json!({}))
            .await;
        assert!(res.status().is_success(), "read: {}", res.status());
    }
    // N keywords; one holds notices for review, and N notices wait in the queue.
    for i in 0..N {
        posted(
            &app,
            &root,
            "/api/v1/content-keywords",
            json!({"street_id": t.street, "word": format!("词语{i}"), "verdict": "risky"}),
        )
        .await;
    }
    posted(
        &app,
        &root,
        "/api/v1/content-keywords",
        json!({"street_id": t.street, "word": "集资", "verdict": "review"}),
    )
    .await;
    for i in 0..N {
        let d = posted(
            &app,
            &staff,
            "/api/v1/notices",
            json!({"scope_type": "community", "scope_id": t.community, "category": "notice",
                   "title": format!("楼道集资{i}"), "body": "楼道集资修缮。"}),
        )
        .await;
        let id = d["id"].as_str().unwrap();
        let n = posted(
            &app,
            &staff,
            &format!("/api/v1/notices/{id}/publish"),
            json!({}),
        )
        .await;
        assert_eq!(n["status"], "pending_review");
    }
    // N office holders at the compound: every resident of it sees them.
    for i in 0..N {
        posted(
            &app,
            &root,
            "/api/v1/office-terms",
            json!({"body": "neighbour_steward", "position": "邻里大管家", "scope_type": "compound",
                   "scope_id": t.compound, "display_name": format!("管家{i}"),
                   "starts_on": "2026-01-01", "grants_role": false}),
        )
        .await;
    }

    let resident = &residents[0];
    // (who, token, path, at most this many statements once the caller is kept). The bound is
    // what the list runs today; what it counts, for each:
    let lists: Vec<(&str, &String, String, usize)> = vec![
        // The community's name, one backward range per term of the reach (the community
        // downwards, and its community and street as audience places), the scope names of the
        // page, its attachments and the caller's receipts (one statement each for the page).
        ("staff", &staff, "/api/v1/notices?limit=20".into(), 7),
        // No reach terms: one range, names, attachments, receipts.
        ("root", &root, "/api/v1/notices?limit=20".into(), 4),
        // The resident's household, a range per place of it (building, compound, community,
        // street), names, attachments, receipts.
        ("resident", resident, "/api/v1/notices?limit=20".into(), 8),
        // The unread part (and the read part when the unread run out), the unread count, the
        // scope names, the notices.
        (
            "resident",
            resident,
            "/api/v1/me/notices?limit=20".into(),
            5,
        ),
        // The notice, the caller's follow-up, households per building, recipients per building,
        // reaches per building, building names: grouped, never one per building.
        (
            "staff",
            &staff,
            format!("/api/v1/notices/{first}/receipts"),
            6,
        ),
        (
            "staff",
            &staff,
            format!(
                "/api/v1/notices/{}/unreached-households?building_id={}&limit=20",
                notices[1], t.building
            ),
            6,
        ),
        (
            "staff",
            &staff,
            "/api/v1/moderation-queue?limit=20".into(),
            4,
        ),
        (
            "root",
            &root,
            format!("/api/v1/content-keywords?street_id={}&limit=20", t.street),
            1,
        ),
        ("staff", &staff, "/api/v1/office-terms?limit=20".into(), 2),
        ("root", &root, "/api/v1/office-terms?limit=20".into(), 2),
        (
            "resident",
            resident,
            "/api/v1/me/offices?limit=20".into(),
            3,
        ),
    ];
    let mut counts = Vec::new();
    for (who, token, path, bound) in &lists {
        // The second request of a token: the caller is kept, so the count is the list's own.
        count(&app, token, path).await;
        let (status, items, sql) = count(&app, token, path).await;
        // A page of 2 runs as many: nothing is looked up per item.
        let small = path.replace("limit=20", "limit=2");
        let (_, _, small_sql) = count(&app, token, &small).await;
        assert_eq!(
            small_sql.len(),
            sql.len(),
            "{who}: GET {small} and GET {path} ran different numbers of statements:\n{small_sql:#?}\n{sql:#?}"
        );
        counts.push((*who, path.clone(), status, items, sql, *bound));
    }
    let summary: Vec<_> = counts
        .iter()
        .map(|(who, path, status, items, sql, _)| (who, path, status, items, sql.len()))
        .collect();
    for (who, path, status, items, sql, bound) in &counts {
        assert_eq!(
            *status,
            StatusCode::OK.as_u16(),
            "{who} GET {path}: {summary:#?}"
        );
        assert!(
            *items >= 20,
            "{who} GET {path}: not a full page: {summary:#?}"
        );
        assert!(
            sql.len() <= *bound,
            "{who} GET {path} ran {} statements (at most {bound}): {summary:#?}\n{sql:#?}",
            sql.len()
        );
    }
}

/// A notice's comments (top-level with their reply counts, and one comment's replies) and the
/// comment moderation queue answer a full page in a fixed number of statements, for a resident
/// and for a moderator; a page of 2 runs as many as a page of 20.
#[tokio::test]
async fn comment_pages_and_the_comment_queue_answer_in_a_fixed_number_of_statements() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "评论计数").await;
    let (staff, _) = member(
        &app,
        &root,
        &uname("cs"),
        "community_staff",
        "community",
        t.community,
    )
    .await;
    let (council, _) = member(
        &app,
        &root,
        &uname("cm"),
        "council_member",
        "community",
        t.community,
    )
    .await;
    let (resident, _) = member(
        &app,
        &root,
        &uname("r"),
        "resident",
        "household",
        t.household,
    )
    .await;
    let notice = posted(
        &app,
        &staff,
        "/api/v1/notices",
        json!({"scope_type": "community", "scope_id": t.community, "category": "notice",
               "title": "征求意见", "body": "请发表意见"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    posted(
        &app,
        &staff,
        &format!("/api/v1/notices/{notice}/publish"),
        json!({}),
    )
    .await;
    posted(
        &app,
        &root,
        "/api/v1/content-keywords",
        json!({"street_id": t.street, "word": "待审", "verdict": "review"}),
    )
    .await;
    let path = format!("/api/v1/notices/{notice}/comments");
    let mut first = String::new();
    for i in 0..N {
        // Two authors: each stays under the hourly limit.
        let token = if i % 2 == 0 { &staff } else { &council };
        let c = posted(&app, token, &path, json!({"body": format!("意见{i}")})).await;
        if i == 0 {
            first = c["id"].as_str().unwrap().to_string();
        }
        posted(&app, &resident, &path, json!({"body": format!("待审{i}")})).await;
        if i == N / 2 {
            // Past the hourly limit of 20: an hour later.
            app.clock.advance(chrono::Duration::minutes(61));
        }
    }
    app.clock.advance(chrono::Duration::minutes(61));
    for i in 0..N {
        let token = if i % 2 == 0 { &council } else { &staff };
        posted(
            &app,
            token,
            &path,
            json!({"body": format!("回复{i}"), "parent_id": first}),
        )
        .await;
    }
    // (who, token, path, bound): the subject (its reach and the notice), the moderation reach
    // (no statement for a resident), the page (reply counts are a column of it), the counts by
    // alignment; for replies, the parent too.
    let lists: Vec<(&str, &String, String, usize)> = vec![
        ("resident", &resident, format!("{path}?limit=20"), 7),
        ("staff", &staff, format!("{path}?limit=20"), 7),
        (
            "staff",
            &staff,
            format!("{path}?parent_id={first}&limit=20"),
            8,
        ),
        // The moderation reach and the page.
        (
            "staff",
            &staff,
            "/api/v1/moderation/queue?limit=20".into(),
            2,
        ),
    ];
    for (who, token, path, bound) in &lists {
        count(&app, token, path).await;
        let (status, items, sql) = count(&app, token, path).await;
        let small = path.replace("limit=20", "limit=2");
        let (_, _, small_sql) = count(&app, token, &small).await;
        assert_eq!(status, 200, "{who} GET {path}");
        assert!(items >= 20, "{who} GET {path}: {items} items");
        assert_eq!(
            small_sql.len(),
            sql.len(),
            "{who}: GET {small} and GET {path}:\n{small_sql:#?}\n{sql:#?}"
        );
        assert!(
            sql.len() <= *bound,
            "{who} GET {path} ran {} statements (at most {bound}):\n{sql:#?}",
            sql.len()
        );
    }
}
