//! Roster import (.xlsx and .csv) and export (.xlsx, masked or audited unmasked).

use std::collections::HashSet;

use chrono::NaiveDate;
use reqwest::{Method, Response, StatusCode};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

const HEADER: [&str; 10] = [
    "姓名",
    "性别",
    "出生日期",
    "手机号",
    "身份证号",
    "楼栋",
    "单元",
    "房号",
    "与户主关系",
    "标签",
];
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A valid 18-digit ID number (area 110105) for `birth` (`YYYYMMDD`) and a 3-digit sequence
/// (odd: male, even: female).
pub fn id_number(birth: &str, seq: u32) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let body = format!("110105{birth}{:03}", seq % 1000);
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{body}{}", CHECK[(sum % 11) as usize])
}

/// The same number with a wrong check character.
fn with_bad_check_digit(id: &str) -> String {
    let last = if id.ends_with('0') { '1' } else { '0' };
    format!("{}{last}", &id[..17])
}

/// One cell of a workbook built by a test.
#[derive(Clone)]
pub enum C {
    S(String),
    N(f64),
    D(NaiveDate),
    E,
}

pub fn s(v: &str) -> C {
    if v.is_empty() {
        C::E
    } else {
        C::S(v.to_string())
    }
}

/// An .xlsx workbook: `header` then `rows`.
pub fn xlsx(header: &[&str], rows: &[Vec<C>]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let ws = wb.add_worksheet();
    for (i, h) in header.iter().enumerate() {
        ws.write_string(0, i as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (i, cell) in row.iter().enumerate() {
            let col = i as u16;
            match cell {
                C::S(v) => {
                    ws.write_string(r, col, v).unwrap();
                }
                C::N(v) => {
                    ws.write_number(r, col, *v).unwrap();
                }
                C::D(d) => {
                    use chrono::Datelike;
                    let dt =
                        ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
                            .unwrap();
                    ws.write_datetime_with_format(r, col, &dt, &date).unwrap();
                }
                C::E => {}
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

/// A CSV file (with a BOM, as spreadsheet programs write it).
pub fn csv(header: &[&str], rows: &[Vec<&str>]) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .map(|c| {
                if c.contains([',', '"', '\n']) {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c.to_string()
                }
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// A multipart/form-data body with one part; returns the Content-Type and the body.
fn multipart(part: &str, filename: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----linli-test-boundary-d41d8cd98f00b204";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{part}\"; \
         filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub async fn upload(
    app: &TestApp,
    token: &str,
    compound: Uuid,
    filename: &str,
    bytes: &[u8],
) -> Response {
    let (ct, body) = multipart("file", filename, bytes);
    app.request(
        Method::POST,
        &format!("/api/v1/residents/import?compound_id={compound}"),
        Some(token),
    )
    .header("content-type", ct)
    .body(body)
    .send()
    .await
    .expect("request")
}

/// Uploads and expects 200; returns `(created, updated, households_created)`.
pub async fn import_ok(
    app: &TestApp,
    token: &str,
    compound: Uuid,
    filename: &str,
    bytes: &[u8],
) -> (u64, u64, u64) {
    let res = upload(app, token, compound, filename, bytes).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    (
        v["created"].as_u64().unwrap(),
        v["updated"].as_u64().unwrap(),
        v["households_created"].as_u64().unwrap(),
    )
}

/// The first worksheet of an .xlsx as a rectangle of text from A1, date cells written with
/// `date_format` (chrono's), numbers as Rust prints them.
pub fn sheet_text(bytes: &[u8], date_format: &str) -> Vec<Vec<String>> {
    use linli::platform::xlsx_read::{read_first_worksheet, Limits, ReadError, Value};
    let mut cells: Vec<(u32, u32, String)> = Vec::new();
    read_first_worksheet(bytes, &Limits::default(), |pos, v| {
        let text = match v {
            Value::Text(s) | Value::Error(s) | Value::Iso(s) => s.into_owned(),
            Value::Number(n) | Value::Duration(n) => n.to_string(),
            Value::Bool(b) => if b { "TRUE" } else { "FALSE" }.to_string(),
            Value::DateTime(d) => d.expect("a valid date").format(date_format).to_string(),
        };
        cells.push((pos.row, pos.col, text));
        Ok::<(), ()>(())
    })
    .unwrap_or_else(|e| match e {
        ReadError::Xlsx(e) => panic!("unreadable workbook: {e}"),
        ReadError::Stopped(()) => unreachable!(),
    });
    let height = cells.iter().map(|c| c.0 as usize + 1).max().unwrap_or(0);
    let width = cells.iter().map(|c| c.1 as usize + 1).max().unwrap_or(0);
    let mut out = vec![vec![String::new(); width]; height];
    for (r, c, text) in cells {
        out[r as usize][c as usize] = text;
    }
    out
}

/// The first worksheet of an .xlsx as text (dates as YYYY-MM-DD).
pub fn read_xlsx(bytes: &[u8]) -> Vec<Vec<String>> {
    sheet_text(bytes, "%Y-%m-%d")
}

pub async fn residents_of(app: &TestApp, token: &str, compound: Uuid) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/residents?compound_id={compound}&limit=100");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let v: Value = app.get(&path, token).await.json().await.unwrap();
        out.extend(v["items"].as_array().unwrap().iter().cloned());
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

pub fn field_codes(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn setup() -> (TestApp, String, Territory) {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "导").await;
    (app, root, t)
}

#[tokio::test]
async fn a_file_with_bad_rows_imports_nothing_and_names_every_bad_cell() {
    let (app, root, t) = setup().await;
    let good = id_number("19800101", 11);
    let rows = vec![
        // Row 2: fine.
        vec![
            s("张三"),
            s("男"),
            C::D(date(1980, 1, 1)),
            s("13800000001"),
            s(&good),
            s("1幢"),
            s("1单元"),
            s("101"),
            s("户主"),
            s("党员"),
        ],
        // Row 3: the check digit is wrong.
        vec![
            s("李四"),
            C::E,
            C::E,
            C::E,
            s(&with_bad_check_digit(&id_number("19810202", 21))),
            s("1幢"),
            s("1单元"),
            s("102"),
            C::E,
            C::E,
        ],
        // Row 4: the birth date disagrees with the ID number.
        vec![
            s("王五"),
            C::E,
            C::D(date(1982, 3, 4)),
            C::E,
            s(&id_number("19820303", 31)),
            s("1幢"),
            s("1单元"),
            s("103"),
            C::E,
            C::E,
        ],
        // Row 5: not a mobile number.
        vec![
            s("赵六"),
            C::E,
            C::E,
            s("12812341234"),
            C::E,
            s("1幢"),
            s("1单元"),
            s("104"),
            C::E,
            C::E,
        ],
        // Row 6: no such building.
        vec![
            s("钱七"),
            C::E,
            C::E,
            C::E,
            C::E,
            s("99幢"),
            s("1单元"),
            s("105"),
            C::E,
            C::E,
        ],
        // Row 7: no name.
        vec![
            C::E,
            s("女"),
            C::E,
            s("13800000007"),
            C::E,
            s("1幢"),
            s("1单元"),
            s("106"),
            C::E,
            C::E,
        ],
        // Row 8: the same ID number as row 2.
        vec![
            s("张三三"),
            C::E,
            C::E,
            C::E,
            s(&good),
            s("1幢"),
            s("1单元"),
            s("107"),
            C::E,
            C::E,
        ],
        // Row 9: two problems in one row, both reported.
        vec![
            s("孙八"),
            s("未知"),
            s("1990-02-30"),
            C::E,
            C::E,
            s("1幢"),
            s("1单元"),
            s("108"),
            C::E,
            C::E,
        ],
    ];
    let res = upload(
        &app,
        &root,
        t.compound,
        "roster.xlsx",
        &xlsx(&HEADER, &rows),
    )
    .await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    let text = problem.to_string();
    assert!(!text.contains(&good), "no full ID number in the report");
    let got = field_codes(&problem);
    let expected: Vec<(String, String)> = [
        ("rows[3].身份证号", "id_number_invalid"),
        ("rows[4].出生日期", "mismatch"),
        ("rows[5].手机号", "phone_invalid"),
        ("rows[6].楼栋", "unknown_building"),
        ("rows[7].姓名", "required"),
        ("rows[8].身份证号", "duplicate"),
        ("rows[9].性别", "invalid"),
        ("rows[9].出生日期", "invalid"),
    ]
    .iter()
    .map(|(f, c)| (f.to_string(), c.to_string()))
    .collect();
    assert_eq!(got, expected, "{problem}");
    let dup = &problem["errors"][5]["message"];
    assert!(dup.as_str().unwrap().contains("第 2 行"), "{dup}");

    // Nothing was written: no resident, no household.
    assert!(residents_of(&app, &root, t.compound).await.is_empty());
    let households: Value = app
        .get(
            &format!("/api/v1/households?building_id={}", t.building),
            &root,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(households["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_good_xlsx_imports_creating_missing_households() {
    let (app, root, t) = setup().await;
    app.create(
        &root,
        "buildings",
        json!({"compound_id": t.compound, "name": "2幢"}),
    )
    .await;
    let staff = app
        .user_with_role(&root, "staff", "community_staff", "community", t.community)
        .await;
    // Header in another order, without 与户主关系.
    let header = [
        "楼栋",
        "单元",
        "房号",
        "姓名",
        "性别",
        "出生日期",
        "手机号",
        "身份证号",
        "标签",
    ];
    let rows = vec![
        // The existing household 1幢 1单元 101; a real date cell.
        vec![
            s("1幢"),
            s("1单元"),
            s("101"),
            s("张三"),
            s("男"),
            C::D(date(1980, 1, 1)),
            s("13800000001"),
            s(&id_number("19800101", 11)),
            s("党员、志愿者"),
        ],
        // A new household; the room typed as a number, the phone as a number, the birth date
        // as text, and the gender taken from the ID number.
        vec![
            s("1幢"),
            s("1单元"),
            C::N(102.0),
            s("李四"),
            C::E,
            s("1975-06-15"),
            C::N(13900000002.0),
            s(&id_number("19750615", 22)),
            s("退休，独居老人"),
        ],
        // Another building, no unit, no ID number.
        vec![
            s("2幢"),
            C::E,
            s("201"),
            s("王五"),
            s("女"),
            C::E,
            C::E,
            C::E,
            C::E,
        ],
        // The same new household as row 3: created once.
        vec![
            s("1幢"),
            s("1单元"),
            s("102"),
            s("李小四"),
            C::E,
            C::E,
            C::E,
            C::E,
            C::E,
        ],
    ];
    let (created, updated, households) = import_ok(
        &app,
        &staff,
        t.compound,
        "roster.xlsx",
        &xlsx(&header, &rows),
    )
    .await;
    assert_eq!((created, updated, households), (4, 0, 2));

    let all = residents_of(&app, &root, t.compound).await;
    assert_eq!(all.len(), 4);
    let by_name = |n: &str| all.iter().find(|r| r["name"] == n).unwrap().clone();
    let zhang = by_name("张三");
    assert_eq!(zhang["household_id"], t.household.to_string());
    assert_eq!(zhang["birth_date"], "1980-01-01");
    assert_eq!(zhang["gender"], "male");
    assert_eq!(zhang["phone_masked"], "138******01");
    assert_eq!(zhang["tags"], json!(["党员", "志愿者"]));
    let li = by_name("李四");
    assert_eq!(li["gender"], "female", "from the ID number");
    assert_eq!(li["phone_masked"], "139******02");
    assert_eq!(li["tags"], json!(["独居老人", "退休"]));
    assert_eq!(li["household_id"], by_name("李小四")["household_id"]);
    assert_ne!(li["household_id"], zhang["household_id"]);
    let wang = by_name("王五");
    assert!(wang["phone_masked"].is_null() && wang["id_number_masked"].is_null());

    let hh: Value = app
        .get(
            &format!(
                "/api/v1/households/{}",
                li["household_id"].as_str().unwrap()
            ),
            &root,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (hh["unit"].as_str(), hh["room"].as_str()),
        (Some("1单元"), Some("102"))
    );
    let hh: Value = app
        .get(
            &format!(
                "/api/v1/households/{}",
                wang["household_id"].as_str().unwrap()
            ),
            &root,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (hh["unit"].as_str(), hh["room"].as_str()),
        (Some(""), Some("201"))
    );

    // Found by the exact phone (through its keyed hash), and by tag.
    let found: Value = app
        .get("/api/v1/residents?phone=13900000002", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"][0]["name"], "李四");
    let found: Value = app
        .get("/api/v1/residents?tag=志愿者", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_csv_imports_and_importing_it_again_updates_instead_of_duplicating() {
    let (app, root, t) = setup().await;
    let a = id_number("19600101", 11);
    let b = id_number("19650505", 22);
    let c = id_number("19900909", 33);
    let rows = |phone_b: &'static str, tags_b: &'static str| -> Vec<Vec<String>> {
        vec![
            vec![
                "周一",
                "男",
                "1960-01-01",
                "13800000011",
                a.as_str(),
                "1幢",
                "1单元",
                "101",
                "户主",
                "党员",
            ],
            vec![
                "吴二",
                "",
                "",
                phone_b,
                b.as_str(),
                "1幢",
                "1单元",
                "101",
                "配偶",
                tags_b,
            ],
            vec![
                "郑三",
                "",
                "",
                "",
                c.as_str(),
                "1幢",
                "2单元",
                "301",
                "",
                "",
            ],
        ]
        .into_iter()
        .map(|r| r.into_iter().map(str::to_string).collect())
        .collect()
    };
    let file = |rows: Vec<Vec<String>>| {
        let refs: Vec<Vec<&str>> = rows
            .iter()
            .map(|r| r.iter().map(String::as_str).collect())
            .collect();
        csv(&HEADER, &refs)
    };
    let first = file(rows("13800000022", "志愿者;退休"));
    assert_eq!(
        import_ok(&app, &root, t.compound, "roster.csv", &first).await,
        (3, 0, 1)
    );
    let before = residents_of(&app, &root, t.compound).await;
    assert_eq!(before.len(), 3);

    // The same file again: everyone is matched by ID number, and nobody's row is rewritten
    // (nothing changed: same numbers, same tags).
    app.clock.advance(chrono::Duration::hours(1));
    assert_eq!(
        import_ok(&app, &root, t.compound, "roster.csv", &first).await,
        (0, 3, 0)
    );
    let updated_at = |v: &[Value]| -> Vec<(String, String)> {
        let mut u: Vec<(String, String)> = v
            .iter()
            .map(|r| (r["name"].to_string(), r["updated_at"].to_string()))
            .collect();
        u.sort();
        u
    };
    let again = residents_of(&app, &root, t.compound).await;
    assert_eq!(updated_at(&again), updated_at(&before));
    // Once more with a new phone and other tags for 吴二: only that row is written.
    app.clock.advance(chrono::Duration::hours(1));
    let second = file(rows("13900000099", "楼长"));
    assert_eq!(
        import_ok(&app, &root, t.compound, "roster.csv", &second).await,
        (0, 3, 0)
    );
    let after = residents_of(&app, &root, t.compound).await;
    let (was, now) = (updated_at(&before), updated_at(&after));
    let changed: Vec<&String> = was
        .iter()
        .zip(&now)
        .filter(|(a, b)| a != b)
        .map(|(_, b)| &b.0)
        .collect();
    assert_eq!(changed, [&"\"吴二\"".to_string()]);
    assert_eq!(after.len(), 3, "updated, not duplicated");
    let ids = |v: &[Value]| -> HashSet<String> {
        v.iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&before), ids(&after));
    let wu = after.iter().find(|r| r["name"] == "吴二").unwrap();
    assert_eq!(wu["phone_masked"], "139******99");
    assert_eq!(wu["tags"], json!(["楼长"]));
    assert_eq!(wu["relation"], "配偶");
    let found: Value = app
        .get("/api/v1/residents?phone=13900000099", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"][0]["id"], wu["id"]);
    let found: Value = app
        .get("/api/v1/residents?phone=13800000022", &root)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        found["items"].as_array().unwrap().is_empty(),
        "old phone gone"
    );

    // A file without the 手机号 column leaves phones alone and can move someone to another
    // household of the compound.
    let moved = csv(
        &["姓名", "身份证号", "楼栋", "单元", "房号"],
        &[vec!["吴二", b.as_str(), "1幢", "3单元", "501"]],
    );
    assert_eq!(
        import_ok(&app, &root, t.compound, "move.csv", &moved).await,
        (0, 1, 1)
    );
    let wu2: Value = app
        .get(
            &format!("/api/v1/residents/{}", wu["id"].as_str().unwrap()),
            &root,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(wu2["phone_masked"], "139******99");
    assert_eq!(wu2["tags"], json!(["楼长"]));
    assert_ne!(wu2["household_id"], wu["household_id"]);
}

#[tokio::test]
async fn header_problems_are_named() {
    let (app, root, t) = setup().await;
    let file = csv(
        &["姓名", "楼栋", "备注", "电话"],
        &[vec!["张三", "1幢", "x", "y"]],
    );
    let res = upload(&app, &root, t.compound, "x.csv", &file).await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    let got = field_codes(&problem);
    assert_eq!(
        got.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>(),
        ["unknown_column", "unknown_column", "missing_column"],
        "{problem}"
    );
    let text = problem.to_string();
    assert!(text.contains("备注") && text.contains("电话") && text.contains("房号"));
}

#[tokio::test]
async fn export_is_a_workbook_with_masked_values_and_is_audited() {
    let (app, root, t) = setup().await;
    let a = id_number("19800101", 11);
    let file = csv(
        &HEADER,
        &[
            vec![
                "张三",
                "男",
                "",
                "13800000001",
                a.as_str(),
                "1幢",
                "1单元",
                "101",
                "户主",
                "党员、志愿者",
            ],
            vec![
                "李四",
                "女",
                "1985-05-05",
                "",
                "",
                "1幢",
                "1单元",
                "102",
                "",
                "",
            ],
        ],
    );
    import_ok(&app, &root, t.compound, "r.csv", &file).await;
    let leader = app
        .user_with_role(&root, "leader", "building_leader", "building", t.building)
        .await;

    let res = app
        .get(
            &format!("/api/v1/residents/export?compound_id={}", t.compound),
            &leader,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], XLSX);
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"residents.xlsx\""
    );
    let bytes = res.bytes().await.unwrap();
    let sheet = read_xlsx(&bytes);
    let masked_a = format!("**************{}", &a[14..]);
    assert_eq!(sheet[0], HEADER);
    assert_eq!(sheet.len(), 3);
    let all: String = sheet
        .iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join("|");
    assert!(!all.contains("13800000001") && !all.contains(&a), "{all}");
    assert!(full_pii_in(&all).is_none(), "{all}");
    assert_eq!(
        sheet[1],
        [
            "张三",
            "男",
            // A building leader may not reveal: no birth dates, the staff phone mask.
            "",
            "138******01",
            masked_a.as_str(),
            "1幢",
            "1单元",
            "101",
            "户主",
            "党员、志愿者",
        ]
    );
    assert_eq!(sheet[2][0], "李四");
    assert_eq!(sheet[2][2], "");
    assert_eq!(sheet[2][3], "");

    let events: Value = app
        .get("/api/v1/audit-events?action=export", &root)
        .await
        .json()
        .await
        .unwrap();
    let events = events["items"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["community_id"], t.community.to_string());
    assert!(events[0]["detail"].as_str().unwrap().contains("\"rows\":2"));

    // A masked export cannot be imported back by mistake: it is recognised as one.
    let res = upload(&app, &root, t.compound, "back.xlsx", &bytes).await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(
        field_codes(&problem),
        [("file".to_string(), "masked_value".to_string())]
    );
}

#[tokio::test]
async fn unmasked_export_needs_reveal_rights_and_a_purpose_is_audited_and_imports_back() {
    let (app, root, t) = setup().await;
    let a = id_number("19800101", 11);
    let b = id_number("19700707", 22);
    let file = csv(
        &HEADER,
        &[
            vec![
                "张三",
                "",
                "",
                "13800000001",
                a.as_str(),
                "1幢",
                "1单元",
                "101",
                "户主",
                "党员",
            ],
            vec![
                "李四",
                "",
                "",
                "13800000002",
                b.as_str(),
                "1幢",
                "1单元",
                "102",
                "",
                "",
            ],
        ],
    );
    import_ok(&app, &root, t.compound, "r.csv", &file).await;
    let leader = app
        .user_with_role(&root, "leader", "building_leader", "building", t.building)
        .await;
    let staff = app
        .user_with_role(&root, "staff", "community_staff", "community", t.community)
        .await;
    let path = format!(
        "/api/v1/residents/export?compound_id={}&unmasked=true",
        t.compound
    );

    let res = app.get(&path, &staff).await;
    let problem = assert_problem(res, 400, "invalid_query").await;
    assert_eq!(problem["errors"][0]["field"], "purpose");
    let res = app.get(&format!("{path}&purpose=x"), &staff).await;
    assert_problem(res, 400, "invalid_query").await;
    let res = app.get(&format!("{path}&purpose=入户核查"), &leader).await;
    assert_problem(res, 403, "forbidden").await;
    let none: Value = app
        .get("/api/v1/audit-events?action=export_unmasked", &root)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        none["items"].as_array().unwrap().is_empty(),
        "refusals write nothing"
    );

    let res = app.get(&format!("{path}&purpose=入户核查"), &staff).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let bytes = res.bytes().await.unwrap();
    let sheet = read_xlsx(&bytes);
    assert_eq!(sheet[1][3], "13800000001");
    assert_eq!(sheet[1][4], a);
    assert_eq!(sheet[2][4], b);

    let events: Value = app
        .get("/api/v1/audit-events?action=export_unmasked", &staff)
        .await
        .json()
        .await
        .unwrap();
    let events = events["items"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["purpose"], "入户核查");
    assert_eq!(events[0]["community_id"], t.community.to_string());
    assert!(events[0]["detail"].as_str().unwrap().contains("\"rows\":2"));

    // The unmasked export is the template: it imports back, matching everyone.
    assert_eq!(
        import_ok(&app, &root, t.compound, "back.xlsx", &bytes).await,
        (0, 2, 0)
    );
    assert_eq!(residents_of(&app, &root, t.compound).await.len(), 2);
}

#[tokio::test]
async fn unmasked_export_is_refused_when_one_resident_is_beyond_the_reveal_scope() {
    let (app, root, t) = setup().await;
    let other = small_territory(&app, &root, "外").await;
    import_ok(
        &app,
        &root,
        t.compound,
        "a.csv",
        &csv(&["姓名", "楼栋", "房号"], &[vec!["甲", "1幢", "101"]]),
    )
    .await;
    import_ok(
        &app,
        &root,
        other.compound,
        "b.csv",
        &csv(&["姓名", "楼栋", "房号"], &[vec!["乙", "1幢", "101"]]),
    )
    .await;
    // Reveal in one community, read (only) in a building of the other.
    let uid = app.create_user(&root, "mixed", "a-long-password-1").await;
    app.grant(&root, uid, "community_staff", "community", t.community)
        .await;
    app.grant(&root, uid, "building_leader", "building", other.building)
        .await;
    let token = token_of(&app.login("mixed", "a-long-password-1").await);
    let res = app
        .get(
            "/api/v1/residents/export?unmasked=true&purpose=核对名单",
            &token,
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
    let res = app
        .get(
            &format!(
                "/api/v1/residents/export?unmasked=true&purpose=核对名单&community_id={}",
                t.community
            ),
            &token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Masked, both are exported.
    let res = app.get("/api/v1/residents/export", &token).await;
    let sheet = read_xlsx(&res.bytes().await.unwrap());
    assert_eq!(sheet.len(), 3);
}

// Security review 5: an import must not tell a community's staff whether an ID number is
// registered in another community (or street); each community keeps its own roster.
#[tokio::test]
async fn a_resident_registered_in_another_community_is_neither_reported_nor_moved() {
    let (app, root, t) = setup().await;
    let other = small_territory(&app, &root, "外").await;
    let a = id_number("19800101", 11);
    import_ok(
        &app,
        &root,
        other.compound,
        "b.csv",
        &csv(
            &["姓名", "身份证号", "楼栋", "房号"],
            &[vec!["甲", a.as_str(), "1幢", "101"]],
        ),
    )
    .await;
    let staff = app
        .user_with_role(&root, "staff", "community_staff", "community", t.community)
        .await;
    let file = csv(
        &["姓名", "身份证号", "楼栋", "房号"],
        &[
            vec!["乙", "", "1幢", "101"],
            vec!["甲", a.as_str(), "1幢", "102"],
        ],
    );
    let res = upload(&app, &staff, t.compound, "a.csv", &file).await;
    let status = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.contains("elsewhere"), "{body}");
    assert_eq!(residents_of(&app, &root, t.compound).await.len(), 2);
    assert_eq!(residents_of(&app, &root, other.compound).await.len(), 1);
}

#[tokio::test]
async fn import_refuses_what_is_not_a_spreadsheet_or_too_large() {
    let (app, root, t) = setup().await;
    // A PNG.
    let png = [
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0xff,
    ];
    let res = upload(&app, &root, t.compound, "photo.png", &png).await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "file");
    // A ZIP that is not a workbook.
    let res = upload(&app, &root, t.compound, "a.xlsx", b"PK\x03\x04not really").await;
    assert_problem(res, 400, "validation_failed").await;
    // Text that is not the template.
    let res = upload(
        &app,
        &root,
        t.compound,
        "notes.csv",
        "hello\nworld\n".as_bytes(),
    )
    .await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "unknown_column");
    // No file part at all.
    let (ct, body) = multipart("other", "a.csv", b"x");
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/residents/import?compound_id={}", t.compound),
            Some(&root),
        )
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "validation_failed").await;
    // JSON instead of multipart.
    let res = app
        .post(
            &format!("/api/v1/residents/import?compound_id={}", t.compound),
            &root,
            &json!({"file": "x"}),
        )
        .await;
    assert_problem(res, 415, "unsupported_media_type").await;
    // No compound.
    let res = upload(&app, &root, Uuid::nil(), "a.csv", b"x").await;
    assert_problem(res, 404, "not_found").await;
    let res = app
        .request(Method::POST, "/api/v1/residents/import", Some(&root))
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_query").await;
    // Over 5 MiB.
    let mut big = b"\xEF\xBB\xBF\xE5\xA7\x93\xE5\x90\x8D\n".to_vec();
    big.resize(5 * 1024 * 1024 + 10, b'a');
    let res = upload(&app, &root, t.compound, "big.csv", &big).await;
    assert_problem(res, 413, "payload_too_large").await;
    // Exactly at the limit is read (and then judged on its content).
    big.truncate(5 * 1024 * 1024);
    let res = upload(&app, &root, t.compound, "big.csv", &big).await;
    assert_problem(res, 400, "validation_failed").await;
    // Over 10,000 data rows.
    let mut many = String::from("姓名,楼栋,房号\n");
    for i in 0..10_001 {
        many.push_str(&format!("居民{i},1幢,{i}\n"));
    }
    let res = upload(&app, &root, t.compound, "many.csv", many.as_bytes()).await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "too_many_rows");
    assert!(residents_of(&app, &root, t.compound).await.is_empty());
}

#[tokio::test]
async fn import_is_404_outside_the_scope_and_403_without_write_rights() {
    let (app, root, t) = setup().await;
    let other = small_territory(&app, &root, "外").await;
    let file = csv(&["姓名", "楼栋", "房号"], &[vec!["甲", "1幢", "101"]]);
    let staff = app
        .user_with_role(&root, "staff", "community_staff", "community", t.community)
        .await;
    let res = upload(&app, &staff, other.compound, "a.csv", &file).await;
    assert_problem(res, 404, "not_found").await;
    let council = app
        .user_with_role(&root, "council", "council_member", "community", t.community)
        .await;
    let res = upload(&app, &council, t.compound, "a.csv", &file).await;
    assert_problem(res, 403, "forbidden").await;
    // A building leader reads the roster of the building but cannot see the compound.
    let leader = app
        .user_with_role(&root, "leader", "building_leader", "building", t.building)
        .await;
    let res = upload(&app, &leader, t.compound, "a.csv", &file).await;
    assert_eq!(res.status().as_u16(), 404);
    // Without a token.
    let (ct, body) = multipart("file", "a.csv", &file);
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/residents/import?compound_id={}", t.compound),
            None,
        )
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "unauthorized").await;
    // Export needs a role that reads residents.
    let res = app.get("/api/v1/residents/export", &council).await;
    assert_problem(res, 403, "forbidden").await;
    assert!(residents_of(&app, &root, t.compound).await.is_empty());
}

/// The rows of a generated roster of `n` residents in `buildings` buildings, 4 per household.
pub fn generated_rows(n: usize, buildings: usize) -> Vec<Vec<C>> {
    (0..n)
        .map(|i| {
            let day = date(1950, 1, 1) + chrono::Duration::days((i / 500) as i64);
            let birth = day.format("%Y%m%d").to_string();
            let household = i / 4;
            vec![
                s(&format!("居民{i}")),
                C::E,
                C::D(day),
                s(&format!("139{:08}", i)),
                s(&id_number(&birth, (i % 500) as u32)),
                s(&format!("{}幢", household % buildings + 1)),
                s(&format!("{}单元", household % 3 + 1)),
                s(&format!("{}", 100 + household / buildings)),
                s(if i % 4 == 0 { "户主" } else { "家属" }),
                s(if i % 7 == 0 { "党员、志愿者" } else { "" }),
            ]
        })
        .collect()
}

#[tokio::test]
async fn ten_thousand_rows_import_in_one_go_and_again_as_updates() {
    let (app, root, t) = setup().await;
    for b in 2..=5 {
        app.create(
            &root,
            "buildings",
            json!({"compound_id": t.compound, "name": format!("{b}幢")}),
        )
        .await;
    }
    let rows = generated_rows(10_000, 5);
    let file = xlsx(&HEADER, &rows);
    assert!(file.len() < 5 * 1024 * 1024, "{} bytes", file.len());
    let (created, updated, households) =
        import_ok(&app, &root, t.compound, "big.xlsx", &file).await;
    assert_eq!((created, updated), (10_000, 0));
    // 2,500 households; 1幢 1单元 101 existed already... only if generated, which it is not
    // (rooms start at 100).
    assert_eq!(households, 2_500);
    let stats: Value = app
        .get(
            &format!("/api/v1/residents/stats?compound_id={}", t.compound),
            &root,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["groups"][0]["total"], 10_000);
    assert_eq!(stats["groups"][0]["by_tag"]["党员"], 1_429);
    assert_eq!(
        import_ok(&app, &root, t.compound, "big.xlsx", &file).await,
        (0, 10_000, 0)
    );
    let res = app
        .get(
            &format!("/api/v1/residents/export?compound_id={}", t.compound),
            &root,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let sheet = read_xlsx(&res.bytes().await.unwrap());
    assert_eq!(sheet.len(), 10_001);
    // The export streams in batches of a thousand, read by id; the file is still in the order
    // of building, unit and room, with every resident once and their tags.
    let body = &sheet[1..];
    let place = |r: &Vec<String>| (r[5].clone(), r[6].clone(), r[7].clone());
    assert!(
        body.windows(2).all(|w| place(&w[0]) <= place(&w[1])),
        "not in the order of building, unit and room"
    );
    assert_eq!(
        place(&body[0]),
        ("1幢".into(), "1单元".into(), "100".into())
    );
    let names: std::collections::HashSet<&String> = body.iter().map(|r| &r[0]).collect();
    assert_eq!(names.len(), 10_000);
    assert_eq!(
        body.iter().filter(|r| r[9] == "党员、志愿者").count(),
        1_429
    );
}

#[tokio::test]
async fn a_large_import_sent_with_an_idempotency_key_runs_once() {
    let (app, root, t) = setup().await;
    let rows = generated_rows(10_000, 1);
    let file = xlsx(&HEADER, &rows);
    assert!(
        file.len() > 256 * 1024,
        "larger than actix's default payload limit"
    );
    let (ct, body) = multipart("file", "big.xlsx", &file);
    let send = || {
        app.request(
            Method::POST,
            &format!("/api/v1/residents/import?compound_id={}", t.compound),
            Some(&root),
        )
        .header("content-type", ct.clone())
        .header("Idempotency-Key", "import-once")
        .body(body.clone())
        .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["created"], 10_000);
    let again = send().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again, "the first answer, not a second import");
}

#[tokio::test]
async fn exports_write_formula_like_text_behind_an_apostrophe_and_import_it_back() {
    let (app, root, t) = setup().await;
    let a = id_number("19800101", 11);
    let file = csv(
        &HEADER,
        &[vec![
            "=1+2",
            "男",
            "",
            "13800000001",
            a.as_str(),
            "1幢",
            "-1单元",
            "@101",
            "-",
            "+群主、普通",
        ]],
    );
    import_ok(&app, &root, t.compound, "r.csv", &file).await;
    let staff = app
        .user_with_role(&root, "staff", "community_staff", "community", t.community)
        .await;
    let path = format!(
        "/api/v1/residents/export?compound_id={}&unmasked=true&purpose=核对",
        t.compound
    );
    let res = app.get(&path, &staff).await;
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap();
    let sheet = read_xlsx(&bytes);
    assert_eq!(
        sheet[1],
        [
            "'=1+2",
            "男",
            "1980-01-01",
            "13800000001",
            a.as_str(),
            "1幢",
            "'-1单元",
            "'@101",
            "'-",
            "'+群主、普通",
        ]
    );
    // The masked export is the same writer.
    let res = app
        .get(
            &format!("/api/v1/residents/export?compound_id={}", t.compound),
            &staff,
        )
        .await;
    assert_eq!(read_xlsx(&res.bytes().await.unwrap())[1][0], "'=1+2");

    // Imported back, the apostrophes come off: the same resident, household and values.
    assert_eq!(
        import_ok(&app, &root, t.compound, "back.xlsx", &bytes).await,
        (0, 1, 0)
    );
    let residents = residents_of(&app, &root, t.compound).await;
    assert_eq!(residents.len(), 1);
    let r = &residents[0];
    assert_eq!(r["name"], "=1+2", "{r}");
    assert_eq!(r["relation"], "-", "{r}");
    assert_eq!(r["tags"], json!(["+群主", "普通"]), "{r}");

    // So does the apostrophe someone typed to keep a spreadsheet from reading "+86…" as a
    // number, in a CSV saved from the export.
    let saved = csv(
        &["姓名", "手机号", "身份证号", "楼栋", "单元", "房号"],
        &[vec![
            "'=1+2",
            "'+8613800000002",
            a.as_str(),
            "1幢",
            "'-1单元",
            "'@101",
        ]],
    );
    assert_eq!(
        import_ok(&app, &root, t.compound, "saved.csv", &saved).await,
        (0, 1, 0)
    );
    let residents = residents_of(&app, &root, t.compound).await;
    assert_eq!(residents[0]["name"], "=1+2");
    assert_eq!(
        residents[0]["phone_masked"], "138******02",
        "{}",
        residents[0]
    );
}

/// Raw DEFLATE (RFC 1951) of `prefix`, `unit` repeated `count` times, then `suffix`, in one
/// fixed-Huffman block. The repeats are back-references of 258 bytes at 13 to 20 bits each, so
/// the stream is over 100 times smaller than what it inflates to, and is built in milliseconds.
/// `unit.len() * (count - 1)` must be a multiple of 258.
fn deflate_repeated(prefix: &[u8], unit: &[u8], count: usize, suffix: &[u8]) -> Vec<u8> {
    const DIST_BASE: [u32; 30] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
        2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ];
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }
    impl Bits {
        fn put(&mut self, value: u32, bits: u32) {
            self.acc |= u64::from(value) << self.n;
            self.n += bits;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        /// Huffman codes go most significant bit first.
        fn code(&mut self, code: u32, len: u32) {
            self.put(code.reverse_bits() >> (32 - len), len);
        }
        fn literal(&mut self, b: u8) {
            match b {
                0..=143 => self.code(0x30 + u32::from(b), 8),
                _ => self.code(0x190 + u32::from(b) - 144, 9),
            }
        }
    }
    let repeated = unit.len() * count.saturating_sub(1);
    assert_eq!(repeated % 258, 0, "whole back-references only");
    let dist = unit.len() as u32;
    let d = DIST_BASE.iter().rposition(|b| *b <= dist).unwrap_or(0);
    let extra = (d as u32).saturating_sub(2) / 2;
    let mut w = Bits {
        out: Vec::new(),
        acc: 0,
        n: 0,
    };
    w.put(1, 1); // the last block
    w.put(1, 2); // fixed Huffman codes
    for b in prefix.iter().chain(if count > 0 { unit } else { &[] }) {
        w.literal(*b);
    }
    for _ in 0..repeated / 258 {
        w.code(0xC5, 8); // length code 285: 258 bytes
        w.code(d as u32, 5);
        w.put(dist - DIST_BASE[d], extra);
    }
    for b in suffix {
        w.literal(*b);
    }
    w.code(0, 7); // end of block
    w.put(0, 7);
    w.out
}

/// CRC-32 (as ZIP uses it) of `bytes`, bit by bit: the inputs here are short.
fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |crc, b| {
        (0..8).fold(crc ^ u32::from(*b), |c, _| {
            if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            }
        })
    })
}

