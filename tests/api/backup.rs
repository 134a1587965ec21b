//! The README's backup and restore procedure, run: `pg_dump -Fc` of a live database, the
//! database dropped, `pg_restore` into a fresh one, and a server started on it with the same
//! `LINLI_PII_KEY` reads the same residents with their personal data decrypted. A server with
//! another key reads the roster but cannot reveal anything, and says so.
//!
//! PostgreSQL only (the suite's PostgreSQL run, `TEST_DATABASE_URL`); needs `pg_dump` and
//! `pg_restore` on the PATH (they come with the PostgreSQL client).

use std::process::Command;

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

const PII_KEY: &str = "7c1e5a9d3b8f2c6e0a4d9b7f1e3c5a8d2b6f0e4c9a7d1b5f3e8c2a6d0b4f9e7c";
const PHONE: &str = "13912345678";
const ID_NUMBER: &str = "11010519491231002X";

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn reveal(app: &TestApp, token: &str, resident: Uuid, field: &str) -> reqwest::Response {
    app.post(
        &format!("/api/v1/residents/{resident}/reveal"),
        token,
        &json!({"field": field, "purpose": "备份恢复演练核对"}),
    )
    .await
}

async fn roster(app: &TestApp, token: &str, household: Uuid) -> Vec<Value> {
    let res = app
        .get(
            &format!("/api/v1/residents?household_id={household}"),
            token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page: Value = res.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_dump_restored_into_a_fresh_database_serves_the_same_residents_decrypted() {
    let Some(base) = postgres_base() else {
        return;
    };
    let app = spawn_app_with(|vars| {
        vars.insert("LINLI_PII_KEY".into(), PII_KEY.into());
    })
    .await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "备").await;
    let res = app
        .post(
            "/api/v1/residents",
            &root,
            &json!({"household_id": t.household, "name": "李四", "phone": PHONE,
                    "id_number": ID_NUMBER}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let resident = id_of(&res.json().await.unwrap());
    let before = roster(&app, &root, t.household).await;
    assert_eq!(before.len(), 1);

    // Backup: a consistent snapshot of the live database, in the custom format.
    let source = app.vars["DATABASE_URL"].clone();
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("linli.pgdump");
    run(Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--no-privileges"])
        .arg("--file")
        .arg(&dump)
        .arg(&source));

    // Disaster: the database is gone.
    let admin = Database::connect(base.as_str()).await.unwrap();
    let (prefix, old_name) = source.rsplit_once('/').unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE {old_name} WITH (FORCE)"))
        .await
        .unwrap();

    // Restore into a fresh, empty database.
    let new_name = format!("linli_test_restored_{}", Uuid::now_v7().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {new_name}"))
        .await
        .unwrap();
    admin.close().await.ok();
    let restored = format!("{prefix}/{new_name}");
    let _restored = TestDatabase::adopt(&restored);
    run(Command::new("pg_restore")
        .args(["--no-owner", "--no-privileges", "--exit-on-error"])
        .arg("--dbname")
        .arg(&restored)
        .arg(&dump));

    // A server on the restored database with the same key: the same roster, decrypted.
    let mut vars = app.vars.clone();
    vars.insert("DATABASE_URL".into(), restored.clone());
    let back = start(vars.clone()).await;
    let root = back.admin_token().await;
    assert_eq!(roster(&back, &root, t.household).await, before);
    for (field, value) in [("phone", PHONE), ("id_number", ID_NUMBER)] {
        let res = reveal(&back, &root, resident, field).await;
        assert_eq!(res.status(), StatusCode::OK, "reveal {field}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["value"], value);
    }

    // The same dump without its key: the roster (names, masks) still reads, and a reveal is
    // refused with a clear error rather than garbage or a crash.
    let mut wrong = vars;
    wrong.insert(
        "LINLI_PII_KEY".into(),
        "0".repeat(63) + "1", // another 32-byte key
    );
    let keyless = start(wrong).await;
    let root = keyless.admin_token().await;
    assert_eq!(roster(&keyless, &root, t.household).await, before);
    let res = reveal(&keyless, &root, resident, "phone").await;
    assert!(
        res.status().is_server_error(),
        "a reveal under the wrong key answered {}",
        res.status()
    );
    let body = res.text().await.unwrap();
    assert!(!body.contains(PHONE));
}
