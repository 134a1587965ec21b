//! Money of the consultation through HTTP (participation design §A5.2, §A9 21–26): allocations
//! of a fund account to a proposal with two approvers of different roles (never the requester,
//! `same_approver`) and the spending-poll guard; releases that free the reservation and leave
//! the balance alone; spending from a 自治金 tied to a proposal in `implementing` and never past
//! its allocation, also under concurrent payments; the proposal's cached figures equal to the
//! ledger's sums after a random sequence of operations.
//!
//! Proposals reach their steps by HTTP only (tests/api/proposal_walk.rs).

use futures_util::future::join_all;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::attachments::upload_png;
use crate::funds::{body, place, Place};
use crate::helpers::*;
use crate::proposal_walk::{decided, deciding, implementing, lead, raising, start};

/// A proposal of the fixture's compound, filed by its resident.
pub(crate) async fn proposal(p: &Place, title: &str) -> Uuid {
    let res = p
        .app
        .post(
            "/api/v1/proposals",
            &p.resident,
            &json!({"scope_type": "compound", "scope_id": p.compound, "title": title,
                    "body": "楼道灯坏了很久，希望统一更换为声控灯", "category": "环境"}),
        )
        .await;
    id_of(&body(res, 201).await)
}

/// The proposal's cached money figures, as its detail answers them.
pub(crate) async fn figures(p: &Place, id: Uuid) -> Value {
    p.get(&p.staff, &format!("/api/v1/proposals/{id}")).await
}

/// A 自治金 of the community with `amount` of the street's money in it.
pub(crate) async fn funded(p: &Place, amount: i64) -> Uuid {
    let acct = p
        .account_of(&p.staff, "community", p.community, "self_governance")
        .await;
    p.income(acct, amount, "government", "上城区民政局", false)
        .await;
    acct
}

async fn request(p: &Place, acct: Uuid, proposal: Uuid, amount: i64) -> Uuid {
    p.app
        .create(
            &p.staff,
            "fund-allocations",
            json!({"account_id": acct, "proposal_id": proposal, "amount_fen": amount}),
        )
        .await
}

async fn verb(p: &Place, token: &str, id: Uuid, verb: &str, b: Value) -> reqwest::Response {
    p.app
        .post(&format!("/api/v1/fund-allocations/{id}/{verb}"), token, &b)
        .await
}

/// An allocation approved by a council member and an admin.
pub(crate) async fn allocated(p: &Place, acct: Uuid, proposal: Uuid, amount: i64) -> Uuid {
    let x = request(p, acct, proposal, amount).await;
    body(verb(p, &p.council, x, "approve", json!({})).await, 200).await;
    let v = body(verb(p, &p.admin, x, "approve", json!({})).await, 200).await;
    assert_eq!(v["status"], "approved", "{v}");
    x
}

/// An expense request for the proposal (under `allocation` when given), approved.
async fn spend(
    p: &Place,
    acct: Uuid,
    proposal: Uuid,
    allocation: Option<Uuid>,
    amount: i64,
) -> Uuid {
    let e = p
        .app
        .create(
            &p.staff,
            "fund-expenses",
            json!({"account_id": acct, "proposal_id": proposal, "allocation_id": allocation,
                   "amount_fen": amount, "payee_kind": "business", "payee_name": "某某灯具店",
                   "purpose": "楼道灯更换"}),
        )
        .await;
    body(p.verb(&p.council, e, "approve", json!({})).await, 200).await;
    body(p.verb(&p.admin, e, "approve", json!({})).await, 200).await;
    e
}

