//! The roster: validation, masking, audited reveal, scope, and personal data at rest.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

const PHONE: &str = "13812341234";
const ID_NUMBER: &str = "11010519491231002X";

async fn setup() -> (TestApp, String, Territory) {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "居").await;
    (app, root, t)
}

async fn register(app: &TestApp, token: &str, household: Uuid, body: Value) -> reqwest::Response {
    let mut body = body;
    body["household_id"] = json!(household);
    app.post("/api/v1/residents", token, &body).await
}

#[tokio::test]
async fn a_registered_resident_is_shown_masked_with_values_derived_from_the_id_number() {
    let (app, root, t) = setup().await;
    let res = register(
        &app,
        &root,
        t.household,
        json!({"name": "张三", "phone": "138 1234 1234", "id_number": ID_NUMBER,
               "relation": "户主", "tags": ["党员", "退休", "党员"]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let text = res.text().await.unwrap();
    assert!(!text.contains(PHONE) && !text.contains(ID_NUMBER), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    // Staff see first three and last two digits; the owner's mask (138****1234) is the owner's.
    assert_eq!(v["phone_masked"], "138******34");
    assert_eq!(v["id_number_masked"], "**************002X");
    assert_eq!(
        v["birth_date"], "1949-12-31",
        "the deployment admin may reveal"
    );
    assert_eq!(v["age_band"], "70-79");
    assert_eq!(v["gender"], "female");
    assert_eq!(v["tags"], json!(["党员", "退休"]));
    assert_eq!(v["compound_id"], t.compound.to_string());
    assert!(v.get("phone").is_none() && v.get("id_number").is_none());
}

#[tokio::test]
async fn bad_phone_and_id_numbers_are_refused_with_every_problem_named() {
    let (app, root, t) = setup().await;
    let cases = [
        (json!({"name": "甲", "phone": "12812341234"}), "phone"),
        (json!({"name": "甲", "phone": "1381234123"}), "phone"),
        (
            json!({"name": "甲", "id_number": "110105194912310021"}),
            "id_number",
        ),
        (
            json!({"name": "甲", "id_number": "11010519491331002X"}),
            "id_number",
        ),
        (
            json!({"name": "甲", "id_number": ID_NUMBER, "birth_date": "1950-01-01"}),
            "birth_date",
        ),
        (json!({"name": "  "}), "name"),
        (json!({"name": "甲", "tags": ["x".repeat(21)]}), "tags"),
    ];
    for (body, field) in cases {
        let res = register(&app, &root, t.household, body.clone()).await;
        let p = assert_problem(res, 400, "validation_failed").await;
        assert_eq!(p["errors"][0]["field"], field, "{body}");
    }
    // All problems at once.
    let res = register(
        &app,
        &root,
        t.household,
        json!({"name": "", "phone": "1", "id_number": "2"}),
    )
    .await;
    let p = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 3, "{p}");
}

#[tokio::test]
async fn one_id_number_registers_one_resident() {
    let (app, root, t) = setup().await;
    let body = json!({"name": "张三", "id_number": ID_NUMBER});
    assert_eq!(
        register(&app, &root, t.household, body.clone())
            .await
            .status(),
        StatusCode::CREATED
    );
    let res = register(&app, &root, t.household, body).await;
    assert_problem(res, 409, "id_number_registered").await;
}

#[tokio::test]
async fn filters_find_by_tag_name_and_exact_phone() {
    let (app, root, t) = setup().await;
    for (name, phone, tags) in [
        ("王小明", "13900000001", json!(["党员"])),
        ("王大明", "13900000002", json!(["志愿者"])),
        ("李四", "13900000003", json!(["党员", "独居老人"])),
    ] {
        let res = register(
            &app,
            &root,
            t.household,
            json!({"name": name, "phone": phone, "tags": tags}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let names = |v: Value| -> Vec<String> {
        let mut n: Vec<String> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    let v: Value = app
        .get("/api/v1/residents?tag=党员", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(v), ["李四", "王小明"]);
    let v: Value = app
        .get("/api/v1/residents?q=明", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(v), ["王大明", "王小明"]);
    let v: Value = app
        .get("/api/v1/residents?q=%25", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(v).len(), 0, "% is matched literally");
    let v: Value = app
        .get("/api/v1/residents?phone=13900000002", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(v), ["王大明"]);
    let v: Value = app
        .get("/api/v1/residents?phone=bogus", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(v).len(), 0);
    let v: Value = app
        .get(
            &format!("/api/v1/residents?building_id={}&tag=独居老人", t.building),
            &root,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names(v), ["李四"]);
}

#[tokio::test]
async fn reveal_returns_one_full_value_to_allowed_staff_and_is_audited_exactly_once() {
    let (app, root, t) = setup().await;
    let res = register(
        &app,
        &root,
        t.household,
        json!({"name": "张三", "phone": PHONE, "id_number": ID_NUMBER}),
    )
    .await;
    let rid = id_of(&res.json().await.unwrap());
    let staff = app
        .user_with_role(&root, "staff", "community_staff", "community", t.community)
        .await;
    let path = format!("/api/v1/residents/{rid}/reveal");

    let res = app.post(&path, &staff, &json!({"field": "phone"})).await;
    assert_problem(res, 400, "invalid_body").await;
    let res = app
        .post(&path, &staff, &json!({"field": "phone", "purpose": " "}))
        .await;
    assert_problem(res, 400, "validation_failed").await;

    let res = app
        .post(
            &path,
            &staff,
            &json!({"field": "phone", "purpose": "上门走访核对"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["value"], PHONE);
    let res = app
        .post(
            &path,
            &staff,
            &json!({"field": "id_number", "purpose": "办理证明"}),
        )
        .await;
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["value"], ID_NUMBER);

    let events: Value = app
        .get(&format!("/api/v1/audit-events?resident_id={rid}"), &staff)
        .await
        .json()
        .await
        .unwrap();
    let events: Vec<&Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "reveal")
        .collect();
    assert_eq!(
        events.len(),
        2,
        "one event per reveal, none for refused attempts"
    );
    assert_eq!(events[0]["field"], "phone");
    assert_eq!(events[0]["purpose"], "上门走访核对");
    assert_eq!(events[0]["action"], "reveal");
    assert_eq!(events[1]["field"], "id_number");
}

#[tokio::test]
async fn roles_without_reveal_rights_never_see_a_full_value() {
    let (app, root, t) = setup().await;
    let res = register(
        &app,
        &root,
        t.household,
        json!({"name": "张三", "phone": PHONE, "id_number": ID_NUMBER}),
    )
    .await;
    let rid = id_of(&res.json().await.unwrap());
    let leader = app
        .user_with_role(&root, "leader", "building_leader", "building", t.building)
        .await;
    let property = {
        let company = app
            .create(
                &root,
                "property-companies",
                json!({"street_id": t.street, "name": "物业"}),
            )
            .await;
        app.patch(
            &format!("/api/v1/compounds/{}", t.compound),
            &root,
            &json!({"property_company_id": company}),
        )
        .await;
        app.user_with_role(
            &root,
            "property",
            "property_staff",
            "property_company",
            company,
        )
        .await
    };
    let resident = app
        .user_with_role(&root, "resident", "resident", "household", t.household)
        .await;
    let mut bodies = Vec::new();
    for token in [&leader, &property, &resident] {
        for path in [
            "/api/v1/residents".to_string(),
            format!("/api/v1/residents/{rid}"),
            "/api/v1/residents/stats".to_string(),
            "/api/v1/audit-events".to_string(),
        ] {
            bodies.push(app.get(&path, token).await.text().await.unwrap());
        }
        let res = app
            .post(
                &format!("/api/v1/residents/{rid}/reveal"),
                token,
                &json!({"field": "phone", "purpose": "想看看"}),
            )
            .await;
        let status = res.status();
        bodies.push(res.text().await.unwrap());
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "{status}"
        );
    }
    for b in &bodies {
        assert!(
            !b.contains(PHONE) && !b.contains(ID_NUMBER),
            "leaked in {b}"
        );
    }
    // The building leader reads the masked roster of their building: an age band, not the
    // birth date that would narrow the masked ID number down to a handful of candidates.
    let v: Value = app
        .get(&format!("/api/v1/residents/{rid}"), &leader)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["phone_masked"], "138******34");
    assert_eq!(v["birth_date"], Value::Null);
    assert!(v["age_band"].is_string(), "{v}");
}

#[tokio::test]
async fn the_database_holds_no_plaintext_phone_or_id_number() {
    let (app, root, t) = setup().await;
    let res = register(
        &app,
        &root,
        t.household,
        json!({"name": "张三", "phone": PHONE, "id_number": ID_NUMBER}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    use sea_orm::{ConnectionTrait, Statement};
    let db = &app.state.db;
    let backend = db.get_database_backend();
    if using_postgres() {
        // Every column of every row, as text.
        let rows = db
            .query_all(Statement::from_string(
                backend,
                "SELECT row_to_json(r)::text AS t FROM residents r UNION ALL \
                 SELECT row_to_json(u)::text FROM users u UNION ALL \
                 SELECT row_to_json(a)::text FROM audit_events a",
            ))
            .await
            .unwrap();
        assert!(!rows.is_empty());
        for row in rows {
            let t: String = row.try_get("", "t").unwrap();
            assert!(!t.contains(PHONE) && !t.contains(ID_NUMBER), "{t}");
            assert!(!t.contains("13812341234"));
        }
    } else {
        // Flush the WAL into the file, then scan the file's bytes.
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await
            .unwrap();
        let url = app.vars["DATABASE_URL"].clone();
        let path = url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap()
            .to_string();
        let mut bytes = std::fs::read(&path).unwrap();
        if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
            bytes.extend(wal);
        }
        let hay = String::from_utf8_lossy(&bytes);
        assert!(
            hay.contains("138****1234"),
            "the scan sees the masked value"
        );
        assert!(!hay.contains(PHONE) && !hay.contains(ID_NUMBER));
    }
}

#[tokio::test]
async fn values_written_under_an_old_key_stay_readable_after_rotation() {
    const OLD: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const NEW: &str = "2222222222222222222222222222222222222222222222222222222222222222";
    let app = spawn_app_with(|v| {
        // No LINLI_PII_INDEX_KEY: the lookup key derives from the oldest key.
        v.insert("LINLI_PII_KEY".into(), OLD.into());
    })
    .await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "旋").await;
    let res = register(
        &app,
        &root,
        t.household,
        json!({"name": "张三", "phone": PHONE}),
    )
    .await;
    let old_resident = id_of(&res.json().await.unwrap());

    let mut vars = app.vars.clone();
    vars.insert("LINLI_PII_KEY".into(), NEW.into());
    vars.insert("LINLI_PII_PREVIOUS_KEYS".into(), OLD.into());
    let rotated = start(vars).await;
    let root = rotated.admin_token().await;
    let res = register(
        &rotated,
        &root,
        t.household,
        json!({"name": "李四", "phone": "13900000000"}),
    )
    .await;
    let new_resident = id_of(&res.json().await.unwrap());
    for (rid, phone) in [(old_resident, PHONE), (new_resident, "13900000000")] {
        let v: Value = rotated
            .post(
                &format!("/api/v1/residents/{rid}/reveal"),
                &root,
                &json!({"field": "phone", "purpose": "核对"}),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["value"], phone);
        let found: Value = rotated
            .get(&format!("/api/v1/residents?phone={phone}"), &root)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            found["items"][0]["id"],
            rid.to_string(),
            "lookup by phone survives rotation"
        );
    }
}

#[tokio::test]
async fn stats_count_current_residents_by_gender_age_band_and_tag() {
    let (app, root, t) = setup().await;
    for body in [
        json!({"name": "甲", "id_number": ID_NUMBER, "tags": ["党员"]}),
        json!({"name": "乙", "gender": "male", "birth_date": "2015-06-01"}),
        json!({"name": "丙", "moved_out_on": "2020-01-01", "moved_in_on": "2010-01-01"}),
    ] {
        assert_eq!(
            register(&app, &root, t.household, body).await.status(),
            StatusCode::CREATED
        );
    }
    let v: Value = app
        .get(
            &format!(
                "/api/v1/residents/stats?compound_id={}&group_by=building",
                t.compound
            ),
            &root,
        )
        .await
        .json()
        .await
        .unwrap();
    let g = &v["groups"][0];
    assert_eq!(g["building_id"], t.building.to_string());
    assert_eq!(g["total"], 2, "moved-out residents are not counted");
    assert_eq!(g["by_gender"]["female"], 1);
    assert_eq!(g["by_gender"]["male"], 1);
    assert_eq!(g["by_age_band"]["0-17"], 1);
    assert_eq!(
        g["by_age_band"]["60-79"].as_u64().unwrap_or(0)
            + g["by_age_band"]["80+"].as_u64().unwrap_or(0),
        1
    );
    assert_eq!(g["by_tag"]["党员"], 1);
}

#[tokio::test]
async fn a_household_with_residents_cannot_be_deleted_and_patch_keeps_what_is_not_sent() {
    let (app, root, t) = setup().await;
    let res = register(
        &app,
        &root,
        t.household,
        json!({"name": "张三", "phone": PHONE, "id_number": ID_NUMBER}),
    )
    .await;
    let rid = id_of(&res.json().await.unwrap());
    let res = app
        .delete(&format!("/api/v1/households/{}", t.household), &root)
        .await;
    assert_problem(res, 409, "has_children").await;

    let res = app
        .patch(
            &format!("/api/v1/residents/{rid}"),
            &root,
            &json!({"relation": "配偶", "phone": null}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["relation"], "配偶");
    assert!(v["phone_masked"].is_null());
    assert_eq!(v["id_number_masked"], "**************002X", "untouched");
    let res = app
        .patch(
            &format!("/api/v1/residents/{rid}"),
            &root,
            &json!({"birth_date": "2000-01-01"}),
        )
        .await;
    assert_problem(res, 400, "validation_failed").await;

    let res = app.delete(&format!("/api/v1/residents/{rid}"), &root).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .delete(&format!("/api/v1/households/{}", t.household), &root)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn residents_outside_the_scope_are_404_and_lists_agree() {
    let (app, root, t) = setup().await;
    let other = small_territory(&app, &root, "外").await;
    let res = register(&app, &root, t.household, json!({"name": "内"})).await;
    let inside = id_of(&res.json().await.unwrap());
    let res = register(&app, &root, other.household, json!({"name": "外"})).await;
    let outside = id_of(&res.json().await.unwrap());
    let staff = app
        .user_with_role(&root, "staff", "community_staff", "community", t.community)
        .await;
    let v: Value = app
        .get("/api/v1/residents", &staff)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [inside.to_string()]);
    let res = app
        .get(&format!("/api/v1/residents/{outside}"), &staff)
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = app
        .patch(
            &format!("/api/v1/residents/{outside}"),
            &staff,
            &json!({"name": "改"}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = app
        .post(
            &format!("/api/v1/residents/{outside}/reveal"),
            &staff,
            &json!({"field": "phone", "purpose": "看看"}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = register(&app, &staff, other.household, json!({"name": "新"})).await;
    assert_problem(res, 404, "not_found").await;
}

#[tokio::test]
async fn a_page_of_residents_reads_no_sealed_column_and_its_tags_in_the_same_statement() {
    let (app, root, t) = setup().await;
    let res = register(
        &app,
        &root,
        t.household,
        json!({"name": "李四", "phone": PHONE, "id_number": ID_NUMBER, "tags": ["党员"]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let request_id = format!("roster-{}", Uuid::now_v7().simple());
    linli::platform::statements::watch(&request_id);
    let res = app
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/residents?compound_id={}", t.compound),
            Some(&root),
        )
        .header("x-request-id", &request_id)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    let stmts = linli::platform::statements::take(&request_id);
    assert_eq!(v["items"][0]["phone_masked"], "138******34");
    assert_eq!(v["items"][0]["id_number_masked"], "**************002X");
    assert_eq!(v["items"][0]["tags"], json!(["党员"]));
    let pages: Vec<&str> = stmts
        .iter()
        .map(|s| s.sql.as_str())
        .filter(|sql| sql.contains(r#"FROM "residents""#))
        .collect();
    assert_eq!(pages.len(), 1, "one page statement: {stmts:#?}");
    // The tags come with the row (`tags_joined`), not from an aggregate per row.
    assert!(pages[0].contains(r#""tags_joined""#), "{}", pages[0]);
    assert!(
        stmts.iter().all(|s| !s.sql.contains(r#""resident_tags""#)),
        "{stmts:#?}"
    );
    for sealed in ["cipher", "key_id", "phone_hash", "id_number_hash"] {
        assert!(
            stmts.iter().all(|s| !s.sql.contains(sealed)),
            "a statement reads {sealed}: {stmts:#?}"
        );
    }
}

/// Migration 019 leaves `residents.gender` holding only codes the typed column reads: 男 and 女
/// become `male` and `female`, anything else (which reads showed as no gender) becomes null;
/// and a value the column does not know is an error on reading, never a silent "no gender".
#[tokio::test]
async fn stored_genders_are_codes_after_the_migration_and_an_unknown_one_is_an_error() {
    use migration::MigratorTrait;
    use sea_orm::ConnectionTrait;
    let (app, root, t) = setup().await;
    let mut ids = Vec::new();
    for name in ["甲", "乙", "丙"] {
        let res = register(&app, &root, t.household, json!({"name": name})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        ids.push(id_of(&res.json().await.unwrap()));
    }
    let db = &app.state.db;
    let set = |gender: &str, id: Uuid| {
        let key = if using_postgres() {
            format!("'{id}'")
        } else {
            let hex: String = id.as_bytes().iter().map(|b| format!("{b:02X}")).collect();
            format!("X'{hex}'")
        };
        format!("UPDATE residents SET gender = {gender} WHERE id = {key}")
    };
    // Back before 019, store what older imports could have, forward again.
    migrate_back_before(&app, "m20261130_000019_gender_values").await;
    for (gender, id) in [("'男'", ids[0]), ("'女'", ids[1]), ("'未知'", ids[2])] {
        db.execute_unprepared(&set(gender, id)).await.unwrap();
    }
    migration::Migrator::up(db, None).await.unwrap();
    let gender_of = |v: &Value| v["gender"].clone();
    for (id, want) in [
        (ids[0], json!("male")),
        (ids[1], json!("female")),
        (ids[2], Value::Null),
    ] {
        let res = app.get(&format!("/api/v1/residents/{id}"), &root).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(gender_of(&res.json().await.unwrap()), want, "{id}");
    }
    db.execute_unprepared(&set("'x'", ids[2])).await.unwrap();
    let res = app
        .get(&format!("/api/v1/residents/{}", ids[2]), &root)
        .await;
    assert_problem(res, 500, "internal_error").await;
}

/// The tags a page shows (kept on the row) are the resident's tags (`resident_tags`, what the
/// detail and the tag filter read) after every kind of write: registering, changing, clearing.
#[tokio::test]
async fn a_page_shows_the_tags_the_resident_has_after_every_change() {
    let (app, root, t) = setup().await;
    let res = register(
        &app,
        &root,
        t.household,
        json!({"name": "王五", "tags": ["退休", "党员"]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = id_of(&res.json().await.unwrap());
    let page_tags = |v: Value| v["items"][0]["tags"].clone();
    let list = format!("/api/v1/residents?household_id={}", t.household);
    let by_tag = |tag: &str| format!("/api/v1/residents?compound_id={}&tag={tag}", t.compound);
    let page = app.get(&list, &root).await.json::<Value>().await.unwrap();
    assert_eq!(page_tags(page), json!(["党员", "退休"]));
    for (tags, filter_hits) in [
        (json!(["志愿者"]), ("志愿者", 1)),
        (json!([]), ("志愿者", 0)),
        (json!(["楼组长", "党员"]), ("党员", 1)),
    ] {
        let res = app
            .patch(
                &format!("/api/v1/residents/{id}"),
                &root,
                &json!({"tags": tags}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let detail: Value = app
            .get(&format!("/api/v1/residents/{id}"), &root)
            .await
            .json()
            .await
            .unwrap();
        let page = app.get(&list, &root).await.json::<Value>().await.unwrap();
        assert_eq!(page_tags(page), detail["tags"], "after setting {tags}");
        let hits = app
            .get(&by_tag(filter_hits.0), &root)
            .await
            .json::<Value>()
            .await
            .unwrap();
        assert_eq!(hits["items"].as_array().unwrap().len(), filter_hits.1);
    }
}

/// A list filtered to a place checks the place against the caller's scope (its lineage, kept in
/// the process, rather than a condition of every page's statement): a place outside the scope,
/// or two filters that do not nest, give an empty page; a scope below the filter (a building
/// leader's building in the compound) gives that part only.
#[tokio::test]
async fn a_place_filter_outside_the_scope_or_not_nested_gives_an_empty_page() {
    let (app, root, t) = setup().await;
    let other = small_territory(&app, &root, "邻").await;
    let res = register(&app, &root, t.household, json!({"name": "内"})).await;
    let inside = id_of(&res.json().await.unwrap());
    register(&app, &root, other.household, json!({"name": "外"})).await;
    let building2 = app
        .create(
            &root,
            "buildings",
            json!({"compound_id": t.compound, "name": "2幢"}),
        )
        .await;
    let household2 = app
        .create(
            &root,
            "households",
            json!({"building_id": building2, "unit": "1单元", "room": "201"}),
        )
        .await;
    let res = register(&app, &root, household2, json!({"name": "二幢"})).await;
    let in_building2 = id_of(&res.json().await.unwrap());
    let staff = app
        .user_with_role(&root, "staff", "community_staff", "community", t.community)
        .await;
    let leader = app
        .user_with_role(&root, "leader", "building_leader", "building", t.building)
        .await;
    let ids = |v: Value| -> Vec<String> {
        let mut ids: Vec<String> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let mut both = vec![inside.to_string(), in_building2.to_string()];
    both.sort();
    for (who, token, query, expected) in [
        (
            "staff",
            &staff,
            format!("compound_id={}", t.compound),
            both.clone(),
        ),
        // Twice: the second answer comes from the kept lineage.
        (
            "staff",
            &staff,
            format!("compound_id={}", t.compound),
            both.clone(),
        ),
        (
            "staff",
            &staff,
            format!("compound_id={}", other.compound),
            vec![],
        ),
        (
            "staff",
            &staff,
            format!("building_id={}", other.building),
            vec![],
        ),
        (
            "staff",
            &staff,
            format!("household_id={}", other.household),
            vec![],
        ),
        (
            "staff",
            &staff,
            format!(
                "community_id={}&compound_id={}",
                other.community, t.compound
            ),
            vec![],
        ),
        (
            "staff",
            &staff,
            format!("community_id={}&compound_id={}", t.community, t.compound),
            both.clone(),
        ),
        (
            "leader",
            &leader,
            format!("compound_id={}", t.compound),
            vec![inside.to_string()],
        ),
        (
            "leader",
            &leader,
            format!("building_id={building2}"),
            vec![],
        ),
        (
            "leader",
            &leader,
            format!("compound_id={}", other.compound),
            vec![],
        ),
    ] {
        let res = app.get(&format!("/api/v1/residents?{query}"), token).await;
        assert_eq!(res.status(), StatusCode::OK, "{who} {query}");
        assert_eq!(ids(res.json().await.unwrap()), expected, "{who} {query}");
    }
}