/// The CRC-32 of A followed by B from theirs and B's length (zlib's `crc32_combine`): appending
/// B's length in zero bits to A's CRC is a linear map, squared up from one zero bit.
fn crc32_combine(crc_a: u32, crc_b: u32, len_b: u64) -> u32 {
    fn times(matrix: &[u32; 32], vector: u32) -> u32 {
        (0..32)
            .filter(|i| vector >> i & 1 == 1)
            .fold(0, |sum, i| sum ^ matrix[i])
    }
    fn square(matrix: &[u32; 32]) -> [u32; 32] {
        std::array::from_fn(|i| times(matrix, matrix[i]))
    }
    // One zero bit.
    let mut op: [u32; 32] =
        std::array::from_fn(|i| if i == 0 { 0xEDB8_8320 } else { 1 << (i - 1) });
    // One zero byte: eight bits.
    op = square(&square(&square(&op)));
    let (mut crc, mut len) = (crc_a, len_b);
    while len > 0 {
        if len & 1 == 1 {
            crc = times(&op, crc);
        }
        op = square(&op);
        len >>= 1;
    }
    crc ^ crc_b
}

/// CRC-32 of what `deflate_repeated` inflates to, without going through its hundreds of MiB.
fn crc32_repeated(prefix: &[u8], unit: &[u8], count: usize, suffix: &[u8]) -> u32 {
    let (mut crc, mut block, mut block_len, mut n) =
        (crc32(prefix), crc32(unit), unit.len() as u64, count as u64);
    while n > 0 {
        if n & 1 == 1 {
            crc = crc32_combine(crc, block, block_len);
        }
        block = crc32_combine(block, block, block_len);
        block_len *= 2;
        n >>= 1;
    }
    crc32_combine(crc, crc32(suffix), suffix.len() as u64)
}