#[tokio::test]
async fn allocation_needs_two_distinct_approvers_of_different_roles_not_the_requester() {
    let p = place().await;
    let acct = funded(&p, 100_000).await;
    let prop = raising(&p, "楼道灯更换", 30_000).await;
    let x = request(&p, acct, prop, 30_000).await;
    assert_problem(
        verb(&p, &p.staff, x, "approve", json!({})).await,
        409,
        "same_approver",
    )
    .await;
    let first = body(verb(&p, &p.council, x, "approve", json!({})).await, 200).await;
    assert_eq!(first["status"], "requested", "{first}");
    assert_problem(
        verb(&p, &p.council, x, "approve", json!({})).await,
        409,
        "same_approver",
    )
    .await;
    assert_problem(
        verb(&p, &p.council2, x, "approve", json!({})).await,
        409,
        "same_approver",
    )
    .await;
    assert_problem(
        verb(&p, &p.resident, x, "approve", json!({})).await,
        403,
        "forbidden",
    )
    .await;
    let done = body(verb(&p, &p.staff2, x, "approve", json!({})).await, 200).await;
    assert_eq!(done["status"], "approved", "{done}");
    assert_eq!(done["left_fen"], 30_000);
    assert_eq!(done["approvals"].as_array().unwrap().len(), 2);
    let a = p.account_state(acct).await;
    assert_eq!(a["balance_fen"], 100_000, "{a}");
    assert_eq!(a["reserved_fen"], 30_000, "{a}");
    assert_eq!(figures(&p, prop).await["allocated_fen"], 30_000);
    // More than is available: the completing approval is refused and nothing is reserved.
    let big = request(&p, acct, prop, 80_000).await;
    body(verb(&p, &p.council, big, "approve", json!({})).await, 200).await;
    assert_problem(
        verb(&p, &p.admin, big, "approve", json!({})).await,
        409,
        "insufficient_funds",
    )
    .await;
    assert_eq!(p.account_state(acct).await["reserved_fen"], 30_000);
    // Rejected with a reason; then no more approvals.
    let r = body(
        verb(&p, &p.staff2, big, "reject", json!({"reason": "预算过高"})).await,
        200,
    )
    .await;
    assert_eq!(r["status"], "rejected");
    assert_problem(
        verb(&p, &p.admin, big, "approve", json!({})).await,
        409,
        "wrong_status",
    )
    .await;
    // Residents read the allocations of their community's account, without names.
    let list = p
        .get(
            &p.resident,
            &format!("/api/v1/proposals/{prop}/allocations"),
        )
        .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    assert!(
        items.iter().all(|i| i["requested_by_name"].is_null()),
        "{list}"
    );
    // An account the caller does not read: 404, as for no account.
    let res = p
        .app
        .get(
            &format!("/api/v1/fund-accounts/{acct}/allocations"),
            &p.neighbour,
        )
        .await;
    assert_eq!(res.status().as_u16(), 404);
}

#[tokio::test]
async fn allocation_above_the_spending_threshold_needs_a_passed_poll() {
    let p = place().await;
    let acct = funded(&p, 2_000_000).await;
    let prop = proposal(&p, "加装电梯").await;
    let d = deciding(&p, prop, Some(json!({"budget_fen": 1_100_000}))).await;
    // Deciding: money may be earmarked, but above 500,000 fen (the default policy) only once a
    // poll passed, and the decision poll runs still.
    let x = request(&p, acct, prop, 600_000).await;
    body(verb(&p, &p.council, x, "approve", json!({})).await, 200).await;
    let refused = assert_problem(
        verb(&p, &p.admin, x, "approve", json!({})).await,
        409,
        "guard_failed",
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "spending_poll", "{refused}");
    assert_eq!(p.account_state(acct).await["reserved_fen"], 0);
    // At the threshold no poll is needed.
    allocated(&p, acct, prop, 500_000).await;
    // The proposal's decision poll, passed, counts.
    decided(&p, prop, &d).await;
    let done = body(verb(&p, &p.admin, x, "approve", json!({})).await, 200).await;
    assert_eq!(done["status"], "approved", "{done}");
    assert_eq!(done["poll_id"], d.poll.as_str());
    assert_eq!(p.account_state(acct).await["reserved_fen"], 1_100_000);
}

