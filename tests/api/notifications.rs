//! The notification outbox: ticket changes queue notifications in the same transaction, the
//! worker (`jobs::outbox::deliver_due`) sends them as WeChat subscribe messages to the fake WeChat
//! server, with retries, and staff in scope see the delivery state.

use chrono::Duration;
use linli::app::jobs::outbox::{deliver_due, OutboxRound};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::ticket_world::*;
use crate::wechat::{me, spawn_with_fake_and, wechat_login_ok, Fake};

const STATUS_TEMPLATE: &str = "tmpl-status-changed";
const ASSIGNED_TEMPLATE: &str = "tmpl-assigned";

/// An app talking to the fake WeChat, a ticket world, and a resident of the world's household who
/// signed in through WeChat.
struct Setup {
    app: TestApp,
    fake: Fake,
    w: World,
    /// The WeChat resident's token, id and openid.
    wx: String,
    wx_id: Uuid,
    openid: String,
}

async fn setup(tag: &str, templates: &str) -> Setup {
    let (app, fake) = spawn_with_fake_and(&[("LINLI_WECHAT_TEMPLATES", templates)]).await;
    let w = world(&app, tag).await;
    let openid = format!("openid-{tag}");
    let wx = token_of(&wechat_login_ok(&app, &format!("user:{openid}")).await);
    let wx_id: Uuid = me(&app, &wx).await["id"].as_str().unwrap().parse().unwrap();
    app.grant(&w.admin, wx_id, "resident", "household", w.t.household)
        .await;
    Setup {
        app,
        fake,
        w,
        wx,
        wx_id,
        openid,
    }
}

fn both_templates() -> String {
    format!("ticket_status_changed={STATUS_TEMPLATE},ticket_assigned={ASSIGNED_TEMPLATE}")
}

/// The WeChat resident files a ticket and the community staff triage it (green).
async fn triaged(s: &Setup, title: &str) -> Value {
    let t = file(&s.app, &s.wx, &ticket_body(&s.w, title)).await;
    triage(&s.app, &s.w.staff, &t["id"], "green").await;
    t
}

/// `GET /api/v1/notifications?<query>` as `token`, asserting 200; the items.
async fn list(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let res = app
        .get(&format!("/api/v1/notifications?limit=100&{query}"), token)
        .await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().unwrap().clone()
}

/// The notifications of one event about one ticket, as the bootstrap admin sees them.
async fn of_ticket(s: &Setup, ticket: &Value, event: &str) -> Vec<Value> {
    let id = ticket["id"].as_str().unwrap();
    list(
        &s.app,
        &s.w.admin,
        &format!("ticket_id={id}&event_type={event}"),
    )
    .await
}

/// The single `ticket_status_changed` notification of `ticket` for the WeChat resident.
async fn status_note(s: &Setup, ticket: &Value) -> Value {
    let rows: Vec<Value> = of_ticket(s, ticket, "ticket_status_changed")
        .await
        .into_iter()
        .filter(|n| n["recipient_user_id"] == s.wx_id.to_string())
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows.into_iter().next().unwrap()
}

async fn round(app: &TestApp) -> OutboxRound {
    deliver_due(&app.state).await.unwrap()
}

fn no_secrets_in(n: &Value, s: &Setup) {
    let text = n.to_string();
    assert!(!text.contains(&s.openid), "openid shown: {text}");
    assert!(!text.contains("fake-token"), "access token shown: {text}");
    assert!(n.get("payload").is_none() && n.get("openid").is_none());
}

