//! Self-governance funds (自治金) through HTTP: the balance never negative under concurrent
//! approvals, payments and transfers; the append-only hash chain and its verification (and a row
//! altered in the database caught); reversals once and never below zero; the two-approver rule
//! with `same_approver`; invoices before payment; what residents see (public names only); the
//! accounts a resident reaches; closing only at zero; the audited export.

use futures_util::future::join_all;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::attachments::upload_png;
use crate::helpers::*;
use crate::ticket_world::{member, uname};

/// Street S ⊃ community C ⊃ compound K ⊃ building ⊃ household H; community D (same street) ⊃
/// compound KD ⊃ household HD. Staff and council members of C, an admin of S, residents of H
/// and HD, a building leader.
pub(crate) struct Place {
    pub(crate) app: TestApp,
    pub(crate) root: String,
    pub(crate) community: Uuid,
    pub(crate) compound: Uuid,
    /// H, of the compound's one building.
    pub(crate) household: Uuid,
    pub(crate) other_community: Uuid,
    pub(crate) other_compound: Uuid,
    pub(crate) admin: String,
    pub(crate) staff: String,
    pub(crate) staff2: String,
    pub(crate) council: String,
    pub(crate) council2: String,
    pub(crate) leader: String,
    pub(crate) resident: String,
    pub(crate) neighbour: String,
}

pub(crate) async fn place() -> Place {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "资金").await;
    let other_community = app
        .create(
            &root,
            "communities",
            json!({"street_id": t.street, "name": "邻社区"}),
        )
        .await;
    let other_compound = app
        .create(
            &root,
            "compounds",
            json!({"community_id": other_community, "name": "邻小区"}),
        )
        .await;
    let bd = app
        .create(
            &root,
            "buildings",
            json!({"compound_id": other_compound, "name": "1幢"}),
        )
        .await;
    let hd = app
        .create(
            &root,
            "households",
            json!({"building_id": bd, "unit": "1单元", "room": "101"}),
        )
        .await;
    let m = |role: &'static str, scope: &'static str, id: Uuid| {
        let (app, root) = (&app, root.clone());
        async move { member(app, &root, &uname("f"), role, scope, id).await.0 }
    };
    Place {
        admin: m("admin", "street", t.street).await,
        staff: m("community_staff", "community", t.community).await,
        staff2: m("community_staff", "community", t.community).await,
        council: m("council_member", "community", t.community).await,
        council2: m("council_member", "community", t.community).await,
        leader: m("building_leader", "building", t.building).await,
        resident: m("resident", "household", t.household).await,
        neighbour: m("resident", "household", hd).await,
        community: t.community,
        compound: t.compound,
        household: t.household,
        other_community,
        other_compound,
        app,
        root,
    }
}

pub(crate) async fn body(res: reqwest::Response, want: u16) -> Value {
    let status = res.status();
    let text = res.text().await.expect("body");
    assert_eq!(status.as_u16(), want, "{text}");
    serde_json::from_str(&text).expect("json")
}

impl Place {
    /// A grant account (专项补助): spending from it needs no proposal, so the ledger's rules are
    /// tested on their own (a 自治金's spending is tied to proposals: tests/api/allocations.rs).
    pub(crate) async fn account(&self, token: &str, scope_type: &str, scope_id: Uuid) -> Uuid {
        self.account_of(token, scope_type, scope_id, "grant").await
    }

    /// An account of `kind` on the place.
    pub(crate) async fn account_of(
        &self,
        token: &str,
        scope_type: &str,
        scope_id: Uuid,
        kind: &str,
    ) -> Uuid {
        self.app
            .create(
                token,
                "fund-accounts",
                json!({"scope_type": scope_type, "scope_id": scope_id,
                       "name": "2026年度资金", "kind": kind, "fiscal_year": 2026}),
            )
            .await
    }

    pub(crate) async fn income(
        &self,
        account: Uuid,
        amount: i64,
        kind: &str,
        name: &str,
        anon: bool,
    ) -> Value {
        let res = self
            .app
            .post(
                &format!("/api/v1/fund-accounts/{account}/income"),
                &self.staff,
                &json!({"kind": "contribution", "amount_fen": amount, "counterparty_kind": kind,
                        "counterparty_name": name, "anonymous": anon, "memo": "楼道改造捐款",
                        "occurred_on": "2026-11-20"}),
            )
            .await;
        body(res, 201).await
    }

