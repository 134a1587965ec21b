//! A proposal's whole life with money, labour and materials, through HTTP only: budget and
//! targets set before the decision; an allocation approved by two approvers of different roles;
//! a money pledge received as a contribution, labour and materials confirmed by the lead; the
//! work started once the committed money covers the budget; an expense paid under the
//! allocation with its invoice; completion, two acceptances, the evaluation; and the close,
//! which releases what the allocation did not spend as a ledger entry of its own (释放预留). At
//! the end the proposal's cached figures are the ledger's sums, the chain verifies and the
//! balance is the sum of the entries. Also: what migration 034 does to a ledger with rows.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::allocations::allocated;
use crate::allocations::{figures, funded, proposal};
use crate::attachments::upload_png;
use crate::funds::{body, place, Place};
use crate::helpers::*;
use crate::proposal_walk::{
    decided, deciding, implementing, lead, polls_close, raising, start, step, vote,
};

async fn pledge(p: &Place, prop: Uuid, b: Value) -> Value {
    let res = p
        .app
        .post(
            &format!("/api/v1/proposals/{prop}/pledges"),
            &p.resident,
            &b,
        )
        .await;
    body(res, 201).await
}

async fn fulfil(p: &Place, token: &str, pledge: &Value, b: Value) -> Value {
    let id = pledge["id"].as_str().unwrap();
    let res = p
        .app
        .post(&format!("/api/v1/pledges/{id}/fulfil"), token, &b)
        .await;
    body(res, 200).await
}

async fn allocation(p: &Place, token: &str, id: Uuid, verb: &str) -> Value {
    let res = p
        .app
        .post(
            &format!("/api/v1/fund-allocations/{id}/{verb}"),
            token,
            &json!({}),
        )
        .await;
    body(res, 200).await
}

/// The strings of the account's .xlsx export.
async fn export_strings(p: &Place, acct: Uuid) -> String {
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
    assert_eq!(res.status().as_u16(), 200);
    let bytes = res.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut sst = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("xl/sharedStrings.xml").unwrap(), &mut sst)
        .unwrap();
    sst
}