#[tokio::test]
async fn release_leaves_the_balance_unchanged_and_frees_what_is_reserved() {
    let p = place().await;
    let acct = funded(&p, 100_000).await;
    let prop = implementing(&p, "小区花坛").await;
    let x = allocated(&p, acct, prop, 30_000).await;
    let e = spend(&p, acct, prop, Some(x), 10_000).await;
    // Under an allocation the approvals reserve nothing more.
    assert_eq!(p.account_state(acct).await["reserved_fen"], 30_000);
    body(p.pay(e).await, 200).await;
    let a = p.account_state(acct).await;
    assert_eq!(
        (a["balance_fen"].as_i64(), a["reserved_fen"].as_i64()),
        (Some(90_000), Some(20_000)),
        "{a}"
    );
    let entries_before = p.all_entries(&p.staff, acct).await.len();
    let head_before = p.account_state(acct).await["head_hash"].clone();
    let r = body(verb(&p, &p.staff, x, "release", json!({})).await, 200).await;
    assert_eq!(r["status"], "released", "{r}");
    assert_eq!(
        (r["spent_fen"].as_i64(), r["released_fen"].as_i64()),
        (Some(10_000), Some(20_000))
    );
    let a = p.account_state(acct).await;
    assert_eq!(a["balance_fen"], 90_000, "{a}");
    assert_eq!(a["reserved_fen"], 0, "{a}");
    assert_eq!(a["available_fen"], 90_000, "{a}");
    // The release is an entry of its own: amount 0, the freed 20,000 fen, chained after the rest.
    let entries = p.all_entries(&p.resident, acct).await;
    assert_eq!(entries.len(), entries_before + 1);
    let rel = &entries[0];
    assert_eq!(
        (rel["kind"].as_str(), rel["kind_label"].as_str()),
        (Some("release"), Some("释放预留")),
        "{rel}"
    );
    assert_eq!(rel["amount_fen"], 0, "{rel}");
    assert_eq!(rel["released_fen"], 20_000, "{rel}");
    assert_eq!(rel["balance_after_fen"], 90_000, "{rel}");
    assert_eq!(rel["allocation_id"], x.to_string());
    assert_eq!(rel["proposal_id"], prop.to_string());
    assert_eq!(rel["prev_hash"], head_before);
    assert_eq!(a["head_hash"], rel["hash"]);
    assert!(entries[1..].iter().all(|e| e["released_fen"].is_null()));
    // It moved no money: there is nothing to reverse.
    let res = p
        .app
        .post(
            &format!(
                "/api/v1/fund-entries/{}/reverse",
                rel["id"].as_str().unwrap()
            ),
            &p.staff,
            &json!({"reason": "更正"}),
        )
        .await;
    let v = assert_problem(res, 409, "entry_not_reversible").await;
    assert!(v["detail"].as_str().unwrap().contains("释放预留"), "{v}");
    let f = figures(&p, prop).await;
    assert_eq!(
        (f["allocated_fen"].as_i64(), f["spent_fen"].as_i64()),
        (Some(10_000), Some(10_000)),
        "{f}"
    );
    assert_problem(
        verb(&p, &p.staff, x, "release", json!({})).await,
        409,
        "wrong_status",
    )
    .await;
    p.assert_consistent(acct).await;
    // A release entry altered in the database (what it freed) breaks the chain there.
    let seq = rel["seq"].as_i64().unwrap();
    let db = &p.app.state.db;
    db.execute_unprepared(&format!(
        "UPDATE fund_entries SET released_fen = 2000 WHERE kind = 'release' AND seq = {seq}"
    ))
    .await
    .unwrap();
    let v = p.verify(&p.resident, acct).await;
    assert_eq!(
        (
            v["ok"].as_bool(),
            v["first_broken_seq"].as_i64(),
            v["problem"].as_str()
        ),
        (Some(false), Some(seq), Some("hash")),
        "{v}"
    );
}