    pub(crate) async fn expense(&self, account: Uuid, amount: i64) -> Uuid {
        self.app
            .create(
                &self.staff,
                "fund-expenses",
                json!({"account_id": account, "amount_fen": amount, "payee_kind": "business",
                       "payee_name": "某某灯具店", "purpose": "楼道灯更换"}),
            )
            .await
    }

    pub(crate) async fn verb(
        &self,
        token: &str,
        expense: Uuid,
        verb: &str,
        b: Value,
    ) -> reqwest::Response {
        self.app
            .post(
                &format!("/api/v1/fund-expenses/{expense}/{verb}"),
                token,
                &b,
            )
            .await
    }

    pub(crate) async fn approved(&self, account: Uuid, amount: i64) -> Uuid {
        let e = self.expense(account, amount).await;
        body(self.verb(&self.council, e, "approve", json!({})).await, 200).await;
        let v = body(self.verb(&self.admin, e, "approve", json!({})).await, 200).await;
        assert_eq!(v["status"], "approved", "{v}");
        e
    }

    pub(crate) async fn pay(&self, expense: Uuid) -> reqwest::Response {
        let photo = upload_png(&self.app, &self.staff).await;
        self.verb(
            &self.staff,
            expense,
            "pay",
            json!({"occurred_on": "2026-11-25", "attachment_ids": [photo["id"]]}),
        )
        .await
    }

    pub(crate) async fn get(&self, token: &str, path: &str) -> Value {
        body(self.app.get(path, token).await, 200).await
    }

    pub(crate) async fn account_state(&self, account: Uuid) -> Value {
        self.get(&self.staff, &format!("/api/v1/fund-accounts/{account}"))
            .await
    }

    pub(crate) async fn all_entries(&self, token: &str, account: Uuid) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/fund-accounts/{account}/entries?limit=7");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = self.get(token, &path).await;
            out.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        out
    }

    pub(crate) async fn verify(&self, token: &str, account: Uuid) -> Value {
        self.get(token, &format!("/api/v1/fund-accounts/{account}/verify"))
            .await
    }

    /// The account's balance equals the sum of its entries, no entry left it negative, the
    /// chain verifies, and the entries come newest first with seqs n..1.
    pub(crate) async fn assert_consistent(&self, account: Uuid) -> i64 {
        let a = self.account_state(account).await;
        let entries = self.all_entries(&self.staff, account).await;
        let sum: i64 = entries
            .iter()
            .map(|e| e["amount_fen"].as_i64().unwrap())
            .sum();
        assert_eq!(a["balance_fen"].as_i64().unwrap(), sum, "{a}");
        assert!(entries
            .iter()
            .all(|e| e["balance_after_fen"].as_i64().unwrap() >= 0));
        let seqs: Vec<i64> = entries.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        let want: Vec<i64> = (1..=entries.len() as i64).rev().collect();
        assert_eq!(seqs, want);
        let reserved = a["reserved_fen"].as_i64().unwrap();
        assert!(0 <= reserved && reserved <= sum, "{a}");
        let v = self.verify(&self.staff, account).await;
        assert_eq!(v["ok"], true, "{v}");
        assert_eq!(v["entries"], entries.len() as u64);
        assert_eq!(v["head_hash"], a["head_hash"]);
        assert_eq!(v["sum_fen"], sum);
        sum
    }
}

