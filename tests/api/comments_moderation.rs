//! Moderation of comments (§A2 rules 1, 3, 5) through HTTP: a comment held for review shows to
//! its author and moderators only until passed; reports once per user hide a comment at the
//! policy's count, privacy reports first in the queue; hiding a parent keeps its replies; every
//! decision audited.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::comments::{id, ok_json, world};
use crate::helpers::*;

#[tokio::test]
async fn pending_review_comment_visible_to_author_and_moderators_only() {
    let w = world("评论乙").await;
    let held = w
        .say(
            &w.wang,
            json!({"body": "加我微信便宜卖房 [review]", "alignment": "for"}),
        )
        .await;
    assert_eq!(held["status"], "pending_review", "{held}");
    assert_eq!(held["status_label"], "审核中");
    let hid = id(&held);
    // The author and the moderators (community staff, council) see it; neighbours do not.
    assert_eq!(w.ids(&w.wang, "").await, vec![hid.clone()]);
    assert_eq!(w.ids(&w.staff, "").await, vec![hid.clone()]);
    assert_eq!(w.ids(&w.council, "").await, vec![hid.clone()]);
    for token in [&w.li, &w.zhao, &w.property] {
        assert!(w.ids(token, "").await.is_empty());
        let res = w.app.get(&format!("/api/v1/comments/{hid}"), token).await;
        assert_problem(res, 404, "not_found").await;
    }
    let page = w.page(&w.wang, "").await;
    assert_eq!(page["counts"]["total"], 0, "held comments are not counted");
    let staff_view = &w.page(&w.staff, "").await["items"][0];
    assert_eq!(staff_view["check_label"], "ad");
    // It waits in the queue of the community's moderators; a neighbour cannot pass it.
    let q = ok_json(
        w.app
            .get(
                &format!("/api/v1/moderation/queue?community_id={}", w.t.community),
                &w.staff,
            )
            .await,
        StatusCode::OK,
        "queue",
    )
    .await;
    assert_eq!(q["items"][0]["id"], held["id"]);
    let res = w.act(&w.li, &hid, "approve", json!({})).await;
    assert_problem(res, 404, "not_found").await;
    let res = w.act(&w.wang, &hid, "approve", json!({})).await;
    assert_problem(res, 403, "forbidden").await;
    let ok = ok_json(
        w.act(&w.staff, &hid, "approve", json!({})).await,
        StatusCode::OK,
        "approve",
    )
    .await;
    assert_eq!(ok["status"], "published");
    assert_eq!(w.ids(&w.li, "").await, vec![hid.clone()]);
    assert_eq!(w.page(&w.li, "").await["counts"]["for"], 1);
    let q = w
        .app
        .get("/api/v1/moderation/queue", &w.staff)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert!(q["items"].as_array().unwrap().is_empty(), "{q}");
    let res = w.act(&w.staff, &hid, "approve", json!({})).await;
    assert_problem(res, 409, "wrong_status").await;
    let audit = ok_json(
        w.app
            .get("/api/v1/audit-events?action=comment_approve", &w.root)
            .await,
        StatusCode::OK,
        "audit",
    )
    .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
}