#[tokio::test]
async fn a_proposal_lives_with_money_labour_and_materials_and_its_unused_allocation_is_released() {
    let p = place().await;
    let acct = funded(&p, 100_000).await;
    let prop = proposal(&p, "楼道粉刷与花坛").await;
    // 提 → 议 → 决: budget and targets set by the author before the text freezes.
    let plan = json!({"budget_fen": 50_000, "targets": [
        {"kind": "money", "amount_fen": 50_000},
        {"kind": "labour", "item": "刷漆", "minutes": 240},
        {"kind": "material", "item": "花苗", "quantity": 50, "unit": "株"}]});
    let d = deciding(&p, prop, Some(plan)).await;
    let f = figures(&p, prop).await;
    assert_eq!(
        (f["budget_fen"].as_i64(), f["labour_goal_minutes"].as_i64()),
        (Some(50_000), Some(240)),
        "{f}"
    );
    assert_eq!(f["targets"].as_array().unwrap().len(), 3, "{f}");
    // Money earmarked while deciding: staff request, a council member and a second member of
    // staff (another role) approve.
    let x = p
        .app
        .create(
            &p.staff,
            "fund-allocations",
            json!({"account_id": acct, "proposal_id": prop, "amount_fen": 40_000}),
        )
        .await;
    allocation(&p, &p.council, x, "approve").await;
    let v = allocation(&p, &p.staff2, x, "approve").await;
    assert_eq!(v["status"], "approved", "{v}");
    let roles: Vec<&str> = v["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["council_member", "community_staff"], "{v}");
    // The residents decide: 筹.
    let v = decided(&p, prop, &d).await;
    assert_eq!(v["step"], "raising", "{v}");
    // 40,000 allocated: short of the budget until the money pledge arrives.
    let ld = lead(&p, prop).await;
    let res = step(&p, &p.staff, prop, "start-implementation", json!({})).await;
    let g = assert_problem(res, 409, "guard_failed").await;
    assert_eq!(g["errors"][0]["field"], "committed", "{g}");
    let money = pledge(&p, prop, json!({"kind": "money", "amount_fen": 10_000})).await;
    let labour = pledge(
        &p,
        prop,
        json!({"kind": "labour", "minutes": 240, "skill": "刷漆"}),
    )
    .await;
    let material = pledge(
        &p,
        prop,
        json!({"kind": "material", "item": "花苗", "quantity": 50, "unit": "株",
               "est_value_fen": 25_000}),
    )
    .await;
    let got = fulfil(
        &p,
        &p.staff,
        &money,
        json!({"account_id": acct, "amount_fen": 10_000, "occurred_on": "2026-11-26"}),
    )
    .await;
    assert_eq!(got["status"], "fulfilled", "{got}");
    // 办: committed (40,000 allocated + 10,000 received) covers the budget.
    let v = start(&p, prop).await;
    assert_eq!(v["committed_fen"], 50_000, "{v}");
    let l = fulfil(&p, &ld, &labour, json!({"minutes": 240})).await;
    assert_eq!(l["status"], "fulfilled", "{l}");
    let photo = upload_png(&p.app, &ld).await;
    let m = fulfil(&p, &ld, &material, json!({"attachment_ids": [photo["id"]]})).await;
    assert_eq!(m["status"], "fulfilled", "{m}");
    // An expense under the allocation, approved by two, paid with its invoice.
    let e = p
        .app
        .create(
            &p.staff,
            "fund-expenses",
            json!({"account_id": acct, "proposal_id": prop, "allocation_id": x,
                   "amount_fen": 30_000, "payee_kind": "business", "payee_name": "某某涂料店",
                   "purpose": "楼道涂料"}),
        )
        .await;
    body(p.verb(&p.council, e, "approve", json!({})).await, 200).await;
    body(p.verb(&p.admin, e, "approve", json!({})).await, 200).await;
    let paid = body(p.pay(e).await, 200).await;
    assert_eq!(paid["status"], "paid", "{paid}");
    // Completed with a photo report; two acceptances; 评.
    let photo = upload_png(&p.app, &ld).await;
    let report = json!({"kind": "completion", "note": "楼道已粉刷，花苗已种", "attachment_ids": [photo["id"]]});
    body(step(&p, &ld, prop, "updates", report).await, 201).await;
    let v = body(step(&p, &ld, prop, "complete", json!({})).await, 200).await;
    assert_eq!(v["step"], "evaluating", "{v}");
    for t in [&p.council, &p.council2] {
        let res = step(&p, t, prop, "acceptances", json!({"verdict": "pass"})).await;
        body(res, 200).await;
    }
    let ev = v["evaluation"]["poll_id"].as_str().unwrap();
    let poll = body(
        p.app.get(&format!("/api/v1/polls/{ev}"), &d.voter).await,
        200,
    )
    .await;
    let q = &poll["questions"][0];
    let answers =
        json!({"answers": [{"question_id": q["id"], "option_ids": [q["options"][0]["id"]]}]});
    let res = p
        .app
        .post(&format!("/api/v1/polls/{ev}/ballots"), &d.voter, &answers)
        .await;
    body(res, 201).await;
    polls_close(&p, 14).await;
    // Close: the 10,000 the allocation did not spend is released, as an entry of its own.
    let v = body(step(&p, &p.staff, prop, "close", json!({})).await, 200).await;
    assert_eq!(v["step"], "closed", "{v}");
    let a = p
        .get(&p.staff, &format!("/api/v1/fund-allocations/{x}"))
        .await;
    assert_eq!(
        (
            a["status"].as_str(),
            a["spent_fen"].as_i64(),
            a["released_fen"].as_i64()
        ),
        (Some("released"), Some(30_000), Some(10_000)),
        "{a}"
    );
    let entries = p.all_entries(&p.resident, acct).await;
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["release", "expense", "contribution", "contribution"]
    );
    let rel = &entries[0];
    assert_eq!(
        (rel["amount_fen"].as_i64(), rel["released_fen"].as_i64()),
        (Some(0), Some(10_000)),
        "{rel}"
    );
    assert_eq!(rel["kind_label"], "释放预留");
    assert_eq!(rel["balance_after_fen"], 80_000);
    assert_eq!(rel["allocation_id"], x.to_string());
    assert_eq!(rel["prev_hash"], entries[1]["hash"]);
    assert_eq!(
        entries[1]["attachments"].as_array().unwrap().len(),
        1,
        "the invoice"
    );
    let acc = p.account_state(acct).await;
    assert_eq!(
        (acc["balance_fen"].as_i64(), acc["reserved_fen"].as_i64()),
        (Some(80_000), Some(0)),
        "{acc}"
    );
    // The proposal's figures are the ledger's sums.
    let mine = |kind: &str| -> i64 {
        entries
            .iter()
            .filter(|e| e["proposal_id"] == prop.to_string() && e["kind"] == kind)
            .map(|e| e["amount_fen"].as_i64().unwrap())
            .sum()
    };
    let freed: i64 = entries
        .iter()
        .filter_map(|e| e["released_fen"].as_i64())
        .sum();
    let f = figures(&p, prop).await;
    assert_eq!(
        f["received_fen"].as_i64(),
        Some(mine("contribution")),
        "{f}"
    );
    assert_eq!(f["spent_fen"].as_i64(), Some(-mine("expense")), "{f}");
    assert_eq!(f["allocated_fen"].as_i64(), Some(40_000 - freed), "{f}");
    assert_eq!(
        (
            f["received_fen"].as_i64(),
            f["spent_fen"].as_i64(),
            f["allocated_fen"].as_i64()
        ),
        (Some(10_000), Some(30_000), Some(30_000)),
        "{f}"
    );
    assert_eq!(f["labour_done_minutes"], 240, "{f}");
    let list = p
        .get(&p.resident, &format!("/api/v1/proposals/{prop}/pledges"))
        .await;
    assert_eq!(list["totals"]["in_kind_fen"], 25_000, "{list}");
    // Verified, balance = Σ entries; the release is in the 自治金台账 with its label and amount.
    assert_eq!(p.assert_consistent(acct).await, 80_000);
    let sst = export_strings(&p, acct).await;
    for s in ["释放预留（元）", "释放预留", "100.00"] {
        assert!(sst.contains(s), "{s} in the export");
    }
}

