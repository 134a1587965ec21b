//! The 协商台账: the proposals a staff member may read as an .xlsx workbook, one row per
//! proposal, oldest first; audited (`proposal_export`). People appear as everyone reads them
//! ("3栋 王*"), never a phone or an ID number; residents' words that a spreadsheet would run as
//! a formula are neutralised; the comment count is of visible comments only (§A2 rule 4).

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rust_xlsxwriter::{Format, Workbook};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::access::policy::{can_anywhere, Action};
use crate::access::Actor;
use crate::deliberation::model::SubjectKind;
use crate::deliberation::query::counts::visible_totals_in;
use crate::platform::audit;
use crate::platform::cell_text::neutralize;
use crate::platform::error::{AppError, AppResult, FieldCode};
use crate::proposals::model::{step_label, tier_label, Step};
use crate::proposals::query::{names_of, stats::reach};
use entity::proposal;

/// At most this many proposals in one workbook.
pub const EXPORT_MAX_ROWS: u64 = 50_000;

/// The columns, in order.
pub const HEADER: [&str; 19] = [
    "编号",
    "标题",
    "范围",
    "类别",
    "分级",
    "步骤",
    "提出日期",
    "附议户数",
    "评论数(可见)",
    "决策结果",
    "预算(元)",
    "已筹(元)",
    "已拨(元)",
    "负责人",
    "完成日期",
    "满意度(%)",
    "回头看日期",
    "提议人",
    "转交诉求编号",
];

/// One row: the proposal, the name of its place, its visible comments.
pub struct Row {
    pub p: proposal::Model,
    pub scope_name: String,
    pub comments: i64,
}

/// Whether the caller keeps the consultation's records: those who record proposals on
/// residents' behalf (administrators, community staff, grid managers, council members,
/// building and street leaders); never residents or property staff.
pub fn may_export(actor: &Actor) -> bool {
    can_anywhere(actor, Action::ProposalCreateOnBehalf)
}

/// The decision as the ledger reads it, from the step the proposal reached.
fn decision_label(s: Step) -> &'static str {
    match s {
        Step::Deciding => "表决中",
        Step::Raising | Step::Implementing | Step::Evaluating | Step::Closed => "通过",
        Step::Failed => "未通过",
        Step::Referred => "转交街道",
        _ => "",
    }
}

fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let f = fen.unsigned_abs();
    format!("{sign}{}.{:02}", f / 100, f % 100)
}

/// The day `at` falls on in China.
pub fn cst_date(at: DateTime<Utc>) -> NaiveDate {
    FixedOffset::east_opt(8 * 3600)
        .map(|cst| at.with_timezone(&cst).date_naive())
        .unwrap_or_else(|| at.date_naive())
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::internal(anyhow::anyhow!("writing the 协商台账 failed: {e}"))
}

/// The workbook of `rows`: a header, then one row per proposal, every cell text (dates as
/// YYYY-MM-DD, amounts in yuan with two decimals, so no spreadsheet rounds them).
pub fn workbook(rows: &[Row]) -> AppResult<Vec<u8>> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let ws = wb.add_worksheet();
    ws.set_name("协商台账").map_err(xlsx_error)?;
    for (col, title) in HEADER.iter().enumerate() {
        let col = col as u16;
        ws.write_string_with_format(0, col, *title, &bold)
            .map_err(xlsx_error)?;
        let width = match col {
            0 | 18 => 38,
            1 => 24,
            2 | 13 | 17 => 14,
            _ => 11,
        };
        ws.set_column_width(col, width).map_err(xlsx_error)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    for (i, r) in rows.iter().enumerate() {
        let row = u32::try_from(i + 1).map_err(AppError::internal)?;
        let p = &r.p;
        let mut put = |col: u16, v: Option<String>| -> AppResult<()> {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                ws.write_string_with_format(row, col, neutralize(&v), &text)
                    .map_err(xlsx_error)?;
            }
            Ok(())
        };
        put(0, Some(p.id.to_string()))?;
        put(1, Some(p.title.clone()))?;
        put(2, Some(r.scope_name.clone()))?;
        put(3, Some(p.category.clone()))?;
        put(4, Some(tier_label(p.tier).to_string()))?;
        put(5, Some(step_label(p.step).to_string()))?;
        put(6, Some(cst_date(p.created_at).to_string()))?;
        put(7, Some(p.supporters_count.to_string()))?;
        put(8, Some(r.comments.to_string()))?;
        put(9, Some(decision_label(p.step).to_string()))?;
        put(10, Some(yuan(p.budget_fen)))?;
        put(11, Some(yuan(p.received_fen)))?;
        put(12, Some(yuan(p.allocated_fen)))?;
        put(13, p.lead_display.clone())?;
        put(14, p.completed_at.map(|d| cst_date(d).to_string()))?;
        put(15, p.satisfaction_pct.map(|s| s.to_string()))?;
        put(16, p.review_on.map(|d| d.to_string()))?;
        put(17, Some(p.author_display.clone()))?;
        put(18, p.referred_ticket_id.map(|t| t.to_string()))?;
    }
    wb.save_to_buffer().map_err(xlsx_error)
}

