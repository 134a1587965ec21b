//! WeChat's platform rules: the PATCH override for `wx.request` and empty bodies on verbs whose
//! fields are all optional.

use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::operations::METRICS_TOKEN;
use crate::ticket_world::*;

const OVERRIDE: &str = "x-http-method-override";

// ---------------------------------------------------------------------------------------------
// X-HTTP-Method-Override

async fn street(app: &TestApp, admin: &str, name: &str) -> String {
    app.create(admin, "streets", json!({ "name": name }))
        .await
        .to_string()
}

async fn street_name(app: &TestApp, admin: &str, id: &str) -> String {
    let res = app.get(&format!("/api/v1/streets/{id}"), admin).await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["name"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_post_with_the_patch_override_is_handled_as_that_patch() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let id = street(&app, &admin, "覆盖街道").await;
    let res = app
        .request(Method::POST, &format!("/api/v1/streets/{id}"), Some(&admin))
        .header(OVERRIDE, "PATCH")
        .json(&json!({ "name": "改名街道" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["name"], "改名街道");
    assert_eq!(street_name(&app, &admin, &id).await, "改名街道");
}

#[tokio::test]
async fn the_override_is_refused_on_other_methods_and_for_other_verbs() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let id = street(&app, &admin, "只认PATCH街道").await;
    let path = format!("/api/v1/streets/{id}");
    let body = json!({ "name": "不该改名" });

    // Only PATCH, spelled as the method is.
    for value in ["DELETE", "GET", "PUT", "patch", "PATCH, DELETE", ""] {
        let res = app
            .request(Method::POST, &path, Some(&admin))
            .header(OVERRIDE, value)
            .json(&body)
            .send()
            .await
            .unwrap();
        let p = assert_problem(res, 400, "method_override_invalid").await;
        assert!(p["detail"].as_str().unwrap().contains("PATCH"), "{p}");
    }
    // Only from POST: on any other method the header is refused, not ignored.
    for method in [Method::PATCH, Method::GET, Method::DELETE, Method::PUT] {
        let res = app
            .request(method.clone(), &path, Some(&admin))
            .header(OVERRIDE, "PATCH")
            .json(&body)
            .send()
            .await
            .unwrap();
        let p = assert_problem(res, 400, "method_override_invalid").await;
        assert!(
            p["detail"].as_str().unwrap().contains("POST"),
            "{method}: {p}"
        );
    }
    // Twice is refused too.
    let res = app
        .request(Method::POST, &path, Some(&admin))
        .header(OVERRIDE, "PATCH")
        .header(OVERRIDE, "PATCH")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "method_override_invalid").await;
    // Only that header: the other spellings some frameworks honour are not overrides here.
    for header in ["x-http-method", "x-method-override"] {
        let res = app
            .request(Method::POST, &path, Some(&admin))
            .header(header, "PATCH")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_problem(res, 405, "method_not_allowed").await;
    }
    let res = app
        .request(Method::POST, &format!("{path}?_method=PATCH"), Some(&admin))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_problem(res, 405, "method_not_allowed").await;
    // Nothing of the above changed or deleted the street.
    assert_eq!(street_name(&app, &admin, &id).await, "只认PATCH街道");

    // On a path without a PATCH, the overridden request is a PATCH like any other: 405.
    let res = app
        .request(Method::POST, "/api/v1/streets", Some(&admin))
        .header(OVERRIDE, "PATCH")
        .json(&json!({ "name": "新街道" }))
        .send()
        .await
        .unwrap();
    let allow = res.headers()["allow"].to_str().unwrap().to_string();
    assert_problem(res, 405, "method_not_allowed").await;
    assert!(!allow.contains("PATCH"), "{allow}");
}

#[tokio::test]
async fn the_idempotency_store_and_the_metrics_see_the_overridden_method() {
    let app = spawn_app_with(|v| {
        v.insert("LINLI_METRICS_TOKEN".into(), METRICS_TOKEN.into());
    })
    .await;
    let admin = app.admin_token().await;
    let id = street(&app, &admin, "幂等街道").await;
    let path = format!("/api/v1/streets/{id}");
    // The idempotency store keeps POSTs. Were the override seen as a POST, the second request
    // with the same key would be a replay of the first answer instead of running.
    for name in ["第一次改名", "第二次改名"] {
        let res = app
            .request(Method::POST, &path, Some(&admin))
            .header(OVERRIDE, "PATCH")
            .header("idempotency-key", "same-key-for-both")
            .json(&json!({ "name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("idempotent-replayed").is_none());
        assert_eq!(res.json::<Value>().await.unwrap()["name"], name);
    }
    let text = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            r#"linli_http_requests_total{method="PATCH",route="/api/v1/streets/{id}",status="200"} 2"#
        ),
        "{text}"
    );
    assert!(
        !text.contains(r#"method="POST",route="/api/v1/streets/{id}""#),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// Empty bodies

/// `POST` as `wx.request` sends it without `data`: no body at all, or an empty JSON body.
async fn post_empty(app: &TestApp, token: &str, path: &str, json_type: bool) -> Response {
    let mut rb = app.request(Method::POST, path, Some(token));
    if json_type {
        rb = rb.header("content-type", "application/json");
    }
    rb.send().await.unwrap()
}

#[tokio::test]
async fn verbs_whose_fields_are_all_optional_accept_an_empty_body() {
    let app = spawn_app().await;
    let w = world(&app, "空体").await;

    // accept: nothing but an optional note.
    let t = file(&app, &w.resident, &ticket_body(&w, "空请求体受理")).await;
    let id = t["id"].as_str().unwrap().to_string();
    triage(&app, &w.staff, &t["id"], "green").await;
    act_ok(
        &app,
        &w.staff,
        &t["id"],
        "assign",
        json!({ "property_company_id": w.company }),
    )
    .await;
    let res = post_empty(
        &app,
        &w.property,
        &format!("/api/v1/tickets/{id}/accept"),
        false,
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "accepted");

    // urge: an optional note.
    let res = post_empty(
        &app,
        &w.resident,
        &format!("/api/v1/tickets/{id}/urge"),
        true,
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["urge_count"], 1);

    // cancel: an optional reason.
    let t = file(&app, &w.resident, &ticket_body(&w, "空请求体撤回")).await;
    let id = t["id"].as_str().unwrap();
    let res = post_empty(
        &app,
        &w.resident,
        &format!("/api/v1/tickets/{id}/cancel"),
        true,
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "cancelled");

    // A body is still parsed strictly when there is one.
    let t = file(&app, &w.resident, &ticket_body(&w, "错误请求体")).await;
    let res = act(
        &app,
        &w.resident,
        &t["id"],
        "cancel",
        json!({ "status": "closed" }),
    )
    .await;
    assert_problem(res, 400, "invalid_body").await;

    // The spec says so.
    let spec: Value = serde_json::from_str(&linli::openapi_json()).unwrap();
    for verb in ["accept", "urge", "cancel"] {
        let body = &spec["paths"][format!("/api/v1/tickets/{{id}}/{verb}")]["post"]["requestBody"];
        assert_ne!(body["required"], true, "{verb}: {body}");
    }
}
