//! The 自治金台账: an account's ledger as an .xlsx workbook, for staff who keep it; audited.

use chrono::{DateTime, FixedOffset, Utc};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::access::{Action, Actor};
use crate::funds::model::{self, EXPORT_MAX_ROWS};
use crate::funds::{policy, query};
use crate::platform::audit;
use crate::platform::cell_text::neutralize;
use crate::platform::error::{AppError, AppResult};
use entity::fund_entry;

/// The columns, in order.
pub const HEADER: [&str; 14] = [
    "序号",
    "发生日期",
    "记账时间",
    "类型",
    "公示名称",
    "对方名称",
    "金额（元）",
    "余额（元）",
    "摘要",
    "冲正记录序号",
    "记账人",
    "前一哈希",
    "哈希",
    "释放预留（元）",
];

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::internal(anyhow::anyhow!("writing the fund ledger failed: {e}"))
}

/// The workbook of `rows` (one account's entries, oldest first) under the sheet name `name`
/// (cut to what a sheet name takes). Amounts are text in yuan with two decimals, so no
/// spreadsheet rounds them; names and memos that would run as formulas are neutralised.
pub fn workbook(name: &str, rows: &[fund_entry::Model]) -> AppResult<Vec<u8>> {
    let cst = FixedOffset::east_opt(8 * 3600)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("UTC+8 is a valid offset")))?;
    let offset = i64::from(cst.local_minus_utc());
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let ws = wb.add_worksheet();
    let sheet: String = format!("自治金台账 {name}")
        .chars()
        .filter(|c| !"[]:*?/\\'".contains(*c))
        .take(31)
        .collect();
    ws.set_name(sheet.trim()).map_err(xlsx_error)?;
    for (col, title) in HEADER.iter().enumerate() {
        let col = col as u16;
        ws.write_string_with_format(0, col, *title, &bold)
            .map_err(xlsx_error)?;
        ws.set_column_width(col, if col == 11 || col == 12 { 66 } else { 14 })
            .map_err(xlsx_error)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    let seq_of: std::collections::HashMap<uuid::Uuid, i64> =
        rows.iter().map(|e| (e.id, e.seq)).collect();
    for (i, e) in rows.iter().enumerate() {
        let row = u32::try_from(i + 1).map_err(AppError::internal)?;
        let mut put = |col: u16, v: Option<&str>| -> AppResult<()> {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                ws.write_string_with_format(row, col, neutralize(v), &text)
                    .map_err(xlsx_error)?;
            }
            Ok(())
        };
        put(0, Some(&e.seq.to_string()))?;
        put(1, e.occurred_on.map(|d| d.to_string()).as_deref())?;
        put(3, Some(model::entry_kind_label(e.kind)))?;
        put(4, e.public_name.as_deref())?;
        put(5, e.counterparty_name.as_deref())?;
        put(6, Some(&model::yuan(e.amount_fen)))?;
        put(7, Some(&model::yuan(e.balance_after_fen)))?;
        put(8, e.memo.as_deref())?;
        put(
            9,
            e.reverses_entry_id
                .and_then(|r| seq_of.get(&r))
                .map(|s| s.to_string())
                .as_deref(),
        )?;
        put(10, Some(&e.recorded_by_name))?;
        put(11, Some(&e.prev_hash))?;
        put(12, Some(&e.hash))?;
        put(13, e.released_fen.map(model::yuan).as_deref())?;
        let dt =
            ExcelDateTime::from_timestamp(e.created_at.timestamp() + offset).map_err(xlsx_error)?;
        ws.write_datetime_with_format(row, 2, &dt, &when)
            .map_err(xlsx_error)?;
    }
    wb.save_to_buffer().map_err(xlsx_error)
}

/// The workbook of account `id` for a caller who keeps it (404 unless they may read it, 403
/// unless they record funds there), written to the audit log before it leaves: the bytes and
/// the number of entries.
pub async fn export<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<(Vec<u8>, usize)> {
    let a = policy::authorized(db, actor, id, Action::FundRecord).await?;
    let rows = query::export_rows(db, a.id, EXPORT_MAX_ROWS).await?;
    let count = rows.len();
    let name = a.name.clone();
    let bytes = tokio::task::spawn_blocking(move || workbook(&name, &rows))
        .await
        .map_err(|e| {
            AppError::internal(anyhow::anyhow!(
                "writing the fund ledger was cancelled: {e}"
            ))
        })??;
    let detail = serde_json::json!({"account_id": a.id, "rows": count});
    super::audit_move(
        db,
        actor,
        audit::Action::FundExport,
        &a,
        "fund ledger export",
        detail,
        now,
    )
    .await?;
    Ok((bytes, count))
}
