//! Deliberation on proposals (§A2 rule 8): comments are open in every non-terminal step
//! (`deciding` included) and read-only once the proposal ended; property staff of the compound
//! speak as 物业; whoever cannot read the proposal neither reads nor writes its comments; the
//! counts leave hidden, deleted and held comments out.

use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::comments::{world, World};
use crate::helpers::*;

async fn json_of(res: reqwest::Response, want: StatusCode, what: &str) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, want, "{what}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A proposal for the compound, by 王小明.
async fn proposal(w: &World) -> String {
    let res = w
        .app
        .post(
            "/api/v1/proposals",
            &w.wang,
            &json!({"scope_type": "compound", "scope_id": w.t.compound, "title": "加装电梯",
                    "body": "3栋老人多，上下楼难，建议加装电梯。", "category": "公共设施"}),
        )
        .await;
    json_of(res, StatusCode::CREATED, "propose").await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Puts a proposal in `step` directly (the verbs that get there belong to the proposals
/// branch's tests).
async fn set_step(w: &World, id: &str, step: entity::proposal::Step) {
    let id: Uuid = id.parse().unwrap();
    let p = entity::proposal::Entity::find_by_id(id)
        .one(&w.app.state.db)
        .await
        .unwrap()
        .expect("the proposal");
    let mut m: entity::proposal::ActiveModel = p.into();
    m.step = Set(step);
    m.update(&w.app.state.db).await.unwrap();
}

#[tokio::test]
async fn proposal_comments_are_open_until_it_ends_and_read_only_after() {
    let w = world("议事甲").await;
    let id = proposal(&w).await;
    let path = format!("/api/v1/proposals/{id}/comments");
    let say = |token: &str, body: Value| {
        let (w, token, path) = (&w, token.to_string(), path.clone());
        async move { w.app.post(&path, &token, &body).await }
    };
    let c = json_of(
        say(&w.li, json!({"body": "支持", "alignment": "for"})).await,
        StatusCode::CREATED,
        "li",
    )
    .await;
    assert_eq!(c["author_display"], "3栋 李**");
    assert_eq!(c["subject_type"], "proposal");
    let p = json_of(
        say(
            &w.property,
            json!({"body": "物业配合", "parent_id": c["id"]}),
        )
        .await,
        StatusCode::CREATED,
        "property",
    )
    .await;
    assert_eq!(p["author_display"], "物业");
    json_of(
        say(
            &w.zhao,
            json!({"body": "反对，挡光", "alignment": "against"}),
        )
        .await,
        StatusCode::CREATED,
        "zhao",
    )
    .await;
    // Held, and hidden: neither counts.
    let held = json_of(
        say(
            &w.wang,
            json!({"body": "私下联系我 [review]", "alignment": "for"}),
        )
        .await,
        StatusCode::CREATED,
        "held",
    )
    .await;
    assert_eq!(held["status"], "pending_review");
    let page = json_of(w.app.get(&path, &w.zhao).await, StatusCode::OK, "list").await;
    assert_eq!(
        page["counts"],
        json!({"for": 1, "against": 1, "neutral": 1, "total": 3})
    );
    // In `deciding` the text is frozen but comments stay open.
    set_step(&w, &id, entity::proposal::Step::Deciding).await;
    json_of(
        say(&w.zhao, json!({"body": "投票前再说一句"})).await,
        StatusCode::CREATED,
        "deciding",
    )
    .await;
    // An outsider reads nothing of it.
    let res = w.app.get(&path, &w.outsider).await;
    assert_problem(res, 404, "not_found").await;
    let res = say(&w.outsider, json!({"body": "路过"})).await;
    assert_problem(res, 404, "not_found").await;
    // Ended: read-only.
    set_step(&w, &id, entity::proposal::Step::Failed).await;
    let res = say(&w.li, json!({"body": "还能说吗"})).await;
    assert_problem(res, 409, "comments_closed").await;
    let page = json_of(w.app.get(&path, &w.li).await, StatusCode::OK, "list").await;
    assert_eq!(page["open"], false);
    assert_eq!(page["counts"]["total"], 4);
}

#[tokio::test]
async fn a_withdrawn_proposal_takes_no_more_comments() {
    let w = world("议事乙").await;
    let id = proposal(&w).await;
    let path = format!("/api/v1/proposals/{id}/comments");
    let res = w.app.post(&path, &w.li, &json!({"body": "支持"})).await;
    json_of(res, StatusCode::CREATED, "before").await;
    let res = w
        .app
        .post(
            &format!("/api/v1/proposals/{id}/withdraw"),
            &w.wang,
            &json!({"reason": "先撤回"}),
        )
        .await;
    let p = json_of(res, StatusCode::OK, "withdraw").await;
    assert_eq!(p["step"], "withdrawn", "{p}");
    let res = w.app.post(&path, &w.li, &json!({"body": "之后"})).await;
    assert_problem(res, 409, "comments_closed").await;
    let page = json_of(w.app.get(&path, &w.staff).await, StatusCode::OK, "list").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let _ = &w.root;
}

/// Writes a community's consultation policy (its PUT belongs to the proposals branch).
async fn set_policy(w: &World, comments_per_hour: i32, reports_to_hide: i32) {
    entity::consultation_policy::ActiveModel {
        community_id: Set(w.t.community),
        min_supporters: Set(5),
        support_window_days: Set(30),
        min_deliberation_days: Set(7),
        decision_preset: Set("residents_meeting".into()),
        poll_days: Set(7),
        evaluation_days: Set(14),
        review_after_days: Set(90),
        max_proposals_per_day: Set(3),
        comments_per_hour: Set(comments_per_hour),
        reports_to_hide: Set(reports_to_hide),
        spending_poll_above_fen: Set(500_000),
        version: Set(1),
        updated_by: Set(None),
        updated_at: Set(chrono::Utc::now()),
    }
    .insert(&w.app.state.db)
    .await
    .unwrap();
}

#[tokio::test]
async fn the_communitys_policy_sets_the_hourly_limit_and_the_reports_that_hide() {
    let w = world("议事丙").await;
    set_policy(&w, 2, 2).await;
    let id = proposal(&w).await;
    let path = format!("/api/v1/proposals/{id}/comments");
    let first = json_of(
        w.app.post(&path, &w.wang, &json!({"body": "一"})).await,
        StatusCode::CREATED,
        "1",
    )
    .await;
    json_of(
        w.app.post(&path, &w.wang, &json!({"body": "二"})).await,
        StatusCode::CREATED,
        "2",
    )
    .await;
    let res = w.app.post(&path, &w.wang, &json!({"body": "三"})).await;
    assert_problem(res, 429, "comment_limit").await;
    // Two reports hide it under this policy.
    let cid = first["id"].as_str().unwrap();
    for token in [&w.li, &w.zhao] {
        let res = w
            .app
            .post(
                &format!("/api/v1/comments/{cid}/report"),
                token,
                &json!({"reason": "off_topic"}),
            )
            .await;
        json_of(res, StatusCode::OK, "report").await;
    }
    let c = json_of(
        w.app
            .get(&format!("/api/v1/comments/{cid}"), &w.staff)
            .await,
        StatusCode::OK,
        "get",
    )
    .await;
    assert_eq!(c["status"], "hidden", "{c}");
}

/// The comments on a proposal of `token`'s message centre.
async fn comment_messages(w: &World, token: &str) -> Vec<Value> {
    let v = json_of(
        w.app.get("/api/v1/me/messages?limit=100", token).await,
        StatusCode::OK,
        "messages",
    )
    .await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["event"] == "proposal_commented")
        .cloned()
        .collect()
}

/// A proposal's author hears of each comment on it, a commenter of each reply; nobody of their
/// own words; a comment held for review tells its addressee when a moderator approves it.
#[tokio::test]
async fn a_proposals_author_hears_of_comments_and_a_commenter_of_replies() {
    let w = world("通知").await;
    let id = proposal(&w).await;
    let path = format!("/api/v1/proposals/{id}/comments");
    let say = |token: &str, b: Value| {
        let (app, path, token) = (&w.app, path.clone(), token.to_string());
        async move {
            json_of(
                app.post(&path, &token, &b).await,
                StatusCode::CREATED,
                "comment",
            )
            .await
        }
    };
    say(
        &w.wang,
        json!({"body": "补充：3栋有12户老人", "alignment": "for"}),
    )
    .await;
    assert!(comment_messages(&w, &w.wang).await.is_empty());
    let c = say(
        &w.li,
        json!({"body": "支持加装电梯，费用可以按楼层分摊", "alignment": "for"}),
    )
    .await;
    let m = comment_messages(&w, &w.wang).await;
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["title"], "议题有新评论");
    assert_eq!(m[0]["subject_type"], "proposal");
    assert_eq!(m[0]["subject_id"], id.as_str());
    let body = m[0]["body"].as_str().unwrap();
    assert!(
        body.contains("加装电梯") && body.contains("支持加装电梯"),
        "{body}"
    );
    assert!(
        !body.contains("李四"),
        "the commenter is shown masked: {body}"
    );
    say(
        &w.zhao,
        json!({"body": "低层住户可能不同意", "alignment": "against", "parent_id": c["id"]}),
    )
    .await;
    let m = comment_messages(&w, &w.li).await;
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["title"], "您的评论有新回复");
    assert_eq!(comment_messages(&w, &w.wang).await.len(), 1);
    // Held for review: nobody hears until a moderator approves it.
    let held = say(
        &w.zhao,
        json!({"body": "加我微信便宜卖房 [review]", "alignment": "neutral"}),
    )
    .await;
    assert_eq!(held["status"], "pending_review", "{held}");
    assert_eq!(comment_messages(&w, &w.wang).await.len(), 1);
    let res = w
        .app
        .post(
            &format!("/api/v1/comments/{}/approve", held["id"].as_str().unwrap()),
            &w.staff,
            &json!({}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    assert_eq!(comment_messages(&w, &w.wang).await.len(), 2);
}