#[tokio::test]
async fn fund_balance_never_negative_under_concurrent_expenses() {
    let p = place().await;
    let acct = p.account(&p.staff, "community", p.community).await;
    let other = p.account(&p.staff, "compound", p.compound).await;
    p.income(acct, 10_000, "government", "上城区民政局", false)
        .await;
    // Eight requests of 3,000 each, first approvals given; the eight completing approvals
    // race: each would reserve 3,000 of 10,000.
    let mut requests = Vec::new();
    for _ in 0..8 {
        let e = p.expense(acct, 3_000).await;
        body(p.verb(&p.council, e, "approve", json!({})).await, 200).await;
        requests.push(e);
    }
    let results = join_all(
        requests
            .iter()
            .map(|e| p.verb(&p.admin, *e, "approve", json!({}))),
    )
    .await;
    let mut approved = Vec::new();
    for (e, res) in requests.iter().zip(results) {
        match res.status().as_u16() {
            200 => approved.push(*e),
            _ => {
                assert_problem(res, 409, "insufficient_funds").await;
            }
        }
    }
    assert_eq!(
        approved.len(),
        3,
        "3 × 3,000 fit in 10,000, a fourth does not"
    );
    let a = p.account_state(acct).await;
    assert_eq!(
        (a["reserved_fen"].as_i64(), a["available_fen"].as_i64()),
        (Some(9_000), Some(1_000))
    );
    // Every request is paid at once; only the approved ones can be.
    let results = join_all(requests.iter().map(|e| p.pay(*e))).await;
    let mut paid = 0;
    for (e, res) in requests.iter().zip(results) {
        if approved.contains(e) {
            body(res, 200).await;
            paid += 1;
        } else {
            assert_problem(res, 409, "wrong_status").await;
        }
    }
    assert_eq!(paid, 3);
    assert_eq!(p.assert_consistent(acct).await, 1_000);
    // Six transfers of 400 race for the 1,000 left: at most two go through.
    let path = format!("/api/v1/fund-accounts/{acct}/transfers");
    let transfer = json!({"to_account_id": other, "amount_fen": 400, "memo": "调拨"});
    let results = join_all((0..6).map(|_| p.app.post(&path, &p.staff, &transfer))).await;
    let mut moved = 0;
    for res in results {
        if res.status() == StatusCode::CREATED {
            moved += 1;
        } else {
            assert_problem(res, 409, "insufficient_funds").await;
        }
    }
    assert_eq!(moved, 2);
    assert_eq!(p.assert_consistent(acct).await, 200);
    assert_eq!(p.assert_consistent(other).await, 800);
}

#[tokio::test]
async fn fund_entries_are_append_only() {
    let p = place().await;
    let acct = p.account(&p.staff, "community", p.community).await;
    let mut ids = Vec::new();
    for (i, amount) in [5_000, 2_500, 1_200].into_iter().enumerate() {
        let e = p
            .income(
                acct,
                amount,
                "organization",
                &format!("爱心基金会{i}"),
                false,
            )
            .await;
        ids.push(e["id"].as_str().unwrap().to_string());
    }
    let e = p.approved(acct, 700).await;
    body(p.pay(e).await, 200).await;
    // No route changes or removes an entry.
    for id in &ids {
        let path = format!("/api/v1/fund-entries/{id}");
        for res in [
            p.app.patch(&path, &p.root, &json!({"amount_fen": 1})).await,
            p.app.delete(&path, &p.root).await,
            p.app
                .request(reqwest::Method::PUT, &path, Some(&p.root))
                .json(&json!({"amount_fen": 1}))
                .send()
                .await
                .unwrap(),
            p.app
                .post(&format!("{path}/update"), &p.root, &json!({}))
                .await,
        ] {
            assert!(
                matches!(res.status().as_u16(), 404 | 405),
                "{path}: {}",
                res.status()
            );
        }
    }
    assert_eq!(p.assert_consistent(acct).await, 8_000);
    // The chain as published: each entry's prev_hash is the hash before it.
    let entries = p.all_entries(&p.resident, acct).await;
    let mut prev = "0".repeat(64);
    for e in entries.iter().rev() {
        assert_eq!(e["prev_hash"], prev.as_str());
        prev = e["hash"].as_str().unwrap().to_string();
    }
    // Altering a stored row behind the application's back breaks the chain at that entry.
    let db = &p.app.state.db;
    let backend = db.get_database_backend();
    // (The only account with entries in this database.)
    db.execute(Statement::from_string(
        backend,
        "UPDATE fund_entries SET amount_fen = amount_fen + 100, \
         balance_after_fen = balance_after_fen + 100 WHERE seq = 2",
    ))
    .await
    .unwrap();
    let v = p.verify(&p.resident, acct).await;
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["first_broken_seq"], 2, "{v}");
    assert_eq!(v["problem"], "hash", "{v}");
}