/// `workbook` with its part `name` replaced by the raw DEFLATE stream `deflated`, whose ZIP
/// headers (local and central) declare `declared_size` bytes unpacked and the CRC `crc`.
fn with_deflated_part(
    workbook: &[u8],
    name: &str,
    deflated: &[u8],
    declared_size: u32,
    crc: u32,
) -> Vec<u8> {
    use std::io::{Cursor, Write};
    let mut zip = zip::ZipArchive::new(Cursor::new(workbook)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..zip.len() {
        let file = zip.by_index(i).unwrap();
        if file.name() != name {
            out.raw_copy_file(file).unwrap();
        }
    }
    // Written stored, so that the data is exactly `deflated`; the headers are patched below
    // into a deflated entry of `declared_size` bytes.
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    out.start_file(name, stored).unwrap();
    out.write_all(deflated).unwrap();
    let mut bytes = out.finish().unwrap().into_inner();
    let patch =
        |bytes: &mut Vec<u8>, at: usize, v: &[u8]| bytes[at..at + v.len()].copy_from_slice(v);
    let mut patched = 0;
    for at in 0..bytes.len() - 46 {
        let named = |header: usize| {
            bytes.get(at + header..at + header + name.len()) == Some(name.as_bytes())
        };
        if bytes[at..].starts_with(b"PK\x03\x04") && named(30) {
            patch(&mut bytes, at + 8, &8u16.to_le_bytes());
            patch(&mut bytes, at + 14, &crc.to_le_bytes());
            patch(&mut bytes, at + 22, &declared_size.to_le_bytes());
            patched += 1;
        } else if bytes[at..].starts_with(b"PK\x01\x02") && named(46) {
            patch(&mut bytes, at + 10, &8u16.to_le_bytes());
            patch(&mut bytes, at + 16, &crc.to_le_bytes());
            patch(&mut bytes, at + 24, &declared_size.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "one local and one central header");
    bytes
}

#[test]
fn the_bomb_builders_agree_with_a_plain_zip() {
    let (prefix, unit, suffix) = (b"<a>".as_slice(), b"xyz".as_slice(), b"</a>".as_slice());
    let count = 86 * 3 + 1;
    let plain = [prefix, &unit.repeat(count), suffix].concat();
    assert_eq!(crc32_repeated(prefix, unit, count, suffix), crc32(&plain));
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    let file = with_deflated_part(
        &xlsx(&["姓名"], &[]),
        "xl/theme/theme1.xml",
        &deflate_repeated(prefix, unit, count, suffix),
        plain.len() as u32,
        crc32(&plain),
    );
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&file[..])).unwrap();
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(
        &mut zip.by_name("xl/theme/theme1.xml").unwrap(),
        &mut inflated,
    )
    .unwrap();
    assert_eq!(inflated, plain);
}

const SPREADSHEET_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";

async fn health(app: &TestApp) -> u16 {
    app.request(Method::GET, "/health", None)
        .send()
        .await
        .expect("the server still answers")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_shared_string_count_of_two_billion_is_not_believed() {
    let (app, root, t) = setup().await;
    let file = xlsx(
        &["姓名", "楼栋", "房号"],
        &[vec![s("甲"), s("9幢"), s("101")]],
    );
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&file[..])).unwrap();
    let mut sst = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("xl/sharedStrings.xml").unwrap(), &mut sst)
        .unwrap();
    let (prefix, rest) = sst.split_once("count=\"").unwrap();
    let (_, rest) = rest.split_once("\" uniqueCount=\"").unwrap();
    let (_, rest) = rest.split_once('"').unwrap();
    assert!(rest.starts_with('>'), "{sst}");
    let lying = format!("{prefix}count=\"2000000000\" uniqueCount=\"2000000000\"{rest}");
    let file = with_deflated_part(
        &file,
        "xl/sharedStrings.xml",
        &deflate_repeated(lying.as_bytes(), b"", 0, b""),
        lying.len() as u32,
        crc32(lying.as_bytes()),
    );
    assert!(file.len() < 8 * 1024, "{} bytes", file.len());

    let res = upload(&app, &root, t.compound, "lying.xlsx", &file).await;
    // Read as what it holds: one row, whose building does not exist.
    let problem = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(
        field_codes(&problem),
        [("rows[2].楼栋".to_string(), "unknown_building".to_string())]
    );
    assert_eq!(health(&app).await, 200);
}

