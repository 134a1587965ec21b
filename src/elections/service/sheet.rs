//! An election's result sheet (.xlsx) once its results are published (or the election voided at
//! publication): the election, its rules, E and P, validity, the roll's size and hash, the
//! certifying officers, then one row per candidate with votes, rank and outcome. For those who
//! run the election (staff within reach, its officers); every download is audited.

use chrono::{DateTime, Utc};
use rust_xlsxwriter::{Format, Workbook};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::access::Actor;
use crate::elections::engine;
use crate::elections::model::{self, CandidateStatus, Rules};
use crate::elections::query::{self, ElectionResponse, ElectionResultsResponse};
use crate::elections::service::audit_step;
use crate::platform::audit::Action as Audited;
use crate::platform::cell_text::neutralize;
use crate::platform::error::{AppError, AppResult};

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::internal(anyhow::anyhow!("writing the result sheet failed: {e}"))
}

fn share(num: i32, den: i32, strict: bool) -> String {
    if strict {
        format!("超过 {num}/{den}")
    } else {
        format!("{num}/{den} 以上（含）")
    }
}

fn outcome(s: CandidateStatus) -> &'static str {
    match s {
        CandidateStatus::Elected => "当选",
        CandidateStatus::NotElected => "未当选",
        CandidateStatus::Runoff => "另行选举",
        _ => "",
    }
}

/// What the sheet says besides the results: the roll's size and hash and the count's id.
struct Facts {
    roll_size: Option<i32>,
    roll_sha256: Option<String>,
    tally_id: Option<Uuid>,
}

fn workbook(e: &ElectionResponse, r: &ElectionResultsResponse, f: &Facts) -> AppResult<Vec<u8>> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("选举结果").map_err(xlsx_error)?;
    ws.set_column_width(0, 24).map_err(xlsx_error)?;
    ws.set_column_width(1, 40).map_err(xlsx_error)?;
    let rules: &Rules = &e.rules;
    let time = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    };
    let officers: Vec<String> = e.officers.iter().map(|o| o.display_name.clone()).collect();
    let facts: Vec<(&str, String)> = vec![
        ("选举", e.title.clone()),
        ("状态", model::status_label(r.status).to_string()),
        (
            "选举有效条件（参加人数）",
            share(
                rules.validity_num,
                rules.validity_den,
                rules.validity_strict,
            ),
        ),
        (
            "当选条件（得票）",
            share(rules.win_num, rules.win_den, rules.win_strict),
        ),
        ("登记选民（E）", r.registered.to_string()),
        ("参加投票（P）", r.participants.to_string()),
        (
            "选举是否有效",
            if r.validity_met { "是" } else { "否" }.to_string(),
        ),
        (
            "名册人数",
            f.roll_size.map(|n| n.to_string()).unwrap_or_default(),
        ),
        (
            "名册哈希（SHA-256）",
            f.roll_sha256.clone().unwrap_or_default(),
        ),
        (
            "计票编号",
            f.tally_id.map(|t| t.to_string()).unwrap_or_default(),
        ),
        ("选举工作人员", officers.join("、")),
        ("确认时间", time(e.certified_at)),
        ("公布时间", time(e.published_at)),
    ];
    let mut row: u32 = 0;
    for (k, v) in facts {
        ws.write_string_with_format(row, 0, k, &bold)
            .map_err(xlsx_error)?;
        ws.write_string(row, 1, neutralize(&v))
            .map_err(xlsx_error)?;
        row += 1;
    }
    row += 1;
    for (col, title) in ["职务", "候选人", "得票", "名次", "结果"]
        .iter()
        .enumerate()
    {
        ws.write_string_with_format(row, col as u16, *title, &bold)
            .map_err(xlsx_error)?;
    }
    for p in &r.positions {
        for c in &p.candidates {
            row += 1;
            ws.write_string(row, 0, neutralize(&p.position))
                .map_err(xlsx_error)?;
            ws.write_string(row, 1, neutralize(&c.display_name))
                .map_err(xlsx_error)?;
            ws.write_number(row, 2, c.votes.unwrap_or(0))
                .map_err(xlsx_error)?;
            if let Some(rank) = c.rank {
                ws.write_number(row, 3, rank).map_err(xlsx_error)?;
            }
            ws.write_string(row, 4, outcome(c.status))
                .map_err(xlsx_error)?;
        }
    }
    wb.save_to_buffer().map_err(xlsx_error)
}

/// The result sheet of election `id` for a caller who runs it (404 unless readable and past
/// publication, 403 unless staff within reach or an officer), written to the audit log before
/// it leaves.
pub async fn result_sheet<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Vec<u8>> {
    let e = query::run_by(db, caller, id).await?;
    let results = query::results(db, caller, id).await?;
    let facts = match e.poll_id {
        Some(p) => {
            let (roll_size, roll_sha256, tally_id) = engine::roll_facts(db, p).await?;
            Facts {
                roll_size,
                roll_sha256,
                tally_id,
            }
        }
        None => Facts {
            roll_size: None,
            roll_sha256: None,
            tally_id: None,
        },
    };
    let shown = query::respond(db, e.clone()).await?;
    let bytes = tokio::task::spawn_blocking(move || workbook(&shown, &results, &facts))
        .await
        .map_err(|e| {
            AppError::internal(anyhow::anyhow!("writing the sheet was cancelled: {e}"))
        })??;
    audit_step(
        db,
        caller.into(),
        Audited::ElectionResultsExport,
        &e,
        "results.xlsx",
        None,
        serde_json::json!({"bytes": bytes.len()}),
        now,
    )
    .await?;
    Ok(bytes)
}
