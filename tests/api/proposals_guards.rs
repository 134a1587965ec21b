//! The guards and steps of the proposal verbs the life tests do not walk through: the support
//! window and the author's own household, reject, merge and withdraw ending a proposal once, a
//! budget waiting in `raising` until the money is committed, a hold stopping the completion, and
//! a stale `If-Match`. Each refusal names its guard (409 `guard_failed`) or the step (409
//! `wrong_step`).

use chrono::Duration;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::proposals::{body, forum, Forum};
use crate::proposals_life::{accepted, cast, deciding, two_runners};

/// The proposal `id` as staff read it: its version for `If-Match`.
async fn version(f: &Forum, id: Uuid) -> Option<i64> {
    f.get(&f.staff, id).await["version"].as_i64()
}

/// A decision every household votes yes to, closed by the job: the proposal after the close.
async fn passed(f: &Forum, id: Uuid) -> Value {
    let (_, p) = deciding(f, id).await;
    for t in [&f.r1, &f.r2, &f.r3] {
        assert_eq!(cast(f, t, &p, &[(0, 0)]).await, 201);
    }
    f.app.clock.advance(Duration::days(7));
    assert_eq!(two_runners(f).await, 1);
    f.get(&f.staff, id).await
}

#[tokio::test]
async fn support_is_refused_after_its_window_and_to_the_authors_own_household() {
    let f = forum().await;
    let p = f
        .propose(&f.r1, "compound", f.compound, "小区门口加装护栏")
        .await;
    let id = id_of(&p);
    // r1b lives in the author's household.
    let res = f.verb(&f.r1b, id, "support", json!({}), None).await;
    assert_eq!(f.guards(res).await, vec!["household"]);
    assert_eq!(
        f.verb(&f.r2, id, "support", json!({}), None).await.status(),
        204
    );
    // The default window is 30 days.
    f.app
        .clock
        .advance(Duration::days(30) + Duration::minutes(1));
    let res = f.verb(&f.r3, id, "support", json!({}), None).await;
    assert_eq!(f.guards(res).await, vec!["support_deadline"]);
    let res = f.verb(&f.r1b, id, "support", json!({}), None).await;
    assert_eq!(f.guards(res).await, vec!["support_deadline", "household"]);
    assert_eq!(f.get(&f.r1, id).await["supporters_count"], 1);
}

#[tokio::test]
async fn reject_merge_and_withdraw_end_a_proposal_once() {
    let f = forum().await;
    let a = id_of(&f.propose(&f.r1, "compound", f.compound, "楼道灯常亮").await);
    let b = id_of(&f.propose(&f.r2, "compound", f.compound, "楼道灯不亮").await);
    let c = id_of(
        &f.propose(&f.r3, "compound", f.compound, "楼道照明改造")
            .await,
    );

    // Reject needs a reason the author reads; a stale version is 412 and changes nothing.
    let v = version(&f, a).await;
    let res = f
        .verb(&f.staff, a, "reject", json!({"reason": "  "}), v)
        .await;
    assert_problem(res, 400, "validation_failed").await;
    let res = f
        .verb(
            &f.staff,
            a,
            "reject",
            json!({"reason": "已列入物业年度维修计划"}),
            v.map(|n| n - 1),
        )
        .await;
    assert_eq!(res.status(), 412);
    let res = f
        .verb(
            &f.staff,
            a,
            "reject",
            json!({"reason": "已列入物业年度维修计划"}),
            v,
        )
        .await;
    let rejected = body(res, 200).await;
    assert_eq!(rejected["step"], "rejected");
    let seen = f.get(&f.r1, a).await;
    assert_eq!(seen["reason"], "已列入物业年度维修计划");
    let res = f
        .verb(&f.staff, a, "reject", json!({"reason": "再次"}), None)
        .await;
    assert_problem(res, 409, "wrong_step").await;

    // Merge: not into itself, not into an ended proposal; into an open one of the community.
    let res = f
        .verb(&f.staff, b, "merge", json!({"into_id": b}), None)
        .await;
    assert_eq!(f.guards(res).await, vec!["into_id"]);
    let res = f
        .verb(&f.staff, b, "merge", json!({"into_id": a}), None)
        .await;
    assert_eq!(f.guards(res).await, vec!["into_id"]);
    let res = f
        .verb(&f.staff, b, "merge", json!({"into_id": c}), None)
        .await;
    let merged = body(res, 200).await;
    assert_eq!(merged["step"], "merged");
    assert_eq!(merged["merged_into_id"], c.to_string());
    let res = f
        .verb(&f.staff, b, "merge", json!({"into_id": c}), None)
        .await;
    assert_problem(res, 409, "wrong_step").await;
    // Supporting a merged proposal is the wrong step too.
    let res = f.verb(&f.r1, b, "support", json!({}), None).await;
    assert_problem(res, 409, "wrong_step").await;

    // Only the author withdraws; once.
    let res = f.verb(&f.r1, c, "withdraw", json!({}), None).await;
    assert_eq!(res.status(), 403, "{}", res.text().await.unwrap());
    let res = f
        .verb(&f.r3, c, "withdraw", json!({"reason": "已自行解决"}), None)
        .await;
    assert_eq!(body(res, 200).await["step"], "withdrawn");
    let res = f.verb(&f.r3, c, "withdraw", json!({}), None).await;
    assert_problem(res, 409, "wrong_step").await;
}