/// Migration 034 down and up again over a ledger with rows: every entry comes back and the chain
/// still verifies; once a release entry exists, down refuses (the old CHECK cannot hold it, and
/// dropping it would break the chain), and the ledger is untouched.
#[tokio::test]
async fn migration_034_keeps_the_ledger_down_and_up_and_refuses_down_over_a_release() {
    let p = place().await;
    let acct = p.account(&p.staff, "community", p.community).await;
    p.income(acct, 100_000, "government", "上城区民政局", false)
        .await;
    p.income(acct, 2_000, "resident", "王小明", true).await;
    let e = p.approved(acct, 1_500).await;
    body(p.pay(e).await, 200).await;
    let before = p.all_entries(&p.staff, acct).await;
    assert_eq!(before.len(), 3);
    migrate_back_before(&p.app, "m20261201_000034_fund_releases").await;
    migration::Migrator::up(&p.app.state.db, None)
        .await
        .unwrap();
    assert_eq!(p.all_entries(&p.staff, acct).await, before);
    assert_eq!(p.assert_consistent(acct).await, 100_500);
    // A release entry now: down is refused and changes nothing.
    let fund = funded(&p, 10_000).await;
    let prop = implementing(&p, "楼道灯更换").await;
    let x = allocated(&p, fund, prop, 5_000).await;
    allocation(&p, &p.staff, x, "release").await;
    let with_release = p.all_entries(&p.staff, fund).await;
    assert_eq!(with_release[0]["kind"], "release");
    use migration::MigratorTrait;
    // The migrations after 034 go down first (they know nothing of releases); then 034's down
    // is the one refused.
    let names: Vec<String> = migration::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let at = names
        .iter()
        .position(|n| n == "m20261201_000034_fund_releases")
        .unwrap();
    if let Some(next) = names.get(at + 1) {
        migrate_back_before(&p.app, next).await;
    }
    let res = migration::Migrator::down(&p.app.state.db, Some(1)).await;
    assert!(res.is_err(), "down over a release entry");
    migration::Migrator::up(&p.app.state.db, None)
        .await
        .unwrap();
    assert_eq!(p.all_entries(&p.staff, fund).await, with_release);
    p.assert_consistent(fund).await;
    p.assert_consistent(acct).await;
    // The database refuses an amount of 0 for any other kind.
    let db = &p.app.state.db;
    let res = sea_orm::ConnectionTrait::execute_unprepared(
        db,
        "UPDATE fund_entries SET amount_fen = 0 WHERE kind = 'expense'",
    )
    .await;
    assert!(res.is_err(), "CHECK: only a release has amount 0");
}

