//! Roster reality: re-imports without ID numbers, masked exports fed back, transfers between
//! communities (迁入/迁出), and what staff of one community may learn of another's roster.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::residents_io::{csv, field_codes, id_number, read_xlsx, residents_of, upload};

const COLUMNS: [&str; 6] = ["姓名", "手机号", "楼栋", "单元", "房号", "与户主关系"];

/// Uploads and expects 200; returns the whole summary.
async fn import(app: &TestApp, token: &str, compound: Uuid, file: &[u8]) -> Value {
    let res = upload(app, token, compound, "roster.csv", file).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn by_name<'a>(residents: &'a [Value], name: &str) -> Vec<&'a Value> {
    residents.iter().filter(|r| r["name"] == name).collect()
}

#[tokio::test]
async fn reimporting_a_file_without_id_numbers_creates_nobody_and_updates_the_matches() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "重").await;
    let first = csv(
        &COLUMNS,
        &[
            vec!["张三", "13800000001", "1幢", "1单元", "101", "户主"],
            vec!["李四", "", "1幢", "1单元", "101", "配偶"],
            vec!["王五", "13800000003", "1幢", "1单元", "102", "户主"],
        ],
    );
    let s = import(&app, &root, t.compound, &first).await;
    assert_eq!(
        (s["created"].as_u64(), s["updated"].as_u64()),
        (Some(3), Some(0))
    );
    assert_eq!(residents_of(&app, &root, t.compound).await.len(), 3);

    // The same file again: everyone is matched in their household, nobody is added.
    let s = import(&app, &root, t.compound, &first).await;
    assert_eq!(s["created"], 0, "{s}");
    assert_eq!(s["updated"], 3, "{s}");
    assert_eq!(s["matched_in_household"], 3, "{s}");
    assert_eq!(s["matched_by_id_number"], 0, "{s}");
    assert_eq!(s["households_created"], 0, "{s}");
    assert_eq!(residents_of(&app, &root, t.compound).await.len(), 3);

    // Edited: 李四's relation by name; 王五 renamed, found by his phone.
    let edited = csv(
        &COLUMNS,
        &[
            vec!["张三", "13800000001", "1幢", "1单元", "101", "户主"],
            vec!["李四", "", "1幢", "1单元", "101", "妻子"],
            vec!["王小五", "13800000003", "1幢", "1单元", "102", "户主"],
        ],
    );
    let s = import(&app, &root, t.compound, &edited).await;
    assert_eq!(
        (s["created"].as_u64(), s["updated"].as_u64()),
        (Some(0), Some(3))
    );
    let residents = residents_of(&app, &root, t.compound).await;
    assert_eq!(residents.len(), 3);
    assert_eq!(by_name(&residents, "李四")[0]["relation"], "妻子");
    assert!(by_name(&residents, "王五").is_empty());
    assert_eq!(
        by_name(&residents, "王小五")[0]["phone_masked"],
        "138******03"
    );

    // ID numbers filled in later match the same people by name instead of adding them again.
    let a = id_number("19800101", 11);
    let with_ids = csv(
        &["姓名", "身份证号", "楼栋", "单元", "房号"],
        &[vec!["张三", a.as_str(), "1幢", "1单元", "101"]],
    );
    let s = import(&app, &root, t.compound, &with_ids).await;
    assert_eq!(
        (s["created"].as_u64(), s["updated"].as_u64()),
        (Some(0), Some(1))
    );
    let residents = residents_of(&app, &root, t.compound).await;
    assert_eq!(residents.len(), 3);
    let zhang = by_name(&residents, "张三")[0];
    assert_eq!(
        zhang["id_number_masked"],
        format!("**************{}", &a[14..])
    );
    // A later file without the ID number keeps it.
    import(&app, &root, t.compound, &first).await;
    let residents = residents_of(&app, &root, t.compound).await;
    assert_eq!(residents.len(), 3);
    assert_eq!(
        by_name(&residents, "张三")[0]["id_number_masked"],
        zhang["id_number_masked"]
    );
}

