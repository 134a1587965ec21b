//! `linli seed demo` fills an empty database with a usable demo, and only an empty one.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn demo_seed_creates_the_street_its_communities_and_a_working_account_per_role() {
    let app = spawn_app().await;
    let users = linli::app::seed::seed_demo(&app.state.db).await.unwrap();
    assert_eq!(users.len(), 8, "one account per role");

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
    // The community's 自治金, read by its resident: the allocation and an anonymous gift, one
    // request waiting for approval; the ledger verifies.
    let funds: Value = app
        .get("/api/v1/fund-accounts", &token)
        .await
        .json()
        .await
        .unwrap();
    let account = &funds["items"][0];
    assert_eq!(account["balance_fen"], 5_020_000, "{funds}");
    assert_eq!(account["community_name"], "海潮社区");
    let id = account["id"].as_str().unwrap();
    let entries: Value = app
        .get(&format!("/api/v1/fund-accounts/{id}/entries"), &token)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = entries["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["public_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["匿名居民", "上城区民政局"]);
    let waiting: Value = app
        .get(
            &format!("/api/v1/fund-expenses?account_id={id}&status=submitted"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(waiting["items"].as_array().unwrap().len(), 1);
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
    assert!(linli::app::seed::seed_demo(&app.state.db).await.is_err());
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
    linli::app::seed::seed_demo(&app.state.db).await.unwrap();
    // Four communities, as the first test reads them over HTTP.
    assert_eq!(planner_rows(&app, "communities").await, 4.0);
    assert!(planner_rows(&app, "notices").await >= 1.0);
}
