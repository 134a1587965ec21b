//! Notices (公告) through HTTP: the upward reach of residents, publishing exactly once (also by
//! two job runners at once), reads and confirmations counted once under concurrency, household
//! coverage by reads and offline records, editing after publication refused, withdrawal
//! keeping receipts, tags and shops, scheduling, and the resident's own list.

use chrono::Duration;
use futures_util::future::join_all;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::ticket_world::{member, uname};

/// Street S ⊃ community C ⊃ compound K ⊃ buildings B3 (households H3a, H3b and shop H3s) and B5
/// (household H5); community D (same street) ⊃ compound KD ⊃ building BD ⊃ household HD.
struct Place {
    app: TestApp,
    root: String,
    street: Uuid,
    community: Uuid,
    compound: Uuid,
    b3: Uuid,
    b5: Uuid,
    h3a: Uuid,
    h3b: Uuid,
    h3s: Uuid,
    other_community: Uuid,
    staff: String,
    leader_b3: String,
    /// Two members of H3a, one of H3b, one of the shop, one of H5, one of HD.
    r3a: String,
    r3a2: String,
    r3b: String,
    r3s: String,
    r5: String,
    rd: String,
    r3a_id: Uuid,
}

async fn place() -> Place {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "公告").await;
    let b3 = app
        .create(
            &root,
            "buildings",
            json!({"compound_id": t.compound, "name": "3幢"}),
        )
        .await;
    let b5 = app
        .create(
            &root,
            "buildings",
            json!({"compound_id": t.compound, "name": "5幢"}),
        )
        .await;
    let hh = |b: Uuid, room: &str| json!({"building_id": b, "unit": "1单元", "room": room});
    let h3a = app.create(&root, "households", hh(b3, "301")).await;
    let h3b = app.create(&root, "households", hh(b3, "302")).await;
    let mut shop = hh(b3, "商铺1");
    shop["kind"] = json!("shop");
    let h3s = app.create(&root, "households", shop).await;
    let h5 = app.create(&root, "households", hh(b5, "501")).await;
    let other_community = app
        .create(
            &root,
            "communities",
            json!({"street_id": t.street, "name": "邻社区"}),
        )
        .await;
    let kd = app
        .create(
            &root,
            "compounds",
            json!({"community_id": other_community, "name": "邻小区"}),
        )
        .await;
    let bd = app
        .create(
            &root,
            "buildings",
            json!({"compound_id": kd, "name": "1幢"}),
        )
        .await;
    let hd = app.create(&root, "households", hh(bd, "101")).await;
    let (staff, _) = member(
        &app,
        &root,
        &uname("cs"),
        "community_staff",
        "community",
        t.community,
    )
    .await;
    let (leader_b3, _) = member(&app, &root, &uname("bl"), "building_leader", "building", b3).await;
    let resident = |h: Uuid| {
        let app = &app;
        let root = root.clone();
        async move { member(app, &root, &uname("r"), "resident", "household", h).await }
    };
    let (r3a, r3a_id) = resident(h3a).await;
    let (r3a2, _) = resident(h3a).await;
    let (r3b, _) = resident(h3b).await;
    let (r3s, _) = resident(h3s).await;
    let (r5, _) = resident(h5).await;
    let (rd, _) = resident(hd).await;
    Place {
        app,
        root,
        street: t.street,
        community: t.community,
        compound: t.compound,
        b3,
        b5,
        h3a,
        h3b,
        h3s,
        other_community,
        staff,
        leader_b3,
        r3a,
        r3a2,
        r3b,
        r3s,
        r5,
        rd,
        r3a_id,
    }
}

async fn draft(app: &TestApp, token: &str, body: Value) -> Value {
    let res = app.post("/api/v1/notices", token, &body).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "draft: {text}");
    serde_json::from_str(&text).unwrap()
}

fn body_for(scope_type: &str, scope_id: Uuid, title: &str) -> Value {
    json!({"scope_type": scope_type, "scope_id": scope_id, "category": "notice",
           "title": title, "body": format!("{title}，请相互转告。")})
}

async fn publish(app: &TestApp, token: &str, id: &str) -> Value {
    let res = app
        .post(&format!("/api/v1/notices/{id}/publish"), token, &json!({}))
        .await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "publish: {text}");
    serde_json::from_str(&text).unwrap()
}

async fn published(app: &TestApp, token: &str, body: Value) -> String {
    let d = draft(app, token, body).await;
    let id = d["id"].as_str().unwrap().to_string();
    let n = publish(app, token, &id).await;
    assert_eq!(n["status"], "published", "{n}");
    id
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let res = app.get(path, token).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "GET {path}: {text}");
    serde_json::from_str(&text).unwrap()
}

