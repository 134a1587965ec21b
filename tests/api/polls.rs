//! Polls through HTTP (participation design §A9 5–16): casting exactly once under concurrency,
//! by resident and by household; a cast racing the close; immutability after open; the frozen
//! roll and its hash; needs_review; late additions; the jobs opening and closing exactly once;
//! the audience scope; paper boxes with two tellers. The secret ballot's Level 1 is
//! `polls_secrecy`.

use chrono::Duration;
use futures_util::future::join_all;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::ticket_world::{member, uname};

/// Street ⊃ community ⊃ compound ⊃ buildings B3 (households H3a, H3b, shop H3s) and B5
/// (household H5); staff of the community.
pub struct World {
    pub app: TestApp,
    pub root: String,
    pub community: Uuid,
    pub compound: Uuid,
    pub b3: Uuid,
    pub b5: Uuid,
    pub h3a: Uuid,
    pub h3b: Uuid,
    pub h3s: Uuid,
    pub h5: Uuid,
    pub staff: String,
}

/// A voter: an account bound (as a resident) to a household and to its roster entry.
#[derive(Clone)]
pub struct Voter {
    pub token: String,
    pub user_id: Uuid,
    pub resident_id: Uuid,
}

pub async fn world() -> World {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "投票").await;
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
    let (staff, _) = member(
        &app,
        &root,
        &uname("cs"),
        "community_staff",
        "community",
        t.community,
    )
    .await;
    World {
        app,
        root,
        community: t.community,
        compound: t.compound,
        b3,
        b5,
        h3a,
        h3b,
        h3s,
        h5,
        staff,
    }
}

/// A roster entry of `household` (no account).
pub async fn resident(w: &World, household: Uuid, name: &str, birth: Option<&str>) -> Uuid {
    let mut body = json!({"household_id": household, "name": name});
    if let Some(b) = birth {
        body["birth_date"] = json!(b);
    }
    w.app.create(&w.root, "residents", body).await
}

/// A roster entry of `household` with an account bound to it.
pub async fn voter(w: &World, household: Uuid, name: &str, birth: Option<&str>) -> Voter {
    let resident_id = resident(w, household, name, birth).await;
    let (token, user_id) = member(
        &w.app,
        &w.root,
        &uname("v"),
        "resident",
        "household",
        household,
    )
    .await;
    let mut r: entity::resident::ActiveModel = entity::resident::Entity::find_by_id(resident_id)
        .one(&w.app.state.db)
        .await
        .unwrap()
        .unwrap()
        .into();
    r.user_id = Set(Some(user_id));
    r.update(&w.app.state.db).await.unwrap();
    Voter {
        token,
        user_id,
        resident_id,
    }
}

/// A poll body: one yes/no/abstain question, opening now, closing in a day.
pub fn body(w: &World, scope_type: &str, scope_id: Uuid, secrecy: &str, unit: &str) -> Value {
    let now = w.app.state.clock.now();
    json!({
        "scope_type": scope_type,
        "scope_id": scope_id,
        "title": "加装电梯意见征询",
        "description": "是否同意在本楼加装电梯",
        "secrecy": secrecy,
        "unit": unit,
        "preset": "simple_majority",
        "opens_at": now.to_rfc3339(),
        "closes_at": (now + Duration::days(1)).to_rfc3339(),
        "questions": [{"title": "是否同意加装电梯", "kind": "yes_no_abstain"}],
    })
}

pub async fn create(w: &World, token: &str, b: Value) -> Value {
    let res = w.app.post("/api/v1/polls", token, &b).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "create poll: {text}");
    serde_json::from_str(&text).unwrap()
}

pub async fn get(w: &World, token: &str, path: &str) -> Value {
    let res = w.app.get(path, token).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "GET {path}: {text}");
    serde_json::from_str(&text).unwrap()
}

