//! Deliberation (§A2) through HTTP: comments on a notice (the proposal subject follows in
//! `comments_proposals`), authors shown as building and masked surname, the content check
//! (held for review, an outage held too, risky refused), counts that leave hidden, deleted and
//! held comments out, reports once per user and the automatic hiding at three, privacy first in
//! the queue, a hidden parent keeping its replies, moderators' audited decisions, the hourly
//! limit, and closed subjects.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::ticket_world::{member, uname};
use crate::wechat::{spawn_with_fake, wechat_login_ok, Fake};

pub(crate) struct World {
    pub app: TestApp,
    pub _fake: Fake,
    pub root: String,
    pub t: Territory,
    /// Community staff (moderates), a council member (moderates), property staff of the
    /// company serving the compound.
    pub staff: String,
    pub council: String,
    pub property: String,
    /// WeChat residents on the roster: 王小明 and 李四 of 3栋 (two households), 赵五 of 5栋.
    pub wang: String,
    pub li: String,
    pub zhao: String,
    /// A resident of another community.
    pub outsider: String,
    /// A notice published to the community.
    pub notice: String,
}

async fn ok_json(res: reqwest::Response, want: StatusCode, what: &str) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, want, "{what}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A roster resident of `household` signed in with WeChat and bound by their phone.
pub(crate) async fn wx_resident(
    app: &TestApp,
    staff: &str,
    household: Uuid,
    name: &str,
    phone: &str,
) -> String {
    let res = app
        .post(
            "/api/v1/residents",
            staff,
            &json!({"household_id": household, "name": name, "phone": phone}),
        )
        .await;
    ok_json(res, StatusCode::CREATED, "roster entry").await;
    let token = token_of(&wechat_login_ok(app, &format!("user:o-{}", uname("wx"))).await);
    let res = app
        .post(
            "/api/v1/me/phone",
            &token,
            &json!({"code": format!("phone:{phone}")}),
        )
        .await;
    let v = ok_json(res, StatusCode::OK, "bind phone").await;
    assert_eq!(v["bound"], true, "{v}");
    token
}

pub(crate) async fn world(tag: &str) -> World {
    let (app, fake) = spawn_with_fake().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, tag).await;
    let company = app
        .create(
            &root,
            "property-companies",
            json!({"street_id": t.street, "name": format!("{tag}物业")}),
        )
        .await;
    let res = app
        .patch(
            &format!("/api/v1/compounds/{}", t.compound),
            &root,
            &json!({"property_company_id": company}),
        )
        .await;
    ok_json(res, StatusCode::OK, "serve the compound").await;
    let building = |name: &str| {
        let (app, root) = (&app, root.clone());
        let body = json!({"compound_id": t.compound, "name": name});
        async move { app.create(&root, "buildings", body).await }
    };
    let b3 = building("3栋").await;
    let b5 = building("5栋").await;
    let hh = |b: Uuid, room: &str| json!({"building_id": b, "unit": "1单元", "room": room});
    let h301 = app.create(&root, "households", hh(b3, "301")).await;
    let h302 = app.create(&root, "households", hh(b3, "302")).await;
    let h501 = app.create(&root, "households", hh(b5, "501")).await;
    let other = app
        .create(
            &root,
            "communities",
            json!({"street_id": t.street, "name": format!("{tag}邻社区")}),
        )
        .await;
    let ko = app
        .create(
            &root,
            "compounds",
            json!({"community_id": other, "name": "邻小区"}),
        )
        .await;
    let bo = app
        .create(
            &root,
            "buildings",
            json!({"compound_id": ko, "name": "9栋"}),
        )
        .await;
    let ho = app.create(&root, "households", hh(bo, "901")).await;
    let (staff, _) = member(
        &app,
        &root,
        &uname("cs"),
        "community_staff",
        "community",
        t.community,
    )
    .await;
    let (council, _) = member(
        &app,
        &root,
        &uname("cm"),
        "council_member",
        "community",
        t.community,
    )
    .await;
    let (property, _) = member(
        &app,
        &root,
        &uname("ps"),
        "property_staff",
        "property_company",
        company,
    )
    .await;
    let wang = wx_resident(&app, &staff, h301, "王小明", "13900000301").await;
    let li = wx_resident(&app, &staff, h302, "李四", "13900000302").await;
    let zhao = wx_resident(&app, &staff, h501, "赵五", "13900000501").await;
    let outsider = wx_resident(&app, &root, ho, "钱七", "13900000901").await;
    let notice = published_notice(&app, &staff, "compound", t.compound, "电梯加装征求意见").await;
    World {
        app,
        _fake: fake,
        root,
        t,
        staff,
        council,
        property,
        wang,
        li,
        zhao,
        outsider,
        notice,
    }
}