#[tokio::test]
async fn reversal_can_happen_once_and_never_drives_balance_negative() {
    let p = place().await;
    let acct = p.account(&p.staff, "community", p.community).await;
    let a = p.income(acct, 5_000, "government", "街道办", false).await;
    let b = p.income(acct, 3_000, "resident", "王小明", false).await;
    let e = p.approved(acct, 6_000).await;
    body(p.pay(e).await, 200).await;
    let reverse = |id: &Value, token: &str| {
        let path = format!("/api/v1/fund-entries/{}/reverse", id.as_str().unwrap());
        let token = token.to_string();
        let app = &p.app;
        async move {
            app.post(&path, &token, &json!({"reason": "录入错误"}))
                .await
        }
    };
    // 2,000 left: taking back 5,000 or 3,000 of income would go below zero.
    assert_problem(reverse(&a["id"], &p.staff).await, 409, "insufficient_funds").await;
    assert_problem(reverse(&b["id"], &p.staff).await, 409, "insufficient_funds").await;
    let c = p
        .income(acct, 4_000, "organization", "慈善总会", false)
        .await;
    // Five reversals of B at once: exactly one is written.
    let results = join_all((0..5).map(|_| reverse(&b["id"], &p.staff))).await;
    let mut written = Vec::new();
    for res in results {
        if res.status() == StatusCode::CREATED {
            written.push(res.json::<Value>().await.unwrap());
        } else {
            assert_problem(res, 409, "already_reversed").await;
        }
    }
    assert_eq!(written.len(), 1);
    let r = &written[0];
    assert_eq!(r["kind"], "reversal");
    assert_eq!(r["amount_fen"], -3_000);
    assert_eq!(r["reverses_entry_id"], b["id"]);
    assert_eq!(p.account_state(acct).await["balance_fen"], 3_000);
    // Never a reversal of a reversal; never a second one.
    assert_problem(
        reverse(&r["id"], &p.staff).await,
        409,
        "entry_not_reversible",
    )
    .await;
    assert_problem(reverse(&b["id"], &p.staff).await, 409, "already_reversed").await;
    // Money reserved by an approved request is not there to take back either.
    p.approved(acct, 2_500).await;
    assert_problem(reverse(&c["id"], &p.staff).await, 409, "insufficient_funds").await;
    // Giving back a payment is a reversal too, once.
    let paid = p.get(&p.staff, &format!("/api/v1/fund-expenses/{e}")).await;
    let entry = &paid["paid_entry_id"];
    body(reverse(entry, &p.staff).await, 201).await;
    assert_problem(reverse(entry, &p.staff).await, 409, "already_reversed").await;
    // Not for those who only read or approve.
    assert_problem(reverse(&a["id"], &p.council).await, 403, "forbidden").await;
    assert_problem(reverse(&a["id"], &p.neighbour).await, 404, "not_found").await;
    // The reversed entry points at its reversal.
    let entries = p.all_entries(&p.staff, acct).await;
    let original = entries.iter().find(|x| x["id"] == b["id"]).unwrap();
    assert_eq!(original["reversed_by_entry_id"], r["id"]);
    assert_eq!(p.assert_consistent(acct).await, 9_000);
}

#[tokio::test]
async fn expense_needs_two_distinct_approvers_not_the_requester() {
    let p = place().await;
    let acct = p.account(&p.staff, "community", p.community).await;
    p.income(acct, 50_000, "government", "街道办", false).await;
    let e = p.expense(acct, 12_000).await;
    // The requester may not approve their own request.
    assert_problem(
        p.verb(&p.staff, e, "approve", json!({})).await,
        409,
        "same_approver",
    )
    .await;
    // Leaders read but do not approve; residents neither.
    assert_problem(
        p.verb(&p.leader, e, "approve", json!({})).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        p.verb(&p.resident, e, "approve", json!({})).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        p.verb(&p.neighbour, e, "approve", json!({})).await,
        404,
        "not_found",
    )
    .await;
    let first = body(
        p.verb(&p.council, e, "approve", json!({"note": "同意"}))
            .await,
        200,
    )
    .await;
    assert_eq!(first["status"], "submitted");
    assert_eq!(first["approvals"].as_array().unwrap().len(), 1);
    assert_eq!(first["approvals"][0]["role"], "council_member");
    // The first approver again; another council member (the first approver's role).
    assert_problem(
        p.verb(&p.council, e, "approve", json!({})).await,
        409,
        "same_approver",
    )
    .await;
    assert_problem(
        p.verb(&p.council2, e, "approve", json!({})).await,
        409,
        "same_approver",
    )
    .await;
    assert_eq!(p.account_state(acct).await["reserved_fen"], 0);
    // Someone else in another role completes it and the money is reserved.
    let done = body(p.verb(&p.staff2, e, "approve", json!({})).await, 200).await;
    assert_eq!(done["status"], "approved");
    let roles: Vec<&str> = done["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["council_member", "community_staff"]);
    let a = p.account_state(acct).await;
    assert_eq!(
        (a["reserved_fen"].as_i64(), a["available_fen"].as_i64()),
        (Some(12_000), Some(38_000))
    );
    // An approved request takes no more approvals.
    assert_problem(
        p.verb(&p.admin, e, "approve", json!({})).await,
        409,
        "wrong_status",
    )
    .await;
    // A stale If-Match is 412.
    let other = p.expense(acct, 1_000).await;
    let res = p
        .app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/fund-expenses/{other}/approve"),
            Some(&p.council),
        )
        .header("If-Match", "\"7\"")
        .send()
        .await
        .unwrap();
    assert_problem(res, 412, "precondition_failed").await;
    // Rejecting and cancelling: a cancelled approved request gives its reservation back.
    let rejected = body(
        p.verb(&p.council, other, "reject", json!({"reason": "预算不合理"}))
            .await,
        200,
    )
    .await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["reason"], "预算不合理");
    let cancelled = body(p.verb(&p.staff, e, "cancel", json!({})).await, 200).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(p.account_state(acct).await["reserved_fen"], 0);
    p.assert_consistent(acct).await;
}

