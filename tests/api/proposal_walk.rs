//! A proposal of the funds' place (tests/api/funds.rs) walked through its steps by HTTP only,
//! for the money tests (allocations, pledges): the resident proposes, staff accept it with a
//! 议事会 note, deliberation runs out, the decision opens, a resident on the roll votes yes, the
//! poll closes by the polls' job (as a replica would), and the proposal is `raising` (a budget)
//! or `implementing` (none); a lead and start-implementation take a raising one further.

use chrono::Duration;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::allocations::proposal;
use crate::funds::{body, Place};
use crate::proposals::voter;

/// `verb` on proposal `id` by `token`.
pub(crate) async fn step(
    p: &Place,
    token: &str,
    id: Uuid,
    verb: &str,
    b: Value,
) -> reqwest::Response {
    p.app
        .post(&format!("/api/v1/proposals/{id}/{verb}"), token, &b)
        .await
}

/// The decision under way: its poll's id, and a resident of H on its roll (made before the roll
/// froze).
pub(crate) struct Deciding {
    pub(crate) poll: String,
    pub(crate) voter: String,
}

/// Accepted (with a note: it has fewer supporters than the policy's minimum) and deliberated;
/// a resident of H on the roster; the decision opened. `changes` (budget, targets) are PATCHed
/// by the author before the text freezes.
pub(crate) async fn deciding(p: &Place, id: Uuid, changes: Option<Value>) -> Deciding {
    if let Some(c) = changes {
        let res = p
            .app
            .patch(&format!("/api/v1/proposals/{id}"), &p.resident, &c)
            .await;
        body(res, 200).await;
    }
    let b = json!({"tier": "ordinary", "note": "议事会受理"});
    let v = body(step(p, &p.staff, id, "accept", b).await, 200).await;
    assert_eq!(v["step"], "deliberating", "{v}");
    p.app
        .clock
        .advance(Duration::days(7) + Duration::minutes(1));
    let (voter, _) = voter(&p.app, &p.root, p.household, "王议").await;
    let v = body(step(p, &p.staff, id, "open-decision", json!({})).await, 200).await;
    assert_eq!(v["step"], "deciding", "{v}");
    let poll = v["decision"]["poll_id"].as_str().unwrap().to_string();
    Deciding { poll, voter }
}

/// The resident on the roll answers every question of the decision poll with its option
/// `option` (0 yes, 1 no).
pub(crate) async fn vote(p: &Place, d: &Deciding, option: usize) {
    let (poll, token) = (&d.poll, &d.voter);
    let v = body(
        p.app.get(&format!("/api/v1/polls/{poll}"), token).await,
        200,
    )
    .await;
    let answers: Vec<Value> = v["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| json!({"question_id": q["id"], "option_ids": [q["options"][option]["id"]]}))
        .collect();
    let res = p
        .app
        .post(
            &format!("/api/v1/polls/{poll}/ballots"),
            token,
            &json!({"answers": answers}),
        )
        .await;
    body(res, 201).await;
}

/// The open poll runs out (after `days`) and the polls' job closes it, as a replica would.
pub(crate) async fn polls_close(p: &Place, days: i64) {
    p.app
        .clock
        .advance(Duration::days(days) + Duration::minutes(1));
    let round = linli::polls::jobs::run_due(&p.app.state.db, p.app.state.clock.now())
        .await
        .expect("the polls' job");
    assert_eq!(round.closed, 1);
}

/// The resident on the roll votes yes; the poll runs out and the polls' job closes it
/// (passed). The proposal's detail afterwards.
pub(crate) async fn decided(p: &Place, id: Uuid, d: &Deciding) -> Value {
    vote(p, d, 0).await;
    polls_close(p, 7).await;
    let v = p.get(&p.staff, &format!("/api/v1/proposals/{id}")).await;
    assert_eq!(v["decision"]["outcome"], "passed", "{v}");
    v
}

/// A new proposal `title` of the place, passed with a budget of `budget_fen`: raising.
pub(crate) async fn raising(p: &Place, title: &str, budget_fen: i64) -> Uuid {
    let id = proposal(p, title).await;
    let d = deciding(p, id, Some(json!({"budget_fen": budget_fen}))).await;
    let v = decided(p, id, &d).await;
    assert_eq!(v["step"], "raising", "{v}");
    id
}

/// A new proposal `title` of the place, passed without a budget: straight to implementing.
pub(crate) async fn implementing(p: &Place, title: &str) -> Uuid {
    let id = proposal(p, title).await;
    let d = deciding(p, id, None).await;
    let v = decided(p, id, &d).await;
    assert_eq!(v["step"], "implementing", "{v}");
    id
}

/// A new resident of H (on the roster, with an account) whom staff name the lead of proposal
/// `id`: their token.
pub(crate) async fn lead(p: &Place, id: Uuid) -> String {
    let (token, user) = voter(&p.app, &p.root, p.household, "李领").await;
    let res = step(p, &p.staff, id, "set-lead", json!({"user_id": user})).await;
    body(res, 200).await;
    token
}

/// Staff start the work of raising proposal `id` (its lead named, its budget committed).
pub(crate) async fn start(p: &Place, id: Uuid) -> Value {
    let res = step(p, &p.staff, id, "start-implementation", json!({})).await;
    let v = body(res, 200).await;
    assert_eq!(v["step"], "implementing", "{v}");
    v
}