pub(crate) async fn published_notice(
    app: &TestApp,
    staff: &str,
    scope_type: &str,
    scope_id: Uuid,
    title: &str,
) -> String {
    let res = app
        .post(
            "/api/v1/notices",
            staff,
            &json!({"scope_type": scope_type, "scope_id": scope_id, "category": "notice",
                    "title": title, "body": "请大家发表意见。"}),
        )
        .await;
    let id = ok_json(res, StatusCode::CREATED, "draft").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .post(&format!("/api/v1/notices/{id}/publish"), staff, &json!({}))
        .await;
    let n = ok_json(res, StatusCode::OK, "publish").await;
    assert_eq!(n["status"], "published", "{n}");
    id
}

impl World {
    fn comments(&self) -> String {
        format!("/api/v1/notices/{}/comments", self.notice)
    }

    /// Posts a comment on the notice as `token`; asserts 201 and returns it.
    async fn say(&self, token: &str, body: Value) -> Value {
        let res = self.app.post(&self.comments(), token, &body).await;
        ok_json(res, StatusCode::CREATED, "comment").await
    }

    async fn page(&self, token: &str, query: &str) -> Value {
        let res = self
            .app
            .get(&format!("{}{query}", self.comments()), token)
            .await;
        ok_json(res, StatusCode::OK, "list").await
    }

