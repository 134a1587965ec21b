//! Privacy inside a household: residents see only the tags their community made public on the
//! other members, never a sensitive one, and no one else's birth date.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::ticket_world::uname;
use crate::wechat::{spawn_with_fake, wechat_login_ok};

const PHONE: &str = "13912348888";

#[tokio::test]
async fn residents_see_only_public_tags_of_their_household_and_sensitive_ones_never() {
    let (app, _fake) = spawn_with_fake().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "私").await;
    let other = small_territory(&app, &root, "外").await;
    let staff = app
        .user_with_role(
            &root,
            &uname("cs"),
            "community_staff",
            "community",
            t.community,
        )
        .await;
    let path = format!("/api/v1/communities/{}/public-tags", t.community);

    // Nothing is public until staff say so; sensitive tags can never be.
    let res = app.get(&path, &staff).await;
    assert_eq!(res.json::<Value>().await.unwrap()["tags"], json!([]));
    let res = app
        .request(reqwest::Method::PUT, &path, Some(&staff))
        .json(&json!({"tags": ["党员", "低保户"]}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "tags.1");
    assert_eq!(problem["errors"][0]["code"], "sensitive_tag");
    let res = app
        .request(reqwest::Method::PUT, &path, Some(&staff))
        .json(&json!({"tags": ["志愿者", "党员", "党员"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await.unwrap()["tags"],
        json!(["党员", "志愿者"])
    );
    // Staff of another community do not see this one.
    let outsider = app
        .user_with_role(
            &root,
            &uname("oc"),
            "community_staff",
            "community",
            other.community,
        )
        .await;
    assert_problem(app.get(&path, &outsider).await, 404, "not_found").await;

    // A household: the caller (独居老人 is its own business) and a member with public and
    // sensitive tags and a birth date.
    for body in [
        json!({"household_id": t.household, "name": "吴一", "phone": PHONE, "tags": ["独居老人", "党员"]}),
        json!({"household_id": t.household, "name": "吴二", "birth_date": "1950-02-03",
               "tags": ["党员", "低保", "残疾", "棋友"]}),
    ] {
        let res = app.post("/api/v1/residents", &staff, &body).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let me = token_of(&wechat_login_ok(&app, "user:openid-privacy").await);
    let res = app
        .post(
            "/api/v1/me/phone",
            &me,
            &json!({"code": format!("phone:{PHONE}")}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let hh: Value = app
        .get("/api/v1/me/household", &me)
        .await
        .json()
        .await
        .unwrap();
    let members = hh["members"].as_array().unwrap();
    let of = |name: &str| members.iter().find(|m| m["name"] == name).unwrap().clone();
    let own = of("吴一");
    let mut own_tags: Vec<&str> = own["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    own_tags.sort_unstable();
    assert_eq!(
        own_tags,
        ["党员", "独居老人"],
        "one's own tags are one's own"
    );
    let member = of("吴二");
    assert_eq!(member["tags"], json!(["党员"]));
    assert!(member["birth_date"].is_null(), "{member}");
    let text = hh.to_string();
    assert!(!text.contains("低保") && !text.contains("残疾") && !text.contains("棋友"));
}
