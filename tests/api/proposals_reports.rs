//! Referral of a 大事 to the street (a red ticket), the proposals' stats and the 协商台账 export
//! (participation design §A1.1, §A1.4, §A2 rule 4), through HTTP.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::proposals::{body, forum, Forum};
use crate::proposals_life::{accepted, events};
use crate::residents_io::read_xlsx;
use crate::ticket_world::{member, uname};

/// A proposal by r1 for the compound accepted as `tier` (议事会 note): deliberating.
async fn accepted_as(f: &Forum, title: &str, tier: &str) -> (Uuid, Value) {
    let p = f.propose(&f.r1, "compound", f.compound, title).await;
    let id = id_of(&p);
    let res = f
        .verb(
            &f.staff,
            id,
            "accept",
            json!({"tier": tier, "note": "议事会受理"}),
            p["version"].as_i64(),
        )
        .await;
    (id, body(res, 200).await)
}

/// An administrator of the proposal's street.
async fn street_admin(f: &Forum, p: &Value) -> String {
    let root = f.app.admin_token().await;
    let street: Uuid = p["street_id"].as_str().unwrap().parse().unwrap();
    member(&f.app, &root, &uname("sa"), "admin", "street", street)
        .await
        .0
}

#[tokio::test]
async fn refer_files_one_red_ticket_for_the_street_and_ends_the_proposal() {
    let f = forum().await;
    // An ordinary matter is not referred: the guard is named.
    let (ordinary, v) = accepted(&f, "楼道照明").await;
    let res = f
        .verb(
            &f.staff,
            ordinary,
            "refer",
            json!({"to": "street", "note": "请街道协调"}),
            v["version"].as_i64(),
        )
        .await;
    assert_eq!(f.guards(res).await, vec!["tier"]);
    // A 大事.
    let (id, v) = accepted_as(&f, "农贸市场搬迁", "major").await;
    let version = v["version"].as_i64().unwrap();
    // A resident reads it but does not refer it.
    let res = f
        .verb(&f.r1, id, "refer", json!({"to": "street"}), Some(version))
        .await;
    assert_problem(res, 403, "forbidden").await;
    // A stale ETag: 412, nothing filed.
    let res = f
        .verb(
            &f.staff,
            id,
            "refer",
            json!({"to": "street"}),
            Some(version - 1),
        )
        .await;
    assert_eq!(res.status(), 412);
    let sa = street_admin(&f, &v).await;
    let red = |token: String| {
        let f = &f;
        async move {
            body(
                f.app
                    .get("/api/v1/tickets?priority=red&limit=100", &token)
                    .await,
                200,
            )
            .await["items"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    assert!(red(sa.clone()).await.is_empty());
    let res = f
        .verb(
            &f.staff,
            id,
            "refer",
            json!({"to": "street", "note": "涉及市场规划，须街道协调"}),
            Some(version),
        )
        .await;
    let p = body(res, 200).await;
    assert_eq!(p["step"], "referred");
    assert_eq!(p["step_label"], "已转交");
    let ticket = p["referred_ticket_id"]
        .as_str()
        .expect("the ticket")
        .to_string();
    assert_eq!(
        f.get(&f.r1, id).await["referred_ticket_id"],
        ticket.as_str()
    );
    assert_eq!(events(&f, id, "referred").await, 1);
    // Exactly one red ticket, which the street's administrator sees, triaged, at the street.
    let items = red(sa.clone()).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["id"], ticket.as_str());
    let t = body(
        f.app.get(&format!("/api/v1/tickets/{ticket}"), &sa).await,
        200,
    )
    .await;
    assert_eq!(t["priority"], "red", "{t}");
    assert_eq!(t["status"], "triaged");
    assert_eq!(t["title"], "农贸市场搬迁");
    assert_eq!(t["compound_id"], f.compound.to_string());
    assert!(
        t["description"].as_str().unwrap().contains("须街道协调"),
        "{t}"
    );
    // Ended: referring again is the wrong step.
    let res = f
        .verb(
            &f.staff,
            id,
            "refer",
            json!({"to": "ticket"}),
            p["version"].as_i64(),
        )
        .await;
    assert_problem(res, 409, "wrong_step").await;
    assert_eq!(red(sa).await.len(), 1);
    // The author hears of it.
    let inbox = body(f.app.get("/api/v1/me/messages?limit=100", &f.r1).await, 200).await;
    assert!(inbox.to_string().contains("农贸市场搬迁"), "{inbox}");
}

/// Comments on `id`: one visible by r2, one hidden by staff (r3's). Answers nothing.
async fn two_comments_one_hidden(f: &Forum, id: Uuid) {
    let path = format!("/api/v1/proposals/{id}/comments");
    body(
        f.app
            .post(&path, &f.r2, &json!({"body": "支持", "alignment": "for"}))
            .await,
        201,
    )
    .await;
    let c = body(
        f.app
            .post(
                &path,
                &f.r3,
                &json!({"body": "反对", "alignment": "against"}),
            )
            .await,
        201,
    )
    .await;
    let cid = c["id"].as_str().unwrap();
    body(
        f.app
            .post(
                &format!("/api/v1/comments/{cid}/hide"),
                &f.staff,
                &json!({"reason": "人身攻击"}),
            )
            .await,
        200,
    )
    .await;
}

#[tokio::test]
async fn stats_count_what_the_caller_reads_without_hidden_comments() {
    let f = forum().await;
    let a = f.propose(&f.r1, "compound", f.compound, "小区停车").await;
    two_comments_one_hidden(&f, id_of(&a)).await;
    let b = f.propose(&f.r1, "building", f.b1, "楼道杂物").await;
    let res = f
        .verb(
            &f.staff,
            id_of(&b),
            "accept",
            json!({"tier": "small", "note": "议事会受理"}),
            b["version"].as_i64(),
        )
        .await;
    body(res, 200).await;
    let s = body(f.app.get("/api/v1/proposals/stats", &f.staff).await, 200).await;
    assert_eq!(s["total"], 2, "{s}");
    let count = |list: &str, key: &str, v: Value| {
        s[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e[key] == v)
            .map(|e| e["count"].as_i64().unwrap())
    };
    assert_eq!(count("by_step", "step", json!("proposed")), Some(1));
    assert_eq!(count("by_step", "step", json!("deliberating")), Some(1));
    assert_eq!(count("by_step", "step", json!("closed")), Some(0));
    assert_eq!(count("by_tier", "tier", json!("small")), Some(1));
    assert_eq!(count("by_tier", "tier", Value::Null), Some(1));
    assert_eq!(count("by_tier", "tier", json!("major")), Some(0));
    assert_eq!(count("by_category", "category", json!("环境")), Some(2));
    assert_eq!(s["by_compound"][0]["compound_id"], f.compound.to_string());
    assert_eq!(s["by_compound"][0]["name"], "议事小区", "{s}");
    assert_eq!(s["by_compound"][0]["count"], 2);
    // The hidden comment does not count.
    assert_eq!(s["comments_visible"], 1);
    assert_eq!(s["reviews_due"], 0);
    assert_eq!(s["average_satisfaction_pct"], Value::Null);
    // No person in it.
    assert!(!s.to_string().contains("王一"), "{s}");
    // The neighbour building's resident reads the compound's proposal, not building 1's.
    let s3 = body(f.app.get("/api/v1/proposals/stats", &f.r3).await, 200).await;
    assert_eq!(s3["total"], 1, "{s3}");
    // Another community: nothing.
    let other = format!("/api/v1/proposals/stats?community_id={}", Uuid::now_v7());
    assert_eq!(
        body(f.app.get(&other, &f.staff).await, 200).await["total"],
        0
    );
}

#[tokio::test]
async fn the_ledger_is_a_workbook_of_masked_rows_audited_once_and_not_for_residents() {
    let f = forum().await;
    let a = f
        .propose(&f.r1, "compound", f.compound, "=1+2 修路灯")
        .await;
    two_comments_one_hidden(&f, id_of(&a)).await;
    let (major, _) = accepted_as(&f, "农贸市场", "major").await;
    let res = f.app.get("/api/v1/proposals/export", &f.r1).await;
    assert_problem(res, 403, "forbidden").await;
    let res = f.app.get("/api/v1/proposals/export", &f.staff).await;
    assert_eq!(res.status(), 200);
    assert!(res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("spreadsheetml")));
    let sheet = read_xlsx(&res.bytes().await.unwrap());
    assert_eq!(sheet.len(), 3, "{sheet:?}");
    let col = |name: &str| sheet[0].iter().position(|h| h == name).expect(name);
    for h in [
        "编号",
        "标题",
        "范围",
        "分级",
        "步骤",
        "评论数(可见)",
        "预算(元)",
        "回头看日期",
    ] {
        col(h);
    }
    let row_of = |id: Uuid| {
        sheet
            .iter()
            .find(|r| r[0] == id.to_string())
            .expect("a row")
            .clone()
    };
    let ra = row_of(id_of(&a));
    assert_eq!(
        ra[col("标题")],
        "'=1+2 修路灯",
        "a formula-like title is neutralised"
    );
    assert_eq!(ra[col("评论数(可见)")], "1");
    assert_eq!(ra[col("步骤")], "提议");
    assert_eq!(ra[col("范围")], "议事小区");
    assert_eq!(ra[col("提议人")], a["author_display"].as_str().unwrap());
    let rm = row_of(major);
    assert_eq!(rm[col("分级")], "大事");
    assert_eq!(rm[col("步骤")], "协商");
    assert_eq!(rm[col("预算(元)")], "0.00");
    // Names masked: the author's full name is nowhere.
    let all: String = sheet
        .iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join("|");
    assert!(!all.contains("王一"), "{all}");
    let audit = body(
        f.app
            .get("/api/v1/audit-events?action=proposal_export", &f.staff)
            .await,
        200,
    )
    .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
}

/// The whole life to `closed` (no money), with the verbs: answers the closed proposal.
async fn closed(f: &Forum) -> Value {
    use crate::attachments::upload_png;
    use crate::proposals_life::{cast, deciding, poll, two_runners};
    use chrono::Duration;
    let (id, _) = accepted(f, "增设非机动车棚").await;
    let (_, p) = deciding(f, id).await;
    for t in [&f.r1, &f.r2, &f.r3] {
        assert_eq!(cast(f, t, &p, &[(0, 0)]).await, 201);
    }
    f.app.clock.advance(Duration::days(7));
    assert_eq!(two_runners(f).await, 1);
    let res = f
        .verb(&f.staff, id, "set-lead", json!({"user_id": f.r2_id}), None)
        .await;
    body(res, 200).await;
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
    body(res, 201).await;
    let v = body(f.verb(&f.r2, id, "complete", json!({}), None).await, 200).await;
    let ev = poll(f, &f.r1, v["evaluation"]["poll_id"].as_str().unwrap()).await;
    // 满意 ★5, 基本满意 ★4, 不满意: 67 %, rating 4.5.
    assert_eq!(cast(f, &f.r1, &ev, &[(0, 0), (1, 4)]).await, 201);
    assert_eq!(cast(f, &f.r2, &ev, &[(0, 1), (1, 3)]).await, 201);
    assert_eq!(cast(f, &f.r3, &ev, &[(0, 2)]).await, 201);
    for t in [&f.council, &f.council2] {
        let res = f
            .verb(t, id, "acceptances", json!({"verdict": "pass"}), None)
            .await;
        assert_eq!(res.status(), 200);
    }
    f.app
        .clock
        .advance(Duration::days(14) + Duration::minutes(1));
    assert_eq!(two_runners(f).await, 1);
    let res = f.verb(&f.staff, id, "close", json!({}), None).await;
    let v = body(res, 200).await;
    assert_eq!(v["step"], "closed");
    v
}

#[tokio::test]
async fn a_closed_proposal_counts_its_satisfaction_and_its_review_in_stats_and_ledger() {
    let f = forum().await;
    let v = closed(&f).await;
    let stats = || async { body(f.app.get("/api/v1/proposals/stats", &f.staff).await, 200).await };
    let s = stats().await;
    assert_eq!(s["total"], 1, "{s}");
    assert_eq!(s["evaluated"], 1);
    assert_eq!(s["average_satisfaction_pct"], 67.0);
    assert_eq!(s["average_rating"], 4.5);
    assert_eq!(s["reviews_upcoming"], 1);
    assert_eq!(s["reviews_due"], 0);
    // The review date comes: due, then reminded by the job.
    f.app.clock.advance(chrono::Duration::days(91));
    let s = stats().await;
    assert_eq!(
        (&s["reviews_upcoming"], &s["reviews_due"]),
        (&json!(0), &json!(1))
    );
    assert_eq!(s["reviews_reminded"], 0);
    let at = f.app.state.clock.now();
    assert_eq!(
        linli::proposals::jobs::review_due(&f.app.state.db, at)
            .await
            .unwrap(),
        1
    );
    assert_eq!(stats().await["reviews_reminded"], 1);
    let res = f.app.get("/api/v1/proposals/export", &f.council).await;
    assert_eq!(res.status(), 200);
    let sheet = read_xlsx(&res.bytes().await.unwrap());
    assert_eq!(sheet.len(), 2, "{sheet:?}");
    let col = |name: &str| sheet[0].iter().position(|h| h == name).expect(name);
    let row = &sheet[1];
    assert_eq!(row[col("决策结果")], "通过");
    assert_eq!(row[col("步骤")], "已办结");
    assert_eq!(row[col("满意度(%)")], "67");
    assert_eq!(row[col("回头看日期")], v["review_on"].as_str().unwrap());
    assert!(!row[col("完成日期")].is_empty());
    assert_eq!(row[col("负责人")], v["lead_display"].as_str().unwrap());
    assert!(row[col("负责人")].ends_with("李*"), "{row:?}");
}

#[tokio::test]
async fn two_referrals_at_once_file_one_ticket() {
    let f = forum().await;
    let (id, v) = accepted_as(&f, "菜市场改造", "major").await;
    let sa = street_admin(&f, &v).await;
    let b = json!({"to": "ticket"});
    let (a, b) = tokio::join!(
        f.verb(&f.staff, id, "refer", b.clone(), None),
        f.verb(&f.council, id, "refer", b, None)
    );
    let mut codes = vec![a.status().as_u16(), b.status().as_u16()];
    codes.sort_unstable();
    assert_eq!(codes[0], 200, "{codes:?}");
    assert_eq!(codes[1], 409, "{codes:?}");
    assert_eq!(events(&f, id, "referred").await, 1);
    let page = body(
        f.app
            .get("/api/v1/tickets?priority=red&limit=100", &sa)
            .await,
        200,
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(
        page["items"][0]["id"],
        f.get(&f.staff, id).await["referred_ticket_id"]
    );
}

#[tokio::test]
async fn a_community_wide_major_matter_is_referred_to_the_compound_named() {
    let f = forum().await;
    let p = f
        .propose(&f.r1, "community", f.community, "社区农贸市场")
        .await;
    let id = id_of(&p);
    let res = f
        .verb(
            &f.staff,
            id,
            "accept",
            json!({"tier": "major", "note": "议事会受理"}),
            None,
        )
        .await;
    body(res, 200).await;
    let refer = |b: Value| f.verb(&f.council, id, "refer", b, None);
    assert_eq!(
        f.guards(refer(json!({"to": "street"})).await).await,
        vec!["compound_id"]
    );
    let elsewhere = json!({"to": "street", "compound_id": Uuid::now_v7()});
    assert_eq!(f.guards(refer(elsewhere).await).await, vec!["compound_id"]);
    let named = json!({"to": "street", "compound_id": f.compound, "note": "涉及全社区"});
    let v = body(refer(named).await, 200).await;
    assert_eq!(v["step"], "referred");
    let sa = street_admin(&f, &v).await;
    let ticket = v["referred_ticket_id"].as_str().unwrap();
    let t = body(
        f.app.get(&format!("/api/v1/tickets/{ticket}"), &sa).await,
        200,
    )
    .await;
    assert_eq!(t["compound_id"], f.compound.to_string());
    assert_eq!(t["priority"], "red");
}