fn titles(list: &Value) -> Vec<String> {
    let mut t: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap().to_string())
        .collect();
    t.sort();
    t
}

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_building_notice_is_invisible_to_the_neighbour_buildings_residents() {
    let p = place().await;
    let (app, staff) = (&p.app, &p.staff);
    let n3 = published(app, staff, body_for("building", p.b3, "3幢停水")).await;
    let n5 = published(app, staff, body_for("building", p.b5, "5幢停电")).await;
    let nk = published(app, staff, body_for("compound", p.compound, "小区消杀")).await;
    let nc = published(app, staff, body_for("community", p.community, "社区义诊")).await;
    let ns = published(app, &p.root, body_for("street", p.street, "街道防汛")).await;
    let nd = published(
        app,
        &p.root,
        body_for("community", p.other_community, "邻社区通知"),
    )
    .await;

    // A resident of building 3: their building, compound, community and street; not 5, not D.
    let list = get(app, &p.r3a, "/api/v1/notices").await;
    assert_eq!(
        titles(&list),
        vec!["3幢停水", "小区消杀", "社区义诊", "街道防汛"]
    );
    for id in [&n3, &nk, &nc, &ns] {
        get(app, &p.r3a, &format!("/api/v1/notices/{id}")).await;
    }
    for id in [&n5, &nd] {
        let res = app.get(&format!("/api/v1/notices/{id}"), &p.r3a).await;
        assert_problem(res, 404, "not_found").await;
    }
    let mine = get(app, &p.r3a, "/api/v1/me/notices").await;
    assert_eq!(
        titles(&mine),
        vec!["3幢停水", "小区消杀", "社区义诊", "街道防汛"]
    );
    assert_eq!(mine["unread_count"], 4);

    // Building 5's resident: the mirror image.
    let list = get(app, &p.r5, "/api/v1/notices").await;
    assert_eq!(
        titles(&list),
        vec!["5幢停电", "小区消杀", "社区义诊", "街道防汛"]
    );
    // The other community's resident: their community and the street only.
    let list = get(app, &p.rd, "/api/v1/notices").await;
    assert_eq!(titles(&list), vec!["街道防汛", "邻社区通知"]);
    // The building leader of 3 reads their building and everything above it, not building 5.
    let list = get(app, &p.leader_b3, "/api/v1/notices").await;
    assert_eq!(
        titles(&list),
        vec!["3幢停水", "小区消杀", "社区义诊", "街道防汛"]
    );
    // A draft for building 3 is not the resident's to see.
    let d = draft(app, staff, body_for("building", p.b3, "草稿")).await;
    let res = app
        .get(
            &format!("/api/v1/notices/{}", d["id"].as_str().unwrap()),
            &p.r3a,
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    assert_eq!(
        get(
            app,
            &p.leader_b3,
            &format!("/api/v1/notices/{}", d["id"].as_str().unwrap())
        )
        .await["status"],
        "draft"
    );
    // Staff of the community see the street's notice (upward) and every notice of theirs.
    let list = get(app, staff, "/api/v1/notices").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 6, "{list}");
}

#[tokio::test]
async fn publishing_writes_the_recipients_once_and_queues_one_message_each() {
    let p = place().await;
    let app = &p.app;
    let d = draft(app, &p.staff, body_for("building", p.b3, "3幢电梯维保")).await;
    let id = d["id"].as_str().unwrap();
    let n = publish(app, &p.staff, id).await;
    // Building 3: two members of 301 and one of 302; the shop is left out by default.
    assert_eq!(n["recipients_count"], 3, "{n}");
    assert_eq!(n["households_total"], 2, "{n}");
    assert_eq!(n["scope_name"], "3幢");
    assert_eq!(n["category_label"], "通知");
    assert_eq!(n["status_label"], "已发布");
    let queued = entity::notification::Entity::find()
        .filter(entity::notification::Column::EventType.eq("notice_published"))
        .filter(entity::notification::Column::SubjectId.eq(Uuid::parse_str(id).unwrap()))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(queued, 3);
    // Publishing again is refused: it is no draft any more.
    let res = app
        .post(
            &format!("/api/v1/notices/{id}/publish"),
            &p.staff,
            &json!({}),
        )
        .await;
    assert_problem(res, 409, "wrong_status").await;
    // The shop's contact person is not addressed; with shops included it is.
    let mine = get(app, &p.r3s, "/api/v1/me/notices").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 0);
    let mut b = body_for("building", p.b3, "商铺消防检查");
    b["include_shops"] = json!(true);
    let with_shops = published(app, &p.staff, b).await;
    let n = get(app, &p.staff, &format!("/api/v1/notices/{with_shops}")).await;
    assert_eq!(n["recipients_count"], 4);
    assert_eq!(n["households_total"], 3);
    let mine = get(app, &p.r3s, "/api/v1/me/notices").await;
    assert_eq!(titles(&mine), vec!["商铺消防检查"]);
}