#[tokio::test]
async fn a_budget_waits_in_raising_until_the_money_is_committed() {
    let f = forum().await;
    let (id, _) = accepted(&f, "健身角改造").await;
    let res = f
        .app
        .patch(
            &format!("/api/v1/proposals/{id}"),
            &f.staff,
            &json!({"budget_fen": 1_200_000}),
        )
        .await;
    assert_eq!(body(res, 200).await["budget_fen"], 1_200_000);
    let v = passed(&f, id).await;
    // A budget: the passed decision leads to raising, not straight to the work.
    assert_eq!(v["step"], "raising", "{v}");
    assert_eq!(v["committed_fen"], 0);
    let res = f
        .verb(&f.staff, id, "start-implementation", json!({}), None)
        .await;
    assert_eq!(f.guards(res).await, vec!["lead", "committed"]);
    let res = f
        .verb(&f.staff, id, "set-lead", json!({"user_id": f.r2_id}), None)
        .await;
    assert_eq!(res.status(), 200);
    let res = f
        .verb(&f.staff, id, "start-implementation", json!({}), None)
        .await;
    let v = assert_problem(res, 409, "guard_failed").await;
    assert_eq!(v["errors"][0]["field"], "committed");
    assert_eq!(v["errors"][0]["code"], "too_few");
    assert_eq!(f.get(&f.staff, id).await["step"], "raising");
    // Pledges are taken while raising; the proposal itself is not yet being carried out.
    let res = f.verb(&f.r2, id, "complete", json!({}), None).await;
    assert_problem(res, 409, "wrong_step").await;
}

#[tokio::test]
async fn a_hold_stops_the_completion_until_the_work_resumes() {
    let f = forum().await;
    let (id, _) = accepted(&f, "加装楼道扶手").await;
    // Not while deliberating.
    let res = f
        .verb(
            &f.staff,
            id,
            "hold",
            json!({"reason": "等待物业答复"}),
            None,
        )
        .await;
    assert_problem(res, 409, "wrong_step").await;
    let v = passed(&f, id).await;
    assert_eq!(v["step"], "implementing", "{v}");
    let res = f
        .verb(&f.staff, id, "set-lead", json!({"user_id": f.r2_id}), None)
        .await;
    assert_eq!(res.status(), 200);
    // A resident who is not the lead neither holds nor resumes.
    let res = f
        .verb(&f.r3, id, "hold", json!({"reason": "我不同意"}), None)
        .await;
    assert_eq!(res.status(), 403);
    let res = f
        .verb(
            &f.staff,
            id,
            "hold",
            json!({"reason": "等待物业答复"}),
            None,
        )
        .await;
    let v = body(res, 200).await;
    assert_eq!(v["on_hold"], true, "{v}");
    assert_eq!(v["reason"], "等待物业答复");
    let res = f
        .verb(&f.staff, id, "hold", json!({"reason": "再次"}), None)
        .await;
    assert_problem(res, 409, "wrong_step").await;
    let res = f.verb(&f.r2, id, "complete", json!({}), None).await;
    assert_eq!(f.guards(res).await, vec!["completion", "on_hold"]);
    let res = f.verb(&f.staff, id, "resume", json!({}), None).await;
    assert_eq!(body(res, 200).await["on_hold"], false);
    let res = f.verb(&f.staff, id, "resume", json!({}), None).await;
    assert_problem(res, 409, "wrong_step").await;
    let res = f.verb(&f.r2, id, "complete", json!({}), None).await;
    assert_eq!(f.guards(res).await, vec!["completion"]);
}