#[tokio::test]
async fn a_status_change_is_queued_with_it_and_delivered_once_to_the_requesters_wechat() {
    let s = setup("nt1", &both_templates()).await;
    let t = triaged(&s, "楼道灯坏了，晚上很黑，请尽快修理一下，谢谢大家").await;

    let n = status_note(&s, &t).await;
    assert_eq!(n["status"], "pending");
    assert_eq!(n["attempts"], 0);
    assert_eq!(n["ticket_id"], t["id"]);
    no_secrets_in(&n, &s);

    let done = round(&s.app).await;
    assert_eq!(done.sent, 1, "{done:?}");
    assert_eq!((done.failed, done.retried, done.skipped), (0, 0, 0));
    let messages = s.fake.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let m = &messages[0];
    assert_eq!(m["touser"], s.openid.as_str());
    assert_eq!(m["template_id"], STATUS_TEMPLATE);
    assert_eq!(
        m["page"],
        format!("pages/tickets/detail?id={}", t["id"].as_str().unwrap())
    );
    assert_eq!(m["miniprogram_state"], "formal");
    assert_eq!(m["lang"], "zh_CN");
    // The title is cut to WeChat's 20 characters of a `thing`.
    assert_eq!(
        m["data"]["thing1"]["value"],
        "楼道灯坏了，晚上很黑，请尽快修理一下，谢"
    );
    assert_eq!(m["data"]["phrase2"]["value"], "已受理");
    let time = m["data"]["time3"]["value"].as_str().unwrap();
    assert_eq!(time.len(), "2026-01-01 08:00".len(), "{time}");
    assert!(m["data"]["thing4"]["value"].is_string());

    let n = status_note(&s, &t).await;
    assert_eq!(n["status"], "sent");
    assert_eq!(n["attempts"], 1);
    assert!(n["sent_at"].is_string());
    assert_eq!(n["last_error"], Value::Null);

    // Nothing is due any more: a later round sends nothing.
    s.app.clock.advance(Duration::hours(2));
    assert_eq!(round(&s.app).await, OutboxRound::default());
    assert_eq!(s.fake.messages().len(), 1);

    // A sent notification cannot be queued again.
    let res = s
        .app
        .post(
            &format!("/api/v1/notifications/{}/retry", n["id"].as_str().unwrap()),
            &s.w.staff,
            &json!({}),
        )
        .await;
    assert_problem(res, 409, "notification_not_retryable").await;
}

#[tokio::test]
async fn a_busy_wechat_is_retried_after_the_backoff_and_the_message_sent_once() {
    let s = setup("nt2", &both_templates()).await;
    let t = triaged(&s, "电梯异响").await;
    s.fake.fail_next_sends(1);

    let first = round(&s.app).await;
    assert_eq!(first.retried, 1, "{first:?}");
    assert_eq!(first.sent, 0);
    let n = status_note(&s, &t).await;
    assert_eq!(n["status"], "pending");
    assert_eq!(n["attempts"], 1);
    let error = n["last_error"].as_str().unwrap();
    assert!(error.contains("-1"), "{error}");
    no_secrets_in(&n, &s);
    assert!(s.fake.messages().is_empty());

    // Before the 30 s backoff is over nothing is tried.
    let calls = s.fake.send_calls();
    assert_eq!(round(&s.app).await, OutboxRound::default());
    assert_eq!(s.fake.send_calls(), calls);

    s.app.clock.advance(Duration::seconds(31));
    let third = round(&s.app).await;
    assert_eq!(third.sent, 1, "{third:?}");
    let messages = s.fake.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["touser"], s.openid.as_str());
    let n = status_note(&s, &t).await;
    assert_eq!(n["status"], "sent");
    assert_eq!(n["attempts"], 2);
    assert_eq!(n["last_error"], Value::Null);
}

#[tokio::test]
async fn a_rejected_access_token_is_refreshed_once_and_the_message_sent() {
    let s = setup("nt10", &both_templates()).await;
    let first = triaged(&s, "第一件").await;
    assert_eq!(round(&s.app).await.sent, 1);
    assert_eq!(s.fake.token_calls(), 1);
    // WeChat invalidates the shared token (e.g. another system fetched a new one).
    s.fake.reject("fake-token-1");
    let second = triaged(&s, "第二件").await;
    let done = round(&s.app).await;
    assert_eq!(done.sent, 1, "{done:?}");
    assert_eq!(s.fake.token_calls(), 2);
    assert_eq!(s.fake.messages().len(), 2);
    for t in [&first, &second] {
        let n = status_note(&s, t).await;
        assert_eq!(n["status"], "sent");
        assert_eq!(n["attempts"], 1);
    }
}

