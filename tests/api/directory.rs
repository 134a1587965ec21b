//! What a resident sees of their own world: the household picker for those not bound yet
//! (names, units and rooms, never who lives there; rate-limited), and the names of their own
//! street, community, compound and building once bound.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::wechat::{spawn_with_fake, wechat_login_ok};

const PHONE: &str = "13912340000";

async fn items(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let res = app.get(path, token).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let page: Value = res.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_unbound_resident_picks_community_compound_building_and_room_and_asks_to_join() {
    let (app, _fake) = spawn_with_fake().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "选").await;
    small_territory(&app, &root, "旁").await;
    let res = app
        .post(
            "/api/v1/residents",
            &root,
            &json!({"household_id": t.household, "name": "钱多多", "phone": PHONE}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let token = token_of(&wechat_login_ok(&app, "user:openid-picker").await);

    let communities = items(&app, &token, "/api/v1/directory/communities?q=%E9%80%89").await; // 选
    assert_eq!(communities.len(), 1, "{communities:?}");
    assert_eq!(communities[0]["name"], "选社区");
    assert_eq!(communities[0]["street_name"], "选街道");
    let compounds = items(
        &app,
        &token,
        &format!("/api/v1/directory/compounds?community_id={}", t.community),
    )
    .await;
    assert_eq!(compounds.len(), 1);
    assert_eq!(compounds[0]["name"], "选小区");
    let buildings = items(
        &app,
        &token,
        &format!("/api/v1/directory/buildings?compound_id={}", t.compound),
    )
    .await;
    assert_eq!(buildings[0]["name"], "1幢");
    let res = app
        .get(
            &format!("/api/v1/directory/households?building_id={}", t.building),
            &token,
        )
        .await;
    let text = res.text().await.unwrap();
    // Where to ask, never who lives there.
    assert!(!text.contains("钱多多") && !text.contains("1234"), "{text}");
    let households: Value = serde_json::from_str(&text).unwrap();
    let h = &households["items"][0];
    assert_eq!(h["id"], t.household.to_string());
    assert_eq!(
        (h["unit"].as_str(), h["room"].as_str()),
        (Some("1单元"), Some("101"))
    );
    let mut keys: Vec<&str> = h.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["id", "room", "unit"]);

    let res = app
        .post(
            "/api/v1/me/binding-requests",
            &token,
            &json!({"household_id": t.household, "name": "钱小小", "relation": "子女"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_picker_is_rate_limited_per_account() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "限").await;
    let path = format!("/api/v1/directory/buildings?compound_id={}", t.compound);
    let mut limited = None;
    for i in 0..400 {
        let res = app.get(&path, &root).await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(res.headers().contains_key("retry-after"));
            limited = Some(i);
            break;
        }
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_eq!(limited, Some(300), "the 301st read in an hour is refused");
}

#[tokio::test]
async fn a_bound_resident_reads_the_names_of_its_own_places() {
    let (app, _fake) = spawn_with_fake().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "名").await;
    app.post(
        "/api/v1/residents",
        &root,
        &json!({"household_id": t.household, "name": "孙悟空", "phone": PHONE}),
    )
    .await;
    let token = token_of(&wechat_login_ok(&app, "user:openid-names").await);
    let res = app
        .post(
            "/api/v1/me/phone",
            &token,
            &json!({"code": format!("phone:{PHONE}")}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let me: Value = app.get("/api/v1/me", &token).await.json().await.unwrap();
    let r = &me["resident"];
    assert_eq!(r["street_name"], "名街道");
    assert_eq!(r["community_name"], "名社区");
    assert_eq!(r["compound_name"], "名小区");
    assert_eq!(r["building_name"], "1幢");
    let hh: Value = app
        .get("/api/v1/me/household", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hh["community_name"], "名社区");
    assert_eq!(hh["building_name"], "1幢");
    assert_eq!(hh["room"], "101");
}
