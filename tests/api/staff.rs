//! Staff accounts as street administrators see them.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

async fn listed_users(app: &TestApp, token: &str) -> BTreeSet<Uuid> {
    let res = app.get("/api/v1/users?limit=100", token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    v["items"].as_array().unwrap().iter().map(id_of).collect()
}

#[tokio::test]
async fn a_street_admin_lists_its_streets_staff_and_unassigned_accounts_only() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let s1 = small_territory(&app, &root, "一").await;
    let s2 = small_territory(&app, &root, "二").await;
    let admin1 = app
        .create_user(&root, "admin-one", "a-long-password-1")
        .await;
    app.grant(&root, admin1, "admin", "street", s1.street).await;
    let staff1 = app
        .create_user(&root, "staff-one", "a-long-password-1")
        .await;
    app.grant(&root, staff1, "community_staff", "community", s1.community)
        .await;
    let staff2 = app
        .create_user(&root, "staff-two", "a-long-password-1")
        .await;
    app.grant(&root, staff2, "community_staff", "community", s2.community)
        .await;
    let fresh = app
        .create_user(&root, "not-yet-assigned", "a-long-password-1")
        .await;

    let token = token_of(&app.login("admin-one", "a-long-password-1").await);
    let seen = listed_users(&app, &token).await;
    assert!(seen.contains(&admin1) && seen.contains(&staff1) && seen.contains(&fresh));
    assert!(
        !seen.contains(&staff2),
        "staff of another street are not listed"
    );

    // The deployment administrator sees everyone, itself included; a street admin never sees
    // the deployment administrator.
    let all = listed_users(&app, &root).await;
    let root_id: Uuid = app
        .get("/api/v1/me", &root)
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(all.contains(&root_id) && !seen.contains(&root_id));
    assert!(all.contains(&staff2) && all.len() == seen.len() + 2);
}

/// The list merges two walks (the accounts with a role in the street, the accounts with none):
/// paged two at a time it gives each account once, in id order, and exactly the accounts one
/// large page gives — a resident's WeChat account never among them.
#[tokio::test]
async fn paging_the_accounts_two_at_a_time_gives_each_managed_account_once_in_order() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let s1 = small_territory(&app, &root, "页").await;
    let s2 = small_territory(&app, &root, "邻").await;
    let admin = app
        .user_with_role(&root, "page-admin", "admin", "street", s1.street)
        .await;
    let mut expected = BTreeSet::new();
    // Interleave accounts with a role here, with a role elsewhere and with none, so that the
    // pages cross from one walk to the other.
    for i in 0..4 {
        let here = app
            .create_user(&root, &format!("page-here-{i}"), "a-long-password-1")
            .await;
        app.grant(&root, here, "community_staff", "community", s1.community)
            .await;
        expected.insert(here);
        let elsewhere = app
            .create_user(&root, &format!("page-there-{i}"), "a-long-password-1")
            .await;
        app.grant(
            &root,
            elsewhere,
            "community_staff",
            "community",
            s2.community,
        )
        .await;
        let fresh = app
            .create_user(&root, &format!("page-fresh-{i}"), "a-long-password-1")
            .await;
        expected.insert(fresh);
    }
    let whole = listed_users(&app, &admin).await;
    assert!(expected.is_subset(&whole), "{expected:?} not in {whole:?}");
    let mut paged = Vec::new();
    let mut path = "/api/v1/users?limit=2".to_string();
    loop {
        let v: Value = app.get(&path, &admin).await.json().await.unwrap();
        let items = v["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        paged.extend(items.iter().map(id_of));
        match v["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/users?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert!(paged.windows(2).all(|w| w[0] < w[1]), "{paged:?}");
    assert_eq!(paged.into_iter().collect::<BTreeSet<_>>(), whole);
}

#[tokio::test]
async fn only_a_visible_property_company_can_be_set_on_a_compound() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "物").await;
    let company = app
        .create(
            &root,
            "property-companies",
            json!({"street_id": t.street, "name": "物业"}),
        )
        .await;
    let staff = app
        .user_with_role(&root, "staff", "community_staff", "community", t.community)
        .await;
    let path = format!("/api/v1/compounds/{}", t.compound);
    // Community staff cannot see property companies: the id is as good as unknown.
    let res = app
        .patch(&path, &staff, &json!({"property_company_id": company}))
        .await;
    let body = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "property_company_id");
    let res = app
        .patch(
            &path,
            &staff,
            &json!({"property_company_id": Uuid::now_v7()}),
        )
        .await;
    let unknown = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(body["detail"], unknown["detail"]);
    assert_eq!(body["errors"], unknown["errors"]);

    let res = app
        .patch(&path, &root, &json!({"property_company_id": company}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["property_company_id"], company.to_string());
}