#[tokio::test]
async fn a_workbook_inflating_past_its_declared_sizes_is_refused_promptly() {
    let (app, root, t) = setup().await;
    let base = xlsx(&["姓名", "楼栋", "房号"], &[]);
    let prefix = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
         <worksheet xmlns=\"{SPREADSHEET_NS}\"><sheetData>"
    );
    let suffix = b"</sheetData></worksheet>";
    // 200 MiB of whitespace between the rows: valid XML all the way through.
    let count = 258 * 812_850 + 1;
    let deflated = deflate_repeated(prefix.as_bytes(), b" ", count, suffix);
    let crc = crc32_repeated(prefix.as_bytes(), b" ", count, suffix);
    let file = with_deflated_part(&base, "xl/worksheets/sheet1.xml", &deflated, 1_000, crc);
    assert!(file.len() < 2 * 1024 * 1024, "{} bytes", file.len());

    let started = std::time::Instant::now();
    let res = upload(&app, &root, t.compound, "bomb.xlsx", &file).await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "file", "{problem}");
    assert_eq!(problem["errors"][0]["code"], "too_large", "{problem}");
    let took = started.elapsed();
    // It stops at the 32 MiB cap (a fraction of a second), not after 200 MiB; generous for a
    // debug build on a busy machine.
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
    assert_eq!(health(&app).await, 200);
}