/// The rows of the proposals the caller may read (within `community_id`), oldest first: one
/// statement for the proposals, one for the names of their places, one grouped count of
/// comments per 500 proposals. 400 `too_many_rows` past [`EXPORT_MAX_ROWS`].
async fn rows<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    community_id: Option<Uuid>,
) -> AppResult<Vec<Row>> {
    let within = reach(db, actor, community_id).await?;
    let ps = proposal::Entity::find()
        .filter(within)
        .order_by_asc(proposal::Column::Id)
        .limit(EXPORT_MAX_ROWS + 1)
        .all(db)
        .await?;
    if ps.len() as u64 > EXPORT_MAX_ROWS {
        return Err(AppError::invalid(
            "community_id",
            FieldCode::TooManyRows,
            crate::text!(
                "议题超过 {} 个，请按社区分别导出",
                "more than {} proposals; export one community at a time",
                EXPORT_MAX_ROWS
            ),
        ));
    }
    let names = names_of(db, &ps.iter().collect::<Vec<_>>()).await?;
    let ids: Vec<Uuid> = ps.iter().map(|p| p.id).collect();
    let comments: HashMap<Uuid, i64> = visible_totals_in(db, SubjectKind::Proposal, &ids).await?;
    Ok(ps
        .into_iter()
        .map(|p| Row {
            scope_name: names.get(&p.scope_id).cloned().unwrap_or_default(),
            comments: comments.get(&p.id).copied().unwrap_or(0),
            p,
        })
        .collect())
}

/// The 协商台账 for a caller who keeps the records (403 otherwise), written to the audit log
/// before it leaves: the bytes and the number of proposals.
pub async fn export<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    community_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<(Vec<u8>, usize)> {
    if !may_export(actor) {
        return Err(AppError::Forbidden);
    }
    let rows = rows(db, actor, community_id).await?;
    let count = rows.len();
    // The street and community of the audit event: the one all rows share, if they do.
    let shared = |f: fn(&proposal::Model) -> Uuid| {
        let first = rows.first().map(|r| f(&r.p));
        first.filter(|v| rows.iter().all(|r| f(&r.p) == *v))
    };
    let (street_id, community) = (shared(|p| p.street_id), shared(|p| p.community_id));
    let bytes = tokio::task::spawn_blocking(move || workbook(&rows))
        .await
        .map_err(|e| {
            AppError::internal(anyhow::anyhow!("writing the 协商台账 was cancelled: {e}"))
        })??;
    let detail = serde_json::json!({"rows": count, "community_id": community_id});
    // Written before the file leaves: no audit record, no export.
    audit::record(
        db,
        audit::Event {
            actor: actor.into(),
            action: audit::Action::ProposalExport,
            street_id,
            community_id: community_id.or(community),
            resident_id: None,
            field: None,
            purpose: "协商台账 export",
            detail: Some(detail.to_string()),
        },
        now,
    )
    .await?;
    Ok((bytes, count))
}
