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

pub(crate) async fn ok_json(res: reqwest::Response, want: StatusCode, what: &str) -> Value {
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
    pub(crate) fn comments(&self) -> String {
        format!("/api/v1/notices/{}/comments", self.notice)
    }

    /// Posts a comment on the notice as `token`; asserts 201 and returns it.
    pub(crate) async fn say(&self, token: &str, body: Value) -> Value {
        let res = self.app.post(&self.comments(), token, &body).await;
        ok_json(res, StatusCode::CREATED, "comment").await
    }

    pub(crate) async fn page(&self, token: &str, query: &str) -> Value {
        let res = self
            .app
            .get(&format!("{}{query}", self.comments()), token)
            .await;
        ok_json(res, StatusCode::OK, "list").await
    }

    pub(crate) async fn ids(&self, token: &str, query: &str) -> Vec<String> {
        self.page(token, query).await["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    }

    pub(crate) async fn act(
        &self,
        token: &str,
        id: &str,
        verb: &str,
        body: Value,
    ) -> reqwest::Response {
        self.app
            .post(&format!("/api/v1/comments/{id}/{verb}"), token, &body)
            .await
    }
}

pub(crate) fn id(v: &Value) -> String {
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