#[tokio::test]
async fn too_many_shared_strings_or_cells_within_the_byte_caps_are_refused() {
    let (app, root, t) = setup().await;
    let base = xlsx(&["姓名", "楼栋", "房号"], &[]);

    // 600,109 one-letter strings: 10 MiB, under the byte caps, over the 500,000 strings.
    let prefix = format!("<sst xmlns=\"{SPREADSHEET_NS}\">");
    let (unit, count) = (b"<si><t>a</t></si>", 258 * 2_326 + 1);
    let inflated = prefix.len() + unit.len() * count + 6;
    let file = with_deflated_part(
        &base,
        "xl/sharedStrings.xml",
        &deflate_repeated(prefix.as_bytes(), unit, count, b"</sst>"),
        inflated as u32,
        crc32_repeated(prefix.as_bytes(), unit, count, b"</sst>"),
    );
    let res = upload(&app, &root, t.compound, "strings.xlsx", &file).await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "too_many_rows", "{problem}");

    // 525,031 rows of four empty cells: 2,100,124 cells in 13 MiB.
    let prefix = format!("<worksheet xmlns=\"{SPREADSHEET_NS}\"><sheetData>");
    let suffix = b"</sheetData></worksheet>";
    let (unit, count) = (b"<row><c/><c/><c/><c/></row>", 129 * 4_070 + 1);
    let inflated = prefix.len() + unit.len() * count + suffix.len();
    let file = with_deflated_part(
        &base,
        "xl/worksheets/sheet1.xml",
        &deflate_repeated(prefix.as_bytes(), unit, count, suffix),
        inflated as u32,
        crc32_repeated(prefix.as_bytes(), unit, count, suffix),
    );
    let res = upload(&app, &root, t.compound, "cells.xlsx", &file).await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(problem["errors"][0]["code"], "too_many_rows", "{problem}");
    assert!(residents_of(&app, &root, t.compound).await.is_empty());
}