pub async fn verb(w: &World, token: &str, id: &str, verb: &str, b: Value) -> Value {
    let res = w
        .app
        .post(&format!("/api/v1/polls/{id}/{verb}"), token, &b)
        .await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{verb}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// Creates and opens a poll; returns it as opened.
pub async fn opened(w: &World, b: Value) -> Value {
    let p = create(w, &w.staff, b).await;
    verb(w, &w.staff, p["id"].as_str().unwrap(), "open", json!({})).await
}

/// The option of the first question at `position`.
pub fn option(p: &Value, position: usize) -> String {
    p["questions"][0]["options"][position]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

pub fn ballot(p: &Value, position: usize) -> Value {
    json!({"answers": [{"question_id": p["questions"][0]["id"], "option_ids": [option(p, position)]}]})
}

pub async fn cast(w: &World, v: &Voter, p: &Value, position: usize) -> reqwest::Response {
    w.app
        .post(
            &format!("/api/v1/polls/{}/ballots", p["id"].as_str().unwrap()),
            &v.token,
            &ballot(p, position),
        )
        .await
}

pub fn pid(p: &Value) -> Uuid {
    Uuid::parse_str(p["id"].as_str().unwrap()).unwrap()
}

pub async fn ballots_of(w: &World, poll: Uuid) -> Vec<entity::poll_ballot::Model> {
    entity::poll_ballot::Entity::find()
        .filter(entity::poll_ballot::Column::PollId.eq(poll))
        .all(&w.app.state.db)
        .await
        .unwrap()
}

pub async fn roll_voted(w: &World, poll: Uuid) -> u64 {
    entity::poll_roll::Entity::find()
        .filter(entity::poll_roll::Column::PollId.eq(poll))
        .filter(entity::poll_roll::Column::Status.eq(entity::poll::RollStatus::Voted))
        .count(&w.app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn concurrent_ballots_from_same_resident_count_once() {
    let w = world().await;
    let v = voter(&w, w.h3a, "王一", Some("1970-01-01")).await;
    let p = opened(&w, body(&w, "building", w.b3, "secret", "resident")).await;
    let id = p["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/polls/{id}/ballots");
    let b = ballot(&p, 0);
    let answers = join_all((0..20).map(|_| w.app.post(&path, &v.token, &b))).await;
    let mut created = 0;
    let mut refused = 0;
    for res in answers {
        match res.status().as_u16() {
            201 => {
                assert_eq!(
                    res.json::<Value>().await.unwrap(),
                    json!({"status": "cast"})
                );
                created += 1;
            }
            409 => {
                assert_problem(res, 409, "already_voted").await;
                refused += 1;
            }
            s => panic!("unexpected {s}: {}", res.text().await.unwrap()),
        }
    }
    assert_eq!((created, refused), (1, 19));
    assert_eq!(ballots_of(&w, pid(&p)).await.len(), 1, "one ballot");
    assert_eq!(roll_voted(&w, pid(&p)).await, 1, "one roll entry voted");
    let now = get(&w, &v.token, &format!("/api/v1/polls/{id}")).await;
    assert_eq!(now["ballots_cast"], 1, "turnout counts once");
    assert_eq!(now["my_status"], "voted");
}

#[tokio::test]
async fn household_mode_two_members_racing_cast_one_ballot() {
    let w = world().await;
    let a = voter(&w, w.h3a, "李父", Some("1960-05-05")).await;
    let b = voter(&w, w.h3a, "李母", Some("1962-06-06")).await;
    let child = voter(&w, w.h3a, "李子", Some("2018-01-01")).await;
    let other = voter(&w, w.h3b, "赵某", Some("1980-01-01")).await;
    let p = opened(&w, body(&w, "building", w.b3, "secret", "household")).await;
    // Households with a current resident, shops left out: 301 and 302.
    assert_eq!(p["roll_size"], 2);
    // A minor does not vote for the household.
    let res = cast(&w, &child, &p, 1).await;
    assert_problem(res, 403, "not_on_roll").await;
    let answers = join_all([cast(&w, &a, &p, 0), cast(&w, &b, &p, 1)]).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses, vec![201, 409]);
    for res in answers {
        if res.status() == 409 {
            let v = assert_problem(res, 409, "already_voted").await;
            assert_eq!(v["detail"], "本户已投票");
        }
    }
    assert_eq!(ballots_of(&w, pid(&p)).await.len(), 1);
    let path = format!("/api/v1/polls/{}", p["id"].as_str().unwrap());
    // Whoever won, the household has voted; a secret poll does not say who.
    let sa = get(&w, &a.token, &path).await["my_status"].clone();
    let sb = get(&w, &b.token, &path).await["my_status"].clone();
    assert_eq!(sa, "voted_by_household");
    assert_eq!(sb, "voted_by_household");
    assert_eq!(get(&w, &other.token, &path).await["my_status"], "eligible");
    assert_eq!(cast(&w, &other, &p, 0).await.status(), 201);
    assert_eq!(roll_voted(&w, pid(&p)).await, 2);
}

#[tokio::test]
async fn ballot_after_close_is_refused_and_never_stored() {
    let w = world().await;
    let mut voters = Vec::new();
    for (i, h) in [w.h3a, w.h3a, w.h3b, w.h3b, w.h5, w.h5]
        .into_iter()
        .enumerate()
    {
        voters.push(voter(&w, h, &format!("居民{i}"), Some("1975-03-03")).await);
    }
    let p = opened(&w, body(&w, "compound", w.compound, "secret", "resident")).await;
    let id = p["id"].as_str().unwrap().to_string();
    // One paper ballot handed out before the race.
    let bx = w
        .app
        .post(
            &format!("/api/v1/polls/{id}/boxes"),
            &w.staff,
            &json!({"label": "流动票箱1", "issued_count": 5}),
        )
        .await;
    assert_eq!(bx.status(), 201);
    let bx: Value = bx.json().await.unwrap();
    let res = w
        .app
        .post(
            &format!(
                "/api/v1/poll-boxes/{}/mark-voter",
                bx["id"].as_str().unwrap()
            ),
            &w.staff,
            &json!({"voter_key": voters[5].resident_id}),
        )
        .await;
    assert_eq!(res.status(), 204);
    let casts = join_all(voters[..5].iter().map(|v| cast(&w, v, &p, 0)));
    let close_path = format!("/api/v1/polls/{id}/close");
    let close_body = json!({"reason": "提前结束"});
    let close = w.app.post(&close_path, &w.staff, &close_body);
    let (casts, closed) = futures_util::future::join(casts, close).await;
    assert_eq!(closed.status(), 200, "{}", closed.text().await.unwrap());
    let mut counted = 0;
    for res in casts {
        match res.status().as_u16() {
            201 => counted += 1,
            409 => {
                assert_problem(res, 409, "poll_not_open").await;
            }
            s => panic!("unexpected {s}"),
        }
    }
    let online = ballots_of(&w, pid(&p)).await.len() as u64;
    assert_eq!(online, counted);
    let results = get(&w, &w.staff, &format!("/api/v1/polls/{id}/results")).await;
    let voted = roll_voted(&w, pid(&p)).await;
    assert_eq!(
        online + 1,
        voted,
        "online ballots + paper issued = roll voted"
    );
    assert_eq!(results["participants"], voted, "= tally participants");
    // After close, nothing more is taken.
    let res = cast(&w, &voters[0], &p, 0).await;
    assert!(
        matches!(res.status().as_u16(), 409),
        "a late cast is refused"
    );
    let res = w
        .app
        .post(
            &format!(
                "/api/v1/poll-boxes/{}/mark-voter",
                bx["id"].as_str().unwrap()
            ),
            &w.staff,
            &json!({"voter_key": voters[4].resident_id}),
        )
        .await;
    assert_problem(res, 409, "poll_not_open").await;
    assert_eq!(ballots_of(&w, pid(&p)).await.len() as u64, counted);
}

#[tokio::test]
async fn secrecy_unit_quorum_threshold_are_immutable_once_open() {
    let w = world().await;
    let p = create(
        &w,
        &w.staff,
        body(&w, "building", w.b3, "secret", "resident"),
    )
    .await;
    let id = p["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/polls/{id}");
    // While a draft, everything may change (with the ETag).
    let res = w
        .app
        .request(reqwest::Method::PATCH, &path, Some(&w.staff))
        .header("If-Match", "\"999\"")
        .json(&json!({"title": "新标题"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 412, "precondition_failed").await;
    let res = w
        .app
        .patch(
            &path,
            &w.staff,
            &json!({"secrecy": "open", "unit": "household", "preset": "two_thirds"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(changed["rules"]["threshold_num"], 2);
    assert_eq!(changed["rules"]["threshold_strict"], false);
    verb(&w, &w.staff, &id, "open", json!({})).await;
    for change in [
        json!({"secrecy": "secret"}),
        json!({"unit": "resident"}),
        json!({"preset": "residents_meeting"}),
        json!({"preset": "custom", "rules": {"quorum_num": 1, "quorum_den": 3, "quorum_strict": false, "threshold_num": 1, "threshold_den": 2, "threshold_strict": true, "threshold_base": "valid", "abstain_in_quorum": true, "abstain_in_threshold_base": false}}),
        json!({"results_visibility": "live"}),
        json!({"title": "改标题"}),
    ] {
        let res = w.app.patch(&path, &w.staff, &change).await;
        assert_problem(res, 409, "wrong_status").await;
    }
    let now = get(&w, &w.staff, &path).await;
    assert_eq!(now["secrecy"], "open");
    assert_eq!(now["unit"], "household");
    assert_eq!(now["preset"], "two_thirds");
}

#[tokio::test]
async fn roll_is_frozen_at_open_and_roll_sha256_matches_sorted_keys() {
    use sha2::{Digest, Sha256};
    let w = world().await;
    let a = voter(&w, w.h3a, "孙甲", Some("1970-01-01")).await;
    let b = resident(&w, w.h3b, "孙乙", Some("1980-01-01")).await;
    let shopkeeper = resident(&w, w.h3s, "孙店", Some("1980-01-01")).await;
    let p = opened(&w, body(&w, "building", w.b3, "secret", "resident")).await;
    let id = p["id"].as_str().unwrap().to_string();
    let mut keys: Vec<String> = vec![a.resident_id.to_string(), b.to_string()];
    keys.sort();
    let expected: String = Sha256::digest(keys.join("\n").as_bytes())
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect();
    assert_eq!(p["roll_size"], 2, "shops are left out");
    assert_eq!(p["roll_sha256"], expected);
    // Someone moving in after open is not on the roll...
    let late = voter(&w, w.h3b, "孙新", Some("1990-01-01")).await;
    let path = format!("/api/v1/polls/{id}");
    assert_eq!(
        get(&w, &late.token, &path).await["my_status"],
        "not_on_roll"
    );
    assert_problem(cast(&w, &late, &p, 0).await, 403, "not_on_roll").await;
    // ...until staff add them, with a reason: audited, counted separately, the hash unchanged.
    let res = w
        .app
        .post(
            &format!("{path}/roll"),
            &w.staff,
            &json!({"resident_id": late.resident_id}),
        )
        .await;
    assert_problem(res, 400, "invalid_body").await;
    let res = w
        .app
        .post(
            &format!("{path}/roll"),
            &w.staff,
            &json!({"resident_id": shopkeeper, "reason": "补录"}),
        )
        .await;
    assert_problem(res, 400, "validation_failed").await;
    let res = w
        .app
        .post(
            &format!("{path}/roll"),
            &w.staff,
            &json!({"resident_id": late.resident_id, "reason": "新迁入居民"}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let res = w
        .app
        .post(
            &format!("{path}/roll"),
            &w.staff,
            &json!({"resident_id": late.resident_id, "reason": "新迁入居民"}),
        )
        .await;
    assert_problem(res, 409, "already_exists").await;
    assert_eq!(cast(&w, &late, &p, 0).await.status(), 201);
    assert_eq!(cast(&w, &a, &p, 0).await.status(), 201);
    // A voted entry is never struck; an eligible one is, with a reason.
    let res = w
        .app
        .post(
            &format!("{path}/roll/{}/strike", a.resident_id),
            &w.staff,
            &json!({"reason": "核实"}),
        )
        .await;
    assert_problem(res, 409, "wrong_status").await;
    let res = w
        .app
        .post(
            &format!("{path}/roll/{b}/strike"),
            &w.staff,
            &json!({"reason": "已搬离"}),
        )
        .await;
    assert_eq!(res.status(), 204);
    let audits = entity::audit_event::Entity::find()
        .filter(entity::audit_event::Column::Action.is_in([
            entity::audit_event::Action::PollRollAdd,
            entity::audit_event::Action::PollRollStrike,
        ]))
        .all(&w.app.state.db)
        .await
        .unwrap();
    assert_eq!(audits.len(), 2, "the addition and the strike are audited");
    assert!(audits.iter().any(|e| e.purpose == "新迁入居民"));
    verb(&w, &w.staff, &id, "close", json!({})).await;
    let r = get(&w, &w.staff, &format!("{path}/results")).await;
    assert_eq!(
        r["roll_sha256"], expected,
        "the hash is the roll as frozen at open"
    );
    assert_eq!(r["roll_size"], 2);
    assert_eq!(r["late_additions"], 1);
    assert_eq!(r["eligible"], 2, "a + the late addition; b struck");
    assert_eq!(r["participants"], 2);
    let roll = get(&w, &w.staff, &format!("{path}/roll")).await;
    let items = roll["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let late_entry = items
        .iter()
        .find(|e| e["voter_key"] == late.resident_id.to_string())
        .unwrap();
    assert_eq!(late_entry["late"], true);
    assert_eq!(late_entry["name"], "孙*", "names are masked");
    let sheet = w.app.get(&format!("{path}/results.xlsx"), &w.staff).await;
    assert_eq!(sheet.status(), 200);
    assert!(sheet.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
    assert!(
        sheet.bytes().await.unwrap().starts_with(b"PK"),
        "an .xlsx (zip) file"
    );
    // After close the roll is fixed.
    let res = w
        .app
        .post(
            &format!("{path}/roll"),
            &w.staff,
            &json!({"resident_id": late.resident_id, "reason": "再加"}),
        )
        .await;
    assert_problem(res, 409, "poll_not_open").await;
}

#[tokio::test]
async fn residents_without_birth_date_are_listed_needs_review_not_dropped() {
    let w = world().await;
    let adult = voter(&w, w.h3a, "钱成", Some("1970-01-01")).await;
    let unknown = voter(&w, w.h3a, "钱未", None).await;
    let minor = voter(&w, w.h3b, "钱小", Some("2015-01-01")).await;
    let mut b = body(&w, "building", w.b3, "secret", "resident");
    b["eligibility"] = json!({"min_age": 18});
    let p = opened(&w, b).await;
    let id = p["id"].as_str().unwrap().to_string();
    assert_eq!(
        p["roll_size"], 2,
        "the adult and the one without a birth date"
    );
    let roll = get(
        &w,
        &w.staff,
        &format!("/api/v1/polls/{id}/roll?status=needs_review"),
    )
    .await;
    let items = roll["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["voter_key"], unknown.resident_id.to_string());
    let path = format!("/api/v1/polls/{id}");
    assert_eq!(
        get(&w, &unknown.token, &path).await["my_status"],
        "needs_review"
    );
    assert_eq!(
        get(&w, &minor.token, &path).await["my_status"],
        "not_on_roll"
    );
    assert_problem(cast(&w, &unknown, &p, 0).await, 403, "not_on_roll").await;
    assert_eq!(cast(&w, &adult, &p, 0).await.status(), 201);
    verb(&w, &w.staff, &id, "close", json!({})).await;
    let r = get(&w, &w.staff, &format!("{path}/results")).await;
    assert_eq!(
        r["eligible"], 1,
        "needs_review is not counted until admitted"
    );
}

/// Four job rounds at once, two on each replica (one replica on SQLite).
async fn four_runs(app: &TestApp, second: &TestApp) -> Vec<linli::polls::jobs::Round> {
    let at = app.state.clock.now();
    join_all([
        linli::polls::jobs::run_due(&app.state.db, at),
        linli::polls::jobs::run_due(&second.state.db, at),
        linli::polls::jobs::run_due(&app.state.db, at),
        linli::polls::jobs::run_due(&second.state.db, at),
    ])
    .await
    .into_iter()
    .map(|r| r.unwrap())
    .collect()
}

#[tokio::test]
async fn poll_jobs_open_and_close_exactly_once_with_two_runners() {
    let w = world().await;
    let app = &w.app;
    let other = if using_postgres() {
        Some(start(app.vars.clone()).await)
    } else {
        None
    };
    let a = voter(&w, w.h3a, "何甲", Some("1970-01-01")).await;
    let _b = voter(&w, w.h5, "何乙", Some("1970-01-01")).await;
    let now = app.state.clock.now();
    let mut b = body(&w, "compound", w.compound, "secret", "resident");
    b["opens_at"] = json!((now + Duration::hours(1)).to_rfc3339());
    b["closes_at"] = json!((now + Duration::hours(3)).to_rfc3339());
    let p = create(&w, &w.staff, b).await;
    let id = p["id"].as_str().unwrap().to_string();
    verb(&w, &w.staff, &id, "schedule", json!({})).await;
    // Before opens_at: nothing happens; the resident sees it coming but cannot vote.
    let round = linli::polls::jobs::run_due(&app.state.db, app.state.clock.now())
        .await
        .unwrap();
    assert_eq!(round, linli::polls::jobs::Round::default());
    let path = format!("/api/v1/polls/{id}");
    assert_eq!(get(&w, &a.token, &path).await["status"], "scheduled");
    assert_problem(cast(&w, &a, &p, 0).await, 409, "poll_not_open").await;
    app.clock.advance(Duration::hours(1) + Duration::minutes(1));
    let second = other.as_ref().unwrap_or(app);
    let opened: u64 = four_runs(app, second).await.iter().map(|r| r.opened).sum();
    assert_eq!(opened, 1, "opened by exactly one run");
    let seen = get(&w, &a.token, &path).await;
    assert_eq!(seen["status"], "open");
    assert_eq!(seen["roll_size"], 2);
    assert_eq!(seen["my_status"], "eligible");
    let mine = get(&w, &a.token, "/api/v1/me/polls").await;
    assert_eq!(mine["items"][0]["id"], id.as_str());
    assert_eq!(mine["items"][0]["my_status"], "eligible");
    assert_eq!(cast(&w, &a, &seen, 0).await.status(), 201);
    let mine = get(&w, &a.token, "/api/v1/me/polls").await;
    assert_eq!(mine["items"][0]["my_status"], "voted");
    app.clock.advance(Duration::hours(2));
    let closed: u64 = four_runs(app, second).await.iter().map(|r| r.closed).sum();
    assert_eq!(closed, 1, "closed by exactly one run");
    let tallies = entity::poll_tally::Entity::find()
        .filter(entity::poll_tally::Column::PollId.eq(pid(&p)))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(tallies, 1, "tallied once");
    let queued = entity::notification::Entity::find()
        .filter(entity::notification::Column::SubjectId.eq(pid(&p)))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        queued, 4,
        "opened and result, once each to the two accounts"
    );
    let r = get(&w, &a.token, &format!("{path}/results")).await;
    assert_eq!(r["participants"], 1);
    assert_eq!(r["eligible"], 2);
    assert_eq!(r["outcome"], "passed");
    assert!(get(&w, &a.token, "/api/v1/me/polls").await["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn resident_sees_building_poll_of_own_building_not_of_neighbour_building() {
    let w = world().await;
    let r3 = voter(&w, w.h3a, "邻三", Some("1970-01-01")).await;
    let r5 = voter(&w, w.h5, "邻五", Some("1970-01-01")).await;
    let (leader5, _) = member(
        &w.app,
        &w.root,
        &uname("bl"),
        "building_leader",
        "building",
        w.b5,
    )
    .await;
    let p3 = opened(&w, body(&w, "building", w.b3, "secret", "resident")).await;
    let compound = opened(&w, body(&w, "compound", w.compound, "secret", "resident")).await;
    let draft = create(
        &w,
        &w.staff,
        body(&w, "community", w.community, "open", "resident"),
    )
    .await;
    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let mine = ids(&get(&w, &r3.token, "/api/v1/polls").await);
    assert!(mine.contains(&p3["id"].as_str().unwrap().to_string()));
    assert!(mine.contains(&compound["id"].as_str().unwrap().to_string()));
    assert!(
        !mine.contains(&draft["id"].as_str().unwrap().to_string()),
        "never a draft"
    );
    for token in [&r5.token, &leader5] {
        let theirs = ids(&get(&w, token, "/api/v1/polls").await);
        assert!(!theirs.contains(&p3["id"].as_str().unwrap().to_string()));
        assert!(theirs.contains(&compound["id"].as_str().unwrap().to_string()));
        let res = w
            .app
            .get(
                &format!("/api/v1/polls/{}", p3["id"].as_str().unwrap()),
                token,
            )
            .await;
        assert_problem(res, 404, "not_found").await;
        let res = w
            .app
            .post(
                &format!("/api/v1/polls/{}/ballots", p3["id"].as_str().unwrap()),
                token,
                &ballot(&p3, 0),
            )
            .await;
        assert_problem(res, 404, "not_found").await;
    }
    let res = w
        .app
        .get(
            &format!("/api/v1/polls/{}", draft["id"].as_str().unwrap()),
            &r3.token,
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    // The neighbour building's leader manages their own building, not building 3.
    let res = w
        .app
        .post(
            "/api/v1/polls",
            &leader5,
            &body(&w, "building", w.b3, "open", "resident"),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    create(&w, &leader5, body(&w, "building", w.b5, "open", "resident")).await;
    // A resident manages nothing.
    let res = w
        .app
        .post(
            &format!("/api/v1/polls/{}/close", p3["id"].as_str().unwrap()),
            &r3.token,
            &json!({}),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
}

#[tokio::test]
async fn paper_box_counts_need_a_second_teller_and_join_the_results() {
    let w = world().await;
    let a = voter(&w, w.h3a, "林甲", Some("1970-01-01")).await;
    let b = voter(&w, w.h3b, "林乙", Some("1970-01-01")).await;
    let c = voter(&w, w.h3b, "林丙", Some("1970-01-01")).await;
    let (second, _) = member(
        &w.app,
        &w.root,
        &uname("cs"),
        "community_staff",
        "community",
        w.community,
    )
    .await;
    let p = opened(&w, body(&w, "building", w.b3, "secret", "resident")).await;
    let id = p["id"].as_str().unwrap().to_string();
    let bx: Value = w
        .app
        .post(
            &format!("/api/v1/polls/{id}/boxes"),
            &w.staff,
            &json!({"label": "流动票箱1", "issued_count": 2}),
        )
        .await
        .json()
        .await
        .unwrap();
    let box_path = format!("/api/v1/poll-boxes/{}", bx["id"].as_str().unwrap());
    // Residents neither open boxes nor mark voters; staff never cast for a resident.
    let res = w
        .app
        .post(
            &format!("{box_path}/mark-voter"),
            &a.token,
            &json!({"voter_key": b.resident_id}),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
    for v in [&b, &c] {
        let res = w
            .app
            .post(
                &format!("{box_path}/mark-voter"),
                &w.staff,
                &json!({"voter_key": v.resident_id}),
            )
            .await;
        assert_eq!(res.status(), 204);
    }
    // Handed a paper ballot: no online ballot any more, and turnout counts it.
    assert_problem(cast(&w, &b, &p, 0).await, 409, "already_voted").await;
    assert_eq!(cast(&w, &a, &p, 0).await.status(), 201);
    // Counting waits for the close.
    let counts = json!({"counts": [{"option_id": option(&p, 0), "votes": 1}, {"option_id": option(&p, 1), "votes": 1}], "returned_count": 2});
    let res = w
        .app
        .post(&format!("{box_path}/tally"), &w.staff, &counts)
        .await;
    assert_problem(res, 409, "wrong_status").await;
    verb(&w, &w.staff, &id, "close", json!({})).await;
    let before = get(&w, &w.staff, &format!("/api/v1/polls/{id}/results")).await;
    assert_eq!(before["participants"], 3);
    assert_eq!(
        before["questions"][0]["options"][0]["votes"], 1,
        "online only so far"
    );
    assert_eq!(before["questions"][0]["blank"], 2, "paper not yet counted");
    let res = w
        .app
        .post(&format!("{box_path}/tally"), &w.staff, &counts)
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // The same teller may not confirm; a second one must enter the same counts.
    let res = w
        .app
        .post(&format!("{box_path}/confirm"), &w.staff, &counts)
        .await;
    let v = assert_problem(res, 409, "guard_failed").await;
    assert_eq!(v["errors"][0]["field"], "second_teller");
    let wrong = json!({"counts": [{"option_id": option(&p, 0), "votes": 2}], "returned_count": 2});
    let res = w
        .app
        .post(&format!("{box_path}/confirm"), &second, &wrong)
        .await;
    let v = assert_problem(res, 409, "guard_failed").await;
    assert_eq!(v["errors"][0]["field"], "counts");
    assert_eq!(v["errors"][0]["code"], "mismatch");
    let res = w
        .app
        .post(&format!("{box_path}/confirm"), &second, &counts)
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let after = get(&w, &w.staff, &format!("/api/v1/polls/{id}/results")).await;
    assert_eq!(after["tally_kind"], "paper");
    assert_eq!(after["participants"], 3);
    assert_eq!(after["questions"][0]["options"][0]["votes"], 2);
    assert_eq!(after["questions"][0]["options"][1]["votes"], 1);
    assert_eq!(after["questions"][0]["blank"], 0);
    // A recount is a new tally; the earlier ones stay.
    let res = w
        .app
        .post(
            &format!("/api/v1/polls/{id}/recount"),
            &w.staff,
            &json!({"reason": "复核"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let tallies = entity::poll_tally::Entity::find()
        .filter(entity::poll_tally::Column::PollId.eq(pid(&p)))
        .count(&w.app.state.db)
        .await
        .unwrap();
    assert_eq!(tallies, 3, "close, paper, recount");
    let r = get(&w, &w.staff, &format!("/api/v1/polls/{id}/results")).await;
    assert_eq!(r["tally_kind"], "recount");
    assert_eq!(r["questions"][0]["options"][0]["votes"], 2);
}

/// Opens a building-3 poll with `preset`, casts `votes` (voter, option position), closes it and
/// answers its results.
async fn close_with(w: &World, preset: &str, votes: &[(&Voter, usize)]) -> Value {
    let mut b = body(w, "building", w.b3, "secret", "resident");
    b["preset"] = json!(preset);
    let p = opened(w, b).await;
    for (v, choice) in votes {
        assert_eq!(cast(w, v, &p, *choice).await.status(), 201);
    }
    let id = p["id"].as_str().unwrap();
    verb(w, &w.staff, id, "close", json!({})).await;
    get(w, &w.staff, &format!("/api/v1/polls/{id}/results")).await
}

/// §A9 13–14 end to end: the close applies the preset's integer rules to the roll (E), the
/// voters (P) and the abstentions (A), which `polls::model`'s unit tests cover case by case.
#[tokio::test]
async fn the_close_applies_the_presets_quorum_and_abstention_rules() {
    let w = world().await;
    let a = voter(&w, w.h3a, "甲", Some("1970-01-01")).await;
    let b = voter(&w, w.h3b, "乙", Some("1970-01-01")).await;
    let _c = voter(&w, w.h3b, "丙", Some("1970-01-01")).await;
    // 居民会议: 1 of 3 took part — not more than half: no quorum.
    let r = close_with(&w, "residents_meeting", &[(&a, 0)]).await;
    assert_eq!(
        (r["eligible"].clone(), r["participants"].clone()),
        (json!(3), json!(1))
    );
    assert_eq!(r["quorum_met"], false);
    assert_eq!(r["outcome"], "no_quorum");
    // 2 of 3, one for and one abstaining: quorum met (the abstainer took part), but 1 of the 2
    // participants is not more than half.
    let r = close_with(&w, "residents_meeting", &[(&a, 0), (&b, 2)]).await;
    assert_eq!(r["quorum_met"], true);
    assert_eq!(r["abstentions"], 1);
    assert_eq!(r["outcome"], "failed");
    // Simple majority of the valid votes: the abstention is out of the base, 1 of 1 passes.
    let r = close_with(&w, "simple_majority", &[(&a, 0), (&b, 2)]).await;
    assert_eq!(r["outcome"], "passed");
    // Two thirds (以上, inclusive): 1 for, 1 against is a half: fails.
    let r = close_with(&w, "two_thirds", &[(&a, 0), (&b, 1)]).await;
    assert_eq!(r["outcome"], "failed");
}

/// The path an election takes (§A4): the roll built while draft through the engine, an entry
/// struck before opening; opening keeps that roll (no rebuild), counts the struck entry out of
/// `roll_size` and into the hash, so the hash is recomputed from every entry not added late.
#[tokio::test]
async fn a_roll_built_before_opening_is_kept_and_its_hash_covers_every_entry() {
    use sha2::{Digest, Sha256};
    let w = world().await;
    let a = voter(&w, w.h3a, "贾甲", Some("1970-01-01")).await;
    let b = resident(&w, w.h3b, "贾乙", Some("1970-01-01")).await;
    let p = create(
        &w,
        &w.staff,
        body(&w, "building", w.b3, "secret", "resident"),
    )
    .await;
    let id = pid(&p);
    let db = &w.app.state.db;
    let now = w.app.state.clock.now();
    let built = linli::polls::service::build_roll_in(db, id, now)
        .await
        .unwrap();
    assert_eq!(built.size, 2);
    linli::polls::service::strike_voter_in(db, id, b, "异议成立", Uuid::nil(), now)
        .await
        .unwrap();
    // Someone moving in before opening is not added: the roll was built already.
    let late = voter(&w, w.h3b, "贾新", Some("1990-01-01")).await;
    let opened = verb(&w, &w.staff, &id.to_string(), "open", json!({})).await;
    assert_eq!(opened["roll_size"], 1);
    let mut keys = vec![a.resident_id.to_string(), b.to_string()];
    keys.sort();
    let expected: String = Sha256::digest(keys.join("\n").as_bytes())
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect();
    assert_eq!(opened["roll_sha256"], expected);
    let roll = get(&w, &w.staff, &format!("/api/v1/polls/{id}/roll")).await;
    let mut listed: Vec<String> = roll["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["late"] == false)
        .map(|e| e["voter_key"].as_str().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(listed, keys, "the roll view gives what the hash covers");
    assert_problem(cast(&w, &late, &opened, 0).await, 403, "not_on_roll").await;
    assert_eq!(cast(&w, &a, &opened, 0).await.status(), 201);
    let state = linli::polls::service::status_in(db, id).await.unwrap();
    assert_eq!(state.ballots_cast, 1);
    let rec = linli::polls::service::reconciliation_in(db, id)
        .await
        .unwrap();
    assert!(rec.balanced && rec.all_boxes_confirmed);
}
