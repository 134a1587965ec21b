//! The whole life of a proposal from 提 to 评 (no money: a budget of 0 goes from the decision
//! straight to implementing), one that fails its poll, every guard refused with its name, and
//! the poll-close transition under two job runners at once.

use chrono::Duration;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::attachments::upload_png;
use crate::helpers::*;
use crate::proposals::{body, forum, Forum};

/// The poll `id` as `token` sees it.
pub async fn poll(f: &Forum, token: &str, id: &str) -> Value {
    body(f.app.get(&format!("/api/v1/polls/{id}"), token).await, 200).await
}

/// `token` answers question `q` of poll `p` with option `o` (and question 2 with `o2`).
pub async fn cast(f: &Forum, token: &str, p: &Value, choices: &[(usize, usize)]) -> u16 {
    let answers: Vec<Value> = choices
        .iter()
        .map(|(q, o)| {
            json!({"question_id": p["questions"][*q]["id"],
                   "option_ids": [p["questions"][*q]["options"][*o]["id"]]})
        })
        .collect();
    let id = p["id"].as_str().unwrap();
    f.app
        .post(
            &format!("/api/v1/polls/{id}/ballots"),
            token,
            &json!({"answers": answers}),
        )
        .await
        .status()
        .as_u16()
}

/// A connection of its own to the test's database: a second replica's, without its job loop.
pub async fn second_connection(f: &Forum) -> sea_orm::DatabaseConnection {
    linli::platform::db::connect(&f.app.state.settings)
        .await
        .expect("a second connection")
}

/// Runs the polls' job twice at once (two replicas); answers the polls closed in all.
pub async fn two_runners(f: &Forum) -> u64 {
    let second = second_connection(f).await;
    let at = f.app.state.clock.now();
    let (a, b) = tokio::join!(
        linli::polls::jobs::run_due(&f.app.state.db, at),
        linli::polls::jobs::run_due(&second, at),
    );
    // Under SQLite one writer may find the database busy; the other must have done the work.
    let closed = |r: Result<linli::polls::jobs::Round, _>| match r {
        Ok(r) => r.closed,
        Err(e) => {
            eprintln!("a runner failed: {e:?}");
            0
        }
    };
    closed(a) + closed(b)
}

pub async fn events(f: &Forum, id: Uuid, kind: &str) -> u64 {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    entity::proposal_event::Entity::find()
        .filter(entity::proposal_event::Column::ProposalId.eq(id))
        .filter(entity::proposal_event::Column::Kind.eq(kind))
        .count(&f.app.state.db)
        .await
        .unwrap()
}

/// A proposal by r1 for the compound, supported by H1b and H2, accepted by staff (议事会 note):
/// deliberating.
pub async fn accepted(f: &Forum, title: &str) -> (Uuid, Value) {
    let p = f.propose(&f.r1, "compound", f.compound, title).await;
    let id = id_of(&p);
    for t in [&f.r2, &f.r3] {
        assert_eq!(
            f.verb(t, id, "support", json!({}), None).await.status(),
            204
        );
    }
    // Two supporters are fewer than the default five: accepted only with a note.
    let v = f.get(&f.staff, id).await;
    let res = f
        .verb(
            &f.staff,
            id,
            "accept",
            json!({"tier": "ordinary"}),
            v["version"].as_i64(),
        )
        .await;
    assert_eq!(f.guards(res).await, vec!["supporters"]);
    let res = f
        .verb(
            &f.staff,
            id,
            "accept",
            json!({"tier": "ordinary", "note": "议事会受理"}),
            v["version"].as_i64(),
        )
        .await;
    (id, body(res, 200).await)
}

/// Deliberation over, the decision opened: the proposal and its poll (as r1 sees it).
pub async fn deciding(f: &Forum, id: Uuid) -> (Value, Value) {
    f.app
        .clock
        .advance(Duration::days(7) + Duration::minutes(1));
    let res = f.verb(&f.staff, id, "open-decision", json!({}), None).await;
    let v = body(res, 200).await;
    assert_eq!(v["step"], "deciding");
    let poll_id = v["decision"]["poll_id"].as_str().unwrap().to_string();
    let p = poll(f, &f.r1, &poll_id).await;
    (v, p)
}