#[tokio::test]
async fn past_the_decision_a_cancel_needs_a_council_members_cosignature() {
    let f = forum().await;
    // Before the decision one staff member cancels.
    let (early, _) = accepted(&f, "楼顶晾衣架").await;
    let res = f
        .verb(
            &f.staff,
            early,
            "cancel",
            json!({"reason": "重复提议"}),
            None,
        )
        .await;
    assert_eq!(body(res, 200).await["step"], "cancelled");

    let (id, _) = accepted(&f, "单元门口加装雨棚").await;
    let v = passed(&f, id).await;
    assert_eq!(v["step"], "implementing", "{v}");
    let res = f
        .verb(&f.staff, id, "set-lead", json!({"user_id": f.r2_id}), None)
        .await;
    assert_eq!(res.status(), 200);
    // The first cancel is a request: 202, the step unchanged.
    let res = f
        .verb(
            &f.staff,
            id,
            "cancel",
            json!({"reason": "物业将统一施工"}),
            None,
        )
        .await;
    let v = body(res, 202).await;
    assert_eq!(v["step"], "implementing");
    assert!(v["cancel_requested_at"].is_string(), "{v}");
    // Neither the requester again nor someone off the council co-signs.
    let res = f
        .verb(&f.staff, id, "cancel", json!({"reason": "再次"}), None)
        .await;
    assert_eq!(f.guards(res).await, vec!["cosign"]);
    // A pending request is dropped when the step moves: the work is completed.
    let photo = crate::attachments::upload_png(&f.app, &f.r2).await;
    let res = f
        .verb(
            &f.r2,
            id,
            "updates",
            json!({"kind": "completion", "note": "雨棚已装好", "attachment_ids": [photo["id"]]}),
            None,
        )
        .await;
    assert_eq!(res.status(), 201);
    let v = body(f.verb(&f.r2, id, "complete", json!({}), None).await, 200).await;
    assert_eq!(v["step"], "evaluating");
    assert!(v["cancel_requested_at"].is_null(), "{v}");
    // A council member's cancel is then a new request; staff do not co-sign it (the co-signer
    // sits on the council), another council member does.
    let res = f
        .verb(
            &f.council,
            id,
            "cancel",
            json!({"reason": "居民反映雨棚遮挡采光"}),
            None,
        )
        .await;
    assert_eq!(body(res, 202).await["step"], "evaluating");
    let res = f
        .verb(&f.staff, id, "cancel", json!({"reason": "同意"}), None)
        .await;
    assert_eq!(f.guards(res).await, vec!["cosign"]);
    let v = version(&f, id).await;
    let res = f
        .verb(&f.council2, id, "cancel", json!({"reason": "同意取消"}), v)
        .await;
    let v = body(res, 200).await;
    assert_eq!(v["step"], "cancelled");
    assert_eq!(v["reason"], "同意取消");
    let timeline = body(
        f.app
            .get(&format!("/api/v1/proposals/{id}/timeline"), &f.staff)
            .await,
        200,
    )
    .await;
    let kinds: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .filter(|k| k.starts_with("cancel"))
        .collect();
    assert_eq!(
        kinds,
        vec!["cancelled", "cancel_requested", "cancel_requested"]
    );
}

#[tokio::test]
async fn a_proposal_grows_out_of_a_request_its_author_can_see() {
    let f = forum().await;
    let cats = body(
        f.app
            .get(
                &format!("/api/v1/ticket-categories?community_id={}", f.community),
                &f.r1,
            )
            .await,
        200,
    )
    .await;
    let ticket = crate::ticket_world::file(
        &f.app,
        &f.r1,
        &json!({
            "category_id": cats["items"][0]["id"], "title": "楼道堆满杂物",
            "description": "消防通道被堆物占用", "compound_id": f.compound, "building_id": f.b1,
        }),
    )
    .await;
    let app = &f.app;
    let proposal = |token: &str, ticket: &Value| {
        let b = json!({
            "scope_type": "compound", "scope_id": f.compound, "title": "楼道堆物清理",
            "body": "建议统一清理并设置公共储物区。", "category": "环境",
            "source_ticket_id": ticket,
        });
        let token = token.to_string();
        async move { app.post("/api/v1/proposals", &token, &b).await }
    };
    // A neighbour who cannot see the request cannot cite it: as if there were none.
    let res = proposal(&f.r3, &ticket["id"]).await;
    let v = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(v["errors"][0]["field"], "source_ticket_id", "{v}");
    assert_eq!(v["errors"][0]["code"], "not_found", "{v}");
    let res = proposal(&f.r1, &json!(Uuid::now_v7())).await;
    assert_problem(res, 400, "validation_failed").await;
    let p = body(proposal(&f.r1, &ticket["id"]).await, 201).await;
    assert_eq!(p["source_ticket_id"], ticket["id"]);
    assert_eq!(
        f.get(&f.staff, id_of(&p)).await["source_ticket_id"],
        ticket["id"]
    );
}