#[tokio::test]
async fn scheduled_notices_are_published_once_by_two_job_runners_at_once() {
    let p = place().await;
    let app = &p.app;
    let other = if using_postgres() {
        Some(start(app.vars.clone()).await)
    } else {
        None
    };
    let at = app.state.clock.now() + Duration::hours(2);
    let mut b = body_for("compound", p.compound, "周六停水");
    b["publish_at"] = json!(at.to_rfc3339());
    let d = draft(app, &p.staff, b).await;
    let id = d["id"].as_str().unwrap().to_string();
    let n = publish(app, &p.staff, &id).await;
    assert_eq!(n["status"], "scheduled");
    assert_eq!(n["recipients_count"], 0);
    // Not yet due: nothing happens, and residents see nothing.
    assert_eq!(
        linli::notices::jobs::publish_due(&app.state.db, app.state.clock.now())
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        get(app, &p.r3a, "/api/v1/me/notices").await["unread_count"],
        0
    );
    app.clock.advance(Duration::hours(2) + Duration::minutes(1));
    let now = app.state.clock.now();
    let second = other.as_ref().unwrap_or(app);
    let runs = join_all([
        linli::notices::jobs::publish_due(&app.state.db, now),
        linli::notices::jobs::publish_due(&second.state.db, now),
        linli::notices::jobs::publish_due(&app.state.db, now),
        linli::notices::jobs::publish_due(&second.state.db, now),
    ])
    .await;
    let total: u64 = runs.into_iter().map(|r| r.unwrap()).sum();
    assert_eq!(total, 1, "published by exactly one run");
    let n = get(app, &p.staff, &format!("/api/v1/notices/{id}")).await;
    assert_eq!(n["status"], "published");
    // Compound K: 301 (two), 302, 501; not the shop, not the other community.
    assert_eq!(n["recipients_count"], 4);
    let rows = entity::notice_recipient::Entity::find()
        .filter(entity::notice_recipient::Column::NoticeId.eq(Uuid::parse_str(&id).unwrap()))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(rows, 4);
    let queued = entity::notification::Entity::find()
        .filter(entity::notification::Column::SubjectId.eq(Uuid::parse_str(&id).unwrap()))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(queued, 4, "one message per recipient");
    assert_eq!(
        get(app, &p.r5, "/api/v1/me/notices").await["unread_count"],
        1
    );
}

#[tokio::test]
async fn reads_and_confirmations_count_once_under_concurrency_and_get_marks_nothing() {
    let p = place().await;
    let app = &p.app;
    let mut b = body_for("building", p.b3, "请确认收到");
    b["requires_confirmation"] = json!(true);
    let id = published(app, &p.staff, b).await;
    // GETs (the list, the notice, the resident's list) have no side effects.
    for _ in 0..3 {
        let n = get(app, &p.r3a, &format!("/api/v1/notices/{id}")).await;
        assert_eq!(n["my_receipt"]["read"], false);
        get(app, &p.r3a, "/api/v1/notices").await;
        get(app, &p.r3a, "/api/v1/me/notices").await;
    }
    let n = get(app, &p.staff, &format!("/api/v1/notices/{id}")).await;
    assert_eq!(n["read_count"], 0);
    assert_eq!(n["households_reached"], 0);

    let read_path = format!("/api/v1/notices/{id}/read");
    let empty = json!({});
    let reads = join_all((0..20).map(|_| app.post(&read_path, &p.r3a, &empty))).await;
    for r in reads {
        assert_eq!(r.status(), StatusCode::OK);
    }
    let confirm_path = format!("/api/v1/notices/{id}/confirm");
    let confirms = join_all((0..20).map(|_| app.post(&confirm_path, &p.r3a, &empty))).await;
    for r in confirms {
        assert_eq!(r.status(), StatusCode::OK);
    }
    let n = get(app, &p.staff, &format!("/api/v1/notices/{id}")).await;
    assert_eq!(n["read_count"], 1, "{n}");
    assert_eq!(n["confirmed_count"], 1, "{n}");
    assert_eq!(n["households_reached"], 1, "{n}");
    let mine = get(app, &p.r3a, &format!("/api/v1/notices/{id}")).await;
    assert_eq!(mine["my_receipt"]["read"], true);
    assert_eq!(mine["my_receipt"]["confirmed"], true);
    // Confirming reads too, once, for another resident.
    let r: Value = app
        .post(&format!("/api/v1/notices/{id}/confirm"), &p.r3b, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["read"], true);
    assert_eq!(r["confirmed"], true);
    let n = get(app, &p.staff, &format!("/api/v1/notices/{id}")).await;
    assert_eq!(
        (n["read_count"].clone(), n["confirmed_count"].clone()),
        (json!(2), json!(2))
    );
    // Reading a notice that asks for no confirmation works; confirming it is refused.
    let plain = published(app, &p.staff, body_for("building", p.b3, "普通通知")).await;
    let res = app
        .post(
            &format!("/api/v1/notices/{plain}/confirm"),
            &p.r3a,
            &json!({}),
        )
        .await;
    assert_problem(res, 409, "wrong_status").await;
    // A resident of building 5 cannot read building 3's notice at all.
    let res = app
        .post(&format!("/api/v1/notices/{id}/read"), &p.r5, &json!({}))
        .await;
    assert_problem(res, 404, "not_found").await;
}

