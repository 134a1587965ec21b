//! `linli seed demo` fills an empty database with a usable demo, and only an empty one.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn demo_seed_creates_the_street_its_communities_and_a_working_account_per_role() {
    let app = spawn_app().await;
    let users = linli::app::seed::seed_demo(&app.state.db, app.state.storage.as_ref())
        .await
        .unwrap();
    // One account per role, 海潮社区's council member (the second approver of its 自治金) and
    // four neighbours of the demo resident who take part in the consultation online.
    assert_eq!(users.len(), 13);
    let mut roles: Vec<&str> = users.iter().map(|u| u.role.as_str()).collect();
    roles.sort();
    roles.dedup();
    assert_eq!(roles.len(), 8, "every role has an account: {roles:?}");

    let admin = users.iter().find(|u| u.role.as_str() == "admin").unwrap();
    let token = token_of(&app.login(&admin.username, &admin.password).await);
    let streets: Value = app
        .get("/api/v1/streets", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(streets["items"][0]["name"], "紫阳街道");
    let communities: Value = app
        .get("/api/v1/communities", &token)
        .await
        .json()
        .await
        .unwrap();
    let mut names: Vec<&str> = communities["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["万家星城社区", "上羊市街社区", "劳动路社区", "海潮社区"]
    );
    let compounds: Value = app
        .get("/api/v1/compounds?limit=100", &token)
        .await
        .json()
        .await
        .unwrap();
    let compound_names: Vec<&str> = compounds["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(compound_names.contains(&"候潮府小区") && compound_names.contains(&"柳浪东苑"));

    for u in &users {
        let res = app.login_response(&u.username, &u.password).await;
        assert_eq!(res.status(), StatusCode::OK, "{} can log in", u.username);
        let me: Value = app
            .get("/api/v1/me", &token_of(&res.json().await.unwrap()))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["roles"][0]["role"], u.role.as_str());
    }

    let resident = users
        .iter()
        .find(|u| u.role.as_str() == "resident")
        .unwrap();
    let token = token_of(&app.login(&resident.username, &resident.password).await);
    let households: Value = app
        .get("/api/v1/households", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        households["items"].as_array().unwrap().len(),
        1,
        "a resident sees only their household"
    );
    // The demo resident has filed three tickets, waiting for the community to triage them.
    let mine: Value = app
        .get("/api/v1/tickets?mine=true", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 3);
    let staff = users
        .iter()
        .find(|u| u.username == "haichao_staff")
        .unwrap();
    let staff = token_of(&app.login(&staff.username, &staff.password).await);
    let waiting: Value = app
        .get("/api/v1/tickets?status=submitted", &staff)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(waiting["items"].as_array().unwrap().len(), 3);
    // Three notices reached the resident of 候潮府小区: the street's, the community's and the
    // property company's; all unread, the clinic's asking for a confirmation.
    let notices: Value = app
        .get("/api/v1/me/notices", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(notices["unread_count"], 3, "{notices}");
    let mut titles: Vec<&str> = notices["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    titles.sort();
    assert_eq!(titles, vec!["停水通知", "本周六社区义诊", "汛期安全提示"]);
    assert!(notices["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["requires_confirmation"] == true && n["scope_name"] == "海潮社区"));
    // The community's 自治金, read by its resident: the allocation and an anonymous gift first,
    // then what the consultation spent and received; the ledger verifies.
    let funds: Value = app
        .get("/api/v1/fund-accounts", &token)
        .await
        .json()
        .await
        .unwrap();
    let account = &funds["items"][0];
    assert_eq!(account["community_name"], "海潮社区", "{funds}");
    let id = account["id"].as_str().unwrap();
    let entries: Value = app
        .get(
            &format!("/api/v1/fund-accounts/{id}/entries?limit=100"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = entries["items"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .take(2)
        .map(|e| e["public_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["上城区民政局", "匿名居民"], "{entries}");
    let waiting: Value = app
        .get(
            &format!("/api/v1/fund-expenses?account_id={id}&status=submitted"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    // Spending from a 自治金 names a proposal in `implementing` (§A5.2): the 健身角's equipment,
    // filed two days ago, waits for its two approvals.
    let waiting = waiting["items"].as_array().unwrap();
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0]["amount_fen"], 380_000);
    let verified: Value = app
        .get(&format!("/api/v1/fund-accounts/{id}/verify"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verified["ok"], true, "{verified}");

    // The compound's open poll (一户一票, secret): the resident may vote for their household,
    // once, and the turnout shows it while the counts stay hidden.
    let polls: Value = app
        .get("/api/v1/me/polls", &token)
        .await
        .json()
        .await
        .unwrap();
    // The compound's open poll, and the decision poll of the seeded proposal in 决.
    let items: Vec<&Value> = polls["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|p| p["subject_type"] == "standalone")
        .collect();
    assert_eq!(items.len(), 1, "{polls}");
    let poll = items[0];
    assert_eq!(poll["title"], "是否同意在小区东侧加装电动自行车充电棚");
    assert_eq!(poll["my_status"], "eligible", "{poll}");
    let id = poll["id"].as_str().unwrap().to_string();
    let detail: Value = app
        .get(&format!("/api/v1/polls/{id}"), &token)
        .await
        .json()
        .await
        .unwrap();
    let question = &detail["questions"][0];
    let yes = question["options"][0]["id"].as_str().unwrap();
    let cast = app
        .post(
            &format!("/api/v1/polls/{id}/ballots"),
            &token,
            &serde_json::json!({"answers": [{"question_id": question["id"], "option_ids": [yes]}]}),
        )
        .await;
    assert_eq!(cast.status(), reqwest::StatusCode::CREATED);
    let after: Value = app
        .get(&format!("/api/v1/polls/{id}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["my_status"], "voted_by_household", "{after}");
    assert_eq!(after["ballots_cast"], 1);
    assert!(after["questions"][0]["options"][0]["votes"].is_null());
}

#[tokio::test]
async fn demo_seed_refuses_a_database_that_has_territory() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create(&admin, "streets", serde_json::json!({"name": "别的街道"}))
        .await;
    assert!(
        linli::app::seed::seed_demo(&app.state.db, app.state.storage.as_ref())
            .await
            .is_err()
    );
}

/// The seed fills every table at once: on PostgreSQL it leaves the planner's statistics current
/// (`ANALYZE`), so a server whose database has no autovacuum does not plan the demo's tables as
/// empty. (SQLite plans without statistics.)
#[tokio::test]
async fn the_demo_seed_leaves_the_planner_statistics_current_on_postgres() {
    if !using_postgres() {
        return;
    }
    use crate::plans::planner_rows;
    let app = spawn_app().await;
    assert!(planner_rows(&app, "communities").await < 1.0);
    linli::app::seed::seed_demo(&app.state.db, app.state.storage.as_ref())
        .await
        .unwrap();
    // Four communities, as the first test reads them over HTTP.
    assert_eq!(planner_rows(&app, "communities").await, 4.0);
    assert!(planner_rows(&app, "notices").await >= 1.0);
}

/// The demo's finished building-leader election (楼组长推选) of 候潮府小区 1幢: published, its
/// winner's office term running, its count reconciled (one online ballot, four on paper), and
/// the demo resident on its roll with their household's vote counted.
#[tokio::test]
async fn the_demo_seed_has_a_finished_building_leader_election_and_its_term() {
    let app = spawn_app().await;
    let users = linli::app::seed::seed_demo(&app.state.db, app.state.storage.as_ref())
        .await
        .unwrap();
    let login = |name: &'static str| {
        let u = users.iter().find(|u| u.username == name).unwrap();
        let app = &app;
        async move { token_of(&app.login(&u.username, &u.password).await) }
    };
    let staff = login("haichao_staff").await;
    let list: Value = app
        .get("/api/v1/elections?body=building_leader", &staff)
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    let e = &items[0];
    assert_eq!(e["status"], "published", "{e}");
    assert_eq!(e["certifications"], 2);
    let id = e["id"].as_str().unwrap();
    let results: Value = app
        .get(&format!("/api/v1/elections/{id}/results"), &staff)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(results["registered"], 7, "{results}");
    assert_eq!(results["participants"], 5);
    assert_eq!(results["validity_met"], true);
    let cs = results["positions"][0]["candidates"].as_array().unwrap();
    assert_eq!(cs[0]["display_name"], "李秀英");
    assert_eq!(cs[0]["votes"], 4);
    assert_eq!(cs[0]["status"], "elected");
    assert_eq!(cs[1]["status"], "not_elected");
    let building = e["scope_id"].as_str().unwrap();
    let terms: Value = app
        .get(&format!("/api/v1/office-terms?scope_id={building}"), &staff)
        .await
        .json()
        .await
        .unwrap();
    let term = terms["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["source"] == "election")
        .unwrap_or_else(|| panic!("an elected term: {terms}"));
    assert_eq!(term["display_name"], "李秀英");
    assert_eq!(term["position"], "楼组长");
    let sheet = app
        .get(&format!("/api/v1/elections/{id}/results.xlsx"), &staff)
        .await;
    assert_eq!(sheet.status(), StatusCode::OK);
    // The roll: seven households, five voted, none saying how or when.
    let roll: Value = app
        .get(&format!("/api/v1/elections/{id}/roll?limit=100"), &staff)
        .await
        .json()
        .await
        .unwrap();
    let entries = roll["items"].as_array().unwrap();
    assert_eq!(entries.len(), 7, "{roll}");
    assert_eq!(entries.iter().filter(|e| e["status"] == "voted").count(), 5);
    let resident = login("houchao_resident").await;
    let mine: Value = app
        .get("/api/v1/me/elections", &resident)
        .await
        .json()
        .await
        .unwrap();
    let mine = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["election"]["id"] == id)
        .unwrap_or_else(|| panic!("the resident's elections: {mine}"));
    assert_eq!(mine["on_roll"], true, "{mine}");
    assert_eq!(mine["roll_status"], "voted_by_household");
    assert_eq!(mine["paper_boxes"][0]["location"], "1幢1单元门厅");
}

async fn read(app: &TestApp, path: &str, token: &str) -> Value {
    let res = app.get(path, token).await;
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    res.json().await.unwrap()
}

/// The demo's consultation (议事厅) of 候潮府小区 carries one proposal in each step, every one
/// reached through the verbs, with the 自治金 that funds them: the ledger verifies, its balance
/// is the sum of its entries, and each proposal's money figures are what the ledger and the
/// allocations say of it.
#[tokio::test]
async fn the_demo_seed_carries_one_proposal_in_each_step_with_a_funded_account() {
    let app = spawn_app().await;
    let users = linli::app::seed::seed_demo(&app.state.db, app.state.storage.as_ref())
        .await
        .unwrap();
    let login = |name: &'static str| {
        let u = users.iter().find(|u| u.username == name).unwrap();
        let app = &app;
        async move { token_of(&app.login(&u.username, &u.password).await) }
    };
    let staff = login("haichao_staff").await;
    let resident = login("houchao_resident").await;
    let steps = [
        "proposed",
        "deliberating",
        "deciding",
        "raising",
        "implementing",
        "evaluating",
        "closed",
        "failed",
        "rejected",
    ];
    let mut seeded = Vec::new();
    for step in steps {
        let list = read(
            &app,
            &format!("/api/v1/proposals?step={step}&limit=100"),
            &staff,
        )
        .await;
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "one proposal {step}: {list}");
        let id = items[0]["id"].as_str().unwrap().to_string();
        let p = read(&app, &format!("/api/v1/proposals/{id}"), &staff).await;
        assert_eq!(p["step"], step, "{p}");
        let timeline = read(&app, &format!("/api/v1/proposals/{id}/timeline"), &staff).await;
        assert!(
            !timeline["items"].as_array().unwrap().is_empty(),
            "{timeline}"
        );
        seeded.push((step, p));
    }
    let of = |step: &str| &seeded.iter().find(|(s, _)| *s == step).unwrap().1;
    // 提 is the demo resident's own.
    let mine = read(
        &app,
        &format!(
            "/api/v1/proposals/{}",
            of("proposed")["id"].as_str().unwrap()
        ),
        &resident,
    )
    .await;
    assert_eq!(mine["is_mine"], true, "{mine}");
    // 决: the decision poll is open with three households' ballots; the demo resident's may vote.
    let deciding = of("deciding");
    let poll = deciding["decision"]["poll_id"].as_str().unwrap();
    let poll = read(&app, &format!("/api/v1/polls/{poll}"), &resident).await;
    assert_eq!(poll["status"], "open", "{poll}");
    assert_eq!(poll["ballots_cast"], 3, "{poll}");
    assert_eq!(poll["my_status"], "eligible", "{poll}");
    // 筹: pledges of money, labour and materials, and money promised but not yet received.
    let raising = of("raising");
    let pledges = read(
        &app,
        &format!(
            "/api/v1/proposals/{}/pledges?limit=100",
            raising["id"].as_str().unwrap()
        ),
        &staff,
    )
    .await;
    let mut kinds: Vec<&str> = pledges["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds, ["labour", "material", "money"], "{pledges}");
    assert!(
        raising["pledged_money_fen"].as_i64().unwrap() > 0,
        "{raising}"
    );
    assert!(raising["committed_fen"].as_i64().unwrap() < raising["budget_fen"].as_i64().unwrap());
    // 办: a lead, milestones (one done) and progress reports.
    let implementing = of("implementing");
    assert!(implementing["lead_display"].is_string(), "{implementing}");
    let milestones = implementing["milestones"].as_array().unwrap();
    assert_eq!(milestones.len(), 3, "{implementing}");
    assert!(milestones[0]["done_on"].is_string(), "{implementing}");
    assert!(!implementing["last_updates"].as_array().unwrap().is_empty());
    assert_eq!(implementing["labour_done_minutes"], 120);
    // 评: the evaluation poll open.
    let evaluating = of("evaluating");
    let poll = evaluating["evaluation"]["poll_id"].as_str().unwrap();
    let poll = read(&app, &format!("/api/v1/polls/{poll}"), &resident).await;
    assert_eq!(poll["status"], "open", "{poll}");
    // 已办结: 金点子, its 回头看 date set, the satisfaction recorded, money spent.
    let closed = of("closed");
    assert_eq!(closed["golden"], true, "{closed}");
    assert!(closed["review_on"].is_string(), "{closed}");
    assert_eq!(closed["satisfaction_pct"], 100, "{closed}");
    assert!(closed["spent_fen"].as_i64().unwrap() > 0, "{closed}");

    // The 自治金: it verifies, and its balance is the sum of its entries.
    let funds = read(&app, "/api/v1/fund-accounts", &staff).await;
    let account = &funds["items"].as_array().unwrap()[0];
    let account_id = account["id"].as_str().unwrap();
    let verified = read(
        &app,
        &format!("/api/v1/fund-accounts/{account_id}/verify"),
        &staff,
    )
    .await;
    assert_eq!(verified["ok"], true, "{verified}");
    let mut entries = Vec::new();
    let mut path = format!("/api/v1/fund-accounts/{account_id}/entries?limit=100");
    loop {
        let page = read(&app, &path, &staff).await;
        entries.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => {
                path = format!("/api/v1/fund-accounts/{account_id}/entries?limit=100&cursor={c}")
            }
            None => break,
        }
    }
    let total: i64 = entries
        .iter()
        .map(|e| e["amount_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(account["balance_fen"].as_i64().unwrap(), total, "{account}");

    // Each proposal's figures are the ledger's and the allocations'.
    let sum = |id: &str, kinds: &[&str]| -> i64 {
        entries
            .iter()
            .filter(|e| e["proposal_id"] == id && kinds.contains(&e["kind"].as_str().unwrap()))
            .map(|e| e["amount_fen"].as_i64().unwrap())
            .sum()
    };
    let mut spent_somewhere = false;
    for (step, p) in &seeded {
        let id = p["id"].as_str().unwrap();
        let allocations = read(
            &app,
            &format!("/api/v1/proposals/{id}/allocations?limit=100"),
            &staff,
        )
        .await;
        let allocated: i64 = allocations["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["status"] == "approved" || x["status"] == "released")
            .map(|x| x["amount_fen"].as_i64().unwrap() - x["released_fen"].as_i64().unwrap())
            .sum();
        assert_eq!(
            p["allocated_fen"].as_i64().unwrap(),
            allocated,
            "{step}: {allocations}"
        );
        let received = sum(id, &["allocation", "contribution", "transfer_in", "refund"]);
        assert_eq!(p["received_fen"].as_i64().unwrap(), received, "{step}");
        let spent = -sum(id, &["expense"]);
        assert_eq!(p["spent_fen"].as_i64().unwrap(), spent, "{step}");
        spent_somewhere |= spent > 0;
    }
    assert!(spent_somewhere);
    // The money steps are funded: 筹 has an approved allocation and a contribution received; the
    // closed one released what it did not spend.
    assert!(
        raising["allocated_fen"].as_i64().unwrap() > 0
            && raising["received_fen"].as_i64().unwrap() > 0
    );
    let closed_id = closed["id"].as_str().unwrap();
    let allocations = read(
        &app,
        &format!("/api/v1/proposals/{closed_id}/allocations"),
        &staff,
    )
    .await;
    let x = &allocations["items"][0];
    assert_eq!(x["status"], "released", "{allocations}");
    assert!(x["released_fen"].as_i64().unwrap() > 0, "{allocations}");
}