#[tokio::test]
async fn imports_beyond_the_concurrent_limit_are_asked_to_come_back() {
    let (app, root, t) = setup().await;
    let file = csv(&["姓名", "楼栋", "房号"], &[vec!["甲", "1幢", "101"]]);
    // Two imports hold the server's slots.
    let held: Vec<_> = (0..linli::residents::service::io::CONCURRENT_IMPORTS)
        .map(|_| app.state.imports.try_take().expect("a free slot"))
        .collect();
    let res = upload(&app, &root, t.compound, "a.csv", &file).await;
    assert_eq!(res.headers()["retry-after"], "10");
    assert_problem(res, 503, "service_unavailable").await;
    assert!(residents_of(&app, &root, t.compound).await.is_empty());
    drop(held);
    assert_eq!(
        import_ok(&app, &root, t.compound, "a.csv", &file).await,
        (1, 0, 1)
    );
    // A finished import, good or bad, gives its slot back.
    let bad = csv(&["姓名", "楼栋", "房号"], &[vec!["乙", "9幢", "101"]]);
    for _ in 0..3 {
        let res = upload(&app, &root, t.compound, "bad.csv", &bad).await;
        assert_problem(res, 400, "validation_failed").await;
    }
    let both: Vec<_> = (0..2).map(|_| app.state.imports.try_take()).collect();
    assert!(both.iter().all(Result::is_ok));
}

/// Excel on Chinese Windows saves "CSV" in GBK: such a file imports with its names intact.
#[tokio::test]
async fn a_gbk_csv_from_chinese_excel_imports_with_its_names_intact() {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "码").await;
    let utf8 = csv(
        &HEADER,
        &[vec![
            "欧阳娜娜",
            "女",
            "",
            "",
            "",
            "1幢",
            "1单元",
            "102",
            "户主",
            "党员",
        ]],
    );
    let text = String::from_utf8(utf8).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let (gbk, _, lossy) = encoding_rs::GBK.encode(text);
    assert!(!lossy && std::str::from_utf8(&gbk).is_err());
    assert_eq!(
        import_ok(&app, &root, t.compound, "花名册.csv", &gbk).await,
        (1, 0, 1),
        "one resident, in a new household (1单元 102)"
    );
    let names: Vec<Value> = residents_of(&app, &root, t.compound)
        .await
        .into_iter()
        .map(|r| r["name"].clone())
        .collect();
    assert_eq!(names, [json!("欧阳娜娜")]);
}