#[tokio::test]
async fn paying_without_an_invoice_is_refused() {
    let p = place().await;
    let acct = p.account(&p.staff, "community", p.community).await;
    p.income(acct, 9_000, "government", "街道办", false).await;
    let e = p.approved(acct, 4_000).await;
    let pay = |ids: Value| {
        let app = &p.app;
        let staff = p.staff.clone();
        async move {
            app.post(
                &format!("/api/v1/fund-expenses/{e}/pay"),
                &staff,
                &json!({"occurred_on": "2026-11-25", "attachment_ids": ids}),
            )
            .await
        }
    };
    let problem = assert_problem(pay(json!([])).await, 400, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "attachment_ids", "{problem}");
    // Someone else's upload is not the payer's invoice.
    let theirs = upload_png(&p.app, &p.staff2).await;
    let problem = assert_problem(pay(json!([theirs["id"]])).await, 400, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "attachment_ids", "{problem}");
    // A day in the future is refused.
    let mine = upload_png(&p.app, &p.staff).await;
    let res = p
        .app
        .post(
            &format!("/api/v1/fund-expenses/{e}/pay"),
            &p.staff,
            &json!({"occurred_on": "2999-01-01", "attachment_ids": [mine["id"]]}),
        )
        .await;
    assert_problem(res, 400, "validation_failed").await;
    assert_eq!(p.account_state(acct).await["balance_fen"], 9_000);
    let paid = body(pay(json!([mine["id"]])).await, 200).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["invoices"].as_array().unwrap().len(), 1);
    let a = p.account_state(acct).await;
    assert_eq!(
        (a["balance_fen"].as_i64(), a["reserved_fen"].as_i64()),
        (Some(5_000), Some(0))
    );
    // The invoice is public with the ledger: a resident of the community sees it on the entry
    // and may fetch it; a neighbour may not.
    let entries = p.all_entries(&p.resident, acct).await;
    let spent = entries.iter().find(|x| x["kind"] == "expense").unwrap();
    assert_eq!(spent["amount_fen"], -4_000);
    assert_eq!(spent["attachments"][0]["id"], mine["id"]);
    let path = format!("/api/v1/attachments/{}", mine["id"].as_str().unwrap());
    let res = p
        .app
        .request(reqwest::Method::GET, &path, Some(&p.resident))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = p
        .app
        .request(reqwest::Method::GET, &path, Some(&p.neighbour))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Paid once.
    assert_problem(pay(json!([])).await, 409, "wrong_status").await;
}