    async fn ids(&self, token: &str, query: &str) -> Vec<String> {
        self.page(token, query).await["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    }

    async fn act(&self, token: &str, id: &str, verb: &str, body: Value) -> reqwest::Response {
        self.app
            .post(&format!("/api/v1/comments/{id}/{verb}"), token, &body)
            .await
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn authors_show_as_building_and_masked_surname_or_their_role_never_by_name() {
    let w = world("评论甲").await;
    let c = w
        .say(&w.wang, json!({"body": "支持加装电梯", "alignment": "for"}))
        .await;
    assert_eq!(c["author_display"], "3栋 王**", "{c}");
    assert_eq!(c["author_kind"], "resident");
    assert_eq!(c["author_tag"], Value::Null);
    assert_eq!(c["alignment"], "for");
    assert_eq!(c["status"], "published");
    assert_eq!(c["mine"], true);
    let p = w
        .say(
            &w.property,
            json!({"body": "物业会配合施工", "parent_id": id(&c)}),
        )
        .await;
    assert_eq!(
        (p["author_display"].as_str(), p["author_kind"].as_str()),
        (Some("物业"), Some("property"))
    );
    assert_eq!(p["author_tag"], "物业");
    assert_eq!(p["alignment"], "neutral");
    let s = w
        .say(
            &w.staff,
            json!({"body": "周六开协商会", "alignment": "neutral"}),
        )
        .await;
    assert_eq!(s["author_display"], "社区工作人员");
    assert_eq!(s["author_tag"], "工作人员");
    let k = w
        .say(
            &w.council,
            json!({"body": "议事会已收到", "alignment": "neutral"}),
        )
        .await;
    assert_eq!(k["author_kind"], "council");
    assert_eq!(k["author_tag"], "议事会");
    let z = w
        .say(
            &w.zhao,
            json!({"body": "低层住户有顾虑", "alignment": "against"}),
        )
        .await;
    assert_eq!(z["author_display"], "5栋 赵**");

    // What neighbours read: no name, no phone, no account id.
    let res = w.app.get(&w.comments(), &w.li).await;
    let text = res.text().await.unwrap();
    for secret in ["王小明", "小明", "赵五", "13900000301", "author_user_id"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let page: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        page["counts"],
        json!({"for": 1, "against": 1, "neutral": 3, "total": 5})
    );
    assert_eq!(page["open"], true);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "top-level only: {page}");
    assert_eq!(items[0]["id"], z["id"], "newest first");
    let top = items.iter().find(|i| i["id"] == c["id"]).unwrap();
    assert_eq!(top["reply_count"], 1);
    let replies = w.page(&w.li, &format!("?parent_id={}", id(&c))).await;
    assert_eq!(replies["items"][0]["id"], p["id"]);
    // Moderators see the account behind a comment (never its name).
    let c_as_staff = ok_json(
        w.app
            .get(&format!("/api/v1/comments/{}", id(&c)), &w.staff)
            .await,
        StatusCode::OK,
        "as staff",
    )
    .await;
    assert!(c_as_staff["author_user_id"].is_string(), "{c_as_staff}");
    // A reply to a reply is refused; so is a comment from outside the notice's audience.
    let res = w
        .app
        .post(
            &w.comments(),
            &w.zhao,
            &json!({"body": "再回复", "parent_id": id(&p)}),
        )
        .await;
    assert_problem(res, 400, "validation_failed").await;
    let res = w
        .app
        .post(&w.comments(), &w.outsider, &json!({"body": "路过"}))
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = w.app.get(&w.comments(), &w.outsider).await;
    assert_problem(res, 404, "not_found").await;
}

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
async fn content_check_outage_fails_to_pending_review_not_publish() {
    let w = world("评论丙").await;
    let c = w
        .say(
            &w.wang,
            json!({"body": "[down] 我同意", "alignment": "for"}),
        )
        .await;
    assert_eq!(
        c["status"], "pending_review",
        "never published unchecked: {c}"
    );
    assert!(w.ids(&w.li, "").await.is_empty());
    let staff_view = &w.page(&w.staff, "").await["items"][0];
    assert_eq!(staff_view["check_label"], "check_unavailable");
    assert_eq!(w.page(&w.staff, "").await["counts"]["total"], 0);
    // A slow check is the same (bounded, never a 5xx).
    let slow = w
        .say(
            &w.wang,
            json!({"body": "[slow] 我也同意", "alignment": "for"}),
        )
        .await;
    assert_eq!(slow["status"], "pending_review");
    // A risky text is refused and nothing is stored.
    let res = w
        .app
        .post(&w.comments(), &w.wang, &json!({"body": "[risky] 的话"}))
        .await;
    assert_problem(res, 400, "content_rejected").await;
    assert_eq!(w.ids(&w.wang, "").await.len(), 2);
}

#[tokio::test]
async fn hidden_and_deleted_comments_are_excluded_from_counts_and_exports() {
    let w = world("评论丁").await;
    let a = w
        .say(&w.wang, json!({"body": "支持", "alignment": "for"}))
        .await;
    let b = w
        .say(&w.li, json!({"body": "反对", "alignment": "against"}))
        .await;
    let c = w
        .say(&w.zhao, json!({"body": "再议", "alignment": "neutral"}))
        .await;
    let r = w
        .say(
            &w.li,
            json!({"body": "同意楼上", "alignment": "for", "parent_id": id(&a)}),
        )
        .await;
    let counts = w.page(&w.zhao, "").await["counts"].clone();
    assert_eq!(
        counts,
        json!({"for": 2, "against": 1, "neutral": 1, "total": 4})
    );
    // A moderator hides b (with a reason); its author deletes c.
    let res = w.act(&w.staff, &id(&b), "hide", json!({})).await;
    assert_problem(res, 400, "invalid_body").await;
    let h = ok_json(
        w.act(&w.staff, &id(&b), "hide", json!({"reason": "人身攻击"}))
            .await,
        StatusCode::OK,
        "hide",
    )
    .await;
    assert_eq!(h["status"], "hidden");
    let res = w
        .app
        .delete(&format!("/api/v1/comments/{}", id(&c)), &w.li)
        .await;
    assert_problem(res, 403, "forbidden").await;
    let res = w
        .app
        .delete(&format!("/api/v1/comments/{}", id(&c)), &w.zhao)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = w
        .app
        .delete(&format!("/api/v1/comments/{}", id(&c)), &w.zhao)
        .await;
    assert_problem(res, 404, "not_found").await;
    for token in [&w.zhao, &w.staff] {
        let page = w.page(token, "").await;
        assert_eq!(
            page["counts"],
            json!({"for": 2, "against": 0, "neutral": 0, "total": 2}),
            "{page}"
        );
    }
    // Residents no longer see them (no replies to keep them as placeholders), but for its
    // author the hidden one, without its body; moderators see the hidden one, nobody the
    // deleted one.
    assert_eq!(w.ids(&w.zhao, "").await, vec![id(&a)]);
    let own = w.page(&w.li, "").await;
    assert_eq!(own["items"][0]["id"], b["id"], "{own}");
    assert_eq!(own["items"][0]["body"], Value::Null);
    assert_eq!(own["items"][0]["status_label"], "该评论已被隐藏");
    assert_eq!(w.ids(&w.staff, "").await, vec![id(&b), id(&a)]);
    // The reply still counts and shows.
    assert_eq!(
        w.ids(&w.zhao, &format!("?parent_id={}", id(&a))).await,
        vec![id(&r)]
    );
    let audit = ok_json(
        w.app
            .get("/api/v1/audit-events?action=comment_hide", &w.root)
            .await,
        StatusCode::OK,
        "audit",
    )
    .await;
    assert_eq!(audit["items"][0]["purpose"], "人身攻击", "{audit}");
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

#[tokio::test]
async fn comments_past_the_hourly_limit_are_refused_with_429_and_retry_after() {
    let w = world("评论庚").await;
    for i in 0..20 {
        w.say(&w.li, json!({"body": format!("第{i}条")})).await;
    }
    let res = w
        .app
        .post(&w.comments(), &w.li, &json!({"body": "第21条"}))
        .await;
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=3600).contains(&retry), "{retry}");
    assert_problem(res, 429, "comment_limit").await;
    // Someone else is not limited by it; an hour later the author writes again.
    w.say(&w.zhao, json!({"body": "我还可以"})).await;
    w.app.clock.advance(Duration::minutes(61));
    w.say(&w.li, json!({"body": "一小时后"})).await;
}

#[tokio::test]
async fn comments_are_closed_on_a_withdrawn_notice_and_a_draft() {
    let w = world("评论辛").await;
    let c = w.say(&w.wang, json!({"body": "赶在撤回前"})).await;
    let res = w
        .app
        .post(
            &format!("/api/v1/notices/{}/withdraw", w.notice),
            &w.staff,
            &json!({"reason": "内容有误"}),
        )
        .await;
    ok_json(res, StatusCode::OK, "withdraw").await;
    let res = w
        .app
        .post(&w.comments(), &w.wang, &json!({"body": "还能说吗"}))
        .await;
    assert_problem(res, 409, "comments_closed").await;
    let page = w.page(&w.wang, "").await;
    assert_eq!(page["open"], false);
    assert_eq!(page["items"][0]["id"], c["id"], "read-only, still readable");
    let res = w
        .app
        .post(
            "/api/v1/notices",
            &w.staff,
            &json!({"scope_type": "compound", "scope_id": w.t.compound, "category": "notice",
                    "title": "草稿", "body": "未发布"}),
        )
        .await;
    let draft = ok_json(res, StatusCode::CREATED, "draft").await;
    let res = w
        .app
        .post(
            &format!("/api/v1/notices/{}/comments", id(&draft)),
            &w.staff,
            &json!({"body": "草稿上评论"}),
        )
        .await;
    assert_problem(res, 409, "comments_closed").await;
    let _ = &w.root;
}
