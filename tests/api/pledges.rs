//! Pledges (民筹, participation design §A6) through HTTP: taken only while the proposal raises or
//! is implemented; money fulfilled by the treasurer as a contribution of the fund ledger that
//! raises the proposal's `received_fen`; labour and materials confirmed by the lead (materials
//! with a receipt photo); unfulfilled pledges lapse exactly once when the proposal ends; public
//! lists show each pledger only as they chose, never a full name or a phone.
//!
//! Proposals reach their steps by HTTP only (tests/api/proposal_walk.rs).

use serde_json::{json, Value};
use uuid::Uuid;

use crate::allocations::{allocated, figures, funded, proposal};
use crate::attachments::upload_png;
use crate::funds::{body, place, Place};
use crate::helpers::*;
use crate::proposal_walk::{decided, deciding, implementing, lead, raising, start, step};

async fn pledge(p: &Place, token: &str, prop: Uuid, b: Value) -> reqwest::Response {
    p.app
        .post(&format!("/api/v1/proposals/{prop}/pledges"), token, &b)
        .await
}

async fn verb(p: &Place, token: &str, id: &Value, verb: &str, b: Value) -> reqwest::Response {
    let id = id.as_str().expect("id");
    p.app
        .post(&format!("/api/v1/pledges/{id}/{verb}"), token, &b)
        .await
}

