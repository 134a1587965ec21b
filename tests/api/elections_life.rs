//! An election's life through its poll (§A4.3, §A9 17–20): officers never candidates, the
//! contested-seat guard, certification by two distinct officers once ballots reconcile,
//! results that start office terms whose role grants end with the term, and a runoff for a
//! tie at the cut-off. These tests drive the poll engine (`src/polls`).

use chrono::Duration;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::elections::{
    building_leader, create, json_of, officer, resident, step, unmet, verb, w, W,
};
use crate::helpers::*;

/// A person: token, user id, resident id (nil for staff officers).
#[derive(Clone)]
pub struct P {
    pub token: String,
    pub user: Uuid,
    pub resident: Uuid,
}

pub struct Life {
    pub w: W,
    pub id: String,
    pub chair: P,
    pub scrutineer: P,
    /// Residents of three households of the building.
    pub r: Vec<P>,
}

pub async fn life(rules: Option<Value>) -> Life {
    let w = w().await;
    let mut body = building_leader(&w, 30);
    if let Some(r) = rules {
        body["rules"] = r;
    }
    let e = create(&w, body).await;
    let id = e["id"].as_str().unwrap().to_string();
    let mut r = Vec::new();
    for (h, name, g) in [
        (w.t.household, "王一", "male"),
        (w.h2, "李二", "female"),
        (w.h3, "赵三", "female"),
    ] {
        let (token, user, resident) = resident(&w, h, name, g).await;
        r.push(P {
            token,
            user,
            resident,
        });
    }
    let (t1, u1) = officer(&w).await;
    let (t2, u2) = officer(&w).await;
    let chair = P {
        token: t1,
        user: u1,
        resident: Uuid::nil(),
    };
    let scrutineer = P {
        token: t2,
        user: u2,
        resident: Uuid::nil(),
    };
    Life {
        w,
        id,
        chair,
        scrutineer,
        r,
    }
}

impl Life {
    pub async fn add_officer(&self, user: Uuid, role: &str) -> Response {
        self.w
            .app
            .post(
                &format!("/api/v1/elections/{}/officers", self.id),
                &self.w.staff,
                &json!({"user_id": user, "role": role}),
            )
            .await
    }

    pub async fn officers(&self) {
        let res = self.add_officer(self.chair.user, "chair").await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let res = self.add_officer(self.scrutineer.user, "scrutineer").await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }

    pub fn position(&self, e: &Value) -> String {
        e["positions"][0]["id"].as_str().unwrap().to_string()
    }

    pub async fn election(&self) -> Value {
        json_of(
            self.w
                .app
                .get(&format!("/api/v1/elections/{}", self.id), &self.w.staff)
                .await,
            StatusCode::OK,
        )
        .await
    }

    pub async fn nominate(&self, who: &P) -> Response {
        let e = self.election().await;
        self.w
            .app
            .post(
                &format!("/api/v1/elections/{}/candidates", self.id),
                &who.token,
                &json!({"position_id": self.position(&e), "statement": "愿为邻居服务"}),
            )
            .await
    }

