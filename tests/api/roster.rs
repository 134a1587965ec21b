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
    // A preview counts the same and writes nothing.
    let res = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/residents/import?compound_id={}&dry_run=true", t.compound),
            Some(&root),
        )
        .header("content-type", "multipart/form-data; boundary=b")
        .body(
            [
                &b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.csv\"\r\n\r\n"[..],
                &edited,
                b"\r\n--b--\r\n",
            ]
            .concat(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let preview: Value = res.json().await.unwrap();
    assert_eq!(preview["dry_run"], true);
    assert_eq!(
        (
            preview["created"].as_u64(),
            preview["matched_in_household"].as_u64()
        ),
        (Some(0), Some(3))
    );
    let residents = residents_of(&app, &root, t.compound).await;
    assert_eq!(by_name(&residents, "李四")[0]["relation"], "配偶");
    assert_eq!(by_name(&residents, "王五").len(), 1);

    let s = import(&app, &root, t.compound, &edited).await;
    assert_eq!(s["dry_run"], false);
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

    // A new member who shares a phone with one matched by name is added, not taken for them,
    // whichever row comes first.
    let shared = csv(
        &COLUMNS,
        &[
            vec!["周小", "13900000002", "1幢", "1单元", "101", "孙子"],
            vec!["赵六", "13900000002", "1幢", "1单元", "101", "子女"],
        ],
    );
    let s = import(&app, &root, t.compound, &shared).await;
    assert_eq!(
        (s["created"].as_u64(), s["updated"].as_u64()),
        (Some(1), Some(1))
    );
    let s = import(&app, &root, t.compound, &shared).await;
    assert_eq!(
        (s["created"].as_u64(), s["updated"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(residents_of(&app, &root, t.compound).await.len(), 3);

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

/// Three communities, each with its staff, and a roster entry in the first.
struct Move {
    app: TestApp,
    root: String,
    a: Territory,
    b: Territory,
    staff_a: String,
    staff_b: String,
    staff_c: String,
    _fake: crate::wechat::Fake,
}

async fn three_communities() -> Move {
    let (app, fake) = crate::wechat::spawn_with_fake().await;
    let root = app.admin_token().await;
    let a = small_territory(&app, &root, "甲").await;
    let b = small_territory(&app, &root, "乙").await;
    let c = small_territory(&app, &root, "丙").await;
    let staff = |name: &'static str, community: Uuid| {
        let (app, root) = (&app, &root);
        async move {
            app.user_with_role(root, name, "community_staff", "community", community)
                .await
        }
    };
    let staff_a = staff("staff-a", a.community).await;
    let staff_b = staff("staff-b", b.community).await;
    let staff_c = staff("staff-c", c.community).await;
    Move {
        app,
        root,
        a,
        b,
        staff_a,
        staff_b,
        staff_c,
        _fake: fake,
    }
}

impl Move {
    /// The caller's message centre, newest first.
    async fn messages(&self, token: &str) -> Vec<Value> {
        let page: Value = self
            .app
            .get("/api/v1/me/messages", token)
            .await
            .json()
            .await
            .unwrap();
        page["items"].as_array().unwrap().clone()
    }

    async fn resident(&self, name: &str, phone: &str, id_number: &str) -> Uuid {
        let res = self
            .app
            .post(
                "/api/v1/residents",
                &self.staff_a,
                &json!({"household_id": self.a.household, "name": name, "phone": phone,
                    "id_number": id_number, "moved_in_on": "2020-01-01", "moved_out_on": "2026-11-01"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        id_of(&res.json().await.unwrap())
    }

    /// Files the transfer of `resident` to `household` as the sending staff.
    async fn file_to(&self, resident: Uuid, household: Uuid) -> reqwest::Response {
        self.app
            .post(
                &format!("/api/v1/residents/{resident}/transfers"),
                &self.staff_a,
                &json!({"to_household_id": household, "note": "随子女迁居"}),
            )
            .await
    }

    async fn file(&self, resident: Uuid) -> Value {
        let res = self.file_to(resident, self.b.household).await;
        let status = res.status();
        let location = res.headers().get("location").cloned();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(
            location.unwrap().to_str().unwrap(),
            format!(
                "/api/v1/resident-transfers/{}",
                body["id"].as_str().unwrap()
            )
        );
        body
    }

    async fn verb(
        &self,
        token: &str,
        transfer: &Value,
        verb: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let path = format!(
            "/api/v1/resident-transfers/{}/{verb}",
            transfer["id"].as_str().unwrap()
        );
        match body {
            Some(b) => self.app.post(&path, token, &b).await,
            None => self
                .app
                .request(reqwest::Method::POST, &path, Some(token))
                .send()
                .await
                .unwrap(),
        }
    }

    /// Asserts that `verb` is refused with `status` and `code`.
    async fn refused(&self, token: &str, t: &Value, verb: &str, status: u16, code: &str) {
        let body = (verb == "refuse").then(|| json!({"reason": "不接收"}));
        assert_problem(self.verb(token, t, verb, body).await, status, code).await;
    }

    /// The resident as `token` reads it (expects 200).
    async fn read(&self, token: &str, resident: Uuid) -> Value {
        let res = self
            .app
            .get(&format!("/api/v1/residents/{resident}"), token)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    async fn items(&self, token: &str, query: &str) -> Vec<Value> {
        let v: Value = self
            .app
            .get(&format!("/api/v1/resident-transfers{query}"), token)
            .await
            .json()
            .await
            .unwrap();
        v["items"].as_array().unwrap().clone()
    }
}

#[tokio::test]
async fn an_accepted_transfer_moves_the_resident_and_their_account_to_the_receiving_community() {
    let m = three_communities().await;
    let rid = m
        .resident("钱八", "13912345678", &id_number("19500101", 31))
        .await;
    // The resident's WeChat account, bound through their verified phone while they lived
    // there; then they moved out.
    let resident_path = format!("/api/v1/residents/{rid}");
    let moved_out = |on: Value| {
        let (m, path) = (&m, &resident_path);
        async move {
            let res = m
                .app
                .patch(path, &m.staff_a, &json!({"moved_out_on": on}))
                .await;
            assert_eq!(res.status(), StatusCode::OK);
        }
    };
    moved_out(Value::Null).await;
    let pair = crate::wechat::wechat_login_ok(&m.app, "user:o-qian").await;
    let token = token_of(&pair);
    let res = m
        .app
        .post(
            "/api/v1/me/phone",
            &token,
            &json!({"code": "phone:13912345678"}),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["bound"], true);
    moved_out(json!("2026-11-01")).await;

    let t = m.file(rid).await;
    assert_eq!(t["status"], "pending");
    assert_eq!(t["resident_name"], "钱八");
    assert_eq!(t["phone_masked"], "139******78");
    assert_eq!(t["from"]["community_name"], "甲社区");
    assert_eq!(t["to"]["community_name"], "乙社区");
    assert_eq!(t["to"]["building_name"], "1幢");
    assert_eq!(
        (t["to"]["unit"].as_str(), t["to"]["room"].as_str()),
        (Some("1单元"), Some("101"))
    );
    assert_eq!(t["note"], "随子女迁居");
    assert_eq!(t["filed_by_name"], "staff-a");
    // One pending transfer per resident.
    let res = m.file_to(rid, m.b.household).await;
    assert_problem(res, 409, "transfer_pending").await;

    // The receiving staff see it incoming; a third community sees nothing of it.
    let incoming = m
        .items(&m.staff_b, "?direction=incoming&status=pending")
        .await;
    assert_eq!(incoming.len(), 1);
    assert_eq!(incoming[0]["id"], t["id"]);
    // …and are told in their message centre; the third community is told nothing.
    let told = m.messages(&m.staff_b).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["event"], "transfer_filed");
    assert_eq!(told[0]["subject_type"], "resident_transfer");
    assert_eq!(told[0]["subject_id"], t["id"]);
    assert_eq!(told[0]["title"], "有居民迁入待接收");
    assert!(m.messages(&m.staff_c).await.is_empty());
    assert!(m.messages(&m.staff_a).await.is_empty());
    assert!(m.items(&m.staff_b, "?direction=outgoing").await.is_empty());
    assert_eq!(m.items(&m.staff_a, "?direction=outgoing").await.len(), 1);
    assert!(m.items(&m.staff_a, "?direction=incoming").await.is_empty());
    assert!(m.items(&m.staff_c, "").await.is_empty());
    let path = format!("/api/v1/resident-transfers/{}", t["id"].as_str().unwrap());
    assert_problem(m.app.get(&path, &m.staff_c).await, 404, "not_found").await;
    m.refused(&m.staff_c, &t, "accept", 404, "not_found").await;
    m.refused(&m.staff_c, &t, "refuse", 404, "not_found").await;
    // The sending side may not accept its own filing; the receiving side does not see the
    // resident before accepting.
    m.refused(&m.staff_a, &t, "accept", 403, "forbidden").await;
    let resident_path = format!("/api/v1/residents/{rid}");
    assert_problem(
        m.app.get(&resident_path, &m.staff_b).await,
        404,
        "not_found",
    )
    .await;

    let res = m.verb(&m.staff_b, &t, "accept", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["status"], "accepted");
    assert_eq!(done["decided_by_name"], "staff-b");
    assert!(done["decided_at"].is_string());
    m.refused(&m.staff_b, &t, "accept", 409, "transfer_decided")
        .await;
    let told = m.messages(&m.staff_a).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["event"], "transfer_accepted");
    assert_eq!(told[0]["subject_id"], t["id"]);

    let res = m.app.get(&resident_path, &m.staff_b).await;
    assert_eq!(res.status(), StatusCode::OK);
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["household_id"], m.b.household.to_string());
    assert_eq!(r["building_id"], m.b.building.to_string());
    assert_eq!(r["compound_id"], m.b.compound.to_string());
    assert_eq!(r["community_id"], m.b.community.to_string());
    assert_eq!(r["street_id"], m.b.street.to_string());
    assert_eq!(r["moved_out_on"], Value::Null);
    assert_eq!(
        r["moved_in_on"],
        chrono::Utc::now().date_naive().to_string()
    );
    assert_eq!(r["has_account"], true);
    // The old community no longer sees the resident, but still sees its own filing.
    assert_problem(
        m.app.get(&resident_path, &m.staff_a).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(m.app.get(&path, &m.staff_a).await.status(), StatusCode::OK);
    // The account moved with the resident.
    let hh: Value = m
        .app
        .get("/api/v1/me/household", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hh["household_id"], m.b.household.to_string(), "{hh}");

    // Audited in both communities' logs.
    for staff in [&m.staff_a, &m.staff_b] {
        let events: Value = m
            .app
            .get("/api/v1/audit-events?action=transfer_accept", staff)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(events["items"].as_array().unwrap().len(), 1, "{events}");
        assert_eq!(events["items"][0]["resident_id"], rid.to_string());
    }
}

#[tokio::test]
async fn a_refused_or_cancelled_transfer_moves_nobody() {
    let m = three_communities().await;
    let rid = m
        .resident("孙九", "13900000009", &id_number("19600101", 41))
        .await;
    let t = m.file(rid).await;
    let res = m
        .verb(
            &m.staff_b,
            &t,
            "refuse",
            Some(json!({"reason": "查无此户"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let refused: Value = res.json().await.unwrap();
    assert_eq!(refused["status"], "refused");
    assert_eq!(refused["reason"], "查无此户");
    let told = m.messages(&m.staff_a).await;
    assert_eq!(told[0]["event"], "transfer_refused");
    assert!(
        told[0]["body"].as_str().unwrap().contains("查无此户"),
        "{told:?}"
    );
    let outgoing = m
        .items(&m.staff_a, "?direction=outgoing&status=refused")
        .await;
    assert_eq!(outgoing.len(), 1);
    assert_eq!(outgoing[0]["reason"], "查无此户");
    assert!(m.items(&m.staff_b, "?status=pending").await.is_empty());
    let r = m.read(&m.staff_a, rid).await;
    assert_eq!(r["household_id"], m.a.household.to_string());
    assert_eq!(r["moved_out_on"], "2026-11-01");

    // Filed again, then withdrawn by the sending side, which alone may withdraw it.
    let t = m.file(rid).await;
    m.refused(&m.staff_b, &t, "cancel", 403, "forbidden").await;
    let res = m.verb(&m.staff_a, &t, "cancel", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "cancelled");
    m.refused(&m.staff_b, &t, "accept", 409, "transfer_decided")
        .await;
    m.refused(&m.staff_b, &t, "refuse", 409, "transfer_decided")
        .await;
    assert_eq!(m.items(&m.staff_a, "?status=cancelled").await.len(), 1);
    let r = m.read(&m.staff_a, rid).await;
    assert_eq!(r["household_id"], m.a.household.to_string());
    for action in ["transfer_file", "transfer_refuse", "transfer_cancel"] {
        let events: Value = m
            .app
            .get(&format!("/api/v1/audit-events?action={action}"), &m.staff_a)
            .await
            .json()
            .await
            .unwrap();
        assert!(!events["items"].as_array().unwrap().is_empty(), "{action}");
    }
    // A transfer into the household the resident lives in is no transfer.
    let res = m.file_to(rid, m.a.household).await;
    assert_problem(res, 400, "validation_failed").await;
}

#[tokio::test]
async fn concurrent_accepts_move_the_resident_once() {
    let m = three_communities().await;
    let rid = m
        .resident("周十", "13900000010", &id_number("19700101", 51))
        .await;
    let t = m.file(rid).await;
    let results =
        futures_util::future::join_all((0..6).map(|_| m.verb(&m.staff_b, &t, "accept", None)))
            .await;
    let mut statuses: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409, 409, 409, 409, 409]);
    let events: Value = m
        .app
        .get(
            &format!("/api/v1/audit-events?action=transfer_accept&resident_id={rid}"),
            &m.staff_b,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(events["items"].as_array().unwrap().len(), 1, "{events}");
    assert_eq!(m.items(&m.staff_b, "?status=accepted").await.len(), 1);
}

/// An ID number with another area code but the same birth date, sequence and check
/// character as `id`: the same mask, the same birth date and gender.
fn twin_id_number(id: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    (110000..120000)
        .map(|area| format!("{area}{}", &id[6..17]))
        .find_map(|body| {
            let sum: u32 = body
                .bytes()
                .zip(WEIGHTS)
                .map(|(b, w)| u32::from(b - b'0') * w)
                .sum();
            let full = format!("{body}{}", CHECK[(sum % 11) as usize]);
            (full != id && full[14..] == id[14..]).then_some(full)
        })
        .unwrap()
}

/// A response's status and body, without what differs between any two creates.
async fn comparable(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let mut body: Value = res.json().await.unwrap();
    for key in ["id", "created_at", "updated_at", "request_id"] {
        body.as_object_mut().unwrap().remove(key);
    }
    (status, body)
}

// Whether an ID number is registered in another community is not for this one's staff to
// learn: registering it, by hand or by import, answers exactly as for a number registered
// nowhere. (Each community keeps its own roster; moving someone in is a transfer, filed by the
// community that has them.)
#[tokio::test]
async fn staff_cannot_tell_an_id_number_registered_in_another_community_from_an_unknown_one() {
    let m = three_communities().await;
    let elsewhere = id_number("19800808", 61);
    let nowhere = twin_id_number(&elsewhere);
    m.resident("吴一", "13900000011", &elsewhere).await;
    let create = |id: String, room: &'static str| {
        let m = &m;
        async move {
            let hh = m
                .app
                .create(
                    &m.root,
                    "households",
                    json!({"building_id": m.b.building, "unit": "2单元", "room": room}),
                )
                .await;
            m.app
                .post(
                    "/api/v1/residents",
                    &m.staff_b,
                    &json!({"household_id": hh, "name": "吴一", "id_number": id}),
                )
                .await
        }
    };
    let (a, b) = (
        comparable(create(elsewhere.clone(), "201").await).await,
        comparable(create(nowhere.clone(), "202").await).await,
    );
    assert_eq!(a.0, 201);
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("household_id");
        v
    };
    assert_eq!((a.0, strip(a.1)), (b.0, strip(b.1)));

    // By import: the same summary, whether the number is registered elsewhere or nowhere.
    let other = id_number("19810909", 71);
    let other_twin = twin_id_number(&other);
    m.resident("郑二", "13900000012", &other).await;
    let mut summaries = Vec::new();
    for (id, room) in [(&other, "301"), (&other_twin, "302")] {
        let file = csv(
            &["姓名", "身份证号", "楼栋", "单元", "房号"],
            &[vec!["郑二", id.as_str(), "1幢", "3单元", room]],
        );
        let res = upload(&m.app, &m.staff_b, m.b.compound, "r.csv", &file).await;
        summaries.push(comparable(res).await);
    }
    assert_eq!(summaries[0].0, 200);
    assert_eq!(summaries[0], summaries[1]);
    // Within the caller's own roster, a clear conflict.
    let res = m
        .app
        .post(
            "/api/v1/residents",
            &m.staff_b,
            &json!({"household_id": m.b.household, "name": "吴一", "id_number": elsewhere}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn accepting_someone_already_on_the_receiving_roster_is_a_conflict_there_and_moves_nobody() {
    let m = three_communities().await;
    let id = id_number("19550505", 81);
    let rid = m.resident("王十一", "13900000013", &id).await;
    // Registered in the receiving community too (by its own staff, who learn nothing of A).
    let res = m
        .app
        .post(
            "/api/v1/residents",
            &m.staff_b,
            &json!({"household_id": m.b.household, "name": "王十一", "id_number": id}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let t = m.file(rid).await;
    m.refused(&m.staff_b, &t, "accept", 409, "id_number_registered")
        .await;
    // Nothing moved and the transfer is still theirs to refuse.
    let r = m.read(&m.staff_a, rid).await;
    assert_eq!(r["household_id"], m.a.household.to_string());
    assert_eq!(m.items(&m.staff_b, "?status=pending").await.len(), 1);
    let res = m
        .verb(
            &m.staff_b,
            &t,
            "refuse",
            Some(json!({"reason": "已在本社区登记"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}