#[tokio::test]
async fn pledges_are_taken_only_while_raising_or_implementing() {
    let p = place().await;
    let acct = funded(&p, 10_000).await;
    let prop = proposal(&p, "楼道改造").await;
    let money = json!({"kind": "money", "amount_fen": 5_000});
    let (pp, m) = (&p, &money);
    let refused = move || async move {
        assert_problem(
            pledge(pp, &pp.resident, prop, m.clone()).await,
            409,
            "wrong_step",
        )
        .await;
    };
    refused().await;
    let d = deciding(&p, prop, Some(json!({"budget_fen": 10_000}))).await;
    refused().await;
    decided(&p, prop, &d).await;
    body(pledge(&p, &p.resident, prop, money.clone()).await, 201).await;
    allocated(&p, acct, prop, 10_000).await;
    let lead = lead(&p, prop).await;
    start(&p, prop).await;
    body(pledge(&p, &p.resident, prop, money.clone()).await, 201).await;
    // What each kind needs.
    let v = assert_problem(
        pledge(
            &p,
            &p.resident,
            prop,
            json!({"kind": "material", "item": "油漆"}),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(v["errors"][0]["field"], "quantity", "{v}");
    // Completed by the lead (a completion report with a photo): evaluating, no more pledges.
    let photo = upload_png(&p.app, &lead).await;
    let report = json!({"kind": "completion", "note": "已完工", "attachment_ids": [photo["id"]]});
    body(step(&p, &lead, prop, "updates", report).await, 201).await;
    let v = body(step(&p, &lead, prop, "complete", json!({})).await, 200).await;
    assert_eq!(v["step"], "evaluating", "{v}");
    refused().await;
    // A proposal the caller cannot read is not found.
    assert_problem(
        pledge(&p, &p.neighbour, prop, money).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(figures(&p, prop).await["pledged_money_fen"], 10_000);
}

#[tokio::test]
async fn money_fulfil_writes_a_contribution_and_bumps_received() {
    let p = place().await;
    let acct = funded(&p, 10_000).await;
    let prop = raising(&p, "楼道改造", 10_000).await;
    let x = body(
        pledge(
            &p,
            &p.resident,
            prop,
            json!({"kind": "money", "amount_fen": 5_000, "public_display": "anonymous"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(x["status"], "pledged");
    let receive = json!({"account_id": acct, "amount_fen": 5_000, "occurred_on": "2026-11-26"});
    // Not the resident, not a council member: the treasurer (community staff).
    assert_problem(
        verb(&p, &p.resident, &x["id"], "fulfil", receive.clone()).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        verb(&p, &p.council, &x["id"], "fulfil", receive.clone()).await,
        403,
        "forbidden",
    )
    .await;
    let done = body(
        verb(&p, &p.staff, &x["id"], "fulfil", receive.clone()).await,
        200,
    )
    .await;
    assert_eq!(done["status"], "fulfilled", "{done}");
    assert_eq!(done["fulfilled_amount_fen"], 5_000);
    let entries = p.all_entries(&p.resident, acct).await;
    let c = entries
        .iter()
        .find(|e| e["id"] == done["fund_entry_id"])
        .expect("the contribution entry");
    assert_eq!(c["kind"], "contribution", "{c}");
    assert_eq!(c["amount_fen"], 5_000);
    assert_eq!(c["pledge_id"], x["id"]);
    assert_eq!(c["proposal_id"], prop.to_string());
    assert_eq!(c["public_name"], "匿名居民");
    let f = figures(&p, prop).await;
    assert_eq!(
        (f["received_fen"].as_i64(), f["pledged_money_fen"].as_i64()),
        (Some(5_000), Some(0)),
        "{f}"
    );
    assert_eq!(p.account_state(acct).await["balance_fen"], 15_000);
    // Once only.
    assert_problem(
        verb(&p, &p.staff, &x["id"], "fulfil", receive).await,
        409,
        "wrong_status",
    )
    .await;
    p.assert_consistent(acct).await;
}

#[tokio::test]
async fn the_lead_confirms_labour_minutes_and_materials_with_a_receipt_photo() {
    let p = place().await;
    let prop = implementing(&p, "小区花坛").await;
    let lead = lead(&p, prop).await;
    let labour = body(
        pledge(
            &p,
            &p.resident,
            prop,
            json!({"kind": "labour", "minutes": 120, "skill": "木工"}),
        )
        .await,
        201,
    )
    .await;
    let material = body(
        pledge(&p, &p.resident, prop, json!({"kind": "material", "item": "花苗", "quantity": 50, "unit": "株", "est_value_fen": 25_000})).await,
        201,
    )
    .await;
    // Staff are not the lead.
    assert_problem(
        verb(
            &p,
            &p.staff,
            &labour["id"],
            "fulfil",
            json!({"minutes": 90}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let l = body(
        verb(&p, &lead, &labour["id"], "fulfil", json!({"minutes": 90})).await,
        200,
    )
    .await;
    assert_eq!(
        (l["status"].as_str(), l["fulfilled_minutes"].as_i64()),
        (Some("partially_fulfilled"), Some(90)),
        "{l}"
    );
    assert_eq!(figures(&p, prop).await["labour_done_minutes"], 90);
    let v = assert_problem(
        verb(&p, &lead, &material["id"], "fulfil", json!({})).await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(v["errors"][0]["field"], "attachment_ids", "{v}");
    let photo = upload_png(&p.app, &lead).await;
    let m = body(
        verb(
            &p,
            &lead,
            &material["id"],
            "fulfil",
            json!({"attachment_ids": [photo["id"]]}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(m["status"], "fulfilled", "{m}");
    assert_eq!(m["receipts"].as_array().unwrap().len(), 1);
    let list = p
        .get(&p.resident, &format!("/api/v1/proposals/{prop}/pledges"))
        .await;
    assert_eq!(list["totals"]["in_kind_fen"], 25_000, "{list}");
    assert_eq!(list["totals"]["labour_done_minutes"], 90, "{list}");
    // The resident's own pledges.
    let mine = p.get(&p.resident, "/api/v1/me/pledges").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 2, "{mine}");
    assert!(p.get(&p.neighbour, "/api/v1/me/pledges").await["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn public_pledge_lists_show_names_only_as_each_pledger_chose() {
    let p = place().await;
    let prop = raising(&p, "楼道改造", 10_000).await;
    for display in ["name", "masked", "anonymous"] {
        body(
            pledge(
                &p,
                &p.resident,
                prop,
                json!({"kind": "money", "amount_fen": 100, "public_display": display}),
            )
            .await,
            201,
        )
        .await;
    }
    body(
        pledge(
            &p,
            &p.staff,
            prop,
            json!({"kind": "money", "amount_fen": 800, "public_display": "name",
            "on_behalf_of": {"pledger_kind": "organization", "name": "爱心基金会"}}),
        )
        .await,
        201,
    )
    .await;
    body(
        pledge(
            &p,
            &p.staff,
            prop,
            json!({"kind": "labour", "minutes": 60, "public_display": "name",
            "on_behalf_of": {"pledger_kind": "resident", "name": "赵大明"}}),
        )
        .await,
        201,
    )
    .await;
    // Staff must say for whom.
    assert_problem(
        pledge(
            &p,
            &p.staff,
            prop,
            json!({"kind": "money", "amount_fen": 1}),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    let resident_name = p.get(&p.resident, "/api/v1/me").await["display_name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // A neighbour of the same compound reads the list.
    let other = crate::ticket_world::member(
        &p.app,
        &p.root,
        &crate::ticket_world::uname("n"),
        "council_member",
        "community",
        p.community,
    )
    .await
    .0;
    for token in [&p.leader, &other] {
        let res = p
            .app
            .get(&format!("/api/v1/proposals/{prop}/pledges"), token)
            .await;
        let text = res.text().await.unwrap();
        let list: Value = serde_json::from_str(&text).unwrap();
        let names: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["public_name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names.iter().filter(|n| **n == "匿名居民").count(),
            1,
            "{list}"
        );
        assert!(names.contains(&"爱心基金会"), "{list}");
        assert!(names.contains(&"赵*"), "{list}");
        assert!(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["pledger_name"].is_null()),
            "{list}"
        );
        assert!(!text.contains("赵大明"), "{text}");
        if resident_name.chars().count() > 1 {
            assert!(!text.contains(&resident_name), "{text}");
        }
        assert_eq!(full_pii_in(&text), None);
    }
    // Staff of the place see who pledged.
    let staff = p
        .get(&p.staff, &format!("/api/v1/proposals/{prop}/pledges"))
        .await;
    assert!(
        staff["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["pledger_name"] == "赵大明"),
        "{staff}"
    );
    assert_eq!(staff["totals"]["pledged_money_fen"], 1_100);
}

#[tokio::test]
async fn a_pledge_is_cancelled_by_its_pledger_and_its_money_leaves_the_total() {
    let p = place().await;
    let prop = raising(&p, "楼道改造", 10_000).await;
    let x = body(
        pledge(
            &p,
            &p.resident,
            prop,
            json!({"kind": "money", "amount_fen": 3_000}),
        )
        .await,
        201,
    )
    .await;
    assert_problem(
        verb(&p, &p.leader, &x["id"], "cancel", json!({})).await,
        403,
        "forbidden",
    )
    .await;
    let c = body(
        verb(&p, &p.resident, &x["id"], "cancel", json!({})).await,
        200,
    )
    .await;
    assert_eq!(c["status"], "cancelled");
    assert_eq!(figures(&p, prop).await["pledged_money_fen"], 0);
    assert_problem(
        verb(&p, &p.resident, &x["id"], "cancel", json!({})).await,
        409,
        "wrong_status",
    )
    .await;
}

#[tokio::test]
async fn unfulfilled_pledges_lapse_exactly_once_when_the_proposal_ends() {
    let p = place().await;
    let acct = funded(&p, 1_000).await;
    let prop = raising(&p, "楼道改造", 10_000).await;
    let a = body(
        pledge(
            &p,
            &p.resident,
            prop,
            json!({"kind": "money", "amount_fen": 2_000}),
        )
        .await,
        201,
    )
    .await;
    let b = body(
        pledge(
            &p,
            &p.resident,
            prop,
            json!({"kind": "labour", "minutes": 30}),
        )
        .await,
        201,
    )
    .await;
    let c = body(
        pledge(
            &p,
            &p.resident,
            prop,
            json!({"kind": "money", "amount_fen": 700}),
        )
        .await,
        201,
    )
    .await;
    body(
        verb(
            &p,
            &p.staff,
            &c["id"],
            "fulfil",
            json!({"account_id": acct}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(figures(&p, prop).await["pledged_money_fen"], 2_000);
    // Staff ask to cancel the raising proposal; two council members co-sign at once: it ends
    // once, and its pledges lapse once.
    let asked = p
        .app
        .post(
            &format!("/api/v1/proposals/{prop}/cancel"),
            &p.staff,
            &json!({"reason": "居民意见分歧"}),
        )
        .await;
    assert_eq!(asked.status(), 202);
    let cancel = |token: &str| {
        let path = format!("/api/v1/proposals/{prop}/cancel");
        let token = token.to_string();
        let app = &p.app;
        async move {
            app.post(&path, &token, &json!({"reason": "居民意见分歧"}))
                .await
        }
    };
    let (r1, r2) = tokio::join!(cancel(&p.council), cancel(&p.council2));
    let codes = [r1.status().as_u16(), r2.status().as_u16()];
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 1, "{codes:?}");
    let list = p
        .get(&p.staff, &format!("/api/v1/proposals/{prop}/pledges"))
        .await;
    let status = |id: &Value| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| &i["id"] == id)
            .map(|i| i["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(status(&a["id"]), "lapsed");
    assert_eq!(status(&b["id"]), "lapsed");
    assert_eq!(status(&c["id"]), "fulfilled");
    let f = figures(&p, prop).await;
    assert_eq!(f["step"], "cancelled", "{f}");
    assert_eq!(
        (f["pledged_money_fen"].as_i64(), f["received_fen"].as_i64()),
        (Some(0), Some(700)),
        "{f}"
    );
    // Ended: no new pledges, nothing more to fulfil, and a second cancel changes nothing.
    assert_problem(
        pledge(
            &p,
            &p.resident,
            prop,
            json!({"kind": "money", "amount_fen": 1}),
        )
        .await,
        409,
        "wrong_step",
    )
    .await;
    assert_problem(
        verb(
            &p,
            &p.staff,
            &a["id"],
            "fulfil",
            json!({"account_id": acct}),
        )
        .await,
        409,
        "wrong_status",
    )
    .await;
    let again = p
        .app
        .post(
            &format!("/api/v1/proposals/{prop}/cancel"),
            &p.staff,
            &json!({"reason": "再次"}),
        )
        .await;
    assert_problem(again, 409, "wrong_step").await;
    assert_eq!(figures(&p, prop).await["pledged_money_fen"], 0);
}

/// The new routes for every role of the fixture (§A8): 404 outside the reach, 403 readable but
/// not allowed. Allocations: admins and community staff request and release, admins, staff and
/// council members approve; pledges: residents (and staff or leaders on someone's behalf) pledge,
/// community staff fulfil money, nobody but the pledger cancels.
#[tokio::test]
async fn every_role_meets_the_allocation_and_pledge_routes_as_the_table_allows() {
    let p = place().await;
    let acct = funded(&p, 100_000).await;
    let prop = raising(&p, "楼道改造", 10_000).await;
    let roles = [
        ("admin", &p.admin),
        ("staff", &p.staff),
        ("council", &p.council),
        ("leader", &p.leader),
        ("resident", &p.resident),
        ("neighbour", &p.neighbour),
    ];
    let mut errors = Vec::new();
    let mut check = |what: String, got: u16, want: u16| {
        if got != want {
            errors.push(format!("{what}: {got}, want {want}"));
        }
    };
    let request = json!({"account_id": acct, "proposal_id": prop, "amount_fen": 100});
    for (name, token, want) in [
        ("admin", &p.admin, 201),
        ("staff", &p.staff, 201),
        ("council", &p.council, 403),
        ("leader", &p.leader, 403),
        ("resident", &p.resident, 403),
        ("neighbour", &p.neighbour, 404),
    ] {
        let got = p
            .app
            .post("/api/v1/fund-allocations", token, &request)
            .await
            .status()
            .as_u16();
        check(format!("{name} requests an allocation"), got, want);
    }
    for (name, token, want) in [
        ("admin", &p.admin, 200),
        ("council", &p.council, 200),
        ("leader", &p.leader, 403),
        ("resident", &p.resident, 403),
        ("neighbour", &p.neighbour, 404),
    ] {
        let x = p
            .app
            .create(&p.staff, "fund-allocations", request.clone())
            .await;
        let got = p
            .app
            .post(
                &format!("/api/v1/fund-allocations/{x}/approve"),
                token,
                &json!({}),
            )
            .await
            .status()
            .as_u16();
        check(format!("{name} approves an allocation"), got, want);
        for (reader, t) in roles {
            let got = p
                .app
                .get(&format!("/api/v1/fund-allocations/{x}"), t)
                .await
                .status()
                .as_u16();
            check(
                format!("{reader} reads an allocation"),
                got,
                if reader == "neighbour" { 404 } else { 200 },
            );
        }
    }
    let x = crate::allocations::allocated(&p, acct, prop, 100).await;
    for (name, token, want) in [
        ("council", &p.council, 403),
        ("resident", &p.resident, 403),
        ("neighbour", &p.neighbour, 404),
        ("staff", &p.staff, 200),
    ] {
        let got = p
            .app
            .post(
                &format!("/api/v1/fund-allocations/{x}/release"),
                token,
                &json!({}),
            )
            .await
            .status()
            .as_u16();
        check(format!("{name} releases an allocation"), got, want);
    }
    let money = json!({"kind": "money", "amount_fen": 100});
    let on_behalf = json!({"kind": "money", "amount_fen": 100,
        "on_behalf_of": {"pledger_kind": "resident", "name": "钱多多"}});
    for (name, token, b, want) in [
        ("resident", &p.resident, &money, 201),
        ("staff", &p.staff, &on_behalf, 201),
        ("leader", &p.leader, &on_behalf, 201),
        ("council", &p.council, &on_behalf, 403),
        ("admin", &p.admin, &on_behalf, 403),
        ("neighbour", &p.neighbour, &money, 404),
    ] {
        let got = pledge(&p, token, prop, b.clone()).await.status().as_u16();
        check(format!("{name} pledges"), got, want);
    }
    for (reader, t) in roles {
        let got = p
            .app
            .get(&format!("/api/v1/proposals/{prop}/pledges"), t)
            .await
            .status()
            .as_u16();
        check(
            format!("{reader} lists the pledges"),
            got,
            if reader == "neighbour" { 404 } else { 200 },
        );
    }
    for (name, token, want) in [
        ("resident", &p.resident, 403),
        ("council", &p.council, 403),
        ("leader", &p.leader, 403),
        ("neighbour", &p.neighbour, 404),
        ("staff", &p.staff, 200),
    ] {
        let x = body(pledge(&p, &p.resident, prop, money.clone()).await, 201).await;
        let got = verb(&p, token, &x["id"], "fulfil", json!({"account_id": acct}))
            .await
            .status()
            .as_u16();
        check(format!("{name} fulfils a money pledge"), got, want);
        let got = verb(&p, token, &x["id"], "cancel", json!({}))
            .await
            .status()
            .as_u16();
        // The resident's own pledge is theirs to cancel; nobody else's.
        let want_cancel = match name {
            "neighbour" => 404,
            "resident" => 200,
            _ => 403,
        };
        check(
            format!("{name} cancels the resident's pledge"),
            got,
            want_cancel,
        );
    }
    assert!(errors.is_empty(), "{errors:#?}");
}

/// A full page of 20 of each new list costs a fixed number of statements, however many rows.
#[tokio::test]
async fn allocation_and_pledge_lists_answer_a_page_in_a_fixed_number_of_statements() {
    let p = place().await;
    let acct = funded(&p, 100_000).await;
    let prop = raising(&p, "楼道改造", 10_000).await;
    for _ in 0..22 {
        p.app
            .create(
                &p.staff,
                "fund-allocations",
                json!({"account_id": acct, "proposal_id": prop, "amount_fen": 10}),
            )
            .await;
        body(
            pledge(
                &p,
                &p.resident,
                prop,
                json!({"kind": "money", "amount_fen": 10}),
            )
            .await,
            201,
        )
        .await;
    }
    for (token, path, bound) in [
        (
            &p.resident,
            format!("/api/v1/proposals/{prop}/allocations"),
            16,
        ),
        (
            &p.staff,
            format!("/api/v1/fund-accounts/{acct}/allocations"),
            16,
        ),
        (&p.resident, format!("/api/v1/proposals/{prop}/pledges"), 16),
        (&p.staff, format!("/api/v1/proposals/{prop}/pledges"), 16),
        (&p.resident, "/api/v1/me/pledges".to_string(), 12),
    ] {
        let request_id = format!("count-{}", Uuid::now_v7().simple());
        linli::platform::statements::watch(&request_id);
        let res = p
            .app
            .request(reqwest::Method::GET, &path, Some(token))
            .header("x-request-id", &request_id)
            .send()
            .await
            .expect("request");
        let v: Value = body(res, 200).await;
        let stmts = linli::platform::statements::take(&request_id);
        assert_eq!(v["items"].as_array().map(Vec::len), Some(20), "{path}: {v}");
        assert!(
            stmts.len() <= bound,
            "{path}: {} statements: {:#?}",
            stmts.len(),
            stmts.iter().map(|s| &s.sql).collect::<Vec<_>>()
        );
    }
}
