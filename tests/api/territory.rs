//! Territory: streets, communities, property companies, compounds, grids, buildings and
//! households — CRUD, validation, conflicts, deletion guards, keyset pagination and grid coverage.
//! Everything here runs as the deployment superadmin.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, FixedOffset};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

// ---------------------------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------------------------

/// Asserts the status and returns the JSON body (the raw text is shown on failure).
async fn body_of(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let text = res.text().await.expect("body");
    assert_eq!(got, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON body ({e}): {text}"))
}

fn time(v: &Value, field: &str) -> DateTime<FixedOffset> {
    let s = v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is a string in {v}"));
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{field} is RFC 3339 ({e}): {s}"))
}

fn uuid_set(v: &Value) -> BTreeSet<Uuid> {
    v.as_array()
        .unwrap_or_else(|| panic!("an array: {v}"))
        .iter()
        .map(|x| x.as_str().and_then(|s| s.parse().ok()).expect("uuid"))
        .collect()
}

fn set_of(ids: &[Uuid]) -> BTreeSet<Uuid> {
    ids.iter().copied().collect()
}

/// Each key of `expected` has that value in `actual`.
fn assert_fields(actual: &Value, expected: &Value) {
    for (k, v) in expected.as_object().expect("expected is an object") {
        assert_eq!(&actual[k], v, "field `{k}` of {actual}");
    }
}

/// POSTs to a collection, asserts 201 with `Location: /api/v1/<collection>/<id>`, returns the body.
async fn create_ok(app: &TestApp, token: &str, collection: &str, body: Value) -> Value {
    let res = app
        .post(&format!("/api/v1/{collection}"), token, &body)
        .await;
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().expect("ascii location").to_string());
    let created = body_of(res, StatusCode::CREATED).await;
    let id = id_of(&created);
    assert_eq!(
        location.as_deref(),
        Some(format!("/api/v1/{collection}/{id}").as_str()),
        "Location header of the created {collection}"
    );
    created
}

/// POSTs and asserts a problem response; returns the problem body.
async fn create_fails(
    app: &TestApp,
    token: &str,
    collection: &str,
    body: Value,
    status: u16,
    code: &str,
) -> Value {
    let res = app
        .post(&format!("/api/v1/{collection}"), token, &body)
        .await;
    assert_problem(res, status, code).await
}

/// Asserts the first field error names `field` (and has `field_code`, when given).
fn assert_field_error(problem: &Value, field: &str, field_code: Option<&str>) {
    let e = &problem["errors"][0];
    assert_eq!(e["field"], field, "{problem}");
    if let Some(c) = field_code {
        assert_eq!(e["code"], c, "{problem}");
    }
    assert!(e["message"].is_string(), "{problem}");
}

/// The whole life of one object: create (201 + Location + fields), GET (same object), PATCH
/// (changes, updated_at not earlier), GET (the patched object), DELETE (204), then 404 for
/// GET, PATCH and DELETE.
struct Crud<'a> {
    collection: &'a str,
    /// The fields (besides `id`, `created_at`, `updated_at`) the object has, exactly.
    keys: &'a [&'a str],
    create: Value,
    expected: Value,
    patch: Value,
    patched: Value,
}

async fn assert_crud(app: &TestApp, token: &str, c: Crud<'_>) {
    let Crud {
        collection,
        keys,
        create,
        expected,
        patch,
        patched,
    } = c;
    let created = create_ok(app, token, collection, create).await;
    let mut all_keys: BTreeSet<&str> = keys.iter().copied().collect();
    all_keys.extend(["id", "created_at", "updated_at"]);
    let got_keys: BTreeSet<&str> = created
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(got_keys, all_keys, "the fields of a {collection} object");
    assert_fields(&created, &expected);
    let id = id_of(&created);
    let created_at = time(&created, "created_at");
    let first_updated_at = time(&created, "updated_at");
    assert!(first_updated_at >= created_at, "{created}");

    let path = format!("/api/v1/{collection}/{id}");
    let fetched = body_of(app.get(&path, token).await, StatusCode::OK).await;
    assert_eq!(fetched, created, "GET returns the created {collection}");

    let updated = body_of(app.patch(&path, token, &patch).await, StatusCode::OK).await;
    assert_fields(&updated, &patched);
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(
        time(&updated, "created_at"),
        created_at,
        "created_at is kept"
    );
    assert!(
        time(&updated, "updated_at") >= first_updated_at,
        "updated_at does not go back: {created} → {updated}"
    );
    let fetched = body_of(app.get(&path, token).await, StatusCode::OK).await;
    assert_eq!(fetched, updated, "GET returns the patched {collection}");

    let res = app.delete(&path, token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT, "delete {collection}");
    assert!(
        res.bytes().await.expect("body").is_empty(),
        "204 has no body"
    );

    assert_problem(app.get(&path, token).await, 404, "not_found").await;
    assert_problem(app.patch(&path, token, &patch).await, 404, "not_found").await;
    assert_problem(app.delete(&path, token).await, 404, "not_found").await;
}

/// The creation body of each resource with a `name`, under the territory `t`.
fn named_bodies(t: &Territory, name: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("streets", json!({"name": name})),
        ("communities", json!({"street_id": t.street, "name": name})),
        (
            "property-companies",
            json!({"street_id": t.street, "name": name}),
        ),
        (
            "compounds",
            json!({"community_id": t.community, "name": name}),
        ),
        ("grids", json!({"community_id": t.community, "name": name})),
        (
            "buildings",
            json!({"compound_id": t.compound, "name": name}),
        ),
    ]
}

const COLLECTIONS: [&str; 7] = [
    "streets",
    "communities",
    "property-companies",
    "compounds",
    "grids",
    "buildings",
    "households",
];

/// GETs a list, asserts 200 and returns (item ids, next_cursor).
async fn page(app: &TestApp, token: &str, path: &str) -> (Vec<Uuid>, Option<String>) {
    let body = body_of(app.get(path, token).await, StatusCode::OK).await;
    let ids = body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items is an array: {body}"))
        .iter()
        .map(id_of)
        .collect();
    let next = match &body["next_cursor"] {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => panic!("next_cursor is a string or null: {other}"),
    };
    (ids, next)
}

fn with_query(path: &str, query: &str) -> String {
    if path.contains('?') {
        format!("{path}&{query}")
    } else {
        format!("{path}?{query}")
    }
}

/// Follows `next_cursor` from the first page until it is null; returns the pages' ids.
async fn walk(app: &TestApp, token: &str, path: &str, limit: u32) -> Vec<Vec<Uuid>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut p = with_query(path, &format!("limit={limit}"));
        if let Some(c) = &cursor {
            p = with_query(&p, &format!("cursor={c}"));
        }
        let (ids, next) = page(app, token, &p).await;
        pages.push(ids);
        assert!(pages.len() <= 1000, "pagination does not end");
        match next {
            Some(c) => cursor = Some(c),
            None => return pages,
        }
    }
}

/// All ids of a (filtered) list, walking every page.
async fn list_all(app: &TestApp, token: &str, path: &str) -> Vec<Uuid> {
    walk(app, token, path, 100).await.concat()
}

async fn create_buildings(app: &TestApp, token: &str, compound: Uuid, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        ids.push(
            app.create(
                token,
                "buildings",
                json!({"compound_id": compound, "name": format!("{}幢", i + 1)}),
            )
            .await,
        );
    }
    ids
}

async fn delete_ok(app: &TestApp, token: &str, path: &str) {
    let res = app.delete(path, token).await;
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::NO_CONTENT, "DELETE {path}: {text}");
}

async fn delete_has_children(app: &TestApp, token: &str, path: &str) {
    let problem = assert_problem(app.delete(path, token).await, 409, "has_children").await;
    assert!(
        problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{problem}"
    );
    // The refused delete left the object in place.
    body_of(app.get(path, token).await, StatusCode::OK).await;
}

/// Grants a role through the API and returns the assignment id.
async fn grant_role(
    app: &TestApp,
    admin: &str,
    user: Uuid,
    role: &str,
    scope_type: &str,
    scope_id: Uuid,
) -> Uuid {
    let res = app
        .post(
            "/api/v1/role-assignments",
            admin,
            &json!({"user_id": user, "role": role, "scope_type": scope_type, "scope_id": scope_id}),
        )
        .await;
    id_of(&body_of(res, StatusCode::CREATED).await)
}

// ---------------------------------------------------------------------------------------------
// 1. CRUD
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_street_can_be_created_read_renamed_and_deleted() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    assert_crud(
        &app,
        &admin,
        Crud {
            collection: "streets",
            keys: &["name"],
            create: json!({"name": "紫阳街道"}),
            expected: json!({"name": "紫阳街道"}),
            patch: json!({"name": "小营街道"}),
            patched: json!({"name": "小营街道"}),
        },
    )
    .await;
}

#[tokio::test]
async fn a_community_can_be_created_read_renamed_and_deleted() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let street = app
        .create(&admin, "streets", json!({"name": "紫阳街道"}))
        .await;
    assert_crud(
        &app,
        &admin,
        Crud {
            collection: "communities",
            keys: &["street_id", "name"],
            create: json!({"street_id": street, "name": "上羊市街社区"}),
            expected: json!({"street_id": street, "name": "上羊市街社区"}),
            patch: json!({"name": "新工社区"}),
            patched: json!({"street_id": street, "name": "新工社区"}),
        },
    )
    .await;
}