#[tokio::test]
async fn residents_see_public_names_only() {
    let p = place().await;
    let acct = p.account(&p.staff, "community", p.community).await;
    p.income(acct, 1_000, "resident", "王小明", false).await;
    p.income(acct, 2_000, "resident", "李大山", true).await;
    p.income(acct, 3_000, "government", "上城区民政局", false)
        .await;
    let res = p
        .app
        .post(
            "/api/v1/fund-expenses",
            &p.staff,
            &json!({"account_id": acct, "amount_fen": 500, "payee_kind": "resident",
                    "payee_name": "赵志刚", "purpose": "志愿者餐费"}),
        )
        .await;
    let expense = body(res, 201).await;
    let eid = expense["id"].as_str().unwrap();
    let path = format!("/api/v1/fund-accounts/{acct}/entries");
    let seen = p.app.get(&path, &p.resident).await.text().await.unwrap();
    for full in ["王小明", "李大山", "赵志刚", "小明", "大山"] {
        assert!(!seen.contains(full), "a resident sees {full}: {seen}");
    }
    let page: Value = serde_json::from_str(&seen).unwrap();
    let public: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["public_name"].as_str().unwrap())
        .collect();
    assert_eq!(public, ["上城区民政局", "匿名居民", "王*"]);
    for e in page["items"].as_array().unwrap() {
        assert!(
            e["counterparty_name"].is_null() && e["recorded_by_name"].is_null(),
            "{e}"
        );
    }
    let shown = p
        .app
        .get(&format!("/api/v1/fund-expenses/{eid}"), &p.resident)
        .await
        .text()
        .await
        .unwrap();
    assert!(!shown.contains("赵志刚"), "{shown}");
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["public_name"], "赵*");
    assert!(shown["payee_name"].is_null() && shown["requested_by_name"].is_null());
    // Staff of the place see who it was.
    let staff_view = p.get(&p.staff, &path).await;
    let names: Vec<&str> = staff_view["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["counterparty_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["上城区民政局", "李大山", "王小明"]);
    assert_eq!(
        p.get(&p.staff, &format!("/api/v1/fund-expenses/{eid}"))
            .await["payee_name"],
        "赵志刚"
    );
    // The building leader reads through the audience reach: public names too.
    let leader = p.get(&p.leader, &path).await;
    assert!(leader["items"][0]["counterparty_name"].is_null());
    // The export (staff who keep the account; audited), never for residents.
    let res = p
        .app
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/fund-accounts/{acct}/export"),
            Some(&p.staff),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("spreadsheetml")));
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "an xlsx is a zip");
    let audit = p
        .get(&p.staff, "/api/v1/audit-events?action=fund_export")
        .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
    let res = p
        .app
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/fund-accounts/{acct}/export"),
            Some(&p.resident),
        )
        .send()
        .await
        .unwrap();
    assert_problem(res, 403, "forbidden").await;
}