#[tokio::test]
async fn a_notification_gives_up_after_six_transient_failures() {
    let s = setup("nt3", &both_templates()).await;
    let t = triaged(&s, "垃圾桶满了").await;
    s.fake.fail_next_sends(100);
    for attempt in 1..=6 {
        let done = round(&s.app).await;
        let n = status_note(&s, &t).await;
        assert_eq!(n["attempts"], attempt);
        if attempt < 6 {
            assert_eq!(done.retried, 1, "attempt {attempt}: {done:?}");
            assert_eq!(n["status"], "pending");
        } else {
            assert_eq!(done.failed, 1, "attempt {attempt}: {done:?}");
            assert_eq!(n["status"], "failed");
        }
        // At most an hour between attempts.
        s.app.clock.advance(Duration::minutes(61));
    }
    assert_eq!(round(&s.app).await, OutboxRound::default());
    assert_eq!(s.fake.send_calls(), 6);
}

#[tokio::test]
async fn a_user_who_refused_the_messages_fails_them_for_good_until_staff_retry() {
    let s = setup("nt4", &both_templates()).await;
    let t = triaged(&s, "噪音扰民").await;
    s.fake.refuse_openid(&s.openid);

    let done = round(&s.app).await;
    assert_eq!(done.failed, 1, "{done:?}");
    let n = status_note(&s, &t).await;
    assert_eq!(n["status"], "failed");
    assert_eq!(n["attempts"], 1);
    let error = n["last_error"].as_str().unwrap();
    assert!(error.contains("43101"), "{error}");
    no_secrets_in(&n, &s);

    // No retry, however long we wait.
    s.app.clock.advance(Duration::hours(3));
    assert_eq!(round(&s.app).await, OutboxRound::default());
    assert_eq!(s.fake.send_calls(), 1);
    assert!(s.fake.messages().is_empty());

    // Staff may queue it again; it is tried at the next round.
    let id = n["id"].as_str().unwrap();
    let res = s
        .app
        .post(
            &format!("/api/v1/notifications/{id}/retry"),
            &s.w.staff,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["status"], "pending");
    assert_eq!(again["attempts"], 0);
    assert_eq!(round(&s.app).await.failed, 1);
    assert_eq!(s.fake.send_calls(), 2);
    // Residents may not retry; unknown ids are 404.
    let res = s
        .app
        .post(
            &format!("/api/v1/notifications/{id}/retry"),
            &s.wx,
            &json!({}),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
    let res = s
        .app
        .post(
            &format!("/api/v1/notifications/{}/retry", Uuid::now_v7()),
            &s.w.staff,
            &json!({}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
}

#[tokio::test]
async fn events_without_a_template_and_recipients_without_wechat_are_skipped() {
    // Only assignments have a template.
    let s = setup("nt5", &format!("ticket_assigned={ASSIGNED_TEMPLATE}")).await;
    let t = triaged(&s, "路灯不亮").await;
    act_ok(
        &s.app,
        &s.w.staff,
        &t["id"],
        "assign",
        json!({"property_company_id": s.w.company}),
    )
    .await;
    let assigned = of_ticket(&s, &t, "ticket_assigned").await;
    assert!(
        assigned
            .iter()
            .any(|n| n["recipient_user_id"] == s.w.property_id.to_string()),
        "{assigned:?}"
    );
    let status_changes = of_ticket(&s, &t, "ticket_status_changed").await;
    assert!(!status_changes.is_empty());

    let done = round(&s.app).await;
    assert_eq!(
        done.skipped as usize,
        assigned.len() + status_changes.len(),
        "{done:?}"
    );
    assert_eq!((done.sent, done.failed, done.retried), (0, 0, 0));
    assert_eq!(s.fake.send_calls(), 0);

    for n in of_ticket(&s, &t, "ticket_status_changed").await {
        assert_eq!(n["status"], "skipped");
        let e = n["last_error"].as_str().unwrap();
        assert!(e.contains("no WeChat template"), "{e}");
    }
    for n in of_ticket(&s, &t, "ticket_assigned").await {
        assert_eq!(n["status"], "skipped");
        let e = n["last_error"].as_str().unwrap();
        assert!(e.contains("no WeChat account"), "{e}");
    }
    let skipped = list(&s.app, &s.w.staff, "status=skipped").await;
    assert_eq!(skipped.len(), assigned.len() + status_changes.len());
}

#[tokio::test]
async fn without_wechat_credentials_notifications_are_skipped() {
    let app = spawn_app_with(|v| {
        v.insert("LINLI_WECHAT_TEMPLATES".into(), both_templates());
    })
    .await;
    let w = world(&app, "nt6").await;
    let t = file(&app, &w.resident, &ticket_body(&w, "井盖松动")).await;
    triage(&app, &w.staff, &t["id"], "red").await;
    let done = round(&app).await;
    assert!(done.skipped >= 1, "{done:?}");
    assert_eq!((done.sent, done.failed, done.retried), (0, 0, 0));
    let id = t["id"].as_str().unwrap();
    let rows = list(&app, &w.admin, &format!("ticket_id={id}")).await;
    assert!(!rows.is_empty());
    for n in rows {
        assert_eq!(n["status"], "skipped");
        assert!(n["last_error"]
            .as_str()
            .unwrap()
            .contains("WeChat is not configured"));
    }
}

#[tokio::test]
async fn two_concurrent_rounds_send_each_message_once() {
    let s = setup("nt7", &both_templates()).await;
    let mut tickets = Vec::new();
    for i in 0..4 {
        tickets.push(triaged(&s, &format!("第{i}号诉求")).await);
    }
    let (a, b) = tokio::join!(deliver_due(&s.app.state), deliver_due(&s.app.state));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 4, "{a:?} {b:?}");
    let messages = s.fake.messages();
    assert_eq!(messages.len(), 4, "{messages:?}");
    assert_eq!(s.fake.send_calls(), 4);
    for t in &tickets {
        assert_eq!(status_note(&s, t).await["status"], "sent");
    }
    let mut titles: Vec<&str> = messages
        .iter()
        .map(|m| m["data"]["thing1"]["value"].as_str().unwrap())
        .collect();
    titles.sort();
    titles.dedup();
    assert_eq!(titles.len(), 4);
    // A later round finds nothing left to send.
    assert_eq!(round(&s.app).await, OutboxRound::default());
}

#[tokio::test]
async fn only_street_admins_and_community_staff_in_scope_see_notifications() {
    let s = setup("nt8", &both_templates()).await;
    let t = triaged(&s, "消防通道被占").await;
    let id = t["id"].as_str().unwrap();
    let query = format!("ticket_id={id}");

    for token in [&s.w.admin, &s.w.street_admin, &s.w.staff] {
        let rows = list(&s.app, token, &query).await;
        assert!(!rows.is_empty());
        for n in &rows {
            no_secrets_in(n, &s);
        }
    }
    for token in [&s.wx, &s.w.resident, &s.w.property, &s.w.grid_manager] {
        let res = s.app.get("/api/v1/notifications", token).await;
        assert_problem(res, 403, "forbidden").await;
    }

    // Staff of another community see none of them.
    let other = small_territory(&s.app, &s.w.admin, "nt8-other").await;
    let (other_staff, _) = member(
        &s.app,
        &s.w.admin,
        "nt8-other-cs",
        "community_staff",
        "community",
        other.community,
    )
    .await;
    assert!(list(&s.app, &other_staff, &query).await.is_empty());
    assert!(list(&s.app, &other_staff, "").await.is_empty());
    let n = status_note(&s, &t).await;
    let res = s
        .app
        .post(
            &format!("/api/v1/notifications/{}/retry", n["id"].as_str().unwrap()),
            &other_staff,
            &json!({}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;

    // Filters are checked.
    for bad in ["status=lost", "event_type=ticket_closed", "limit=0"] {
        let res = s
            .app
            .get(&format!("/api/v1/notifications?{bad}"), &s.w.staff)
            .await;
        assert_problem(res, 400, "invalid_query").await;
    }
    assert!(list(&s.app, &s.w.staff, &format!("{query}&status=sent"))
        .await
        .is_empty());
    let pending = list(&s.app, &s.w.staff, &format!("{query}&status=pending")).await;
    assert!(!pending.is_empty());
}

#[tokio::test]
async fn notifications_page_with_a_cursor() {
    let s = setup("nt9", &both_templates()).await;
    for i in 0..3 {
        triaged(&s, &format!("分页{i}")).await;
    }
    let all = list(&s.app, &s.w.staff, "event_type=ticket_status_changed").await;
    assert!(all.len() >= 3);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/v1/notifications?limit=2&event_type=ticket_status_changed".to_string();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let body: Value = s.app.get(&path, &s.w.staff).await.json().await.unwrap();
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|n| n["id"].clone()));
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let all_ids: Vec<Value> = all.iter().map(|n| n["id"].clone()).collect();
    assert_eq!(seen, all_ids);
}

// Operations review: during a stall, a runner whose claim expired sent a message that a second
// runner had claimed and sent meanwhile (12 notifications, 18 messages). The claim is renewed
// right before sending, and a runner that finds it taken over sends nothing.
#[tokio::test]
async fn a_runner_that_stalls_past_its_claim_does_not_send_what_another_runner_sent() {
    let s = setup("nt-stall", &both_templates()).await;
    triaged(&s, "电梯异响").await;
    // The first runner's token fetch stalls; meanwhile its claim expires (the clock moves past
    // the lock) and a second runner claims the notification and delivers it.
    // (Within the fake's 1 s WeChat timeout: the stalled fetch does succeed, late.)
    s.fake.delay_token(700);
    let state = s.app.state.clone();
    let stalled = tokio::spawn(async move { deliver_due(&state).await.unwrap() });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    s.app.clock.advance(Duration::minutes(10));
    let second = round(&s.app).await;
    let first = stalled.await.unwrap();
    assert_eq!(first.sent + second.sent, 1, "{first:?} {second:?}");
    let messages = s.fake.messages();
    assert_eq!(messages.len(), 1, "sent once: {messages:?}");
}

/// The outbox is not only tickets': a notification about another subject is queued with that
/// subject, reaches the message centre with it, and is sent to WeChat opening the configured page
/// bare (that page shows tickets).
#[tokio::test]
async fn a_notification_about_another_subject_is_sent_and_kept_with_its_subject() {
    use linli::platform::inbox::Subject;
    use linli::platform::notifications::{enqueue_about, About, Event, Payload};
    use sea_orm::TransactionTrait;

    let s = setup("nt-subject", &both_templates()).await;
    let subject = Uuid::now_v7();
    let now = s.app.state.clock.now();
    let txn = s.app.state.db.begin().await.unwrap();
    enqueue_about(
        &txn,
        Event::TicketStatusChanged,
        About {
            subject: Subject::ResidentTransfer(subject),
            street_id: s.w.t.street,
            community_id: Some(s.w.t.community),
        },
        &[s.wx_id],
        &Payload {
            title: "迁入申请".into(),
            status: "已接收".into(),
            note: None,
            at: now,
        },
        now,
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();

    let queued = list(&s.app, &s.w.admin, "").await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0]["ticket_id"], Value::Null);
    let done = round(&s.app).await;
    assert_eq!(done.sent, 1, "{done:?}");
    let messages = s.fake.messages();
    assert_eq!(messages[0]["page"], "pages/tickets/detail");
    let inbox: Value = s
        .app
        .get("/api/v1/me/messages", &s.wx)
        .await
        .json()
        .await
        .unwrap();
    let item = &inbox["items"][0];
    assert_eq!(item["subject_type"], "resident_transfer");
    assert_eq!(item["subject_id"], subject.to_string());
}