#[tokio::test]
async fn a_property_company_can_be_created_read_updated_and_deleted() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let street = app
        .create(&admin, "streets", json!({"name": "紫阳街道"}))
        .await;
    assert_crud(
        &app,
        &admin,
        Crud {
            collection: "property-companies",
            keys: &["street_id", "name", "contact_phone"],
            create: json!({"street_id": street, "name": "绿城物业", "contact_phone": "0571-87000000"}),
            expected: json!({
                "street_id": street,
                "name": "绿城物业",
                "contact_phone": "0571-87000000"
            }),
            patch: json!({"name": "滨江物业", "contact_phone": "+86 571 8700 0001"}),
            patched: json!({
                "street_id": street,
                "name": "滨江物业",
                "contact_phone": "+86 571 8700 0001"
            }),
        },
    )
    .await;
}

#[tokio::test]
async fn a_property_company_phone_is_optional_validated_and_cleared_by_null() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let street = app
        .create(&admin, "streets", json!({"name": "紫阳街道"}))
        .await;
    let pc = create_ok(
        &app,
        &admin,
        "property-companies",
        json!({"street_id": street, "name": "绿城物业"}),
    )
    .await;
    assert_eq!(pc["contact_phone"], Value::Null);
    let path = format!("/api/v1/property-companies/{}", id_of(&pc));

    for bad in ["call me", "0571-8700000x", &"1".repeat(33)] {
        let p = assert_problem(
            app.patch(&path, &admin, &json!({"contact_phone": bad}))
                .await,
            400,
            "validation_failed",
        )
        .await;
        assert_field_error(&p, "contact_phone", None);
        let p = create_fails(
            &app,
            &admin,
            "property-companies",
            json!({"street_id": street, "name": "别家物业", "contact_phone": bad}),
            400,
            "validation_failed",
        )
        .await;
        assert_field_error(&p, "contact_phone", None);
    }

    let set = body_of(
        app.patch(&path, &admin, &json!({"contact_phone": " 0571-87000000 "}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(set["contact_phone"], "0571-87000000", "trimmed");
    // Absent leaves it as is.
    let kept = body_of(
        app.patch(&path, &admin, &json!({"name": "绿城物业服务"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(kept["contact_phone"], "0571-87000000");
    // null clears it.
    let cleared = body_of(
        app.patch(&path, &admin, &json!({"contact_phone": null}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cleared["contact_phone"], Value::Null);
    assert_eq!(
        body_of(app.get(&path, &admin).await, StatusCode::OK).await["contact_phone"],
        Value::Null
    );
}

#[tokio::test]
async fn a_compound_can_be_created_read_updated_and_deleted() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let street = app
        .create(&admin, "streets", json!({"name": "紫阳街道"}))
        .await;
    let community = app
        .create(
            &admin,
            "communities",
            json!({"street_id": street, "name": "上羊市街社区"}),
        )
        .await;
    let pc1 = app
        .create(
            &admin,
            "property-companies",
            json!({"street_id": street, "name": "绿城物业"}),
        )
        .await;
    let pc2 = app
        .create(
            &admin,
            "property-companies",
            json!({"street_id": street, "name": "滨江物业"}),
        )
        .await;
    assert_crud(
        &app,
        &admin,
        Crud {
            collection: "compounds",
            keys: &[
                "street_id",
                "community_id",
                "property_company_id",
                "name",
                "address",
                "kind",
            ],
            create: json!({
                "community_id": community,
                "name": "候潮府小区",
                "address": "  江城路 1 号 ",
                "property_company_id": pc1
            }),
            expected: json!({
                "street_id": street,
                "community_id": community,
                "name": "候潮府小区",
                "address": "江城路 1 号",
                "property_company_id": pc1,
                "kind": "residential"
            }),
            patch: json!({"name": "候潮公寓", "address": null, "property_company_id": pc2, "kind": "mixed"}),
            patched: json!({
                "street_id": street,
                "community_id": community,
                "name": "候潮公寓",
                "address": null,
                "property_company_id": pc2,
                "kind": "mixed"
            }),
        },
    )
    .await;
}

#[tokio::test]
async fn a_compound_address_and_property_company_are_optional_and_cleared_by_null() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let other = small_territory(&app, &admin, "乙").await;
    let pc = app
        .create(
            &admin,
            "property-companies",
            json!({"street_id": t.street, "name": "绿城物业"}),
        )
        .await;
    let foreign_pc = app
        .create(
            &admin,
            "property-companies",
            json!({"street_id": other.street, "name": "外街物业"}),
        )
        .await;

    let c = create_ok(
        &app,
        &admin,
        "compounds",
        json!({"community_id": t.community, "name": "无物业小区"}),
    )
    .await;
    assert_eq!(c["address"], Value::Null);
    assert_eq!(c["property_company_id"], Value::Null);
    let path = format!("/api/v1/compounds/{}", id_of(&c));

    let set = body_of(
        app.patch(
            &path,
            &admin,
            &json!({"address": "江城路 2 号", "property_company_id": pc}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(set["address"], "江城路 2 号");
    assert_eq!(set["property_company_id"], pc.to_string());

    // Absent fields stay.
    let kept = body_of(
        app.patch(&path, &admin, &json!({"name": "有物业小区"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(kept["address"], "江城路 2 号");
    assert_eq!(kept["property_company_id"], pc.to_string());

    // A company of another street, or an unknown one, is refused, on PATCH and on create.
    for company in [foreign_pc, Uuid::now_v7()] {
        let p = assert_problem(
            app.patch(&path, &admin, &json!({"property_company_id": company}))
                .await,
            400,
            "validation_failed",
        )
        .await;
        assert_field_error(&p, "property_company_id", None);
        let p = create_fails(
            &app,
            &admin,
            "compounds",
            json!({"community_id": t.community, "name": "外街物业小区", "property_company_id": company}),
            400,
            "validation_failed",
        )
        .await;
        assert_field_error(&p, "property_company_id", None);
    }
    assert_eq!(
        body_of(app.get(&path, &admin).await, StatusCode::OK).await["property_company_id"],
        pc.to_string(),
        "a refused PATCH changes nothing"
    );

    // An address over 200 characters is refused.
    let p = assert_problem(
        app.patch(&path, &admin, &json!({"address": "路".repeat(201)}))
            .await,
        400,
        "validation_failed",
    )
    .await;
    assert_field_error(&p, "address", Some("too_long"));

    let cleared = body_of(
        app.patch(
            &path,
            &admin,
            &json!({"address": null, "property_company_id": null}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cleared["address"], Value::Null);
    assert_eq!(cleared["property_company_id"], Value::Null);
}

#[tokio::test]
async fn a_grid_can_be_created_read_updated_and_deleted() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    assert_crud(
        &app,
        &admin,
        Crud {
            collection: "grids",
            keys: &[
                "street_id",
                "community_id",
                "name",
                "compound_ids",
                "building_ids",
            ],
            create: json!({
                "community_id": t.community,
                "name": "第一网格",
                "compound_ids": [t.compound]
            }),
            expected: json!({
                "street_id": t.street,
                "community_id": t.community,
                "name": "第一网格",
                "compound_ids": [t.compound],
                "building_ids": []
            }),
            patch: json!({"name": "第二网格", "compound_ids": [], "building_ids": [t.building]}),
            patched: json!({
                "street_id": t.street,
                "community_id": t.community,
                "name": "第二网格",
                "compound_ids": [],
                "building_ids": [t.building]
            }),
        },
    )
    .await;
}

#[tokio::test]
async fn a_building_can_be_created_read_renamed_and_deleted() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    assert_crud(
        &app,
        &admin,
        Crud {
            collection: "buildings",
            keys: &["street_id", "community_id", "compound_id", "name"],
            create: json!({"compound_id": t.compound, "name": "2幢"}),
            expected: json!({
                "street_id": t.street,
                "community_id": t.community,
                "compound_id": t.compound,
                "name": "2幢"
            }),
            patch: json!({"name": "3幢"}),
            patched: json!({
                "street_id": t.street,
                "community_id": t.community,
                "compound_id": t.compound,
                "name": "3幢"
            }),
        },
    )
    .await;
}

#[tokio::test]
async fn a_household_can_be_created_read_updated_and_deleted() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    assert_crud(
        &app,
        &admin,
        Crud {
            collection: "households",
            keys: &[
                "street_id",
                "community_id",
                "compound_id",
                "building_id",
                "unit",
                "room",
                "kind",
            ],
            create: json!({"building_id": t.building, "unit": "2单元", "room": "301"}),
            expected: json!({
                "street_id": t.street,
                "community_id": t.community,
                "compound_id": t.compound,
                "building_id": t.building,
                "unit": "2单元",
                "room": "301",
                "kind": "dwelling"
            }),
            patch: json!({"room": "302"}),
            patched: json!({
                "street_id": t.street,
                "community_id": t.community,
                "compound_id": t.compound,
                "building_id": t.building,
                "unit": "2单元",
                "room": "302",
                "kind": "dwelling"
            }),
        },
    )
    .await;
}

#[tokio::test]
async fn a_household_without_a_unit_has_an_empty_unit() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let h = create_ok(
        &app,
        &admin,
        "households",
        json!({"building_id": t.building, "room": "102"}),
    )
    .await;
    assert_eq!(h["unit"], "");
    let h = create_ok(
        &app,
        &admin,
        "households",
        json!({"building_id": t.building, "unit": "   ", "room": "103"}),
    )
    .await;
    assert_eq!(h["unit"], "", "a blank unit is no unit");
    let path = format!("/api/v1/households/{}", id_of(&h));
    let h = body_of(
        app.patch(&path, &admin, &json!({"unit": "3单元"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(h["unit"], "3单元");
    assert_eq!(h["room"], "103");
    let h = body_of(
        app.patch(&path, &admin, &json!({"unit": ""})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(h["unit"], "", "an empty unit removes it");
}

#[tokio::test]
async fn a_household_room_is_required_and_unit_and_room_are_at_most_20_characters() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    for room in ["", "   "] {
        let p = create_fails(
            &app,
            &admin,
            "households",
            json!({"building_id": t.building, "unit": "1单元", "room": room}),
            400,
            "validation_failed",
        )
        .await;
        assert_field_error(&p, "room", Some("required"));
    }
    let p = create_fails(
        &app,
        &admin,
        "households",
        json!({"building_id": t.building, "unit": "1单元"}),
        400,
        "invalid_body",
    )
    .await;
    assert_field_error(&p, "room", Some("required"));
    let p = create_fails(
        &app,
        &admin,
        "households",
        json!({"building_id": t.building, "unit": "1单元", "room": "室".repeat(21)}),
        400,
        "validation_failed",
    )
    .await;
    assert_field_error(&p, "room", Some("too_long"));
    let p = create_fails(
        &app,
        &admin,
        "households",
        json!({"building_id": t.building, "unit": "单".repeat(21), "room": "101"}),
        400,
        "validation_failed",
    )
    .await;
    assert_field_error(&p, "unit", Some("too_long"));
    let h = create_ok(
        &app,
        &admin,
        "households",
        json!({"building_id": t.building, "unit": "单".repeat(20), "room": "室".repeat(20)}),
    )
    .await;
    assert_eq!(h["room"], "室".repeat(20));

    let path = format!("/api/v1/households/{}", t.household);
    let p = assert_problem(
        app.patch(&path, &admin, &json!({"room": " "})).await,
        400,
        "validation_failed",
    )
    .await;
    assert_field_error(&p, "room", Some("required"));
}

// ---------------------------------------------------------------------------------------------
// 2. Validation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_empty_or_blank_name_is_refused_on_create_and_on_patch_for_every_resource() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    // Plain spaces, tabs and newlines, and full-width (ideographic) spaces all count as blank.
    for blank in ["", "   ", "\t\n ", "\u{3000}\u{3000}"] {
        for (collection, body) in named_bodies(&t, blank) {
            let p = create_fails(&app, &admin, collection, body, 400, "validation_failed").await;
            assert_field_error(&p, "name", Some("required"));
        }
    }
    let existing = [
        ("streets", t.street),
        ("communities", t.community),
        ("compounds", t.compound),
        ("buildings", t.building),
    ];
    for (collection, id) in existing {
        let path = format!("/api/v1/{collection}/{id}");
        let before = body_of(app.get(&path, &admin).await, StatusCode::OK).await;
        for blank in ["", "  "] {
            let p = assert_problem(
                app.patch(&path, &admin, &json!({"name": blank})).await,
                400,
                "validation_failed",
            )
            .await;
            assert_field_error(&p, "name", Some("required"));
        }
        let after = body_of(app.get(&path, &admin).await, StatusCode::OK).await;
        assert_eq!(before, after, "a refused PATCH changes nothing");
    }
}

#[tokio::test]
async fn a_name_is_trimmed() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    for (collection, body) in named_bodies(&t, "  带空格的名字\u{3000}") {
        let created = create_ok(&app, &admin, collection, body).await;
        assert_eq!(created["name"], "带空格的名字", "{collection}");
    }
}

#[tokio::test]
async fn a_name_of_exactly_100_characters_is_accepted_and_101_is_refused() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    // CJK characters are 3 bytes each in UTF-8: the limit counts characters, not bytes.
    let exactly_100 = "区".repeat(100);
    let too_long = "区".repeat(101);
    for (collection, body) in named_bodies(&t, &too_long) {
        let p = create_fails(&app, &admin, collection, body, 400, "validation_failed").await;
        assert_field_error(&p, "name", Some("too_long"));
    }
    for (collection, body) in named_bodies(&t, &exactly_100) {
        let created = create_ok(&app, &admin, collection, body).await;
        assert_eq!(created["name"], exactly_100.as_str(), "{collection}");
        let path = format!("/api/v1/{collection}/{}", id_of(&created));
        assert_eq!(
            body_of(app.get(&path, &admin).await, StatusCode::OK).await["name"],
            exactly_100.as_str(),
            "{collection} stores all 100 characters"
        );
        let p = assert_problem(
            app.patch(&path, &admin, &json!({"name": too_long})).await,
            400,
            "validation_failed",
        )
        .await;
        assert_field_error(&p, "name", Some("too_long"));
        let renamed = body_of(
            app.patch(&path, &admin, &json!({"name": "楼".repeat(100)}))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(renamed["name"], "楼".repeat(100), "{collection}");
    }
}

#[tokio::test]
async fn a_name_with_control_characters_is_refused() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    for (collection, body) in named_bodies(&t, "一\u{0}二") {
        let p = create_fails(&app, &admin, collection, body, 400, "validation_failed").await;
        assert_field_error(&p, "name", Some("invalid"));
    }
    let p = assert_problem(
        app.patch(
            &format!("/api/v1/buildings/{}", t.building),
            &admin,
            &json!({"name": "1\u{7}幢"}),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    assert_field_error(&p, "name", Some("invalid"));
}

#[tokio::test]
async fn an_unknown_field_in_a_body_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    for (collection, mut body) in named_bodies(&t, "新名字") {
        body["role"] = json!("admin");
        let p = create_fails(&app, &admin, collection, body, 400, "invalid_body").await;
        assert_field_error(&p, "role", Some("unknown_field"));
    }
    let p = create_fails(
        &app,
        &admin,
        "households",
        json!({"building_id": t.building, "room": "909", "owner": "张三"}),
        400,
        "invalid_body",
    )
    .await;
    assert_field_error(&p, "owner", Some("unknown_field"));

    // The server sets timestamps and ids; clients cannot.
    let p = create_fails(
        &app,
        &admin,
        "streets",
        json!({"name": "新街道", "id": Uuid::now_v7()}),
        400,
        "invalid_body",
    )
    .await;
    assert_field_error(&p, "id", Some("unknown_field"));

    let targets = [
        ("streets", t.street),
        ("communities", t.community),
        ("compounds", t.compound),
        ("buildings", t.building),
        ("households", t.household),
    ];
    for (collection, id) in targets {
        let p = assert_problem(
            app.patch(
                &format!("/api/v1/{collection}/{id}"),
                &admin,
                &json!({"updated_at": "2020-01-01T00:00:00Z"}),
            )
            .await,
            400,
            "invalid_body",
        )
        .await;
        assert_field_error(&p, "updated_at", Some("unknown_field"));
    }
}

#[tokio::test]
async fn a_missing_parent_id_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let cases = [
        ("communities", "street_id"),
        ("property-companies", "street_id"),
        ("compounds", "community_id"),
        ("grids", "community_id"),
        ("buildings", "compound_id"),
    ];
    for (collection, field) in cases {
        let p = create_fails(
            &app,
            &admin,
            collection,
            json!({"name": "无上级"}),
            400,
            "invalid_body",
        )
        .await;
        assert_field_error(&p, field, Some("required"));
    }
    let p = create_fails(
        &app,
        &admin,
        "households",
        json!({"room": "101"}),
        400,
        "invalid_body",
    )
    .await;
    assert_field_error(&p, "building_id", Some("required"));
    // A parent id that is not a UUID is a 400 as well.
    create_fails(
        &app,
        &admin,
        "communities",
        json!({"street_id": "not-a-uuid", "name": "坏上级"}),
        400,
        "invalid_body",
    )
    .await;
}

#[tokio::test]
async fn a_parent_id_in_a_patch_body_is_refused_because_parents_are_immutable() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let o = small_territory(&app, &admin, "乙").await;
    let pc = app
        .create(
            &admin,
            "property-companies",
            json!({"street_id": t.street, "name": "绿城物业"}),
        )
        .await;
    let grid = app
        .create(
            &admin,
            "grids",
            json!({"community_id": t.community, "name": "第一网格"}),
        )
        .await;
    let cases: Vec<(&str, Uuid, &str, Uuid)> = vec![
        ("communities", t.community, "street_id", o.street),
        ("property-companies", pc, "street_id", o.street),
        ("compounds", t.compound, "community_id", o.community),
        ("compounds", t.compound, "street_id", o.street),
        ("grids", grid, "community_id", o.community),
        ("grids", grid, "street_id", o.street),
        ("buildings", t.building, "compound_id", o.compound),
        ("buildings", t.building, "community_id", o.community),
        ("households", t.household, "building_id", o.building),
        ("households", t.household, "compound_id", o.compound),
    ];
    for (collection, id, field, other_parent) in cases {
        let path = format!("/api/v1/{collection}/{id}");
        let before = body_of(app.get(&path, &admin).await, StatusCode::OK).await;
        let mut body = json!({});
        body[field] = json!(other_parent);
        let p = assert_problem(app.patch(&path, &admin, &body).await, 400, "invalid_body").await;
        assert_field_error(&p, field, Some("unknown_field"));
        // Even together with an allowed change, nothing is applied.
        if collection != "households" {
            body["name"] = json!("改了名");
            assert_problem(app.patch(&path, &admin, &body).await, 400, "invalid_body").await;
        }
        let after = body_of(app.get(&path, &admin).await, StatusCode::OK).await;
        assert_eq!(before, after, "{collection} keeps its parent");
    }
}

#[tokio::test]
async fn creating_under_a_parent_that_does_not_exist_is_not_found() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let missing = Uuid::now_v7();
    let cases = [
        (
            "communities",
            json!({"street_id": missing, "name": "孤儿社区"}),
        ),
        (
            "property-companies",
            json!({"street_id": missing, "name": "孤儿物业"}),
        ),
        (
            "compounds",
            json!({"community_id": missing, "name": "孤儿小区"}),
        ),
        (
            "grids",
            json!({"community_id": missing, "name": "孤儿网格"}),
        ),
        (
            "buildings",
            json!({"compound_id": missing, "name": "孤儿楼"}),
        ),
        ("households", json!({"building_id": missing, "room": "101"})),
    ];
    for (collection, body) in cases {
        create_fails(&app, &admin, collection, body, 404, "not_found").await;
        let (ids, next) = page(&app, &admin, &format!("/api/v1/{collection}")).await;
        assert!(ids.is_empty() && next.is_none(), "nothing was created");
    }
}

#[tokio::test]
async fn a_parent_that_was_deleted_cannot_receive_children() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let street = app
        .create(&admin, "streets", json!({"name": "将删街道"}))
        .await;
    delete_ok(&app, &admin, &format!("/api/v1/streets/{street}")).await;
    create_fails(
        &app,
        &admin,
        "communities",
        json!({"street_id": street, "name": "晚到社区"}),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_malformed_id_in_the_path_is_an_invalid_path() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for collection in COLLECTIONS {
        for bad in ["not-a-uuid", "123", "0190c0de-zzzz-7000-8000-000000000000"] {
            let path = format!("/api/v1/{collection}/{bad}");
            let p = assert_problem(app.get(&path, &admin).await, 400, "invalid_path").await;
            assert_field_error(&p, "id", None);
            assert_problem(
                app.patch(&path, &admin, &json!({"name": "x"})).await,
                400,
                "invalid_path",
            )
            .await;
            assert_problem(app.delete(&path, &admin).await, 400, "invalid_path").await;
        }
    }
}

#[tokio::test]
async fn an_unknown_id_is_not_found() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for collection in COLLECTIONS {
        let path = format!("/api/v1/{collection}/{}", Uuid::now_v7());
        assert_problem(app.get(&path, &admin).await, 404, "not_found").await;
        assert_problem(app.patch(&path, &admin, &json!({})).await, 404, "not_found").await;
        assert_problem(app.delete(&path, &admin).await, 404, "not_found").await;
    }
}

#[tokio::test]
async fn an_id_of_one_resource_is_not_found_as_another() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    assert_problem(
        app.get(&format!("/api/v1/buildings/{}", t.compound), &admin)
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.delete(&format!("/api/v1/communities/{}", t.street), &admin)
            .await,
        404,
        "not_found",
    )
    .await;
    // Using a compound id as a community parent is an unknown parent.
    create_fails(
        &app,
        &admin,
        "compounds",
        json!({"community_id": t.compound, "name": "错层小区"}),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn an_empty_patch_changes_nothing_but_updated_at() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let path = format!("/api/v1/buildings/{}", t.building);
    let before = body_of(app.get(&path, &admin).await, StatusCode::OK).await;
    let after = body_of(app.patch(&path, &admin, &json!({})).await, StatusCode::OK).await;
    for k in ["id", "name", "street_id", "community_id", "compound_id"] {
        assert_eq!(before[k], after[k], "{k}");
    }
    assert!(time(&after, "updated_at") >= time(&before, "updated_at"));
    // `"name": null` leaves the name as it is.
    let after = body_of(
        app.patch(&path, &admin, &json!({"name": null})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(after["name"], before["name"]);
}

// ---------------------------------------------------------------------------------------------
// 3. Conflicts and deletion guards
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_duplicate_name_under_the_same_parent_conflicts_on_create_and_on_rename() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    for ((collection, body_a), (_, body_b)) in named_bodies(&t, "同名")
        .into_iter()
        .zip(named_bodies(&t, "另名"))
    {
        let a = create_ok(&app, &admin, collection, body_a.clone()).await;
        let b = create_ok(&app, &admin, collection, body_b).await;

        let p = create_fails(
            &app,
            &admin,
            collection,
            body_a.clone(),
            409,
            "already_exists",
        )
        .await;
        assert!(p["detail"].as_str().is_some_and(|d| !d.is_empty()), "{p}");
        // Surrounding spaces do not make a new name.
        let mut padded = body_a.clone();
        padded["name"] = json!("  同名 ");
        create_fails(&app, &admin, collection, padded, 409, "already_exists").await;

        let b_path = format!("/api/v1/{collection}/{}", id_of(&b));
        assert_problem(
            app.patch(&b_path, &admin, &json!({"name": "同名"})).await,
            409,
            "already_exists",
        )
        .await;
        assert_eq!(
            body_of(app.get(&b_path, &admin).await, StatusCode::OK).await["name"],
            "另名",
            "a refused rename changes nothing"
        );
        // Renaming to its own name is not a conflict.
        let a_path = format!("/api/v1/{collection}/{}", id_of(&a));
        let same = body_of(
            app.patch(&a_path, &admin, &json!({"name": "同名"})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(same["name"], "同名");
        // Once the first is gone, its name is free again.
        delete_ok(&app, &admin, &a_path).await;
        let renamed = body_of(
            app.patch(&b_path, &admin, &json!({"name": "同名"})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(renamed["name"], "同名", "{collection}");
    }
}

#[tokio::test]
async fn the_same_name_under_a_different_parent_is_allowed() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let o = small_territory(&app, &admin, "乙").await;
    // Street names are unique in the deployment: streets have no parent.
    for ((collection, here), (_, there)) in named_bodies(&t, "同名")
        .into_iter()
        .zip(named_bodies(&o, "同名"))
        .filter(|((c, _), _)| *c != "streets")
    {
        let a = create_ok(&app, &admin, collection, here).await;
        let b = create_ok(&app, &admin, collection, there).await;
        assert_ne!(id_of(&a), id_of(&b));
        assert_eq!(a["name"], b["name"]);
    }
    // The small territories share the building name "1幢" in different compounds already.
    let b1 = body_of(
        app.get(&format!("/api/v1/buildings/{}", t.building), &admin)
            .await,
        StatusCode::OK,
    )
    .await;
    let b2 = body_of(
        app.get(&format!("/api/v1/buildings/{}", o.building), &admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(b1["name"], b2["name"]);
}

#[tokio::test]
async fn the_same_name_in_different_resources_is_no_conflict() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    // A compound and a grid of the same community, a community and a property company of the
    // same street may share a name.
    for (collection, body) in named_bodies(&t, "共用名") {
        create_ok(&app, &admin, collection, body).await;
    }
}

#[tokio::test]
async fn a_household_with_the_same_unit_and_room_in_a_building_conflicts() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    // small_territory has 1单元 101 in its building.
    let t = small_territory(&app, &admin, "甲").await;
    let o = small_territory(&app, &admin, "乙").await;
    create_fails(
        &app,
        &admin,
        "households",
        json!({"building_id": t.building, "unit": "1单元", "room": "101"}),
        409,
        "already_exists",
    )
    .await;
    create_fails(
        &app,
        &admin,
        "households",
        json!({"building_id": t.building, "unit": " 1单元 ", "room": " 101 "}),
        409,
        "already_exists",
    )
    .await;
    // Another unit, another room, or another building is fine.
    let other_unit = app
        .create(
            &admin,
            "households",
            json!({"building_id": t.building, "unit": "2单元", "room": "101"}),
        )
        .await;
    app.create(
        &admin,
        "households",
        json!({"building_id": t.building, "unit": "1单元", "room": "102"}),
    )
    .await;
    app.create(
        &admin,
        "households",
        json!({"building_id": o.building, "unit": "2单元", "room": "101"}),
    )
    .await;

    // Without a unit: the same room twice conflicts, whether the unit is absent or blank.
    app.create(
        &admin,
        "households",
        json!({"building_id": t.building, "room": "501"}),
    )
    .await;
    create_fails(
        &app,
        &admin,
        "households",
        json!({"building_id": t.building, "room": "501"}),
        409,
        "already_exists",
    )
    .await;
    create_fails(
        &app,
        &admin,
        "households",
        json!({"building_id": t.building, "unit": "", "room": "501"}),
        409,
        "already_exists",
    )
    .await;

    // Changing unit or room onto an existing pair conflicts.
    let path = format!("/api/v1/households/{other_unit}");
    assert_problem(
        app.patch(&path, &admin, &json!({"unit": "1单元"})).await,
        409,
        "already_exists",
    )
    .await;
    assert_problem(
        app.patch(&path, &admin, &json!({"unit": "1单元", "room": "102"}))
            .await,
        409,
        "already_exists",
    )
    .await;
    let h = body_of(app.get(&path, &admin).await, StatusCode::OK).await;
    assert_eq!(
        (h["unit"].as_str(), h["room"].as_str()),
        (Some("2单元"), Some("101"))
    );
    let h = body_of(
        app.patch(&path, &admin, &json!({"unit": "1单元", "room": "103"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (h["unit"].as_str(), h["room"].as_str()),
        (Some("1单元"), Some("103"))
    );
}

#[tokio::test]
async fn a_street_with_a_community_cannot_be_deleted_until_the_community_is_gone() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let street = app
        .create(&admin, "streets", json!({"name": "紫阳街道"}))
        .await;
    let community = app
        .create(
            &admin,
            "communities",
            json!({"street_id": street, "name": "上羊市街社区"}),
        )
        .await;
    let street_path = format!("/api/v1/streets/{street}");
    delete_has_children(&app, &admin, &street_path).await;
    delete_ok(&app, &admin, &format!("/api/v1/communities/{community}")).await;
    delete_ok(&app, &admin, &street_path).await;
    assert_problem(app.get(&street_path, &admin).await, 404, "not_found").await;
}

#[tokio::test]
async fn a_street_with_a_property_company_cannot_be_deleted_until_the_company_is_gone() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let street = app
        .create(&admin, "streets", json!({"name": "紫阳街道"}))
        .await;
    let pc = app
        .create(
            &admin,
            "property-companies",
            json!({"street_id": street, "name": "绿城物业"}),
        )
        .await;
    let street_path = format!("/api/v1/streets/{street}");
    delete_has_children(&app, &admin, &street_path).await;
    delete_ok(&app, &admin, &format!("/api/v1/property-companies/{pc}")).await;
    delete_ok(&app, &admin, &street_path).await;
}

#[tokio::test]
async fn a_street_with_an_admin_assigned_cannot_be_deleted_until_the_role_is_revoked() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let street = app
        .create(&admin, "streets", json!({"name": "紫阳街道"}))
        .await;
    let user = app
        .create_user(&admin, "street-admin", "a-long-password-1")
        .await;
    let assignment = grant_role(&app, &admin, user, "admin", "street", street).await;
    let street_path = format!("/api/v1/streets/{street}");
    delete_has_children(&app, &admin, &street_path).await;
    delete_ok(
        &app,
        &admin,
        &format!("/api/v1/role-assignments/{assignment}"),
    )
    .await;
    delete_ok(&app, &admin, &street_path).await;
}

#[tokio::test]
async fn a_community_with_a_compound_cannot_be_deleted_until_the_compound_is_gone() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let street = app
        .create(&admin, "streets", json!({"name": "紫阳街道"}))
        .await;
    let community = app
        .create(
            &admin,
            "communities",
            json!({"street_id": street, "name": "上羊市街社区"}),
        )
        .await;
    let compound = app
        .create(
            &admin,
            "compounds",
            json!({"community_id": community, "name": "候潮府小区"}),
        )
        .await;
    let path = format!("/api/v1/communities/{community}");
    delete_has_children(&app, &admin, &path).await;
    delete_ok(&app, &admin, &format!("/api/v1/compounds/{compound}")).await;
    delete_ok(&app, &admin, &path).await;
}

#[tokio::test]
async fn a_community_with_a_grid_cannot_be_deleted_until_the_grid_is_gone() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let street = app
        .create(&admin, "streets", json!({"name": "紫阳街道"}))
        .await;
    let community = app
        .create(
            &admin,
            "communities",
            json!({"street_id": street, "name": "上羊市街社区"}),
        )
        .await;
    let grid = app
        .create(
            &admin,
            "grids",
            json!({"community_id": community, "name": "第一网格"}),
        )
        .await;
    let path = format!("/api/v1/communities/{community}");
    delete_has_children(&app, &admin, &path).await;
    delete_ok(&app, &admin, &format!("/api/v1/grids/{grid}")).await;
    delete_ok(&app, &admin, &path).await;
}

#[tokio::test]
async fn a_compound_with_a_building_cannot_be_deleted_until_the_building_is_gone() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let path = format!("/api/v1/compounds/{}", t.compound);
    delete_has_children(&app, &admin, &path).await;
    delete_ok(&app, &admin, &format!("/api/v1/households/{}", t.household)).await;
    delete_has_children(&app, &admin, &path).await;
    delete_ok(&app, &admin, &format!("/api/v1/buildings/{}", t.building)).await;
    delete_ok(&app, &admin, &path).await;
}

#[tokio::test]
async fn a_building_with_a_household_cannot_be_deleted_until_the_household_is_gone() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let path = format!("/api/v1/buildings/{}", t.building);
    delete_has_children(&app, &admin, &path).await;
    delete_ok(&app, &admin, &format!("/api/v1/households/{}", t.household)).await;
    delete_ok(&app, &admin, &path).await;
}

#[tokio::test]
async fn a_property_company_serving_a_compound_cannot_be_deleted_until_it_no_longer_serves_it() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let pc = app
        .create(
            &admin,
            "property-companies",
            json!({"street_id": t.street, "name": "绿城物业"}),
        )
        .await;
    let served = app
        .create(
            &admin,
            "compounds",
            json!({"community_id": t.community, "name": "物业小区", "property_company_id": pc}),
        )
        .await;
    let pc_path = format!("/api/v1/property-companies/{pc}");
    delete_has_children(&app, &admin, &pc_path).await;
    body_of(
        app.patch(
            &format!("/api/v1/compounds/{served}"),
            &admin,
            &json!({"property_company_id": null}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    delete_ok(&app, &admin, &pc_path).await;
}

#[tokio::test]
async fn a_property_company_with_property_staff_cannot_be_deleted_until_the_role_is_revoked() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let pc = app
        .create(
            &admin,
            "property-companies",
            json!({"street_id": t.street, "name": "绿城物业"}),
        )
        .await;
    let user = app
        .create_user(&admin, "property-clerk", "a-long-password-1")
        .await;
    let assignment = grant_role(&app, &admin, user, "property_staff", "property_company", pc).await;
    let path = format!("/api/v1/property-companies/{pc}");
    delete_has_children(&app, &admin, &path).await;
    delete_ok(
        &app,
        &admin,
        &format!("/api/v1/role-assignments/{assignment}"),
    )
    .await;
    delete_ok(&app, &admin, &path).await;
}

#[tokio::test]
async fn a_grid_with_a_grid_manager_cannot_be_deleted_until_the_role_is_revoked() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let grid = app
        .create(
            &admin,
            "grids",
            json!({"community_id": t.community, "name": "第一网格", "compound_ids": [t.compound]}),
        )
        .await;
    let user = app
        .create_user(&admin, "grid-manager", "a-long-password-1")
        .await;
    let assignment = grant_role(&app, &admin, user, "grid_manager", "grid", grid).await;
    let path = format!("/api/v1/grids/{grid}");
    delete_has_children(&app, &admin, &path).await;
    delete_ok(
        &app,
        &admin,
        &format!("/api/v1/role-assignments/{assignment}"),
    )
    .await;
    delete_ok(&app, &admin, &path).await;
    assert_problem(app.get(&path, &admin).await, 404, "not_found").await;
}

#[tokio::test]
async fn a_household_with_a_resident_cannot_be_deleted_until_the_role_is_revoked() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let user = app
        .create_user(&admin, "resident-1", "a-long-password-1")
        .await;
    let assignment = grant_role(&app, &admin, user, "resident", "household", t.household).await;
    let path = format!("/api/v1/households/{}", t.household);
    delete_has_children(&app, &admin, &path).await;
    delete_ok(
        &app,
        &admin,
        &format!("/api/v1/role-assignments/{assignment}"),
    )
    .await;
    delete_ok(&app, &admin, &path).await;
}

#[tokio::test]
async fn a_compound_or_building_covered_by_a_grid_cannot_be_deleted_until_the_coverage_is_gone() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let spare_compound = app
        .create(
            &admin,
            "compounds",
            json!({"community_id": t.community, "name": "空小区"}),
        )
        .await;
    let bare_building = app
        .create(
            &admin,
            "buildings",
            json!({"compound_id": t.compound, "name": "空楼"}),
        )
        .await;
    let grid = app
        .create(
            &admin,
            "grids",
            json!({"community_id": t.community, "name": "第一网格",
                   "compound_ids": [spare_compound], "building_ids": [bare_building]}),
        )
        .await;
    let compound_path = format!("/api/v1/compounds/{spare_compound}");
    let building_path = format!("/api/v1/buildings/{bare_building}");
    delete_has_children(&app, &admin, &compound_path).await;
    delete_has_children(&app, &admin, &building_path).await;

    // Taking the building out of the grid frees it.
    body_of(
        app.patch(
            &format!("/api/v1/grids/{grid}"),
            &admin,
            &json!({"building_ids": []}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    delete_ok(&app, &admin, &building_path).await;
    delete_has_children(&app, &admin, &compound_path).await;

    // Deleting the grid takes its coverage with it, which frees the compound.
    delete_ok(&app, &admin, &format!("/api/v1/grids/{grid}")).await;
    delete_ok(&app, &admin, &compound_path).await;
}

#[tokio::test]
async fn a_whole_territory_can_be_torn_down_leaf_first() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    for (collection, id) in [
        ("households", t.household),
        ("buildings", t.building),
        ("compounds", t.compound),
        ("communities", t.community),
        ("streets", t.street),
    ] {
        delete_ok(&app, &admin, &format!("/api/v1/{collection}/{id}")).await;
    }
    for collection in COLLECTIONS {
        let (ids, next) = page(&app, &admin, &format!("/api/v1/{collection}")).await;
        assert!(ids.is_empty() && next.is_none(), "{collection} is empty");
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Lists and keyset pagination
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn walking_pages_of_45_buildings_returns_each_exactly_once_in_creation_order() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let street = app
        .create(&admin, "streets", json!({"name": "紫阳街道"}))
        .await;
    let community = app
        .create(
            &admin,
            "communities",
            json!({"street_id": street, "name": "上羊市街社区"}),
        )
        .await;
    let compound = app
        .create(
            &admin,
            "compounds",
            json!({"community_id": community, "name": "候潮府小区"}),
        )
        .await;
    let created = create_buildings(&app, &admin, compound, 45).await;

    let pages = walk(
        &app,
        &admin,
        &format!("/api/v1/buildings?compound_id={compound}"),
        20,
    )
    .await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(
        sizes,
        vec![20, 20, 5],
        "three pages; the last one ends the list"
    );
    let all: Vec<Uuid> = pages.concat();
    let unique: HashSet<Uuid> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "no duplicates across pages");
    assert_eq!(
        set_of(&all),
        set_of(&created),
        "no gaps: every building once"
    );
    assert_eq!(all, created, "pages follow creation order");

    // Unfiltered, the same.
    let pages = walk(&app, &admin, "/api/v1/buildings", 20).await;
    assert_eq!(pages.concat(), created);

    // The page items are full objects.
    let body = body_of(
        app.get("/api/v1/buildings?limit=1", &admin).await,
        StatusCode::OK,
    )
    .await;
    let first = &body["items"][0];
    assert_eq!(first["compound_id"], compound.to_string());
    assert_eq!(first["community_id"], community.to_string());
    assert_eq!(first["street_id"], street.to_string());
    assert_eq!(first["name"], "1幢");
    time(first, "created_at");
    time(first, "updated_at");
    assert!(body["next_cursor"].is_string());
}

#[tokio::test]
async fn a_page_that_exactly_fills_the_limit_ends_the_list() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let mut ids = vec![t.building];
    for i in 2..=10 {
        ids.push(
            app.create(
                &admin,
                "buildings",
                json!({"compound_id": t.compound, "name": format!("{i}幢")}),
            )
            .await,
        );
    }
    let (page1, next) = page(&app, &admin, "/api/v1/buildings?limit=10").await;
    assert_eq!(page1, ids);
    assert!(next.is_none(), "no cursor to an empty page: {next:?}");
}

#[tokio::test]
async fn the_default_page_size_is_20() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let mut created = vec![t.building];
    for i in 2..=25 {
        created.push(
            app.create(
                &admin,
                "buildings",
                json!({"compound_id": t.compound, "name": format!("{i}幢")}),
            )
            .await,
        );
    }
    let (first, next) = page(&app, &admin, "/api/v1/buildings").await;
    assert_eq!(first.len(), 20);
    let next = next.expect("a next page");
    let (rest, last) = page(&app, &admin, &format!("/api/v1/buildings?cursor={next}")).await;
    assert_eq!(rest.len(), 5);
    assert!(last.is_none());
    assert_eq!([first, rest].concat(), created);
}

#[tokio::test]
async fn a_limit_above_100_is_clamped_to_100() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let mut created = vec![t.household];
    for i in 0..104 {
        created.push(
            app.create(
                &admin,
                "households",
                json!({"building_id": t.building, "unit": "2单元", "room": format!("{}", 1000 + i)}),
            )
            .await,
        );
    }
    for limit in [101, 1000, 9_999_999_999_i64] {
        let (ids, next) = page(&app, &admin, &format!("/api/v1/households?limit={limit}")).await;
        assert_eq!(ids.len(), 100, "limit={limit} is clamped");
        assert_eq!(ids[..], created[..100]);
        let next = next.expect("more after 100");
        let (rest, last) = page(
            &app,
            &admin,
            &format!("/api/v1/households?limit={limit}&cursor={next}"),
        )
        .await;
        assert_eq!(rest[..], created[100..]);
        assert!(last.is_none());
    }
    let (ids, _) = page(&app, &admin, "/api/v1/households?limit=100").await;
    assert_eq!(ids.len(), 100);
}

#[tokio::test]
async fn a_limit_below_1_or_not_a_number_is_an_invalid_query() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for collection in COLLECTIONS {
        for limit in ["0", "-1", "-100"] {
            let p = assert_problem(
                app.get(&format!("/api/v1/{collection}?limit={limit}"), &admin)
                    .await,
                400,
                "invalid_query",
            )
            .await;
            assert_field_error(&p, "limit", Some("out_of_range"));
        }
        for limit in ["abc", "1.5", ""] {
            assert_problem(
                app.get(&format!("/api/v1/{collection}?limit={limit}"), &admin)
                    .await,
                400,
                "invalid_query",
            )
            .await;
        }
    }
}

/// `errors[].field` is "the parameter name for query and path" (src/error.rs, `FieldError`).
#[tokio::test]
async fn a_query_value_of_the_wrong_type_is_reported_on_its_parameter() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut wrong = Vec::new();
    for (path, field) in [
        ("/api/v1/buildings?limit=abc", "limit"),
        ("/api/v1/streets?limit=1.5", "limit"),
        ("/api/v1/buildings?compound_id=123", "compound_id"),
        ("/api/v1/communities?street_id=nope", "street_id"),
    ] {
        let p = assert_problem(app.get(path, &admin).await, 400, "invalid_query").await;
        if p["errors"][0]["field"] != field {
            wrong.push(format!(
                "GET {path}: expected field `{field}`, got {}",
                p["errors"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// `errors[].field` names the offending body field (src/error.rs, `FieldError`).
#[tokio::test]
async fn a_body_value_of_the_wrong_type_is_reported_on_its_field() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let mut wrong = Vec::new();
    for (collection, body, field) in [
        (
            "communities",
            json!({"street_id": "not-a-uuid", "name": "坏上级"}),
            "street_id",
        ),
        ("streets", json!({"name": 42}), "name"),
        (
            "grids",
            json!({"community_id": t.community, "name": "网格", "compound_ids": "x"}),
            "compound_ids",
        ),
    ] {
        let p = create_fails(&app, &admin, collection, body, 400, "invalid_body").await;
        if p["errors"][0]["field"] != field {
            wrong.push(format!(
                "POST {collection}: expected field `{field}`, got {}",
                p["errors"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[tokio::test]
async fn a_cursor_the_api_did_not_return_is_an_invalid_query() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for collection in COLLECTIONS {
        for cursor in ["garbage", "!!!", "AAAA", "%00"] {
            let p = assert_problem(
                app.get(&format!("/api/v1/{collection}?cursor={cursor}"), &admin)
                    .await,
                400,
                "invalid_query",
            )
            .await;
            assert_field_error(&p, "cursor", Some("invalid"));
        }
    }
}

#[tokio::test]
async fn an_unknown_query_parameter_or_a_malformed_filter_is_an_invalid_query() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for collection in COLLECTIONS {
        let p = assert_problem(
            app.get(&format!("/api/v1/{collection}?sort=name"), &admin)
                .await,
            400,
            "invalid_query",
        )
        .await;
        assert_eq!(p["errors"][0]["field"], "sort", "{p}");
    }
    // A filter of another resource is unknown here too.
    assert_problem(
        app.get(
            &format!("/api/v1/streets?street_id={}", Uuid::now_v7()),
            &admin,
        )
        .await,
        400,
        "invalid_query",
    )
    .await;
    assert_problem(
        app.get(
            &format!("/api/v1/communities?compound_id={}", Uuid::now_v7()),
            &admin,
        )
        .await,
        400,
        "invalid_query",
    )
    .await;
    for path in [
        "/api/v1/communities?street_id=nope",
        "/api/v1/compounds?community_id=nope",
        "/api/v1/buildings?compound_id=123",
        "/api/v1/households?building_id=x",
        "/api/v1/grids?community_id=x",
        "/api/v1/property-companies?street_id=x",
    ] {
        assert_problem(app.get(path, &admin).await, 400, "invalid_query").await;
    }
}

#[tokio::test]
async fn a_filter_by_parent_returns_only_that_parents_children() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let o = small_territory(&app, &admin, "乙").await;
    let t_compound2 = app
        .create(
            &admin,
            "compounds",
            json!({"community_id": t.community, "name": "第二小区"}),
        )
        .await;
    let t_building2 = app
        .create(
            &admin,
            "buildings",
            json!({"compound_id": t_compound2, "name": "9幢"}),
        )
        .await;
    let t_household2 = app
        .create(
            &admin,
            "households",
            json!({"building_id": t_building2, "room": "901"}),
        )
        .await;
    let t_pc = app
        .create(
            &admin,
            "property-companies",
            json!({"street_id": t.street, "name": "甲物业"}),
        )
        .await;
    let o_pc = app
        .create(
            &admin,
            "property-companies",
            json!({"street_id": o.street, "name": "乙物业"}),
        )
        .await;
    body_of(
        app.patch(
            &format!("/api/v1/compounds/{t_compound2}"),
            &admin,
            &json!({"property_company_id": t_pc}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let t_grid = app
        .create(
            &admin,
            "grids",
            json!({"community_id": t.community, "name": "甲网格"}),
        )
        .await;
    let o_grid = app
        .create(
            &admin,
            "grids",
            json!({"community_id": o.community, "name": "乙网格"}),
        )
        .await;

    let cases: Vec<(String, Vec<Uuid>)> = vec![
        (
            format!("/api/v1/communities?street_id={}", t.street),
            vec![t.community],
        ),
        (
            format!("/api/v1/communities?street_id={}", o.street),
            vec![o.community],
        ),
        (
            format!("/api/v1/property-companies?street_id={}", o.street),
            vec![o_pc],
        ),
        (
            format!("/api/v1/compounds?community_id={}", t.community),
            vec![t.compound, t_compound2],
        ),
        (
            format!("/api/v1/compounds?property_company_id={t_pc}"),
            vec![t_compound2],
        ),
        (
            format!("/api/v1/compounds?property_company_id={o_pc}"),
            vec![],
        ),
        (
            format!("/api/v1/grids?community_id={}", t.community),
            vec![t_grid],
        ),
        (
            format!("/api/v1/grids?community_id={}", o.community),
            vec![o_grid],
        ),
        (
            format!("/api/v1/buildings?compound_id={}", t.compound),
            vec![t.building],
        ),
        (
            format!("/api/v1/buildings?community_id={}", t.community),
            vec![t.building, t_building2],
        ),
        (
            format!("/api/v1/buildings?community_id={}", o.community),
            vec![o.building],
        ),
        (
            format!("/api/v1/households?building_id={t_building2}"),
            vec![t_household2],
        ),
        (
            format!("/api/v1/households?compound_id={}", t.compound),
            vec![t.household],
        ),
        (
            format!("/api/v1/households?community_id={}", t.community),
            vec![t.household, t_household2],
        ),
        (
            format!(
                "/api/v1/households?community_id={}&building_id={}",
                t.community, t.building
            ),
            vec![t.household],
        ),
        (
            format!(
                "/api/v1/households?community_id={}&building_id={}",
                o.community, t.building
            ),
            vec![],
        ),
        (
            format!("/api/v1/buildings?compound_id={}", Uuid::now_v7()),
            vec![],
        ),
        ("/api/v1/streets".to_string(), vec![t.street, o.street]),
    ];
    for (path, expected) in cases {
        let got = list_all(&app, &admin, &path).await;
        assert_eq!(got, expected, "GET {path}");
    }
}

#[tokio::test]
async fn an_item_created_between_page_fetches_appears_once_at_the_end() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let compound = app
        .create(
            &admin,
            "compounds",
            json!({"community_id": t.community, "name": "分页小区"}),
        )
        .await;
    let created = create_buildings(&app, &admin, compound, 45).await;
    let base = format!("/api/v1/buildings?compound_id={compound}&limit=20");

    let (page1, next) = page(&app, &admin, &base).await;
    assert_eq!(page1, created[..20]);
    let late = app
        .create(
            &admin,
            "buildings",
            json!({"compound_id": compound, "name": "后来幢"}),
        )
        .await;
    let mut all = page1;
    let mut cursor = next;
    while let Some(c) = cursor {
        let (ids, next) = page(&app, &admin, &format!("{base}&cursor={c}")).await;
        all.extend(ids);
        cursor = next;
    }
    let unique: HashSet<Uuid> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "no duplicates");
    assert_eq!(all.len(), 46);
    assert_eq!(all[..45], created[..]);
    assert_eq!(all.last(), Some(&late), "the late item comes last");
}

#[tokio::test]
async fn a_cursor_stays_valid_when_the_item_it_points_at_is_deleted() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let compound = app
        .create(
            &admin,
            "compounds",
            json!({"community_id": t.community, "name": "分页小区"}),
        )
        .await;
    let created = create_buildings(&app, &admin, compound, 45).await;
    let base = format!("/api/v1/buildings?compound_id={compound}&limit=20");
    let (page1, next) = page(&app, &admin, &base).await;
    assert_eq!(page1, created[..20]);
    // Delete the last item of page 1 (the one the cursor names) and the first of page 2.
    delete_ok(&app, &admin, &format!("/api/v1/buildings/{}", created[19])).await;
    delete_ok(&app, &admin, &format!("/api/v1/buildings/{}", created[20])).await;
    let (page2, next) = page(
        &app,
        &admin,
        &format!("{base}&cursor={}", next.expect("cursor")),
    )
    .await;
    assert_eq!(page2, created[21..41], "no gap, no repeat");
    let (page3, last) = page(
        &app,
        &admin,
        &format!("{base}&cursor={}", next.expect("cursor")),
    )
    .await;
    assert_eq!(page3, created[41..]);
    assert!(last.is_none());
}

#[tokio::test]
async fn every_collection_pages_with_the_same_rules() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let mut made: Vec<(&str, Vec<Uuid>)> = Vec::new();
    for (collection, _) in named_bodies(&t, "x") {
        let mut ids = match collection {
            "streets" => vec![t.street],
            "communities" => vec![t.community],
            "compounds" => vec![t.compound],
            "buildings" => vec![t.building],
            _ => vec![],
        };
        for i in 0..5 {
            let (_, body) = named_bodies(&t, &format!("分页{i}"))
                .into_iter()
                .find(|(c, _)| *c == collection)
                .expect("collection");
            ids.push(app.create(&admin, collection, body).await);
        }
        made.push((collection, ids));
    }
    let mut households = vec![t.household];
    for i in 0..5 {
        households.push(
            app.create(
                &admin,
                "households",
                json!({"building_id": t.building, "room": format!("{}", 700 + i)}),
            )
            .await,
        );
    }
    made.push(("households", households));
    for (collection, ids) in made {
        let pages = walk(&app, &admin, &format!("/api/v1/{collection}"), 2).await;
        let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
        let expected_sizes: Vec<usize> = ids.chunks(2).map(<[Uuid]>::len).collect();
        assert_eq!(sizes, expected_sizes, "{collection}");
        assert_eq!(pages.concat(), ids, "{collection}");
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Grid coverage
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_grid_shows_the_compounds_and_buildings_it_covers_and_patch_replaces_them() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let compound2 = app
        .create(
            &admin,
            "compounds",
            json!({"community_id": t.community, "name": "第二小区"}),
        )
        .await;
    let compound3 = app
        .create(
            &admin,
            "compounds",
            json!({"community_id": t.community, "name": "第三小区"}),
        )
        .await;
    let building2 = app
        .create(
            &admin,
            "buildings",
            json!({"compound_id": compound2, "name": "2幢"}),
        )
        .await;
    let building3 = app
        .create(
            &admin,
            "buildings",
            json!({"compound_id": compound3, "name": "3幢"}),
        )
        .await;

    let grid = create_ok(
        &app,
        &admin,
        "grids",
        json!({"community_id": t.community, "name": "第一网格",
               "compound_ids": [t.compound], "building_ids": [building2]}),
    )
    .await;
    assert_eq!(uuid_set(&grid["compound_ids"]), set_of(&[t.compound]));
    assert_eq!(uuid_set(&grid["building_ids"]), set_of(&[building2]));
    let path = format!("/api/v1/grids/{}", id_of(&grid));
    let fetched = body_of(app.get(&path, &admin).await, StatusCode::OK).await;
    assert_eq!(uuid_set(&fetched["compound_ids"]), set_of(&[t.compound]));
    assert_eq!(uuid_set(&fetched["building_ids"]), set_of(&[building2]));

    // Replace both lists.
    let patched = body_of(
        app.patch(
            &path,
            &admin,
            &json!({
                "compound_ids": [compound2, compound3],
                "building_ids": [t.building, building3]
            }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        uuid_set(&patched["compound_ids"]),
        set_of(&[compound2, compound3])
    );
    assert_eq!(
        uuid_set(&patched["building_ids"]),
        set_of(&[t.building, building3])
    );
    let fetched = body_of(app.get(&path, &admin).await, StatusCode::OK).await;
    assert_eq!(
        uuid_set(&fetched["compound_ids"]),
        set_of(&[compound2, compound3])
    );
    assert_eq!(
        uuid_set(&fetched["building_ids"]),
        set_of(&[t.building, building3])
    );

    // A rename alone keeps the coverage.
    let renamed = body_of(
        app.patch(&path, &admin, &json!({"name": "改名网格"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["name"], "改名网格");
    assert_eq!(
        uuid_set(&renamed["compound_ids"]),
        set_of(&[compound2, compound3])
    );
    assert_eq!(
        uuid_set(&renamed["building_ids"]),
        set_of(&[t.building, building3])
    );

    // Replacing one list leaves the other.
    let patched = body_of(
        app.patch(&path, &admin, &json!({"compound_ids": [t.compound]}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(uuid_set(&patched["compound_ids"]), set_of(&[t.compound]));
    assert_eq!(
        uuid_set(&patched["building_ids"]),
        set_of(&[t.building, building3])
    );

    // Empty lists clear it.
    let cleared = body_of(
        app.patch(
            &path,
            &admin,
            &json!({"compound_ids": [], "building_ids": []}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cleared["compound_ids"], json!([]));
    assert_eq!(cleared["building_ids"], json!([]));

    // Repeating an id covers it once.
    let deduped = body_of(
        app.patch(
            &path,
            &admin,
            &json!({
                "compound_ids": [compound2, compound2],
                "building_ids": [building3, building3]
            }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(deduped["compound_ids"], json!([compound2]));
    assert_eq!(deduped["building_ids"], json!([building3]));

    // The list shows the coverage too.
    let list = body_of(
        app.get(
            &format!("/api/v1/grids?community_id={}", t.community),
            &admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let item = &list["items"][0];
    assert_eq!(item["compound_ids"], json!([compound2]));
    assert_eq!(item["building_ids"], json!([building3]));
}

#[tokio::test]
async fn a_grid_without_coverage_lists_empty_arrays() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let grid = create_ok(
        &app,
        &admin,
        "grids",
        json!({"community_id": t.community, "name": "空网格"}),
    )
    .await;
    assert_eq!(grid["compound_ids"], json!([]));
    assert_eq!(grid["building_ids"], json!([]));
    let list = body_of(app.get("/api/v1/grids", &admin).await, StatusCode::OK).await;
    assert_eq!(list["items"][0]["compound_ids"], json!([]));
    assert_eq!(list["items"][0]["building_ids"], json!([]));
}

#[tokio::test]
async fn a_grid_cannot_cover_a_compound_or_building_of_another_community() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    let o = small_territory(&app, &admin, "乙").await;
    // Another community of the same street.
    let sibling = app
        .create(
            &admin,
            "communities",
            json!({"street_id": t.street, "name": "邻社区"}),
        )
        .await;
    let sibling_compound = app
        .create(
            &admin,
            "compounds",
            json!({"community_id": sibling, "name": "邻小区"}),
        )
        .await;
    let sibling_building = app
        .create(
            &admin,
            "buildings",
            json!({"compound_id": sibling_compound, "name": "邻幢"}),
        )
        .await;

    for foreign in [o.compound, sibling_compound, Uuid::now_v7(), t.building] {
        let p = create_fails(
            &app,
            &admin,
            "grids",
            json!({
                "community_id": t.community,
                "name": "越界网格",
                "compound_ids": [t.compound, foreign]
            }),
            400,
            "validation_failed",
        )
        .await;
        assert_field_error(&p, "compound_ids", None);
    }
    for foreign in [o.building, sibling_building, Uuid::now_v7(), t.compound] {
        let p = create_fails(
            &app,
            &admin,
            "grids",
            json!({"community_id": t.community, "name": "越界网格", "building_ids": [foreign]}),
            400,
            "validation_failed",
        )
        .await;
        assert_field_error(&p, "building_ids", None);
    }
    // The refused creations left no grid behind: the name is free and the list is empty.
    let (ids, _) = page(&app, &admin, "/api/v1/grids").await;
    assert!(ids.is_empty(), "no half-created grid: {ids:?}");

    let grid = create_ok(
        &app,
        &admin,
        "grids",
        json!({"community_id": t.community, "name": "越界网格",
               "compound_ids": [t.compound], "building_ids": [t.building]}),
    )
    .await;
    let path = format!("/api/v1/grids/{}", id_of(&grid));
    let before = body_of(app.get(&path, &admin).await, StatusCode::OK).await;

    // On PATCH, a refused list changes nothing — neither the coverage nor the name sent along.
    let p = assert_problem(
        app.patch(
            &path,
            &admin,
            &json!({"name": "新名字", "compound_ids": [o.compound]}),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    assert_field_error(&p, "compound_ids", None);
    let p = assert_problem(
        app.patch(
            &path,
            &admin,
            &json!({"compound_ids": [], "building_ids": [sibling_building]}),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    assert_field_error(&p, "building_ids", None);
    let after = body_of(app.get(&path, &admin).await, StatusCode::OK).await;
    assert_eq!(after["name"], before["name"]);
    assert_eq!(uuid_set(&after["compound_ids"]), set_of(&[t.compound]));
    assert_eq!(uuid_set(&after["building_ids"]), set_of(&[t.building]));
    assert_eq!(after["updated_at"], before["updated_at"]);
}

#[tokio::test]
async fn a_grid_name_clash_leaves_no_coverage_behind() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "甲").await;
    app.create(
        &admin,
        "grids",
        json!({"community_id": t.community, "name": "第一网格"}),
    )
    .await;
    create_fails(
        &app,
        &admin,
        "grids",
        json!({"community_id": t.community, "name": "第一网格", "compound_ids": [t.compound]}),
        409,
        "already_exists",
    )
    .await;
    // The compound is covered by nothing, so it can go once its building is gone.
    delete_ok(&app, &admin, &format!("/api/v1/households/{}", t.household)).await;
    delete_ok(&app, &admin, &format!("/api/v1/buildings/{}", t.building)).await;
    delete_ok(&app, &admin, &format!("/api/v1/compounds/{}", t.compound)).await;
}

// ---------------------------------------------------------------------------------------------
// Kinds: 商圈 and shops without a new level (participation design §0.5)
// ---------------------------------------------------------------------------------------------

async fn json_ok(res: Response) -> Value {
    body_of(res, StatusCode::OK).await
}

#[tokio::test]
async fn compounds_and_households_have_a_kind_residential_and_dwelling_unless_told() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "类型").await;
    let k = json_ok(
        app.get(&format!("/api/v1/compounds/{}", t.compound), &admin)
            .await,
    )
    .await;
    assert_eq!(k["kind"], "residential");
    let h = json_ok(
        app.get(&format!("/api/v1/households/{}", t.household), &admin)
            .await,
    )
    .await;
    assert_eq!(h["kind"], "dwelling");

    let shops = create_ok(
        &app,
        &admin,
        "compounds",
        json!({"community_id": t.community, "name": "河坊街商圈", "kind": "street_front"}),
    )
    .await;
    assert_eq!(shops["kind"], "street_front");
    let shop = create_ok(
        &app,
        &admin,
        "households",
        json!({"building_id": t.building, "room": "沿街12号", "kind": "shop"}),
    )
    .await;
    assert_eq!(shop["kind"], "shop");
    // Lists show the kind as the object does.
    let page = json_ok(
        app.get(
            &format!("/api/v1/compounds?community_id={}", t.community),
            &admin,
        )
        .await,
    )
    .await;
    let kinds: BTreeSet<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["residential".into(), "street_front".into()])
    );

    // Changed by PATCH; a kind that does not exist is refused with the field named.
    let path = format!("/api/v1/households/{}", shop["id"].as_str().unwrap());
    let h = json_ok(app.patch(&path, &admin, &json!({"kind": "dwelling"})).await).await;
    assert_eq!(h["kind"], "dwelling");
    assert_eq!(h["room"], "沿街12号");
    let res = app.patch(&path, &admin, &json!({"kind": "garage"})).await;
    assert_problem(res, 400, "invalid_body").await;
    let res = app
        .post(
            "/api/v1/compounds",
            &admin,
            &json!({"community_id": t.community, "name": "某处", "kind": "mall"}),
        )
        .await;
    assert_problem(res, 400, "invalid_body").await;
}

#[tokio::test]
async fn a_street_leader_leads_a_street_front_and_it_stays_one_while_they_do() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = small_territory(&app, &admin, "街面").await;
    let leader = app
        .create_user(&admin, "jiemian_zhang", "a-long-password-1")
        .await;
    let grant = |scope: Uuid| json!({"user_id": leader, "role": "street_leader", "scope_type": "compound", "scope_id": scope});
    // A residential compound has no street front to lead.
    let res = app
        .post("/api/v1/role-assignments", &admin, &grant(t.compound))
        .await;
    assert_problem(res, 409, "compound_not_street_front").await;

    let path = format!("/api/v1/compounds/{}", t.compound);
    let k = json_ok(app.patch(&path, &admin, &json!({"kind": "mixed"})).await).await;
    assert_eq!(k["kind"], "mixed");
    let res = app
        .post("/api/v1/role-assignments", &admin, &grant(t.compound))
        .await;
    let assignment = body_of(res, StatusCode::CREATED).await;

    // While they lead it, it cannot become residential; street_front is fine.
    let res = app
        .patch(&path, &admin, &json!({"kind": "residential"}))
        .await;
    assert_problem(res, 409, "compound_has_street_leaders").await;
    let k = json_ok(app.get(&path, &admin).await).await;
    assert_eq!(k["kind"], "mixed", "the refused change changed nothing");
    let k = json_ok(
        app.patch(
            &path,
            &admin,
            &json!({"kind": "street_front", "name": "候潮商圈"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (k["kind"].as_str(), k["name"].as_str()),
        (Some("street_front"), Some("候潮商圈"))
    );

    // Once the role is revoked, it may.
    let res = app
        .delete(
            &format!(
                "/api/v1/role-assignments/{}",
                assignment["id"].as_str().unwrap()
            ),
            &admin,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let k = json_ok(
        app.patch(&path, &admin, &json!({"kind": "residential"}))
            .await,
    )
    .await;
    assert_eq!(k["kind"], "residential");
}