    pub async fn candidate(&self, who: &P) -> String {
        let c = json_of(self.nominate(who).await, StatusCode::CREATED).await;
        assert_eq!(c["nomination_kind"], "self");
        let id = c["id"].as_str().unwrap().to_string();
        let q = json_of(
            self.w
                .app
                .post(
                    &format!("/api/v1/candidates/{id}/qualify"),
                    &self.w.staff,
                    &json!({}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(q["status"], "qualified");
        id
    }

    /// Draft → nominating.
    pub async fn to_nominating(&self) {
        assert_eq!(
            step(&self.w, &self.id, "publish-roll").await["status"],
            "roll_published"
        );
        assert_eq!(
            step(&self.w, &self.id, "open-nominations").await["status"],
            "nominating"
        );
    }

    /// The poll's question and the option of each candidate id.
    pub async fn ballot_paper(&self) -> (String, Value) {
        let e = self.election().await;
        let poll = e["poll_id"].as_str().unwrap();
        let p = json_of(
            self.w
                .app
                .get(&format!("/api/v1/polls/{poll}"), &self.r[0].token)
                .await,
            StatusCode::OK,
        )
        .await;
        (poll.to_string(), p["questions"][0].clone())
    }

    pub async fn cast(&self, voter: &P, candidate: &str) {
        let (poll, q) = self.ballot_paper().await;
        let option = q["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["candidate_id"] == candidate)
            .unwrap()["id"]
            .clone();
        let res = self
            .w
            .app
            .post(
                &format!("/api/v1/polls/{poll}/ballots"),
                &voter.token,
                &json!({"answers": [{"question_id": q["id"], "option_ids": [option]}]}),
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "{}",
            res.text().await.unwrap()
        );
    }
}

#[tokio::test]
async fn election_officer_cannot_be_candidate() {
    let l = life(None).await;
    l.officers().await;
    l.to_nominating().await;
    // A candidate cannot be appointed officer.
    let c = json_of(l.nominate(&l.r[0]).await, StatusCode::CREATED).await;
    assert_eq!(c["display_name"], "王一");
    let guards = unmet(l.add_officer(l.r[0].user, "teller").await).await;
    assert_eq!(guards, vec!["user_id:not_allowed"]);
    // An officer cannot be nominated (by themself, or by staff on behalf).
    let res = l.add_officer(l.r[1].user, "teller").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let guards = unmet(l.nominate(&l.r[1]).await).await;
    assert_eq!(guards, vec!["resident_id:not_allowed"]);
    let e = l.election().await;
    let res =
        l.w.app
            .post(
                &format!("/api/v1/elections/{}/candidates", l.id),
                &l.w.staff,
                &json!({"position_id": l.position(&e), "resident_id": l.r[1].resident,
                    "statement": "居民小组推荐", "kind": "group"}),
            )
            .await;
    assert_eq!(unmet(res).await, vec!["resident_id:not_allowed"]);
    // A candidate who withdrew may serve; it is no candidate any more.
    let res =
        l.w.app
            .post(
                &format!("/api/v1/candidates/{}/withdraw", c["id"].as_str().unwrap()),
                &l.r[0].token,
                &json!({"reason": "身体原因"}),
            )
            .await;
    assert_eq!(json_of(res, StatusCode::OK).await["status"], "withdrawn");
    let res = l.add_officer(l.r[0].user, "teller").await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn publish_candidates_requires_more_candidates_than_seats_when_contested() {
    let l = life(None).await;
    l.officers().await;
    l.to_nominating().await;
    l.candidate(&l.r[0]).await;
    // One qualified candidate for one contested seat: refused, naming the position.
    let guards = unmet(verb(&l.w, &l.w.staff, &l.id, "publish-candidates").await).await;
    assert_eq!(guards, vec!["positions[0]:too_few"]);
    l.candidate(&l.r[1]).await;
    // Too late as well as fine on candidates: only the deadline is named.
    l.w.app.clock.advance(Duration::days(26));
    let guards = unmet(verb(&l.w, &l.w.staff, &l.id, "publish-candidates").await).await;
    assert_eq!(guards, vec!["candidates_publish_days:too_late"]);
}

#[tokio::test]
async fn an_uncontested_election_publishes_one_candidate_for_one_seat() {
    let mut rules = serde_json::to_value(json!({
        "validity_num": 1, "validity_den": 2, "validity_strict": true, "win_num": 1,
        "win_den": 2, "win_strict": true, "runoff_min_num": 1, "runoff_min_den": 3,
        "contested": false, "min_women": 0, "roll_publish_days": 20,
        "candidates_publish_days": 5, "joint_nominators_min": 3}))
    .unwrap();
    rules["contested"] = json!(false);
    let l = life(Some(rules)).await;
    l.officers().await;
    l.to_nominating().await;
    l.candidate(&l.r[0]).await;
    let e = step(&l.w, &l.id, "publish-candidates").await;
    assert_eq!(e["status"], "candidates_published");
}

#[tokio::test]
async fn open_voting_names_every_unmet_guard() {
    let l = life(None).await;
    l.to_nominating().await;
    l.candidate(&l.r[0]).await;
    l.candidate(&l.r[1]).await;
    step(&l.w, &l.id, "publish-candidates").await;
    // An objection still pending, no officers, no scrutineer.
    let o = json_of(
        l.w.app
            .post(
                &format!("/api/v1/elections/{}/objections", l.id),
                &l.r[2].token,
                &json!({"resident_id": l.r[2].resident, "kind": "correct", "reason": "出生日期有误"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let mut guards = unmet(verb(&l.w, &l.w.staff, &l.id, "open-voting").await).await;
    guards.sort();
    assert_eq!(
        guards,
        vec![
            "objections:pending",
            "officers:too_few",
            "scrutineer:required"
        ]
    );
    let res =
        l.w.app
            .post(
                &format!(
                    "/api/v1/roll-objections/{}/decide",
                    o["id"].as_str().unwrap()
                ),
                &l.w.staff,
                &json!({"accept": false, "note": "经核实无误"}),
            )
            .await;
    assert_eq!(json_of(res, StatusCode::OK).await["status"], "rejected");
    l.add_officer(l.chair.user, "chair").await;
    let guards = unmet(verb(&l.w, &l.w.staff, &l.id, "open-voting").await).await;
    assert_eq!(guards, vec!["officers:too_few", "scrutineer:required"]);
    l.add_officer(l.scrutineer.user, "scrutineer").await;
    assert_eq!(step(&l.w, &l.id, "open-voting").await["status"], "voting");
    // Officers cannot change once voting opens.
    let res = l.add_officer(l.r[2].user, "teller").await;
    assert_problem(res, 409, "wrong_status").await;
}

/// Draft to published, household method, one seat: 王一 2 votes, 李二 1 vote.
#[tokio::test]
async fn publish_results_creates_terms_and_role_grants_that_expire_with_the_term() {
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
    assert_eq!(
        step(&l.w, &l.id, "close-voting").await["status"],
        "counting"
    );
    // Results are not public before publication.
    let res =
        l.w.app
            .get(&format!("/api/v1/elections/{}/results", l.id), &l.w.staff)
            .await;
    assert_problem(res, 404, "not_found").await;
    assert_eq!(
        json_of(
            verb(&l.w, &l.chair.token, &l.id, "certify").await,
            StatusCode::OK
        )
        .await["certifications"],
        1
    );
    let e = json_of(
        verb(&l.w, &l.scrutineer.token, &l.id, "certify").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(e["status"], "certified");
    let e = step(&l.w, &l.id, "publish-results").await;
    assert_eq!(e["status"], "published");

    let r = json_of(
        l.w.app
            .get(
                &format!("/api/v1/elections/{}/results", l.id),
                &l.r[2].token,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["registered"], 3);
    assert_eq!(r["participants"], 3);
    assert_eq!(r["validity_met"], true);
    let cs = r["positions"][0]["candidates"].as_array().unwrap();
    assert_eq!(cs[0]["id"], a.as_str());
    assert_eq!(cs[0]["votes"], 2);
    assert_eq!(cs[0]["rank"], 1);
    assert_eq!(cs[0]["status"], "elected");
    assert_eq!(cs[1]["status"], "not_elected");

    // The winner's term: by election, three years, with the building-leader role until its end.
    let terms = json_of(
        l.w.app
            .get(
                &format!("/api/v1/office-terms?scope_id={}", l.w.t.building),
                &l.w.staff,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let term = &terms["items"][0];
    assert_eq!(terms["items"].as_array().unwrap().len(), 1);
    assert_eq!(term["source"], "election");
    assert_eq!(term["display_name"], "王一");
    assert_eq!(term["position"], "楼组长");
    let ends_on = term["ends_on"].as_str().unwrap().to_string();
    let me = json_of(
        l.w.app.get("/api/v1/me", &l.r[0].token).await,
        StatusCode::OK,
    )
    .await;
    let role = me["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "building_leader")
        .expect("the winner leads the building")
        .clone();
    assert_eq!(role["source_term_id"], term["id"]);
    assert_eq!(role["valid_until"], format!("{ends_on}T16:00:00.000Z"));
    // Past the term, the role is gone.
    l.w.app.clock.advance(Duration::days(3 * 366 + 1));
    let me = json_of(
        l.w.app.get("/api/v1/me", &l.r[0].token).await,
        StatusCode::OK,
    )
    .await;
    assert!(!me["roles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["role"] == "building_leader"));
}

#[tokio::test]
async fn certify_requires_two_distinct_officers_and_ballot_reconciliation() {
    let l = life(None).await;
    l.officers().await;
    l.to_nominating().await;
    let a = l.candidate(&l.r[0]).await;
    let b = l.candidate(&l.r[1]).await;
    // 赵三 stood and withdrew, then served as teller: once a candidate, never a certifier.
    let c = json_of(l.nominate(&l.r[2]).await, StatusCode::CREATED).await;
    l.w.app
        .post(
            &format!("/api/v1/candidates/{}/withdraw", c["id"].as_str().unwrap()),
            &l.r[2].token,
            &json!({"reason": "改任计票人"}),
        )
        .await;
    assert_eq!(
        l.add_officer(l.r[2].user, "teller").await.status(),
        StatusCode::CREATED
    );
    step(&l.w, &l.id, "publish-candidates").await;
    step(&l.w, &l.id, "open-voting").await;
    l.cast(&l.r[0], &a).await;
    l.cast(&l.r[1], &b).await;
    // A paper box issued to the third household, its count not confirmed.
    let (poll, q) = l.ballot_paper().await;
    let bx = json_of(
        l.w.app
            .post(
                &format!("/api/v1/polls/{poll}/boxes"),
                &l.chair.token,
                &json!({"label": "流动票箱1", "issued_count": 1}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let bx = bx["id"].as_str().unwrap();
    let res =
        l.w.app
            .post(
                &format!("/api/v1/poll-boxes/{bx}/mark-voter"),
                &l.chair.token,
                &json!({"voter_key": l.w.h3}),
            )
            .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    // Certifying while voting is refused by status; then voting closes.
    assert_problem(
        verb(&l.w, &l.chair.token, &l.id, "certify").await,
        409,
        "wrong_status",
    )
    .await;
    step(&l.w, &l.id, "close-voting").await;
    let option_a = q["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["candidate_id"] == a.as_str())
        .unwrap()["id"]
        .clone();
    let res =
        l.w.app
            .post(
                &format!("/api/v1/poll-boxes/{bx}/tally"),
                &l.chair.token,
                &json!({"counts": [{"option_id": option_a, "votes": 1}], "returned_count": 1}),
            )
            .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let guards = unmet(verb(&l.w, &l.chair.token, &l.id, "certify").await).await;
    assert_eq!(guards, vec!["boxes:pending"]);
    // The teller who once stood is refused as a certifier, whatever else holds.
    let guards = unmet(verb(&l.w, &l.r[2].token, &l.id, "certify").await).await;
    assert!(
        guards.contains(&"candidate:not_allowed".to_string()),
        "{guards:?}"
    );
    // A second teller (赵三) confirms the box; one officer certifies, and again is refused.
    let res =
        l.w.app
            .post(
                &format!("/api/v1/poll-boxes/{bx}/confirm"),
                &l.r[2].token,
                &json!({"counts": [{"option_id": option_a, "votes": 1}], "returned_count": 1}),
            )
            .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let e = json_of(
        verb(&l.w, &l.chair.token, &l.id, "certify").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(e["certifications"], 1);
    let guards = unmet(verb(&l.w, &l.chair.token, &l.id, "certify").await).await;
    assert_eq!(guards, vec!["officers:duplicate"]);
    // Staff who are not officers may not certify.
    let guards = unmet(verb(&l.w, &l.w.staff, &l.id, "certify").await).await;
    assert!(
        guards.contains(&"officer:not_allowed".to_string()),
        "{guards:?}"
    );
    let e = json_of(
        verb(&l.w, &l.scrutineer.token, &l.id, "certify").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(e["status"], "certified");
    assert_eq!(e["certifications"], 2);
}

#[tokio::test]
async fn a_tie_at_the_cut_off_goes_to_a_runoff_and_the_runoff_elects() {
    let l = life(None).await;
    l.officers().await;
    l.to_nominating().await;
    let a = l.candidate(&l.r[0]).await;
    let b = l.candidate(&l.r[1]).await;
    step(&l.w, &l.id, "publish-candidates").await;
    step(&l.w, &l.id, "open-voting").await;
    l.cast(&l.r[0], &a).await;
    l.cast(&l.r[1], &b).await;
    step(&l.w, &l.id, "close-voting").await;
    verb(&l.w, &l.chair.token, &l.id, "certify").await;
    verb(&l.w, &l.scrutineer.token, &l.id, "certify").await;
    // 1 : 1 of 2 ballots: nobody has more than half; the seat goes to a runoff.
    let guards = unmet(verb(&l.w, &l.w.staff, &l.id, "publish-results").await).await;
    assert_eq!(guards, vec!["positions[0]:runoff_required"]);
    let e = l.election().await;
    let first_poll = e["poll_id"].clone();
    let res = l
        .w
        .app
        .post(
            &format!("/api/v1/elections/{}/runoff", l.id),
            &l.w.staff,
            &json!({"position_id": l.position(&e), "voting_ends_at": (chrono::Utc::now() + Duration::days(10)).to_rfc3339()}),
        )
        .await;
    let e = json_of(res, StatusCode::OK).await;
    assert_eq!(e["status"], "voting");
    assert_ne!(e["poll_id"], first_poll);
    assert_eq!(e["certifications"], 0);
    let (_, q) = l.ballot_paper().await;
    assert_eq!(
        q["options"].as_array().unwrap().len(),
        2,
        "both tied candidates stand"
    );
    l.cast(&l.r[0], &a).await;
    l.cast(&l.r[1], &a).await;
    l.cast(&l.r[2], &b).await;
    step(&l.w, &l.id, "close-voting").await;
    verb(&l.w, &l.chair.token, &l.id, "certify").await;
    verb(&l.w, &l.scrutineer.token, &l.id, "certify").await;
    let e = step(&l.w, &l.id, "publish-results").await;
    assert_eq!(e["status"], "published");
    let r = json_of(
        l.w.app
            .get(&format!("/api/v1/elections/{}/results", l.id), &l.w.staff)
            .await,
        StatusCode::OK,
    )
    .await;
    let cs = r["positions"][0]["candidates"].as_array().unwrap();
    assert_eq!(cs[0]["id"], a.as_str());
    assert_eq!(cs[0]["status"], "elected");
}

#[tokio::test]
async fn an_election_whose_voting_time_ends_moves_to_counting_once_with_two_job_runners() {
    let l = life(None).await;
    l.officers().await;
    l.to_nominating().await;
    l.candidate(&l.r[0]).await;
    l.candidate(&l.r[1]).await;
    step(&l.w, &l.id, "publish-candidates").await;
    step(&l.w, &l.id, "open-voting").await;
    l.w.app.clock.advance(Duration::days(32));
    let now = l.w.app.state.clock.now();
    let (x, y) = tokio::join!(
        linli::elections::jobs::count_due(&l.w.app.state.db, now),
        linli::elections::jobs::count_due(&l.w.app.state.db, now),
    );
    assert_eq!(x.unwrap() + y.unwrap(), 1);
    assert_eq!(l.election().await["status"], "counting");
}

#[tokio::test]
async fn turnout_at_half_voids_the_election_at_publication() {
    let l = life(None).await;
    l.officers().await;
    l.to_nominating().await;
    let a = l.candidate(&l.r[0]).await;
    l.candidate(&l.r[1]).await;
    step(&l.w, &l.id, "publish-candidates").await;
    step(&l.w, &l.id, "open-voting").await;
    l.cast(&l.r[0], &a).await;
    step(&l.w, &l.id, "close-voting").await;
    verb(&l.w, &l.chair.token, &l.id, "certify").await;
    verb(&l.w, &l.scrutineer.token, &l.id, "certify").await;
    // 1 of 3 households voted: not more than half.
    let e = step(&l.w, &l.id, "publish-results").await;
    assert_eq!(e["status"], "void");
    assert!(e["end_reason"].as_str().unwrap().contains("未达到"));
}