#[tokio::test]
async fn a_comment_is_hidden_at_three_reports_each_user_reporting_once_privacy_first() {
    let w = world("评论戊").await;
    let first = w.say(&w.wang, json!({"body": "第一条"})).await;
    let second = w
        .say(&w.wang, json!({"body": "第二条：501 的老赵天天吵"}))
        .await;
    let report = |token: &str, cid: &Value, reason: &str| {
        let (w, token, cid) = (&w, token.to_string(), id(cid));
        let body = json!({"reason": reason, "note": "请处理"});
        async move { w.act(&token, &cid, "report", body).await }
    };
    let v = ok_json(
        report(&w.li, &first, "spam").await,
        StatusCode::OK,
        "report",
    )
    .await;
    assert_eq!(v["status"], "published");
    let res = report(&w.li, &first, "offensive").await;
    assert_problem(res, 409, "already_reported").await;
    let res = report(&w.wang, &first, "spam").await;
    assert_problem(res, 400, "validation_failed").await;
    ok_json(report(&w.zhao, &first, "spam").await, StatusCode::OK, "2nd").await;
    assert_eq!(w.ids(&w.li, "").await.len(), 2, "two reports hide nothing");
    ok_json(
        report(&w.zhao, &second, "privacy").await,
        StatusCode::OK,
        "privacy",
    )
    .await;
    let v = ok_json(
        report(&w.property, &first, "spam").await,
        StatusCode::OK,
        "3rd",
    )
    .await;
    assert_eq!(v["status"], "hidden", "hidden at three: {v}");
    assert_eq!(w.ids(&w.li, "").await, vec![id(&second)]);
    assert_eq!(w.page(&w.li, "").await["counts"]["total"], 1);
    let res = report(&w.council, &first, "spam").await;
    assert_problem(res, 409, "wrong_status").await;
    // The queue: the privacy report first though it came later, then the hidden one.
    let q = ok_json(
        w.app
            .get("/api/v1/moderation/queue?limit=1", &w.council)
            .await,
        StatusCode::OK,
        "queue",
    )
    .await;
    assert_eq!(q["items"][0]["id"], second["id"], "{q}");
    let next = q["next_cursor"].as_str().unwrap();
    let q2 = ok_json(
        w.app
            .get(
                &format!("/api/v1/moderation/queue?limit=1&cursor={next}"),
                &w.council,
            )
            .await,
        StatusCode::OK,
        "queue 2",
    )
    .await;
    assert_eq!(q2["items"][0]["id"], first["id"], "{q2}");
    assert_eq!(q2["items"][0]["hidden_reason"], "reports");
    assert_eq!(q2["next_cursor"], Value::Null);
    // A moderator shows it again: it counts again and leaves the queue.
    let v = ok_json(
        w.act(
            &w.council,
            &id(&first),
            "unhide",
            json!({"reason": "内容无问题"}),
        )
        .await,
        StatusCode::OK,
        "unhide",
    )
    .await;
    assert_eq!(v["status"], "published");
    assert_eq!(w.page(&w.li, "").await["counts"]["total"], 2);
    let q = w
        .app
        .get("/api/v1/moderation/queue", &w.staff)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(q["items"].as_array().unwrap().len(), 1, "{q}");
}

#[tokio::test]
async fn hiding_a_parent_keeps_its_replies_visible() {
    let w = world("评论己").await;
    let parent = w
        .say(
            &w.wang,
            json!({"body": "楼上总漏水", "alignment": "against"}),
        )
        .await;
    let reply = w
        .say(
            &w.zhao,
            json!({"body": "我家也是", "parent_id": id(&parent)}),
        )
        .await;
    let pid = id(&parent);
    let hidden = ok_json(
        w.act(&w.staff, &pid, "hide", json!({"reason": "涉及他人隐私"}))
            .await,
        StatusCode::OK,
        "hide",
    )
    .await;
    let version = hidden["version"].as_i64().unwrap();
    for token in [&w.li, &w.zhao] {
        let page = w.page(token, "").await;
        let p = &page["items"][0];
        assert_eq!(p["id"], parent["id"], "{page}");
        assert_eq!(p["body"], Value::Null, "no body: {p}");
        assert_eq!(p["status_label"], "该评论已被隐藏");
        assert_eq!(p["reply_count"], 1);
        let replies = w.page(token, &format!("?parent_id={pid}")).await;
        assert_eq!(replies["items"][0]["id"], reply["id"]);
        assert_eq!(replies["items"][0]["body"], "我家也是");
    }
    assert_eq!(
        w.page(&w.li, "").await["counts"]["total"],
        1,
        "the reply counts"
    );
    // Nobody replies to a hidden comment.
    let res = w
        .app
        .post(
            &w.comments(),
            &w.li,
            &json!({"body": "?", "parent_id": pid}),
        )
        .await;
    assert_problem(res, 400, "validation_failed").await;
    // Hiding twice is refused; a stale If-Match is 412; unhide brings the body back.
    let res = w
        .act(&w.staff, &pid, "hide", json!({"reason": "再隐藏"}))
        .await;
    assert_problem(res, 409, "wrong_status").await;
    let res = w
        .app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/comments/{pid}/unhide"),
            Some(&w.staff),
        )
        .header("If-Match", format!("\"{}\"", version - 1))
        .json(&json!({"reason": "已核实"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 412, "precondition_failed").await;
    ok_json(
        w.act(&w.staff, &pid, "unhide", json!({"reason": "已核实"}))
            .await,
        StatusCode::OK,
        "unhide",
    )
    .await;
    assert_eq!(w.page(&w.li, "").await["items"][0]["body"], "楼上总漏水");
    let audit = ok_json(
        w.app
            .get("/api/v1/audit-events?action=comment_unhide", &w.root)
            .await,
        StatusCode::OK,
        "audit",
    )
    .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1);
}
