//! The ticket ledger (`GET /api/v1/tickets/export`) never hands a spreadsheet a formula: what
//! residents wrote is text, and stays text once someone saves the sheet as CSV.

use serde_json::json;

use crate::helpers::*;
use crate::residents_io::sheet_text;
use crate::ticket_world::*;

/// Every non-empty cell of the first worksheet, as text (what a CSV export would write).
fn all_text(bytes: &[u8]) -> Vec<String> {
    sheet_text(bytes, "%Y-%m-%d %H:%M")
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect()
}

#[tokio::test]
async fn text_a_spreadsheet_would_run_is_written_behind_an_apostrophe() {
    let app = spawn_app().await;
    let w = world(&app, "lf").await;
    let title = "=HYPERLINK(\"http://evil.example/\",\"点我\")";
    let description = "@SUM(1+1)*cmd|' /C calc'!A0";
    let mut body = ticket_body(&w, title);
    body["description"] = json!(description);
    let t = accepted_ticket(&app, &w, "+1 楼道灯").await;
    act_ok(
        &app,
        &w.property,
        &t["id"],
        "resolve",
        json!({"note": "已修好"}),
    )
    .await;
    act_ok(
        &app,
        &w.resident,
        &t["id"],
        "confirm",
        json!({"rating": 5, "comment": "-2+3 好评"}),
    )
    .await;
    file(&app, &w.resident, &body).await;

    let res = app.get("/api/v1/tickets/export", &w.staff).await;
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    let rows = sheet_text(&bytes, "%Y-%m-%d %H:%M");
    let header = &rows[0];
    let col = |title: &str| header.iter().position(|h| h == title).unwrap();
    assert_eq!(rows[1][col("标题")], "'+1 楼道灯");
    assert_eq!(rows[1][col("评价")], "'-2+3 好评");
    assert_eq!(rows[2][col("标题")], format!("'{title}"));
    assert_eq!(rows[2][col("内容")], format!("'{description}"));
    // Nothing else in the file starts like a formula.
    for s in all_text(&bytes) {
        assert!(
            !s.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "a formula in the ledger: {s:?}"
        );
    }
}
