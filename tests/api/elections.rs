//! Elections (participation design §A4): the draft and its rules, officers, candidates, roll
//! objections, the verbs with their guards (409 `guard_failed` naming each unmet guard), the
//! count with certification, runoffs, and results that start office terms with role grants.
//!
//! The tests marked `needs_poll_engine` drive the election's poll (publish-roll onwards) and
//! run once the poll engine (`src/polls`) is merged; until then `elections::engine` refuses.

use chrono::{Duration, Utc};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::ticket_world::{member, uname};

pub struct W {
    pub app: TestApp,
    pub root: String,
    pub t: Territory,
    pub staff: String,
    /// Households of the building besides `t.household`.
    pub h2: Uuid,
    pub h3: Uuid,
}

pub async fn w() -> W {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "选举").await;
    let hh = |room: &str| json!({"building_id": t.building, "unit": "1单元", "room": room});
    let h2 = app.create(&root, "households", hh("102")).await;
    let h3 = app.create(&root, "households", hh("103")).await;
    let (staff, _) = member(
        &app,
        &root,
        &uname("cs"),
        "community_staff",
        "community",
        t.community,
    )
    .await;
    W {
        app,
        root,
        t,
        staff,
        h2,
        h3,
    }
}

/// A resident on the roster of `household` (an adult), with a bound account: (token, user id,
/// resident id).
pub async fn resident(w: &W, household: Uuid, name: &str, gender: &str) -> (String, Uuid, Uuid) {
    let rid = w
        .app
        .create(
            &w.staff,
            "residents",
            json!({"household_id": household, "name": name, "gender": gender, "birth_date": "1980-05-01", "relation": "户主"}),
        )
        .await;
    let username = uname("res");
    let uid = w
        .app
        .create_user(&w.root, &username, "a-long-password-1")
        .await;
    let token = token_of(&w.app.login(&username, "a-long-password-1").await);
    let req = w
        .app
        .create(
            &token,
            "me/binding-requests",
            json!({"household_id": household, "name": name, "relation": "户主"}),
        )
        .await;
    let res = w
        .app
        .post(
            &format!("/api/v1/binding-requests/{req}/approve"),
            &w.staff,
            &json!({"resident_id": rid}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    (token, uid, rid)
}

/// A staff account of the community (to serve as an officer): (token, user id).
pub async fn officer(w: &W) -> (String, Uuid) {
    member(
        &w.app,
        &w.root,
        &uname("of"),
        "community_staff",
        "community",
        w.t.community,
    )
    .await
}

pub fn at(days: i64) -> String {
    (Utc::now() + Duration::days(days)).to_rfc3339()
}

/// A building-leader election (推选) of the small territory's building, one seat, by household.
pub fn building_leader(w: &W, voting_in_days: i64) -> Value {
    json!({
        "scope_type": "building", "scope_id": w.t.building, "body": "building_leader",
        "title": "1幢楼组长推选", "method": "household_rep", "term_years": 3,
        "voting_starts_at": at(voting_in_days), "voting_ends_at": at(voting_in_days + 1),
        "positions": [{"position": "楼组长", "seats": 1}],
    })
}

pub async fn json_of(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

pub async fn create(w: &W, body: Value) -> Value {
    json_of(
        w.app.post("/api/v1/elections", &w.staff, &body).await,
        StatusCode::CREATED,
    )
    .await
}

pub async fn verb(w: &W, token: &str, id: &str, verb: &str) -> Response {
    w.app
        .post(&format!("/api/v1/elections/{id}/{verb}"), token, &json!({}))
        .await
}

pub async fn step(w: &W, id: &str, name: &str) -> Value {
    json_of(verb(w, &w.staff, id, name).await, StatusCode::OK).await
}

/// The guards a 409 `guard_failed` names, as `field:code`.
pub async fn unmet(res: Response) -> Vec<String> {
    let v = assert_problem(res, 409, "guard_failed").await;
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["field"].as_str().unwrap(),
                e["code"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn an_election_is_created_with_default_rules_and_edited_only_as_a_draft() {
    let w = w().await;
    let e = create(&w, building_leader(&w, 30)).await;
    let id = e["id"].as_str().unwrap();
    assert_eq!(e["status"], "draft");
    assert_eq!(e["status_label"], "草稿");
    assert_eq!(
        e["rules"],
        json!({"validity_num": 1, "validity_den": 2, "validity_strict": true, "win_num": 1,
               "win_den": 2, "win_strict": true, "runoff_min_num": 1, "runoff_min_den": 3,
               "contested": true, "min_women": 0, "roll_publish_days": 20,
               "candidates_publish_days": 5, "joint_nominators_min": 10})
    );
    assert_eq!(e["positions"][0]["seats"], 1);
    assert_eq!(
        e["positions"][0]["min_candidates"], 2,
        "contested: one more than the seats"
    );

    // If-Match: a stale version is 412; the current one edits, rules included.
    let stale = w
        .app
        .request(
            Method::PATCH,
            &format!("/api/v1/elections/{id}"),
            Some(&w.staff),
        )
        .header("If-Match", "\"7\"")
        .json(&json!({"title": "改名"}))
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412, "precondition_failed").await;
    let mut rules = e["rules"].clone();
    rules["contested"] = json!(false);
    rules["roll_publish_days"] = json!(10);
    let res = w
        .app
        .request(
            Method::PATCH,
            &format!("/api/v1/elections/{id}"),
            Some(&w.staff),
        )
        .header("If-Match", format!("\"{}\"", e["version"]))
        .json(&json!({"title": "1幢楼组长推选（改）", "rules": rules,
                      "positions": [{"position": "楼组长", "seats": 1, "min_candidates": 1}]}))
        .send()
        .await
        .unwrap();
    let e2 = json_of(res, StatusCode::OK).await;
    assert_eq!(e2["title"], "1幢楼组长推选（改）");
    assert_eq!(e2["rules"]["contested"], false);
    assert_eq!(e2["rules"]["roll_publish_days"], 10);
    assert_eq!(e2["positions"][0]["min_candidates"], 1);
    assert_eq!(e2["version"], e["version"].as_i64().unwrap() + 1);

    // Listed for staff; the bad rule is refused by name.
    let list = json_of(
        w.app.get("/api/v1/elections", &w.staff).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"][0]["id"], id);
    let mut bad = rules.clone();
    bad["win_num"] = json!(3);
    let res = w
        .app
        .patch(
            &format!("/api/v1/elections/{id}"),
            &w.staff,
            &json!({"rules": bad}),
        )
        .await;
    let v = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(v["errors"][0]["field"], "rules.win_num");

    // Cancelled before voting, it is no draft any more.
    let res = w
        .app
        .post(
            &format!("/api/v1/elections/{id}/cancel"),
            &w.staff,
            &json!({"reason": "楼栋合并"}),
        )
        .await;
    let e3 = json_of(res, StatusCode::OK).await;
    assert_eq!(e3["status"], "cancelled");
    assert_eq!(e3["end_reason"], "楼栋合并");
    let res = w
        .app
        .patch(
            &format!("/api/v1/elections/{id}"),
            &w.staff,
            &json!({"title": "再改"}),
        )
        .await;
    assert_problem(res, 409, "wrong_status").await;
    let res = w
        .app
        .post(
            &format!("/api/v1/elections/{id}/void"),
            &w.staff,
            &json!({"reason": "无效"}),
        )
        .await;
    assert_problem(res, 409, "wrong_status").await;
}

#[tokio::test]
async fn elections_are_refused_on_the_wrong_kind_of_place_and_outside_the_callers_reach() {
    let w = w().await;
    let mut body = building_leader(&w, 30);
    body["scope_type"] = json!("community");
    body["scope_id"] = json!(w.t.community);
    let res = w.app.post("/api/v1/elections", &w.staff, &body).await;
    let v = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(v["errors"][0]["field"], "scope_type");

    let mut body = building_leader(&w, 30);
    body["voting_ends_at"] = body["voting_starts_at"].clone();
    let res = w.app.post("/api/v1/elections", &w.staff, &body).await;
    let v = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(v["errors"][0]["field"], "voting_ends_at");

    let mut body = building_leader(&w, 30);
    body["positions"][0]["seats"] = json!(0);
    let res = w.app.post("/api/v1/elections", &w.staff, &body).await;
    assert_problem(res, 400, "validation_failed").await;

    // Staff of another community neither see the building nor its election.
    let other = w
        .app
        .create(
            &w.root,
            "communities",
            json!({"street_id": w.t.street, "name": "别的社区"}),
        )
        .await;
    let (outsider, _) = member(
        &w.app,
        &w.root,
        &uname("os"),
        "community_staff",
        "community",
        other,
    )
    .await;
    let res = w
        .app
        .post("/api/v1/elections", &outsider, &building_leader(&w, 30))
        .await;
    assert_problem(res, 404, "not_found").await;
    let e = create(&w, building_leader(&w, 30)).await;
    let id = e["id"].as_str().unwrap();
    let res = w
        .app
        .get(&format!("/api/v1/elections/{id}"), &outsider)
        .await;
    assert_problem(res, 404, "not_found").await;

    // The building's leader and residents do not see a draft; the leader may not create one.
    let (leader, _) = member(
        &w.app,
        &w.root,
        &uname("bl"),
        "building_leader",
        "building",
        w.t.building,
    )
    .await;
    let res = w.app.get(&format!("/api/v1/elections/{id}"), &leader).await;
    assert_problem(res, 404, "not_found").await;
    let res = w
        .app
        .post("/api/v1/elections", &leader, &building_leader(&w, 30))
        .await;
    assert_problem(res, 403, "forbidden").await;
    let (r, _, _) = resident(&w, w.t.household, "张三", "male").await;
    let res = w.app.get(&format!("/api/v1/elections/{id}"), &r).await;
    assert_problem(res, 404, "not_found").await;
    let list = json_of(w.app.get("/api/v1/elections", &r).await, StatusCode::OK).await;
    assert!(list["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn officers_are_appointed_and_removed_until_voting_and_counted_once() {
    let w = w().await;
    let e = create(&w, building_leader(&w, 30)).await;
    let id = e["id"].as_str().unwrap();
    let (_, chair) = officer(&w).await;
    let (_, teller) = officer(&w).await;
    let path = format!("/api/v1/elections/{id}/officers");
    let o = json_of(
        w.app
            .post(&path, &w.staff, &json!({"user_id": chair, "role": "chair"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(o["role"], "chair");
    let res = w
        .app
        .post(
            &path,
            &w.staff,
            &json!({"user_id": chair, "role": "teller"}),
        )
        .await;
    assert_problem(res, 409, "already_exists").await;
    let res = w
        .app
        .post(
            &path,
            &w.staff,
            &json!({"user_id": Uuid::now_v7(), "role": "teller"}),
        )
        .await;
    assert_problem(res, 400, "validation_failed").await;
    w.app
        .post(
            &path,
            &w.staff,
            &json!({"user_id": teller, "role": "teller"}),
        )
        .await;
    let e = json_of(
        w.app
            .get(&format!("/api/v1/elections/{id}"), &w.staff)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(e["officers"].as_array().unwrap().len(), 2);
    let res = w.app.delete(&format!("{path}/{teller}"), &w.staff).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = w.app.delete(&format!("{path}/{teller}"), &w.staff).await;
    assert_problem(res, 404, "not_found").await;
    let e = json_of(
        w.app
            .get(&format!("/api/v1/elections/{id}"), &w.staff)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(e["officers"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn publish_roll_too_close_to_voting_is_refused_naming_the_guard() {
    let w = w().await;
    let e = create(&w, building_leader(&w, 10)).await;
    let id = e["id"].as_str().unwrap();
    let guards = unmet(verb(&w, &w.staff, id, "publish-roll").await).await;
    assert_eq!(guards, vec!["roll_publish_days:too_late"]);
    // The rule is policy: a community that publishes 7 days ahead passes this guard.
    let mut rules = e["rules"].clone();
    rules["roll_publish_days"] = json!(7);
    w.app
        .patch(
            &format!("/api/v1/elections/{id}"),
            &w.staff,
            &json!({"rules": rules}),
        )
        .await;
    let res = verb(&w, &w.staff, id, "publish-roll").await;
    if res.status() != StatusCode::OK {
        assert!(
            !unmet(res)
                .await
                .contains(&"roll_publish_days:too_late".to_string()),
            "the edited rule holds"
        );
    }
    // Verbs from the wrong status are wrong_status, not guard_failed.
    assert_problem(
        verb(&w, &w.staff, id, "open-voting").await,
        409,
        "wrong_status",
    )
    .await;
    assert_problem(verb(&w, &w.staff, id, "certify").await, 409, "wrong_status").await;
}
