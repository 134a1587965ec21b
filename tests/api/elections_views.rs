//! What an election shows besides itself (§A4.5): the roll for those who run it (masked, no
//! voting time or channel, keyset pages, published before voting), the result sheet once
//! results are published (audited), a resident's own elections (on the roll before voting,
//! the paper boxes, their objections), and an election's cancel ending its poll once.

use std::io::Read;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::elections::{json_of, step, verb};
use crate::elections_life::{life, Life};
use crate::helpers::*;

async fn roll_page(l: &Life, token: &str, query: &str) -> reqwest::Response {
    l.w.app
        .get(&format!("/api/v1/elections/{}/roll{query}", l.id), token)
        .await
}

async fn my_election(l: &Life, who: usize) -> Value {
    let mine = json_of(
        l.w.app.get("/api/v1/me/elections", &l.r[who].token).await,
        StatusCode::OK,
    )
    .await;
    mine.as_array()
        .unwrap()
        .iter()
        .find(|m| m["election"]["id"] == l.id.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("the election is in my elections: {mine}"))
}

#[tokio::test]
async fn an_elections_roll_is_masked_paged_published_before_voting_and_only_for_those_who_run_it() {
    let l = life(None).await;
    l.officers().await;
    // A draft has no roll yet.
    assert_problem(roll_page(&l, &l.w.staff, "").await, 409, "wrong_status").await;
    assert_eq!(
        step(&l.w, &l.id, "publish-roll").await["status"],
        "roll_published"
    );
    // Before voting: the published roll, two pages of it, every name masked.
    let first = json_of(roll_page(&l, &l.w.staff, "?limit=2").await, StatusCode::OK).await;
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = json_of(
        roll_page(&l, &l.w.staff, &format!("?limit=2&cursor={cursor}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null());
    let all: Vec<Value> = items
        .iter()
        .chain(second["items"].as_array().unwrap())
        .cloned()
        .collect();
    let text = serde_json::to_string(&all).unwrap();
    for name in ["王一", "李二", "赵三"] {
        assert!(!text.contains(name), "{name} unmasked in {text}");
    }
    assert!(all.iter().all(|e| e["status"] == "eligible"), "{text}");
    assert!(
        all.iter()
            .any(|e| e["name"].as_str().unwrap().starts_with('王')),
        "{text}"
    );
    // Its officer reads it; a voter on it does not.
    let res = roll_page(&l, &l.chair.token, "").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_problem(roll_page(&l, &l.r[0].token, "").await, 403, "forbidden").await;

    // The resident sees they are on the roll before voting, without a box yet.
    let mine = my_election(&l, 0).await;
    assert_eq!(mine["on_roll"], true, "{mine}");
    assert_eq!(mine["roll_status"], "eligible");
    assert_eq!(mine["paper_boxes"], json!([]));
    assert_eq!(mine["objections"], json!([]));
    // 李二 objects to an entry; their objection and its status show in their elections.
    let res = l
        .w
        .app
        .post(
            &format!("/api/v1/elections/{}/objections", l.id),
            &l.r[1].token,
            &json!({"resident_id": l.r[1].resident, "kind": "correct", "reason": "出生日期有误"}),
        )
        .await;
    let objection = json_of(res, StatusCode::CREATED).await;
    let mine = my_election(&l, 1).await;
    assert_eq!(mine["objections"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["objections"][0]["status"], "pending");
    assert_eq!(mine["objections"][0]["kind"], "correct");
    assert_eq!(my_election(&l, 0).await["objections"], json!([]));
    // Decided (rejected, with a note), as the objector then reads it.
    let res =
        l.w.app
            .post(
                &format!(
                    "/api/v1/roll-objections/{}/decide",
                    objection["id"].as_str().unwrap()
                ),
                &l.w.staff,
                &json!({"accept": false, "note": "核对户籍，信息无误"}),
            )
            .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let mine = my_election(&l, 1).await;
    assert_eq!(mine["objections"][0]["status"], "rejected", "{mine}");
    assert_eq!(mine["objections"][0]["decision_note"], "核对户籍，信息无误");

    // Voting: 王一 online, 赵三's household on paper at a 流动票箱 with its place and time.
    assert_eq!(
        step(&l.w, &l.id, "open-nominations").await["status"],
        "nominating"
    );
    let a = l.candidate(&l.r[0]).await;
    l.candidate(&l.r[1]).await;
    step(&l.w, &l.id, "publish-candidates").await;
    step(&l.w, &l.id, "open-voting").await;
    let (poll, _) = l.ballot_paper().await;
    let bx = json_of(
        l.w.app
            .post(
                &format!("/api/v1/polls/{poll}/boxes"),
                &l.chair.token,
                &json!({"label": "流动票箱1", "issued_count": 2,
                        "location": "1幢楼下大厅", "schedule": "12月6日 9:00-11:00"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(bx["location"], "1幢楼下大厅");
    let res =
        l.w.app
            .post(
                &format!(
                    "/api/v1/poll-boxes/{}/mark-voter",
                    bx["id"].as_str().unwrap()
                ),
                &l.chair.token,
                &json!({"voter_key": l.w.h3}),
            )
            .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    l.cast(&l.r[0], &a).await;

    let mine = my_election(&l, 0).await;
    // By household, in a secret poll: the household voted, never saying who.
    assert_eq!(mine["roll_status"], "voted_by_household", "{mine}");
    let boxes = mine["paper_boxes"].as_array().unwrap();
    assert_eq!(boxes.len(), 1, "{mine}");
    assert_eq!(boxes[0]["label"], "流动票箱1");
    assert_eq!(boxes[0]["location"], "1幢楼下大厅");
    assert_eq!(boxes[0]["schedule"], "12月6日 9:00-11:00");
    // A secret poll's roll says who voted, never how or when.
    let page = json_of(
        roll_page(&l, &l.w.staff, "?limit=100").await,
        StatusCode::OK,
    )
    .await;
    let entries = page["items"].as_array().unwrap();
    assert_eq!(
        entries.iter().filter(|e| e["status"] == "voted").count(),
        2,
        "{page}"
    );
    assert!(entries
        .iter()
        .all(|e| e.get("channel").is_none() && e.get("voted_at").is_none()));
    let voted = json_of(
        roll_page(&l, &l.w.staff, "?status=voted").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(voted["items"].as_array().unwrap().len(), 2);
}

/// The strings of every part of a workbook.
fn workbook_text(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut out = String::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut s = String::new();
        if f.read_to_string(&mut s).is_ok() {
            out.push_str(&s);
        }
    }
    out
}

#[tokio::test]
async fn an_elections_result_sheet_is_for_those_who_run_it_once_published_and_audited() {
    let l = life(None).await;
    l.officers().await;
    l.to_nominating().await;
    let a = l.candidate(&l.r[0]).await;
    let b = l.candidate(&l.r[1]).await;
    step(&l.w, &l.id, "publish-candidates").await;
    step(&l.w, &l.id, "open-voting").await;
    l.cast(&l.r[0], &a).await;
    l.cast(&l.r[1], &b).await;
    l.cast(&l.r[2], &a).await;
    step(&l.w, &l.id, "close-voting").await;
    let sheet = |token: String| {
        let path = format!("/api/v1/elections/{}/results.xlsx", l.id);
        let app = &l.w.app;
        async move { app.get(&path, &token).await }
    };
    // Counted, not yet published: no sheet.
    assert_problem(sheet(l.w.staff.clone()).await, 404, "not_found").await;
    for o in [&l.chair, &l.scrutineer] {
        let res = verb(&l.w, &o.token, &l.id, "certify").await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_problem(sheet(l.w.staff.clone()).await, 404, "not_found").await;
    assert_eq!(
        step(&l.w, &l.id, "publish-results").await["status"],
        "published"
    );

    let res = sheet(l.w.staff.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("spreadsheetml")));
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "an xlsx is a zip");
    let text = workbook_text(&bytes);
    for s in [
        "1幢楼组长推选",
        "王一",
        "李二",
        "当选",
        "未当选",
        "登记选民（E）",
    ] {
        assert!(text.contains(s), "{s} missing from the sheet");
    }
    // An officer may download it too; a voter may not (they read /results).
    assert_eq!(sheet(l.chair.token.clone()).await.status(), StatusCode::OK);
    assert_problem(sheet(l.r[2].token.clone()).await, 403, "forbidden").await;
    let audit = json_of(
        l.w.app
            .get(
                "/api/v1/audit-events?action=election_results_export",
                &l.w.root,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 2, "{audit}");
}

#[tokio::test]
async fn cancelling_an_election_cancels_its_draft_poll_exactly_once() {
    let l = life(None).await;
    step(&l.w, &l.id, "publish-roll").await;
    let poll = l.election().await["poll_id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/elections/{}/cancel", l.id);
    let reason = json!({"reason": "改期举行"});
    let cancel = || l.w.app.post(&path, &l.w.staff, &reason);
    let e = json_of(cancel().await, StatusCode::OK).await;
    assert_eq!(e["status"], "cancelled");
    let p = json_of(
        l.w.app
            .get(&format!("/api/v1/polls/{poll}"), &l.w.staff)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(p["status"], "cancelled", "{p}");
    assert_problem(cancel().await, 409, "wrong_status").await;
    // The resident's elections say the roll was published, the election cancelled.
    let mine = my_election(&l, 0).await;
    assert_eq!(mine["election"]["status"], "cancelled");
}

#[tokio::test]
async fn a_poll_is_cancelled_once_and_never_after_its_first_ballot() {
    let l = life(None).await;
    let w = &l.w;
    let body = |title: &str| {
        json!({"scope_type": "building", "scope_id": w.t.building, "title": title,
               "description": "楼内事务", "secrecy": "secret", "unit": "household", "preset": "simple_majority",
               "opens_at": crate::elections::at(0), "closes_at": crate::elections::at(3),
               "questions": [{"title": "是否同意", "kind": "yes_no_abstain"}]})
    };
    let cancel = |id: String| {
        let app = &w.app;
        let staff = w.staff.clone();
        async move {
            app.post(
                &format!("/api/v1/polls/{id}/cancel"),
                &staff,
                &json!({"reason": "重新安排"}),
            )
            .await
        }
    };
    // A draft: cancelled once; a second cancel is refused by status.
    let draft = json_of(
        w.app
            .post("/api/v1/polls", &w.staff, &body("加装充电桩"))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = draft["id"].as_str().unwrap().to_string();
    assert_eq!(cancel(id.clone()).await.status(), StatusCode::OK);
    let p = json_of(
        w.app.get(&format!("/api/v1/polls/{id}"), &w.staff).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(p["status"], "cancelled");
    assert_problem(cancel(id).await, 409, "wrong_status").await;
    // An open poll with a ballot: refused, naming the guard.
    let open = json_of(
        w.app
            .post("/api/v1/polls", &w.staff, &body("更换门禁"))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = open["id"].as_str().unwrap().to_string();
    let res = w
        .app
        .post(&format!("/api/v1/polls/{id}/open"), &w.staff, &json!({}))
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let p = json_of(
        w.app
            .get(&format!("/api/v1/polls/{id}"), &l.r[0].token)
            .await,
        StatusCode::OK,
    )
    .await;
    let q = &p["questions"][0];
    let res = w
        .app
        .post(
            &format!("/api/v1/polls/{id}/ballots"),
            &l.r[0].token,
            &json!({"answers": [{"question_id": q["id"], "option_ids": [q["options"][0]["id"]]}]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = cancel(id.clone()).await;
    let v = assert_problem(res, 409, "guard_failed").await;
    assert_eq!(v["errors"][0]["field"], "ballots_cast", "{v}");
}

/// Migration 028 rebuilds `elections` on SQLite to add the foreign key to `polls`: down and up
/// again keep the election, its positions, officers, candidates and objections, and afterwards
/// the database refuses a `poll_id` that names no poll.
#[tokio::test]
async fn migration_028_keeps_an_elections_rows_and_refuses_a_poll_id_of_no_poll() {
    use migration::MigratorTrait;
    use sea_orm::ConnectionTrait;
    let l = life(None).await;
    l.officers().await;
    l.to_nominating().await;
    let a = l.candidate(&l.r[0]).await;
    let res =
        l.w.app
            .post(
                &format!("/api/v1/elections/{}/objections", l.id),
                &l.r[1].token,
                &json!({"resident_id": l.r[1].resident, "kind": "correct", "reason": "信息有误"}),
            )
            .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let before = l.election().await;
    migrate_back_before(&l.w.app, "m20261201_000028_election_poll_link").await;
    migration::Migrator::up(&l.w.app.state.db, None)
        .await
        .unwrap();
    let after = l.election().await;
    for field in ["poll_id", "status", "positions", "officers", "version"] {
        assert_eq!(before[field], after[field], "{field}");
    }
    let candidates = json_of(
        l.w.app
            .get(
                &format!("/api/v1/elections/{}/candidates", l.id),
                &l.w.staff,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(candidates["items"][0]["id"], a.as_str(), "{candidates}");
    let mine = my_election(&l, 1).await;
    assert_eq!(mine["objections"].as_array().unwrap().len(), 1, "{mine}");
    let stray = uuid::Uuid::new_v4();
    let res =
        l.w.app
            .state
            .db
            .execute_unprepared(&format!("UPDATE elections SET poll_id = '{stray}'"))
            .await;
    assert!(res.is_err(), "a poll_id of no poll is refused");
}
