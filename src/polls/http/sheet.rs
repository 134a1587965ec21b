//! The result sheet of a closed poll (.xlsx): the poll, its rules, the counts (E, P, A, late
//! additions, the roll's size and hash), then one row per option with its votes and rank.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use rust_xlsxwriter::{Format, Workbook};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::AuthUser;
use crate::platform::cell_text::neutralize;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http::XLSX_CONTENT_TYPE;
use crate::platform::state::AppState;
use crate::polls::model;
use crate::polls::query::{self, PollResponse};
use crate::polls::service::tally::PollResults;

/// A poll's result sheet: an .xlsx workbook.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct PollResultSheet(Vec<u8>);

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::internal(anyhow::anyhow!("writing the result sheet failed: {e}"))
}

fn fraction(num: i32, den: i32, strict: bool) -> String {
    if den == 0 {
        "无".to_string()
    } else if strict {
        format!("超过 {num}/{den}")
    } else {
        format!("{num}/{den} 以上（含）")
    }
}

/// The workbook of poll `p` with results `r`.
pub fn write_sheet(p: &PollResponse, r: &PollResults) -> AppResult<Vec<u8>> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("投票结果").map_err(xlsx_error)?;
    ws.set_column_width(0, 24).map_err(xlsx_error)?;
    ws.set_column_width(1, 40).map_err(xlsx_error)?;
    let rules = &p.rules;
    let facts: Vec<(&str, String)> = vec![
        ("投票", p.summary.title.clone()),
        ("状态", model::status_label(p.summary.status).to_string()),
        ("结果", model::outcome_label(r.outcome).to_string()),
        (
            "法定人数",
            fraction(rules.quorum_num, rules.quorum_den, rules.quorum_strict),
        ),
        (
            "是否达到法定人数",
            if r.quorum_met { "是" } else { "否" }.to_string(),
        ),
        (
            "通过比例",
            fraction(
                rules.threshold_num,
                rules.threshold_den,
                rules.threshold_strict,
            ),
        ),
        ("有投票权人数（E）", r.eligible.to_string()),
        ("参加人数（P）", r.participants.to_string()),
        ("弃权及空白（A）", r.abstentions.to_string()),
        ("开始后增补", r.late_additions.to_string()),
        (
            "名册人数",
            r.roll_size.map(|n| n.to_string()).unwrap_or_default(),
        ),
        (
            "名册哈希（SHA-256）",
            r.roll_sha256.clone().unwrap_or_default(),
        ),
        ("计票编号", r.tally_id.to_string()),
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
    for (col, title) in ["题目", "选项", "票数", "名次"].iter().enumerate() {
        ws.write_string_with_format(row, col as u16, *title, &bold)
            .map_err(xlsx_error)?;
    }
    for q in &r.questions {
        for o in &q.options {
            row += 1;
            ws.write_string(row, 0, neutralize(&q.title))
                .map_err(xlsx_error)?;
            ws.write_string(row, 1, neutralize(&o.label))
                .map_err(xlsx_error)?;
            ws.write_number(row, 2, o.votes).map_err(xlsx_error)?;
            if !o.is_abstain {
                ws.write_number(row, 3, o.rank).map_err(xlsx_error)?;
            }
        }
        row += 1;
        ws.write_string(row, 0, neutralize(&q.title))
            .map_err(xlsx_error)?;
        ws.write_string(row, 1, "（空白）").map_err(xlsx_error)?;
        ws.write_number(row, 2, q.blank).map_err(xlsx_error)?;
    }
    wb.save_to_buffer().map_err(xlsx_error)
}

/// The result sheet of a closed poll (.xlsx), for whoever may read the poll.
#[utoipa::path(tag = "polls", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The workbook (`Content-Disposition: attachment; filename=\"poll-<id>.xlsx\"`)",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            body = PollResultSheet),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not closed yet (`wrong_status`)"),
    ))]
#[get("/polls/{id}/results.xlsx")]
pub async fn get_poll_result_sheet(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let r = query::results(&state.db, &user, *id).await?;
    let p = query::get(&state.db, &user, *id, state.clock.now()).await?;
    let bytes = tokio::task::spawn_blocking(move || write_sheet(&p, &r))
        .await
        .map_err(|e| {
            AppError::internal(anyhow::anyhow!("writing the sheet was cancelled: {e}"))
        })??;
    Ok(HttpResponse::Ok()
        .content_type(XLSX_CONTENT_TYPE)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"poll-{}.xlsx\"", *id),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}