#[tokio::test]
async fn two_residents_a_row_cannot_tell_apart_are_a_row_error_not_a_guess() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "同").await;
    for phone in [None, Some("13900000002")] {
        let res = app
            .post(
                "/api/v1/residents",
                &root,
                &json!({"household_id": t.household, "name": "赵六", "phone": phone}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let row = |phone: &'static str| {
        csv(
            &COLUMNS,
            &[vec!["赵六", phone, "1幢", "1单元", "101", "子女"]],
        )
    };
    let res = upload(&app, &root, t.compound, "a.csv", &row("")).await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(
        field_codes(&problem),
        [("rows[2].姓名".to_string(), "ambiguous_match".to_string())]
    );
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("无法确定是哪一位"), "{message}");
    assert_eq!(residents_of(&app, &root, t.compound).await.len(), 2);

    // A phone tells them apart.
    let s = import(&app, &root, t.compound, &row("13900000002")).await;
    assert_eq!(
        (s["created"].as_u64(), s["updated"].as_u64()),
        (Some(0), Some(1))
    );
    let residents = residents_of(&app, &root, t.compound).await;
    assert_eq!(residents.len(), 2);
    let relations: Vec<&Value> = residents.iter().map(|r| &r["relation"]).collect();
    assert!(relations.contains(&&json!("子女")), "{relations:?}");
    assert!(relations.contains(&&Value::Null), "{relations:?}");

    // Two rows of one file that nothing could tell apart later are refused too.
    let twice = csv(
        &COLUMNS,
        &[
            vec!["孙七", "", "1幢", "1单元", "102", ""],
            vec!["孙七", "", "1幢", "1单元", "102", ""],
        ],
    );
    let res = upload(&app, &root, t.compound, "b.csv", &twice).await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(
        field_codes(&problem),
        [("rows[3].姓名".to_string(), "duplicate".to_string())]
    );
}

#[tokio::test]
async fn a_masked_export_fed_back_is_refused_with_masked_value() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "掩").await;
    let (a, b) = (id_number("19800101", 11), id_number("19850505", 22));
    let file = csv(
        &["姓名", "手机号", "身份证号", "楼栋", "单元", "房号"],
        &[
            vec!["张三", "13800000001", a.as_str(), "1幢", "1单元", "101"],
            vec!["李四", "13800000002", b.as_str(), "1幢", "1单元", "102"],
            vec!["王五", "", "", "1幢", "1单元", "103"],
        ],
    );
    import(&app, &root, t.compound, &file).await;
    let staff = app
        .user_with_role(&root, "staff", "community_staff", "community", t.community)
        .await;
    let res = app
        .get(
            &format!("/api/v1/residents/export?compound_id={}", t.compound),
            &staff,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let export = res.bytes().await.unwrap();
    let sheet = read_xlsx(&export);
    assert_eq!(sheet[1][3], "138******01", "{sheet:?}");

    // Fed back whole: one clear answer for the file, not a row error per cell.
    let res = upload(&app, &staff, t.compound, "residents.xlsx", &export).await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(
        field_codes(&problem),
        [("file".to_string(), "masked_value".to_string())]
    );
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("脱敏导出"), "{message}");

    // Mixed with real numbers: every masked cell is named, nothing is imported, and a masked
    // cell is never taken for "keep what is there".
    let mixed = csv(
        &["姓名", "手机号", "身份证号", "楼栋", "单元", "房号"],
        &[
            vec!["张三", "138******01", "", "1幢", "1单元", "101"],
            vec![
                "李四",
                "13800000009",
                &format!("**************{}", &b[14..]),
                "1幢",
                "1单元",
                "102",
            ],
        ],
    );
    let res = upload(&app, &staff, t.compound, "mixed.csv", &mixed).await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(
        field_codes(&problem),
        [
            ("rows[2].手机号".to_string(), "masked_value".to_string()),
            ("rows[3].身份证号".to_string(), "masked_value".to_string()),
        ]
    );
    assert_eq!(
        problem["errors"][0]["message"],
        "这是导出时脱敏的号码，不能作为导入数据；请填写完整号码或留空"
    );
    let residents = residents_of(&app, &root, t.compound).await;
    assert_eq!(residents.len(), 3);
    assert_eq!(
        by_name(&residents, "李四")[0]["phone_masked"],
        "138******02"
    );
}