#[tokio::test]
async fn spending_from_a_self_governance_fund_needs_a_proposal_in_implementing() {
    let p = place().await;
    let acct = funded(&p, 50_000).await;
    let prop = raising(&p, "健身器材维修", 1_000).await;
    let file = |proposal: Option<Uuid>| {
        json!({"account_id": acct, "proposal_id": proposal, "amount_fen": 1_000,
               "payee_kind": "business", "payee_name": "某某公司", "purpose": "维修"})
    };
    let res = p
        .app
        .post("/api/v1/fund-expenses", &p.staff, &file(None))
        .await;
    let v = assert_problem(res, 409, "guard_failed").await;
    assert_eq!(v["errors"][0]["field"], "proposal_id", "{v}");
    let res = p
        .app
        .post("/api/v1/fund-expenses", &p.staff, &file(Some(prop)))
        .await;
    let v = assert_problem(res, 409, "guard_failed").await;
    assert_eq!(v["errors"][0]["field"], "proposal", "{v}");
    allocated(&p, acct, prop, 1_000).await;
    lead(&p, prop).await;
    start(&p, prop).await;
    let res = p
        .app
        .post("/api/v1/fund-expenses", &p.staff, &file(Some(prop)))
        .await;
    assert_eq!(body(res, 201).await["proposal_id"], prop.to_string());
}

#[tokio::test]
async fn expense_for_proposal_cannot_exceed_its_allocation() {
    let p = place().await;
    let acct = funded(&p, 100_000).await;
    let prop = implementing(&p, "路灯维修").await;
    let x = allocated(&p, acct, prop, 10_000).await;
    let over = json!({"account_id": acct, "allocation_id": x, "amount_fen": 12_000,
        "payee_kind": "business", "payee_name": "某某公司", "purpose": "维修"});
    assert_problem(
        p.app.post("/api/v1/fund-expenses", &p.staff, &over).await,
        409,
        "insufficient_funds",
    )
    .await;
    // Four requests of 4,000 under the 10,000 allocation, all approved; the payments race.
    let mut es = Vec::new();
    for _ in 0..4 {
        es.push(spend(&p, acct, prop, Some(x), 4_000).await);
    }
    let mut photos = Vec::new();
    for _ in &es {
        photos.push(upload_png(&p.app, &p.staff).await["id"].clone());
    }
    let p = &p;
    let pays = es.iter().zip(&photos).map(|(e, photo)| async move {
        let path = format!("/api/v1/fund-expenses/{e}/pay");
        let b = json!({"occurred_on": "2026-11-25", "attachment_ids": [photo]});
        p.app.post(&path, &p.staff, &b).await
    });
    let mut paid = 0;
    for res in join_all(pays).await {
        match res.status().as_u16() {
            200 => paid += 1,
            409 => {
                assert_problem(res, 409, "insufficient_funds").await;
            }
            s => panic!("pay: {s} {}", res.text().await.unwrap()),
        }
    }
    assert_eq!(paid, 2, "two of 4,000 fit in 10,000");
    let a = p
        .get(&p.staff, &format!("/api/v1/fund-allocations/{x}"))
        .await;
    assert_eq!(
        (a["spent_fen"].as_i64(), a["left_fen"].as_i64()),
        (Some(8_000), Some(2_000)),
        "{a}"
    );
    let acc = p.account_state(acct).await;
    assert_eq!(
        (acc["balance_fen"].as_i64(), acc["reserved_fen"].as_i64()),
        (Some(92_000), Some(2_000)),
        "{acc}"
    );
    assert_eq!(figures(p, prop).await["spent_fen"], 8_000);
    p.assert_consistent(acct).await;
}