/// A proposal that ends without its work gives back what was earmarked for it: a failed
/// decision's allocation is released by the polls' job (a release entry recorded by 系统), a
/// cancelled proposal's by whoever cancelled it.
#[tokio::test]
async fn a_proposal_that_fails_or_is_cancelled_releases_its_allocations() {
    let p = place().await;
    let acct = funded(&p, 100_000).await;
    let prop = proposal(&p, "加装雨棚").await;
    let d = deciding(&p, prop, Some(json!({"budget_fen": 20_000}))).await;
    let x = allocated(&p, acct, prop, 20_000).await;
    assert_eq!(p.account_state(acct).await["reserved_fen"], 20_000);
    vote(&p, &d, 1).await;
    polls_close(&p, 7).await;
    assert_eq!(figures(&p, prop).await["step"], "failed");
    let a = p
        .get(&p.staff, &format!("/api/v1/fund-allocations/{x}"))
        .await;
    assert_eq!(
        (a["status"].as_str(), a["released_fen"].as_i64()),
        (Some("released"), Some(20_000)),
        "{a}"
    );
    let entries = p.all_entries(&p.staff, acct).await;
    let rel = &entries[0];
    assert_eq!(
        (rel["kind"].as_str(), rel["released_fen"].as_i64()),
        (Some("release"), Some(20_000)),
        "{rel}"
    );
    assert_eq!(rel["recorded_by_name"], "系统", "{rel}");
    assert_eq!(p.account_state(acct).await["reserved_fen"], 0);
    // Cancelled while raising (asked by staff, co-signed by a council member): released in the
    // cancel's transaction, by the co-signer.
    let prop = raising(&p, "更换信报箱", 10_000).await;
    let y = allocated(&p, acct, prop, 10_000).await;
    let res = step(
        &p,
        &p.staff,
        prop,
        "cancel",
        json!({"reason": "居民意见分歧"}),
    )
    .await;
    assert_eq!(body(res, 202).await["step"], "raising");
    assert_eq!(p.account_state(acct).await["reserved_fen"], 10_000);
    let res = step(
        &p,
        &p.council,
        prop,
        "cancel",
        json!({"reason": "居民意见分歧"}),
    )
    .await;
    assert_eq!(body(res, 200).await["step"], "cancelled");
    let a = p
        .get(&p.staff, &format!("/api/v1/fund-allocations/{y}"))
        .await;
    assert_eq!(a["status"], "released", "{a}");
    let entries = p.all_entries(&p.staff, acct).await;
    assert_eq!(entries[0]["kind"], "release");
    assert_eq!(entries[0]["allocation_id"], y.to_string());
    assert_ne!(entries[0]["recorded_by_name"], "系统");
    assert_eq!(figures(&p, prop).await["allocated_fen"], 0);
    assert_eq!(p.assert_consistent(acct).await, 100_000);
}