#[tokio::test]
async fn a_resident_reads_the_accounts_of_their_community_and_compound_not_a_neighbours() {
    let p = place().await;
    let c = p.account(&p.staff, "community", p.community).await;
    let k = p.account(&p.staff, "compound", p.compound).await;
    let d = p.account(&p.root, "community", p.other_community).await;
    let kd = p.account(&p.root, "compound", p.other_compound).await;
    let ids = |v: &Value| -> Vec<Uuid> {
        let mut out: Vec<Uuid> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().parse().unwrap())
            .collect();
        out.sort();
        out
    };
    let sorted = |mut v: Vec<Uuid>| {
        v.sort();
        v
    };
    let all = [c, k, d, kd];
    for (who, token, want) in [
        ("resident", &p.resident, vec![c, k]),
        ("neighbour", &p.neighbour, vec![d, kd]),
        ("staff", &p.staff, vec![c, k]),
        ("council", &p.council, vec![c, k]),
        ("leader", &p.leader, vec![c, k]),
        ("admin", &p.admin, vec![c, k, d, kd]),
    ] {
        let listed = ids(&p.get(token, "/api/v1/fund-accounts?limit=100").await);
        assert_eq!(listed, sorted(want.clone()), "{who} lists");
        for id in all {
            for suffix in ["", "/entries", "/verify"] {
                let res = p
                    .app
                    .get(&format!("/api/v1/fund-accounts/{id}{suffix}"), token)
                    .await;
                let want_status = if want.contains(&id) { 200 } else { 404 };
                assert_eq!(res.status().as_u16(), want_status, "{who} GET {id}{suffix}");
            }
        }
    }
    // The requests of an account list nothing to whom cannot read it.
    let e = p.expense(c, 100).await;
    let path = format!("/api/v1/fund-expenses?account_id={c}");
    assert_eq!(
        p.get(&p.resident, &path).await["items"][0]["id"],
        e.to_string()
    );
    assert_eq!(p.get(&p.neighbour, &path).await["items"], json!([]));
    assert_problem(
        p.app
            .get(&format!("/api/v1/fund-expenses/{e}"), &p.neighbour)
            .await,
        404,
        "not_found",
    )
    .await;
    // The list filter by community agrees.
    let filtered = ids(&p
        .get(
            &p.admin,
            &format!("/api/v1/fund-accounts?community_id={}", p.other_community),
        )
        .await);
    assert_eq!(filtered, sorted(vec![d, kd]));
    // The resident sees the names of the place.
    let one = p
        .get(&p.resident, &format!("/api/v1/fund-accounts/{k}"))
        .await;
    assert_eq!(one["compound_name"], "资金小区");
    assert_eq!(one["community_name"], "资金社区");
    assert_eq!(one["head_hash"], "0".repeat(64));
    // Writes: a reader who may not record is 403; outside the reach 404.
    let income = json!({"kind": "contribution", "amount_fen": 100, "counterparty_kind": "resident",
                        "counterparty_name": "王小明", "occurred_on": "2026-11-20"});
    let res = p
        .app
        .post(
            &format!("/api/v1/fund-accounts/{c}/income"),
            &p.resident,
            &income,
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
    let res = p
        .app
        .post(
            &format!("/api/v1/fund-accounts/{d}/income"),
            &p.staff,
            &income,
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = p
        .app
        .post(
            &format!("/api/v1/fund-accounts/{c}/income"),
            &p.council,
            &income,
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
    // Opening an account: staff in their community, not in the neighbour's; council members see
    // the community but keep no accounts; to residents the community is no object they see.
    let open = |scope: Uuid| json!({"scope_type": "community", "scope_id": scope, "name": "协商资金", "kind": "consultation"});
    assert_problem(
        p.app
            .post("/api/v1/fund-accounts", &p.staff, &open(p.other_community))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        p.app
            .post("/api/v1/fund-accounts", &p.council, &open(p.community))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        p.app
            .post("/api/v1/fund-accounts", &p.resident, &open(p.community))
            .await,
        404,
        "not_found",
    )
    .await;
    body(
        p.app
            .post("/api/v1/fund-accounts", &p.staff, &open(p.community))
            .await,
        201,
    )
    .await;
}

#[tokio::test]
async fn an_account_closes_only_when_empty_and_then_takes_nothing() {
    let p = place().await;
    let acct = p.account(&p.staff, "community", p.community).await;
    let income = p.income(acct, 1_000, "government", "街道办", false).await;
    let (path, empty) = (format!("/api/v1/fund-accounts/{acct}/close"), json!({}));
    let close = || p.app.post(&path, &p.staff, &empty);
    assert_problem(close().await, 409, "fund_account_not_empty").await;
    let undo = format!(
        "/api/v1/fund-entries/{}/reverse",
        income["id"].as_str().unwrap()
    );
    body(
        p.app
            .post(&undo, &p.staff, &json!({"reason": "退回"}))
            .await,
        201,
    )
    .await;
    let closed = body(close().await, 200).await;
    assert_eq!(closed["status"], "closed");
    assert_problem(close().await, 409, "wrong_status").await;
    let res = p
        .app
        .post(
            &format!("/api/v1/fund-accounts/{acct}/income"),
            &p.staff,
            &json!({"kind": "contribution", "amount_fen": 100, "counterparty_kind": "government",
                    "counterparty_name": "街道办", "occurred_on": "2026-11-20"}),
        )
        .await;
    assert_problem(res, 409, "wrong_status").await;
    // Amounts are integers of fen within bounds.
    let other = p.account(&p.staff, "community", p.community).await;
    for amount in [
        json!(0),
        json!(-5),
        json!(10_000_000_001_i64),
        json!(1.5),
        json!("100"),
    ] {
        let res = p
            .app
            .post(
                &format!("/api/v1/fund-accounts/{other}/income"),
                &p.staff,
                &json!({"kind": "contribution", "amount_fen": amount, "counterparty_kind": "government",
                        "counterparty_name": "街道办", "occurred_on": "2026-11-20"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "amount {amount}");
    }
    // Spending is not income.
    let res = p
        .app
        .post(
            &format!("/api/v1/fund-accounts/{other}/income"),
            &p.staff,
            &json!({"kind": "expense", "amount_fen": 100, "counterparty_kind": "government",
                    "counterparty_name": "街道办", "occurred_on": "2026-11-20"}),
        )
        .await;
    assert_problem(res, 400, "invalid_body").await;
    p.assert_consistent(other).await;
}