#[tokio::test]
async fn a_household_is_reached_once_by_two_members_or_by_a_read_and_an_offline_record() {
    let p = place().await;
    let app = &p.app;
    let id = published(app, &p.staff, body_for("building", p.b3, "楼道清理")).await;
    // Two members of 301 read: one household.
    for t in [&p.r3a, &p.r3a2] {
        let res = app
            .post(&format!("/api/v1/notices/{id}/read"), t, &json!({}))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let n = get(app, &p.staff, &format!("/api/v1/notices/{id}")).await;
    assert_eq!(n["read_count"], 2);
    assert_eq!(n["households_reached"], 1);
    assert_eq!(n["households_total"], 2);
    // The building leader sees 302 unreached, names masked, and records a visit there.
    let unreached = get(
        app,
        &p.leader_b3,
        &format!(
            "/api/v1/notices/{id}/unreached-households?building_id={}",
            p.b3
        ),
    )
    .await;
    let items = unreached["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{unreached}");
    assert_eq!(items[0]["household_id"], p.h3b.to_string());
    assert_eq!(items[0]["room"], "302");
    let res = app
        .post(
            &format!("/api/v1/notices/{id}/offline-reach"),
            &p.leader_b3,
            &json!({"household_id": p.h3b, "method": "visit", "note": "老人独居，已当面告知"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // A member of 302 reading afterwards, and a second record: still one household each.
    let res = app
        .post(&format!("/api/v1/notices/{id}/read"), &p.r3b, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post(
            &format!("/api/v1/notices/{id}/offline-reach"),
            &p.leader_b3,
            &json!({"household_id": p.h3a, "method": "phone"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["recorded"], false);
    assert_eq!(again["how"], "read");
    let n = get(app, &p.staff, &format!("/api/v1/notices/{id}")).await;
    assert_eq!(n["read_count"], 3);
    assert_eq!(n["households_reached"], 2);
    let receipts = get(app, &p.leader_b3, &format!("/api/v1/notices/{id}/receipts")).await;
    let b = &receipts["buildings"][0];
    assert_eq!(b["building_name"], "3幢");
    assert_eq!(
        (
            b["recipients"].clone(),
            b["read"].clone(),
            b["households_total"].clone(),
            b["households_reached"].clone()
        ),
        (json!(3), json!(3), json!(2), json!(2))
    );
    let unreached = get(
        app,
        &p.leader_b3,
        &format!(
            "/api/v1/notices/{id}/unreached-households?building_id={}",
            p.b3
        ),
    )
    .await;
    assert_eq!(unreached["items"].as_array().unwrap().len(), 0);
    // The shop is not in the audience; building 5 is not the leader's.
    let res = app
        .post(
            &format!("/api/v1/notices/{id}/offline-reach"),
            &p.leader_b3,
            &json!({"household_id": p.h3s, "method": "board"}),
        )
        .await;
    assert_problem(res, 400, "validation_failed").await;
    let res = app
        .get(
            &format!(
                "/api/v1/notices/{id}/unreached-households?building_id={}",
                p.b5
            ),
            &p.leader_b3,
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    // Residents do not follow up.
    let res = app
        .get(&format!("/api/v1/notices/{id}/receipts"), &p.r3a)
        .await;
    assert_problem(res, 403, "forbidden").await;
}

#[tokio::test]
async fn a_community_notice_is_followed_up_by_the_building_leader_for_their_building_only() {
    let p = place().await;
    let app = &p.app;
    let id = published(
        app,
        &p.staff,
        body_for("community", p.community, "社区大扫除"),
    )
    .await;
    let receipts = get(app, &p.leader_b3, &format!("/api/v1/notices/{id}/receipts")).await;
    let names: Vec<&str> = receipts["buildings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["building_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["3幢"], "{receipts}");
    let staff = get(app, &p.staff, &format!("/api/v1/notices/{id}/receipts")).await;
    assert_eq!(
        staff["buildings"].as_array().unwrap().len(),
        3,
        "1幢, 3幢, 5幢: {staff}"
    );
    assert_eq!(staff["households_total"], 4);
}

#[tokio::test]
async fn a_published_notice_cannot_be_edited_and_withdrawing_keeps_its_receipts() {
    let p = place().await;
    let app = &p.app;
    let d = draft(app, &p.staff, body_for("building", p.b3, "原标题")).await;
    let id = d["id"].as_str().unwrap().to_string();
    // A draft is edited, with If-Match.
    let res = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/notices/{id}"),
            Some(&p.staff),
        )
        .header("If-Match", "\"1\"")
        .json(&json!({"title": "新标题"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let res = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/notices/{id}"),
            Some(&p.staff),
        )
        .header("If-Match", "\"1\"")
        .json(&json!({"title": "过期的修改"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 412, "precondition_failed").await;
    publish(app, &p.staff, &id).await;
    let res = app
        .patch(
            &format!("/api/v1/notices/{id}"),
            &p.staff,
            &json!({"title": "改"}),
        )
        .await;
    assert_problem(res, 409, "wrong_status").await;
    let res = app
        .post(&format!("/api/v1/notices/{id}/read"), &p.r3a, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post(
            &format!("/api/v1/notices/{id}/withdraw"),
            &p.staff,
            &json!({"reason": "时间有误，重新发布"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let n = get(app, &p.staff, &format!("/api/v1/notices/{id}")).await;
    assert_eq!(n["status"], "withdrawn");
    assert_eq!(n["withdrawn_reason"], "时间有误，重新发布");
    assert_eq!(n["read_count"], 1, "receipts stay");
    assert_eq!(n["title"], "新标题");
    let receipts = get(app, &p.staff, &format!("/api/v1/notices/{id}/receipts")).await;
    assert_eq!(receipts["read_count"], 1);
    // The reader still finds it by id (withdrawn); it leaves their list and their badge.
    let mine = get(app, &p.r3a, &format!("/api/v1/notices/{id}")).await;
    assert_eq!(mine["status"], "withdrawn");
    let list = get(app, &p.r3a, "/api/v1/me/notices").await;
    assert!(!ids(&list).contains(&id));
    let res = app
        .post(&format!("/api/v1/notices/{id}/read"), &p.r3b, &json!({}))
        .await;
    assert_problem(res, 409, "wrong_status").await;
    let res = app
        .post(
            &format!("/api/v1/notices/{id}/withdraw"),
            &p.staff,
            &json!({"reason": "再撤一次"}),
        )
        .await;
    assert_problem(res, 409, "wrong_status").await;
}

#[tokio::test]
async fn my_notices_list_unread_first_and_pages_without_repeats() {
    let p = place().await;
    let app = &p.app;
    let mut all = Vec::new();
    for i in 0..5 {
        all.push(
            published(
                app,
                &p.staff,
                body_for("building", p.b3, &format!("通知{i}")),
            )
            .await,
        );
    }
    // Read the oldest two.
    for id in &all[..2] {
        app.post(&format!("/api/v1/notices/{id}/read"), &p.r3a, &json!({}))
            .await;
    }
    let mut seen = Vec::new();
    let mut reads = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/me/notices?limit=2&cursor={c}"),
            None => "/api/v1/me/notices?limit=2".to_string(),
        };
        let page = get(app, &p.r3a, &path).await;
        assert_eq!(page["unread_count"], 3);
        for n in page["items"].as_array().unwrap() {
            seen.push(n["title"].as_str().unwrap().to_string());
            reads.push(n["my_receipt"]["read"].as_bool().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, vec!["通知4", "通知3", "通知2", "通知1", "通知0"]);
    assert_eq!(reads, vec![false, false, false, true, true]);
    let unread = get(app, &p.r3a, "/api/v1/me/notices?unread=true").await;
    assert_eq!(titles(&unread), vec!["通知2", "通知3", "通知4"]);
    let res = app.get("/api/v1/me/notices?cursor=nonsense", &p.r3a).await;
    assert_problem(res, 400, "invalid_query").await;
}

#[tokio::test]
async fn tags_address_the_residents_who_carry_them() {
    let p = place().await;
    let app = &p.app;
    // The roster: a resident of 301 carrying 党员, linked to the account r3a.
    let res = app
        .post(
            "/api/v1/residents",
            &p.staff,
            &json!({"household_id": p.h3a, "name": "张建国", "tags": ["党员"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let resident = id_of(&res.json().await.unwrap());
    // As a binding would link them (the binding flows have tests of their own).
    let row = entity::resident::Entity::find_by_id(resident)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let mut row: entity::resident::ActiveModel = row.into();
    row.user_id = Set(Some(p.r3a_id));
    row.update(&app.state.db).await.unwrap();

    let mut b = body_for("community", p.community, "党员学习");
    b["audience_tags"] = json!(["党员", "党员"]);
    let d = draft(app, &p.staff, b).await;
    assert_eq!(d["audience_tags"], json!(["党员"]));
    let id = d["id"].as_str().unwrap().to_string();
    let n = publish(app, &p.staff, &id).await;
    assert_eq!(n["recipients_count"], 1);
    assert_eq!(n["households_total"], 1);
    assert_eq!(
        titles(&get(app, &p.r3a, "/api/v1/me/notices").await),
        vec!["党员学习"]
    );
    // The other member of the same household carries no tag: not addressed, not visible.
    assert_eq!(
        get(app, &p.r3a2, "/api/v1/me/notices").await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let res = app.get(&format!("/api/v1/notices/{id}"), &p.r3a2).await;
    assert_problem(res, 404, "not_found").await;
    // The list agrees with the reads by id, for both.
    assert!(!ids(&get(app, &p.r3a2, "/api/v1/notices").await).contains(&id));
    assert!(ids(&get(app, &p.r3a, "/api/v1/notices").await).contains(&id));
    // Staff see it down their reach, tags or not.
    assert!(ids(&get(app, &p.staff, "/api/v1/notices").await).contains(&id));
}

#[tokio::test]
async fn bad_notices_are_refused_with_the_field_named() {
    let p = place().await;
    let app = &p.app;
    let cases = [
        (
            json!({"scope_type": "building", "scope_id": p.b3, "category": "notice", "title": "", "body": "x"}),
            "title",
        ),
        (
            json!({"scope_type": "building", "scope_id": p.b3, "category": "notice", "title": "一".repeat(51), "body": "x"}),
            "title",
        ),
        (
            json!({"scope_type": "building", "scope_id": p.b3, "category": "notice", "title": "t", "body": "x".repeat(10_001)}),
            "body",
        ),
        (
            json!({"scope_type": "building", "scope_id": p.b3, "category": "notice", "title": "t", "body": "x",
                "audience_tags": (0..11).map(|i| format!("标签{i}")).collect::<Vec<_>>()}),
            "audience_tags",
        ),
        (
            json!({"scope_type": "building", "scope_id": p.b3, "category": "notice", "title": "t", "body": "x",
                "publish_at": "2026-12-02T00:00:00Z", "expires_at": "2026-12-01T00:00:00Z"}),
            "expires_at",
        ),
    ];
    for (body, field) in cases {
        let res = app.post("/api/v1/notices", &p.staff, &body).await;
        let problem = assert_problem(res, 400, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let res = app
        .post(
            "/api/v1/notices",
            &p.staff,
            &json!({"scope_type": "building", "scope_id": p.b3, "category": "notice", "title": "t", "body": "x", "status": "published"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .post(
            "/api/v1/notices",
            &p.staff,
            &json!({"scope_type": "building", "scope_id": Uuid::now_v7(), "category": "notice", "title": "t", "body": "x"}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
}

/// Staff without WeChat go through the street's keyword list: `review` holds the notice for a
/// moderator (its author and moderators see it, residents do not, nobody is notified), who passes
/// it (published, recipients written) or sends it back to draft; `risky` refuses it with 400
/// `content_rejected` and it stays a draft.
#[tokio::test]
async fn staff_notices_go_through_the_streets_keyword_list_and_the_moderation_queue() {
    let p = place().await;
    let app = &p.app;
    for (word, verdict) in [("集资", "review"), ("赌博", "risky")] {
        let res = app
            .post(
                "/api/v1/content-keywords",
                &p.root,
                &json!({"street_id": p.street, "word": word, "verdict": verdict}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let d = draft(
        app,
        &p.staff,
        body_for("building", p.b3, "关于楼道集资修缮"),
    )
    .await;
    let id = d["id"].as_str().unwrap().to_string();
    let n = publish(app, &p.staff, &id).await;
    assert_eq!(n["status"], "pending_review");
    assert_eq!(n["status_label"], "待审核");
    assert_eq!(n["review_label"], "keyword");
    assert_eq!(n["recipients_count"], 0);
    let res = app.get(&format!("/api/v1/notices/{id}"), &p.r3a).await;
    assert_problem(res, 404, "not_found").await;
    let queue = get(app, &p.staff, "/api/v1/moderation-queue").await;
    assert_eq!(ids(&queue), vec![id.clone()]);
    let queue = get(
        app,
        &p.staff,
        &format!(
            "/api/v1/moderation-queue?community_id={}",
            p.other_community
        ),
    )
    .await;
    assert!(ids(&queue).is_empty());
    // A building leader neither sees the queue's items nor passes them.
    assert!(ids(&get(app, &p.leader_b3, "/api/v1/moderation-queue").await).is_empty());
    let res = app
        .post(
            &format!("/api/v1/notices/{id}/approve"),
            &p.leader_b3,
            &json!({}),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
    // Held notices are not edited either; sent back, they are.
    let res = app
        .post(
            &format!("/api/v1/notices/{id}/send-back"),
            &p.staff,
            &json!({"note": "请写明费用用途"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let n: Value = res.json().await.unwrap();
    assert_eq!(n["status"], "draft");
    assert_eq!(n["review_note"], "请写明费用用途");
    publish(app, &p.staff, &id).await;
    let res = app
        .post(
            &format!("/api/v1/notices/{id}/approve"),
            &p.staff,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let n: Value = res.json().await.unwrap();
    assert_eq!(n["status"], "published");
    assert_eq!(n["recipients_count"], 3);
    assert!(ids(&get(app, &p.staff, "/api/v1/moderation-queue").await).is_empty());
    let res = app
        .post(
            &format!("/api/v1/notices/{id}/approve"),
            &p.staff,
            &json!({}),
        )
        .await;
    assert_problem(res, 409, "wrong_status").await;

    let d = draft(app, &p.staff, body_for("building", p.b3, "严禁赌博")).await;
    let id = d["id"].as_str().unwrap().to_string();
    let res = app
        .post(
            &format!("/api/v1/notices/{id}/publish"),
            &p.staff,
            &json!({}),
        )
        .await;
    let problem = assert_problem(res, 400, "content_rejected").await;
    assert!(
        !problem.to_string().contains("赌博"),
        "the word is not told: {problem}"
    );
    assert_eq!(
        get(app, &p.staff, &format!("/api/v1/notices/{id}")).await["status"],
        "draft"
    );
}

/// A building leader signed in with WeChat: their notice's text goes to WeChat's check with
/// their own openid (the fake records it); `review` holds it, `risky` refuses it, and WeChat down
/// or slow holds it too, in bounded time: never published, never a 5xx.
#[tokio::test]
async fn a_wechat_leaders_notice_is_checked_by_wechat_with_their_openid() {
    use crate::wechat::{me, spawn_with_fake, wechat_login_ok};
    let (app, fake) = spawn_with_fake().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "微信").await;
    let (r, _) = member(
        &app,
        &root,
        &uname("r"),
        "resident",
        "household",
        t.household,
    )
    .await;
    let openid = format!("o-{}", uname("bl"));
    let leader = token_of(&wechat_login_ok(&app, &format!("user:{openid}")).await);
    let leader_id: Uuid = me(&app, &leader).await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    app.grant(&root, leader_id, "building_leader", "building", t.building)
        .await;
    let leader = token_of(&wechat_login_ok(&app, &format!("user:{openid}")).await);

    let try_publish = |title: &'static str| {
        let app = &app;
        let leader = leader.clone();
        async move {
            let d = draft(app, &leader, body_for("building", t.building, title)).await;
            let id = d["id"].as_str().unwrap().to_string();
            let started = std::time::Instant::now();
            let res = app
                .post(
                    &format!("/api/v1/notices/{id}/publish"),
                    &leader,
                    &json!({}),
                )
                .await;
            (id, res, started.elapsed())
        }
    };
    let (id, res, _) = try_publish("电梯年检通知").await;
    assert_eq!(res.status(), StatusCode::OK);
    let n: Value = res.json().await.unwrap();
    assert_eq!(n["status"], "published");
    let checks = fake.sec_checks();
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert_eq!(checks[0]["openid"], openid.as_str());
    assert_eq!(checks[0]["version"], 2);
    assert_eq!(checks[0]["title"], "电梯年检通知");
    assert_eq!(
        get(&app, &r, &format!("/api/v1/notices/{id}")).await["status"],
        "published"
    );

    let (id, res, _) = try_publish("[review] 团购").await;
    assert_eq!(res.status(), StatusCode::OK);
    let n: Value = res.json().await.unwrap();
    assert_eq!(n["status"], "pending_review");
    let res = app.get(&format!("/api/v1/notices/{id}"), &r).await;
    assert_problem(res, 404, "not_found").await;

    let (id, res, _) = try_publish("[risky] 内容").await;
    assert_problem(res, 400, "content_rejected").await;
    assert_eq!(
        get(&app, &leader, &format!("/api/v1/notices/{id}")).await["status"],
        "draft"
    );

    // A photo by a WeChat author waits for a moderator even when the text passes; staff of the
    // community pass it, and residents then see it.
    let staff = {
        let (s, _) = member(
            &app,
            &root,
            &uname("cs"),
            "community_staff",
            "community",
            t.community,
        )
        .await;
        s
    };
    let photo = crate::attachments::upload_png(&app, &leader).await;
    let mut b = body_for("building", t.building, "楼道堆物清理前后");
    b["photo_ids"] = json!([photo["id"]]);
    let d = draft(&app, &leader, b).await;
    let id = d["id"].as_str().unwrap().to_string();
    let n = publish(&app, &leader, &id).await;
    assert_eq!(n["status"], "pending_review");
    assert_eq!(n["review_label"], "images");
    let res = app
        .get(
            &format!("/api/v1/attachments/{}", photo["id"].as_str().unwrap()),
            &r,
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = app
        .post(&format!("/api/v1/notices/{id}/approve"), &staff, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let seen = get(&app, &r, &format!("/api/v1/notices/{id}")).await;
    assert_eq!(seen["photos"].as_array().unwrap().len(), 1);

    for title in ["[down] 停水", "[slow] 停电"] {
        let (id, res, took) = try_publish(title).await;
        assert_eq!(res.status(), StatusCode::OK, "{title}");
        let n: Value = res.json().await.unwrap();
        assert_eq!(n["status"], "pending_review", "{title}");
        assert_eq!(n["review_label"], "check_unavailable", "{title}");
        assert_eq!(n["recipients_count"], 0);
        assert!(
            took < std::time::Duration::from_secs(15),
            "{title} took {took:?}"
        );
        let res = app.get(&format!("/api/v1/notices/{id}"), &r).await;
        assert_problem(res, 404, "not_found").await;
    }
}

/// Photos on a notice: a staff member's notice shows them once published, with signed URLs
/// that need no token; before that they are out of residents' sight (404), like the draft.
/// Editing a draft replaces its photos.
#[tokio::test]
async fn a_notices_photos_are_seen_with_the_notice_and_edited_with_the_draft() {
    use crate::attachments::upload_png;
    let p = place().await;
    let app = &p.app;
    let first = upload_png(app, &p.staff).await;
    let second = upload_png(app, &p.staff).await;
    let mut b = body_for("building", p.b3, "电梯维修公示");
    b["photo_ids"] = json!([first["id"]]);
    let d = draft(app, &p.staff, b).await;
    let id = d["id"].as_str().unwrap().to_string();
    assert_eq!(d["photos"].as_array().unwrap().len(), 1);
    let photo = first["id"].as_str().unwrap();
    let res = app
        .get(&format!("/api/v1/attachments/{photo}"), &p.r3a)
        .await;
    assert_problem(res, 404, "not_found").await;
    // Someone else's upload cannot be attached.
    let other = upload_png(app, &p.leader_b3).await;
    let res = app
        .patch(
            &format!("/api/v1/notices/{id}"),
            &p.staff,
            &json!({"photo_ids": [first["id"], other["id"]]}),
        )
        .await;
    assert_problem(res, 400, "validation_failed").await;
    let res = app
        .patch(
            &format!("/api/v1/notices/{id}"),
            &p.staff,
            &json!({"photo_ids": [second["id"]]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let n: Value = res.json().await.unwrap();
    let shown: Vec<&str> = n["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(shown, vec![second["id"].as_str().unwrap()]);
    // Staff photos need no moderator: published at once.
    let n = publish(app, &p.staff, &id).await;
    assert_eq!(n["status"], "published");
    let seen = get(app, &p.r3a, &format!("/api/v1/notices/{id}")).await;
    let url = seen["photos"][0]["url"].as_str().unwrap();
    let res = app.client.get(app.url(url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "a signed URL needs no token");
    let photo = second["id"].as_str().unwrap();
    let res = app
        .get(&format!("/api/v1/attachments/{photo}"), &p.r3a)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .get(&format!("/api/v1/attachments/{photo}"), &p.r5)
        .await;
    assert_problem(res, 404, "not_found").await;
}