/// A tiny deterministic generator (the sequence is the same on every run and database).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn proposal_fen_caches_equal_ledger_sums() {
    let p = place().await;
    let acct = funded(&p, 200_000).await;
    let prop = implementing(&p, "社区菜园").await;
    let mut rng = Lcg(20261201);
    let mut allocations: Vec<Uuid> = Vec::new();
    let mut entries: Vec<Uuid> = Vec::new();
    for _ in 0..24 {
        let amount = 1_000 + 500 * rng.next(10) as i64;
        match rng.next(5) {
            0 => {
                let res = p.app.post(
                    &format!("/api/v1/fund-accounts/{acct}/income"),
                    &p.staff,
                    &json!({"kind": "contribution", "amount_fen": amount, "counterparty_kind": "resident",
                            "counterparty_name": "王小明", "occurred_on": "2026-11-20", "proposal_id": prop}),
                ).await;
                entries.push(id_of(&body(res, 201).await));
            }
            1 => {
                let x = request(&p, acct, prop, amount).await;
                body(verb(&p, &p.council, x, "approve", json!({})).await, 200).await;
                let res = verb(&p, &p.admin, x, "approve", json!({})).await;
                if res.status().as_u16() == 200 {
                    allocations.push(x);
                } else {
                    assert_problem(res, 409, "insufficient_funds").await;
                }
            }
            2 | 3 => {
                let under = allocations
                    .get(rng.next(allocations.len().max(1) as u64) as usize)
                    .copied();
                let under = under.filter(|_| rng.next(2) == 0);
                let b = json!({"account_id": acct, "proposal_id": prop, "allocation_id": under,
                    "amount_fen": amount, "payee_kind": "business", "payee_name": "某某公司",
                    "purpose": "材料"});
                let res = p.app.post("/api/v1/fund-expenses", &p.staff, &b).await;
                if res.status().as_u16() != 201 {
                    continue;
                }
                let e = id_of(&res.json::<Value>().await.unwrap());
                body(p.verb(&p.council, e, "approve", json!({})).await, 200).await;
                if p.verb(&p.admin, e, "approve", json!({}))
                    .await
                    .status()
                    .as_u16()
                    != 200
                {
                    continue;
                }
                let res = p.pay(e).await;
                if res.status().as_u16() == 200 {
                    let paid = res.json::<Value>().await.unwrap();
                    entries.push(paid["paid_entry_id"].as_str().unwrap().parse().unwrap());
                } else {
                    assert_problem(res, 409, "insufficient_funds").await;
                    p.verb(&p.staff, e, "cancel", json!({})).await;
                }
            }
            _ => {
                if rng.next(2) == 0 && !entries.is_empty() {
                    let e = entries.remove(rng.next(entries.len() as u64) as usize);
                    let res = p
                        .app
                        .post(
                            &format!("/api/v1/fund-entries/{e}/reverse"),
                            &p.staff,
                            &json!({"reason": "更正"}),
                        )
                        .await;
                    assert!(
                        matches!(res.status().as_u16(), 201 | 409),
                        "{}",
                        res.text().await.unwrap()
                    );
                } else if !allocations.is_empty() {
                    let x = allocations.remove(rng.next(allocations.len() as u64) as usize);
                    body(verb(&p, &p.staff, x, "release", json!({})).await, 200).await;
                }
            }
        }
    }
    // The ledger's sums for the proposal.
    let all = p.all_entries(&p.staff, acct).await;
    let kind_of = |id: &Value| {
        all.iter()
            .find(|e| &e["id"] == id)
            .map(|e| e["kind"].as_str().unwrap().to_string())
    };
    let (mut received, mut spent, mut released) = (0, 0, 0);
    for e in all.iter().filter(|e| e["proposal_id"] == prop.to_string()) {
        let kind = match e["kind"].as_str().unwrap() {
            "reversal" => kind_of(&e["reverses_entry_id"]).unwrap(),
            k => k.to_string(),
        };
        let a = e["amount_fen"].as_i64().unwrap();
        match kind.as_str() {
            "allocation" | "contribution" | "transfer_in" | "refund" => received += a,
            "expense" => spent -= a,
            "release" => {
                assert_eq!(a, 0, "{e}");
                released += e["released_fen"].as_i64().unwrap();
            }
            k => panic!("unexpected {k}"),
        }
    }
    let list = p
        .get(
            &p.staff,
            &format!("/api/v1/proposals/{prop}/allocations?limit=100"),
        )
        .await;
    let allocated: i64 = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["status"] == "approved" || x["status"] == "released")
        .map(|x| x["amount_fen"].as_i64().unwrap() - x["released_fen"].as_i64().unwrap())
        .sum();
    let f = figures(&p, prop).await;
    assert!(
        received > 0 && spent > 0,
        "the sequence moved money both ways: {received} {spent}"
    );
    assert_eq!(f["received_fen"].as_i64(), Some(received), "{f}");
    assert_eq!(f["spent_fen"].as_i64(), Some(spent), "{f}");
    assert_eq!(f["allocated_fen"].as_i64(), Some(allocated), "{f}");
    // Every allocation released is a release entry of what it freed.
    let freed: i64 = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["released_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(released, freed);
    p.assert_consistent(acct).await;
}
