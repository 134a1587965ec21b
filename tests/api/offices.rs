//! Offices and terms (issue 13): appointing, the role a term grants and its end — in time, by
//! staff, by handover — and who may see and manage terms.

use chrono::{Duration, FixedOffset, NaiveDate, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive()
}

struct World {
    app: TestApp,
    root: String,
    staff: String,
    t: Territory,
    leader: Uuid,
    leader_token: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "甲").await;
    let staff = app
        .user_with_role(
            &root,
            "staff_a",
            "community_staff",
            "community",
            t.community,
        )
        .await;
    let leader = app.create_user(&root, "leader", "a-long-password-1").await;
    let leader_token = token_of(&app.login("leader", "a-long-password-1").await);
    World {
        app,
        root,
        staff,
        t,
        leader,
        leader_token,
    }
}

async fn appoint(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.post("/api/v1/office-terms", token, &body).await
}

fn building_leader_term(w: &World, ends_on: NaiveDate) -> Value {
    json!({
        "body": "building_leader", "position": "楼组长", "scope_type": "building",
        "scope_id": w.t.building, "user_id": w.leader, "starts_on": today(),
        "ends_on": ends_on, "grants_role": true,
    })
}

async fn json_of(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn a_term_bound_role_works_until_valid_until_and_stops_after_it_and_the_job_ends_the_term_once(
) {
    let w = world().await;
    let ends_on = today() + Duration::days(10);
    let term = json_of(
        appoint(&w.app, &w.staff, building_leader_term(&w, ends_on)).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(term["scope_name"], "1幢");
    assert_eq!(term["display_name"], "leader");
    assert_eq!(term["current"], true);
    assert_eq!(term["source"], "appointment");
    let term_id = id_of(&term);
    let grant = term["role_assignment_id"]
        .as_str()
        .expect("a grant")
        .to_string();

    // The leader reads their building, twice: the second answer comes from the kept caller.
    let building = format!("/api/v1/buildings/{}", w.t.building);
    for _ in 0..2 {
        let res = w.app.get(&building, &w.leader_token).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let me = json_of(
        w.app.get("/api/v1/me", &w.leader_token).await,
        StatusCode::OK,
    )
    .await;
    let role = &me["roles"][0];
    assert_eq!(role["role"], "building_leader");
    assert_eq!(role["source_term_id"], term_id.to_string());
    // The end of the last day in Asia/Shanghai: 16:00 UTC of `ends_on`.
    assert_eq!(
        role["valid_until"],
        format!("{ends_on}T16:00:00.000Z"),
        "{me}"
    );

    // Past the end of the term: the same kept caller no longer reaches the building, before
    // any job has run.
    w.app.clock.advance(Duration::days(11));
    let res = w.app.get(&building, &w.leader_token).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let me = json_of(
        w.app.get("/api/v1/me", &w.leader_token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["roles"], json!([]), "expired roles are not listed");
    let path = format!("/api/v1/office-terms/{term_id}");
    let before = json_of(w.app.get(&path, &w.staff).await, StatusCode::OK).await;
    assert_eq!(before["current"], false);
    assert!(before["ended_on"].is_null());

    // Two replicas run the expiry job at once: the grant goes and the term ends exactly once.
    let now = w.app.state.clock.now();
    let (a, b) = tokio::join!(
        linli::offices::jobs::expire_due(&w.app.state.db, &w.app.state.cache, now),
        linli::offices::jobs::expire_due(&w.app.state.db, &w.app.state.cache, now),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.grants_removed + b.grants_removed, 1, "{a:?} {b:?}");
    assert_eq!(a.terms_ended + b.terms_ended, 1, "{a:?} {b:?}");
    let after = json_of(w.app.get(&path, &w.staff).await, StatusCode::OK).await;
    assert_eq!(after["ended_on"], ends_on.to_string());
    assert_eq!(after["end_reason"], "expired");
    assert!(after["role_assignment_id"].is_null());
    let roles = json_of(
        w.app
            .get(
                &format!("/api/v1/role-assignments?user_id={}", w.leader),
                &w.root,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(roles["items"], json!([]), "the grant {grant} is gone");
    let events = json_of(
        w.app
            .get("/api/v1/audit-events?action=term_expire", &w.root)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(events["items"].as_array().unwrap().len(), 1, "{events}");
    // A later round finds nothing.
    let again = linli::offices::jobs::expire_due(&w.app.state.db, &w.app.state.cache, now)
        .await
        .unwrap();
    assert_eq!(again, linli::offices::jobs::Expiry::default());
}

#[tokio::test]
async fn ending_a_term_revokes_its_role_at_once_and_ending_it_twice_is_409() {
    let w = world().await;
    let term = json_of(
        appoint(
            &w.app,
            &w.staff,
            building_leader_term(&w, today() + Duration::days(300)),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let building = format!("/api/v1/buildings/{}", w.t.building);
    for _ in 0..2 {
        assert_eq!(
            w.app.get(&building, &w.leader_token).await.status(),
            StatusCode::OK
        );
    }
    let end = format!("/api/v1/office-terms/{}/end", id_of(&term));
    let ended = json_of(
        w.app
            .post(&end, &w.staff, &json!({"reason": "迁出本楼"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ended["ended_on"], today().to_string());
    assert_eq!(ended["end_reason"], "迁出本楼");
    assert_eq!(ended["current"], false);
    assert!(ended["role_assignment_id"].is_null());
    assert_eq!(
        w.app.get(&building, &w.leader_token).await.status(),
        StatusCode::NOT_FOUND
    );
    let res = w.app.post(&end, &w.staff, &json!({"reason": "再次"})).await;
    assert_problem(res, 409, "term_already_ended").await;
    let events = json_of(
        w.app
            .get("/api/v1/audit-events?action=term_end", &w.root)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(events["items"].as_array().unwrap().len(), 1, "{events}");
}

#[tokio::test]
async fn a_handover_ends_the_term_and_starts_the_successors_with_the_role_moved() {
    let w = world().await;
    let term = json_of(
        appoint(
            &w.app,
            &w.staff,
            building_leader_term(&w, today() + Duration::days(300)),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let next_id = w
        .app
        .create_user(&w.root, "next_leader", "a-long-password-1")
        .await;
    let next_token = token_of(&w.app.login("next_leader", "a-long-password-1").await);
    let res = w
        .app
        .post(
            &format!("/api/v1/office-terms/{}/handover", id_of(&term)),
            &w.staff,
            &json!({"user_id": next_id, "display_name": "新楼组长", "starts_on": today(),
                    "ends_on": today() + Duration::days(700), "grants_role": true, "reason": "荣退"}),
        )
        .await;
    let next = json_of(res, StatusCode::CREATED).await;
    assert_eq!(next["source"], "handover");
    assert_eq!(next["position"], "楼组长");
    assert_eq!(next["display_name"], "新楼组长");
    assert!(next["role_assignment_id"].is_string());
    let old = json_of(
        w.app
            .get(&format!("/api/v1/office-terms/{}", id_of(&term)), &w.staff)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(old["end_reason"], "荣退");
    assert!(old["ended_on"].is_string());
    let building = format!("/api/v1/buildings/{}", w.t.building);
    assert_eq!(
        w.app.get(&building, &w.leader_token).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.app.get(&building, &next_token).await.status(),
        StatusCode::OK
    );
    let current = json_of(
        w.app
            .get(
                &format!(
                    "/api/v1/office-terms?scope_id={}&current=true",
                    w.t.building
                ),
                &w.staff,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let ids: Vec<&str> = current["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![next["id"].as_str().unwrap()]);
}

#[tokio::test]
async fn appointments_are_validated() {
    let w = world().await;
    let mut wrong_scope = building_leader_term(&w, today() + Duration::days(5));
    wrong_scope["scope_type"] = json!("compound");
    wrong_scope["scope_id"] = json!(w.t.compound);
    let body = assert_problem(
        appoint(&w.app, &w.staff, wrong_scope).await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "scope_type");

    let mut backwards = building_leader_term(&w, today() - Duration::days(1));
    backwards["starts_on"] = json!(today());
    let body = assert_problem(
        appoint(&w.app, &w.staff, backwards).await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "ends_on");

    let street_leader = json!({
        "body": "street_leader", "position": "街面长", "scope_type": "compound",
        "scope_id": w.t.compound, "user_id": w.leader, "starts_on": today(), "grants_role": true,
    });
    assert_problem(
        appoint(&w.app, &w.staff, street_leader).await,
        409,
        "compound_not_street_front",
    )
    .await;

    let no_account = json!({
        "body": "council", "position": "议事员", "scope_type": "community",
        "scope_id": w.t.community, "display_name": "王阿姨", "starts_on": today(), "grants_role": true,
    });
    let body = assert_problem(
        appoint(&w.app, &w.staff, no_account).await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "user_id");

    let steward_with_role = json!({
        "body": "neighbour_steward", "position": "邻里大管家", "scope_type": "compound",
        "scope_id": w.t.compound, "user_id": w.leader, "starts_on": today(), "grants_role": true,
    });
    let body = assert_problem(
        appoint(&w.app, &w.staff, steward_with_role).await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "grants_role");

    let unknown = json!({
        "body": "team", "position": "队长", "scope_type": "compound", "scope_id": w.t.compound,
        "display_name": "李队长", "starts_on": today(), "grants_role": false, "role": "admin",
    });
    assert_problem(
        appoint(&w.app, &w.staff, unknown).await,
        400,
        "invalid_body",
    )
    .await;

    // A steward without a role, on the roster by name only: fine, open-ended and current.
    let steward = json!({
        "body": "neighbour_steward", "position": "邻里大管家", "scope_type": "compound",
        "scope_id": w.t.compound, "display_name": "张大伯", "starts_on": today(), "grants_role": false,
    });
    let t = json_of(
        appoint(&w.app, &w.staff, steward).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(t["current"], true);
    assert!(t["role_assignment_id"].is_null() && t["ends_on"].is_null());
    assert_eq!(t["scope_name"], "甲小区");
}

#[tokio::test]
async fn staff_of_one_community_neither_see_nor_appoint_in_another() {
    let w = world().await;
    let other = small_territory(&w.app, &w.root, "乙").await;
    let steward = |scope: Uuid| {
        json!({
            "body": "neighbour_steward", "position": "邻里大管家", "scope_type": "compound",
            "scope_id": scope, "display_name": "张大伯", "starts_on": today(), "grants_role": false,
        })
    };
    let theirs = json_of(
        appoint(&w.app, &w.root, steward(other.compound)).await,
        StatusCode::CREATED,
    )
    .await;
    let ours = json_of(
        appoint(&w.app, &w.staff, steward(w.t.compound)).await,
        StatusCode::CREATED,
    )
    .await;
    assert_problem(
        appoint(&w.app, &w.staff, steward(other.compound)).await,
        404,
        "not_found",
    )
    .await;
    let res = w
        .app
        .get(
            &format!("/api/v1/office-terms/{}", id_of(&theirs)),
            &w.staff,
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = w
        .app
        .post(
            &format!("/api/v1/office-terms/{}/end", id_of(&theirs)),
            &w.staff,
            &json!({"reason": "x"}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let list = json_of(
        w.app.get("/api/v1/office-terms", &w.staff).await,
        StatusCode::OK,
    )
    .await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![ours["id"].as_str().unwrap()]);
    let list = json_of(
        w.app
            .get(
                &format!("/api/v1/office-terms?community_id={}", other.community),
                &w.root,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn migration_021_goes_down_and_up_again() {
    use migration::MigratorTrait;
    let w = world().await;
    json_of(
        appoint(
            &w.app,
            &w.staff,
            building_leader_term(&w, today() + Duration::days(3)),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    migrate_back_before(&w.app, "m20261201_000021_office_terms").await;
    migration::Migrator::up(&w.app.state.db, None)
        .await
        .unwrap();
    let list = json_of(
        w.app.get("/api/v1/office-terms", &w.staff).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"], json!([]));
    // The grant itself survives the round trip, without its end (the column was dropped).
    let roles = json_of(
        w.app
            .get(
                &format!("/api/v1/role-assignments?user_id={}", w.leader),
                &w.root,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(roles["items"].as_array().unwrap().len(), 1, "{roles}");
    assert!(roles["items"][0]["valid_until"].is_null());
}

/// A resident sees who serves them (§0.1, the upward reach): the current offices of their
/// building, compound, community and street, names and offices only; not the neighbour
/// building's 楼组长, not an ended term; an account bound nowhere sees none.
#[tokio::test]
async fn residents_see_the_current_office_holders_above_them_and_no_others() {
    let w = world().await;
    let app = &w.app;
    let b2 = app
        .create(
            &w.root,
            "buildings",
            json!({"compound_id": w.t.compound, "name": "2幢"}),
        )
        .await;
    let h2 = app
        .create(
            &w.root,
            "households",
            json!({"building_id": b2, "unit": "1单元", "room": "201"}),
        )
        .await;
    let term = |scope_type: &str, scope_id: Uuid, body: &str, position: &str, name: &str| {
        json!({"body": body, "position": position, "scope_type": scope_type, "scope_id": scope_id,
               "display_name": name, "starts_on": today(), "grants_role": false})
    };
    for body in [
        term(
            "building",
            w.t.building,
            "building_leader",
            "楼组长",
            "王阿姨",
        ),
        term("building", b2, "building_leader", "楼组长", "李师傅"),
        term(
            "community",
            w.t.community,
            "residents_committee",
            "主任",
            "陈主任",
        ),
    ] {
        json_of(appoint(app, &w.staff, body).await, StatusCode::CREATED).await;
    }
    let ended = json_of(
        appoint(
            app,
            &w.staff,
            term(
                "building",
                w.t.building,
                "building_leader",
                "楼组长",
                "老张",
            ),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let res = app
        .post(
            &format!("/api/v1/office-terms/{}/end", ended["id"].as_str().unwrap()),
            &w.staff,
            &json!({"reason": "搬家"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let resident = app
        .user_with_role(
            &w.root,
            "resident_one",
            "resident",
            "household",
            w.t.household,
        )
        .await;
    let mine = json_of(
        app.get("/api/v1/me/offices", &resident).await,
        StatusCode::OK,
    )
    .await;
    let mut got: Vec<(String, String, String)> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert!(
                t.get("user_id").is_none() && t.get("resident_id").is_none(),
                "{t}"
            );
            (
                t["scope_name"].as_str().unwrap().to_string(),
                t["position"].as_str().unwrap().to_string(),
                t["display_name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "1幢".to_string(),
                "楼组长".to_string(),
                "王阿姨".to_string()
            ),
            (
                "甲社区".to_string(),
                "主任".to_string(),
                "陈主任".to_string()
            ),
        ]
    );
    let neighbour = app
        .user_with_role(&w.root, "resident_two", "resident", "household", h2)
        .await;
    let theirs = json_of(
        app.get("/api/v1/me/offices", &neighbour).await,
        StatusCode::OK,
    )
    .await;
    let names: Vec<&str> = theirs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["display_name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"李师傅") && !names.contains(&"王阿姨"),
        "{names:?}"
    );
    let nobody = json_of(
        app.get("/api/v1/me/offices", &w.leader_token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(nobody["items"].as_array().unwrap().len(), 0);
}