#[tokio::test]
async fn a_proposal_lives_from_proposed_to_closed_without_money() {
    let f = forum().await;
    let (id, v) = accepted(&f, "增设非机动车棚").await;
    assert_eq!(v["step"], "deliberating");
    assert_eq!(v["tier"], "ordinary");
    assert_eq!(v["tracker"][1]["state"], "current");
    // The author revises the text while deliberating: a new revision.
    let res = f
        .app
        .patch(
            &format!("/api/v1/proposals/{id}"),
            &f.r1,
            &json!({"body": "在2幢北侧增设非机动车棚，约20个车位。"}),
        )
        .await;
    assert_eq!(body(res, 200).await["current_revision"], 2);
    let revs = body(
        f.app
            .get(&format!("/api/v1/proposals/{id}/revisions"), &f.r3)
            .await,
        200,
    )
    .await;
    assert_eq!(revs.as_array().unwrap().len(), 2);
    // open_decision before deliberation ends: guard_failed naming it.
    let res = f.verb(&f.staff, id, "open-decision", json!({}), None).await;
    assert_eq!(f.guards(res).await, vec!["deliberation_ends_at"]);
    let (v, p) = deciding(&f, id).await;
    assert_eq!(v["frozen_revision"], 2);
    let sha = revs[0]["sha256"].as_str().unwrap();
    assert!(p["description"].as_str().unwrap().contains(sha), "{p}");
    // The text is frozen now.
    let res = f
        .app
        .patch(
            &format!("/api/v1/proposals/{id}"),
            &f.r1,
            &json!({"title": "改标题"}),
        )
        .await;
    assert_problem(res, 409, "wrong_step").await;
    // start_implementation while the poll runs: it has not passed, and there is no lead.
    let res = f
        .verb(&f.staff, id, "start-implementation", json!({}), None)
        .await;
    assert_eq!(f.guards(res).await, vec!["poll", "lead"]);
    // Three households of three vote yes (household mode: one each).
    for t in [&f.r1, &f.r2, &f.r3] {
        assert_eq!(cast(&f, t, &p, &[(0, 0)]).await, 201);
    }
    assert_eq!(cast(&f, &f.r1b, &p, &[(0, 1)]).await, 409);
    f.app.clock.advance(Duration::days(7));
    assert_eq!(two_runners(&f).await, 1);
    let v = f.get(&f.r1, id).await;
    // Budget 0: straight to implementing.
    assert_eq!(v["step"], "implementing", "{v}");
    assert_eq!(v["decision"]["outcome"], "passed");
    assert_eq!(events(&f, id, "decided").await, 1);
    assert_eq!(v["tracker"][3]["state"], "skipped");
    // The lead: r2, named by their account.
    let res = f
        .verb(&f.staff, id, "set-lead", json!({"user_id": f.r2_id}), None)
        .await;
    let v = body(res, 200).await;
    assert!(v["lead_display"].as_str().unwrap().ends_with("李*"), "{v}");
    // complete without evidence: guard_failed.
    let res = f.verb(&f.r2, id, "complete", json!({}), None).await;
    assert_eq!(f.guards(res).await, vec!["completion"]);
    // Someone else than the lead or staff does not report.
    let res = f
        .verb(
            &f.r3,
            id,
            "updates",
            json!({"kind": "progress", "note": "x"}),
            None,
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = f
        .verb(
            &f.r2,
            id,
            "updates",
            json!({"kind": "progress", "progress_pct": 50, "note": "车棚基础已浇筑"}),
            None,
        )
        .await;
    assert_eq!(body(res, 201).await["progress_pct"], 50);
    let photo = upload_png(&f.app, &f.r2).await;
    let res = f
        .verb(
            &f.r2,
            id,
            "updates",
            json!({"kind": "completion", "note": "车棚已建成", "attachment_ids": [photo["id"]]}),
            None,
        )
        .await;
    assert_eq!(body(res, 201).await["photos"], 1);
    let v = body(f.verb(&f.r2, id, "complete", json!({}), None).await, 200).await;
    assert_eq!(v["step"], "evaluating");
    assert_eq!(v["progress_pct"], 100);
    let ev = poll(&f, &f.r1, v["evaluation"]["poll_id"].as_str().unwrap()).await;
    assert_eq!(ev["subject_type"], "proposal_evaluation");
    // 满意 ★5, 基本满意 ★4, 不满意 (no stars).
    assert_eq!(cast(&f, &f.r1, &ev, &[(0, 0), (1, 4)]).await, 201);
    assert_eq!(cast(&f, &f.r2, &ev, &[(0, 1), (1, 3)]).await, 201);
    assert_eq!(cast(&f, &f.r3, &ev, &[(0, 2)]).await, 201);
    // 验收: two distinct passes; close is refused while the evaluation runs.
    let res = f
        .verb(
            &f.council,
            id,
            "acceptances",
            json!({"verdict": "pass"}),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = f
        .verb(
            &f.council,
            id,
            "acceptances",
            json!({"verdict": "pass"}),
            None,
        )
        .await;
    assert_eq!(f.guards(res).await, vec!["acceptance"]);
    let res = f.verb(&f.staff, id, "close", json!({}), None).await;
    assert_eq!(f.guards(res).await, vec!["evaluation", "acceptances"]);
    let res = f
        .verb(
            &f.council2,
            id,
            "acceptances",
            json!({"verdict": "pass"}),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    f.app
        .clock
        .advance(Duration::days(14) + Duration::minutes(1));
    assert_eq!(two_runners(&f).await, 1);
    let v = f.get(&f.r1, id).await;
    assert_eq!(v["satisfaction_pct"], 67, "{v}");
    assert_eq!(v["rating_avg_x100"], 450);
    assert_eq!(v["evaluation_answers"], 3);
    let res = f
        .verb(
            &f.staff,
            id,
            "close",
            json!({"golden": true}),
            v["version"].as_i64(),
        )
        .await;
    let v = body(res, 200).await;
    assert_eq!(v["step"], "closed");
    assert_eq!(v["golden"], true);
    assert!(v["review_on"].is_string());
    assert!(
        v["tracker"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["state"] == "done" || t["state"] == "skipped"),
        "{v}"
    );
    // The 回头看 falls due after 90 days: reminded once, however often the job runs.
    f.app.clock.advance(Duration::days(91));
    let at = f.app.state.clock.now();
    let second = second_connection(&f).await;
    let (a, b) = tokio::join!(
        linli::proposals::jobs::review_due(&f.app.state.db, at),
        linli::proposals::jobs::review_due(&second, at),
    );
    assert_eq!(a.unwrap_or(0) + b.unwrap_or(0), 1);
    assert_eq!(events(&f, id, "review_due").await, 1);
    let _ = Method::GET;
}

#[tokio::test]
async fn a_proposal_that_fails_its_poll_ends_failed_once() {
    let f = forum().await;
    let (id, _) = accepted(&f, "拆除花坛改车位").await;
    let (_, p) = deciding(&f, id).await;
    for t in [&f.r1, &f.r2, &f.r3] {
        assert_eq!(cast(&f, t, &p, &[(0, 1)]).await, 201);
    }
    // cancel_decision only before the first ballot.
    let res = f
        .verb(
            &f.staff,
            id,
            "cancel-decision",
            json!({"reason": "重新征询"}),
            None,
        )
        .await;
    assert_eq!(f.guards(res).await, vec!["ballots_cast"]);
    f.app
        .clock
        .advance(Duration::days(7) + Duration::minutes(1));
    assert_eq!(two_runners(&f).await, 1);
    assert_eq!(two_runners(&f).await, 0);
    let v = f.get(&f.r1, id).await;
    assert_eq!(v["step"], "failed");
    assert_eq!(v["decision"]["outcome"], "failed");
    assert_eq!(events(&f, id, "decided").await, 1);
    // Nothing moves it again.
    let res = f
        .verb(&f.staff, id, "start-implementation", json!({}), None)
        .await;
    assert_problem(res, 409, "wrong_step").await;
    let res = f
        .verb(&f.staff, id, "cancel", json!({"reason": "x"}), None)
        .await;
    assert_problem(res, 409, "wrong_step").await;
}

#[tokio::test]
async fn a_decision_cancelled_before_any_ballot_goes_back_to_deliberation() {
    let f = forum().await;
    let (id, _) = accepted(&f, "楼道加装感应灯").await;
    let (v, p) = deciding(&f, id).await;
    let res = f
        .verb(
            &f.staff,
            id,
            "cancel-decision",
            json!({"reason": "文本有误"}),
            v["version"].as_i64(),
        )
        .await;
    let v = body(res, 200).await;
    assert_eq!(v["step"], "deliberating");
    assert!(v["decision"].is_null());
    let pv = poll(&f, &f.staff, p["id"].as_str().unwrap()).await;
    assert_eq!(pv["status"], "cancelled");
    // Wrong step: a second cancel.
    let res = f
        .verb(
            &f.staff,
            id,
            "cancel-decision",
            json!({"reason": "再次"}),
            None,
        )
        .await;
    assert_problem(res, 409, "wrong_step").await;
}
