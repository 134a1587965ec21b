//! Staff reports over tickets: the stats (`GET /tickets/stats`) and the ledger export
//! (`GET /tickets/export`, .xlsx). Both select exactly what the list would with the same filters.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, FixedOffset, Utc};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::views::{parse_priority, parse_statuses};
use crate::access::policy::{self, Action};
use crate::access::AuthUser;
use crate::platform::audit;
use crate::platform::cell_text::neutralize;
use crate::platform::error::FieldCode;
use crate::platform::error::{AppError, AppResult, FieldError};
use crate::platform::http::extract::Query;
use crate::platform::http::XLSX_CONTENT_TYPE;
use crate::platform::state::AppState;
use crate::tickets::model::{status_label, Priority, Status};
use crate::tickets::query::stats::{self as ticket_stats, NamedCount};
use crate::tickets::query::views::{self as ticket_views, Filter, LedgerRow, MAX_EXPORT_ROWS};

/// The filters of the stats and the export: the list's, plus a period on `created_at`.
// The list's fields are repeated rather than flattened in: serde's `flatten` cannot be combined
// with `deny_unknown_fields`, and unknown query parameters must stay a 400.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TicketReportQuery {
    /// One status or several, comma-separated (`submitted,triaged`).
    #[param(value_type = Option<Vec<Status>>, style = Form, explode = false, min_items = 1)]
    pub status: Option<String>,
    /// `green`, `orange` or `red`.
    #[param(value_type = Option<Priority>)]
    pub priority: Option<String>,
    /// `true`: open and past the deadline; `false`: everything else.
    pub overdue: Option<bool>,
    pub category_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    /// Filed at or after this time (RFC 3339, e.g. `2026-01-01T00:00:00+08:00`; encode `+` as
    /// `%2B`). Not after `to`.
    #[param(value_type = Option<DateTime<Utc>>)]
    pub from: Option<String>,
    /// Filed before this time (RFC 3339, exclusive).
    #[param(value_type = Option<DateTime<Utc>>)]
    pub to: Option<String>,
}

fn parse_time(field: &str, v: Option<&str>) -> AppResult<Option<DateTime<Utc>>> {
    v.map(|s| {
        DateTime::parse_from_rfc3339(s.trim())
            .map(|d| d.with_timezone(&Utc))
            .map_err(|_| {
                AppError::InvalidQuery(vec![FieldError::of(
                    field,
                    FieldCode::Invalid,
                    crate::platform::lang::Text::new(
                        "应为带时区的 RFC 3339 时间，例如 2026-01-01T00:00:00+08:00（+ 须编码为 %2B）",
                        "an RFC 3339 time with offset, e.g. 2026-01-01T00:00:00+08:00 (encode + as %2B)",
                    ),
                )])
            })
    })
    .transpose()
}

impl TicketReportQuery {
    fn filter(&self) -> AppResult<Filter> {
        let from = parse_time("from", self.from.as_deref())?;
        let to = parse_time("to", self.to.as_deref())?;
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(AppError::InvalidQuery(vec![FieldError::of(
                    "from",
                    FieldCode::Invalid,
                    crate::platform::lang::Text::new(
                        "开始时间不能晚于结束时间",
                        "from must not be after to",
                    ),
                )]));
            }
        }
        Ok(Filter {
            statuses: parse_statuses(self.status.as_deref())?,
            priority: parse_priority(self.priority.as_deref())?,
            overdue: self.overdue,
            category_id: self.category_id,
            community_id: self.community_id,
            compound_id: self.compound_id,
            building_id: self.building_id,
            created_from: from,
            created_to: to,
            ..Default::default()
        })
    }
}

/// Staff only: residents see their own tickets, and a report of one's own tickets is no report.
fn authorize(user: &AuthUser) -> AppResult<()> {
    if policy::can_anywhere(user, Action::TicketRead) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Tickets in one status.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusCount {
    pub status: Status,
    /// The status in Chinese (已提交, 已受理, …).
    pub label: String,
    pub count: u64,
}

/// Tickets of one colour.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriorityCount {
    /// Null: not triaged yet (no colour).
    pub priority: Option<Priority>,
    /// 绿色, 橙色, 红色 or 未分级.
    pub label: String,
    pub count: u64,
}

/// Tickets in one category.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryCount {
    pub category_id: Uuid,
    pub name: String,
    pub count: u64,
}

/// Tickets in one compound.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompoundCount {
    pub compound_id: Uuid,
    pub name: String,
    pub count: u64,
}

/// Aggregates over the tickets the filters select within the caller's scope.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketStatsResponse {
    /// Tickets selected.
    pub total: u64,
    /// Every status in workflow order, zeros included.
    pub by_status: Vec<StatusCount>,
    /// Green, orange, red, then untriaged (`priority` null), zeros included.
    pub by_priority: Vec<PriorityCount>,
    /// Categories with at least one ticket, most first.
    pub by_category: Vec<CategoryCount>,
    /// Compounds with at least one ticket, most first.
    pub by_compound: Vec<CompoundCount>,
    /// Tickets in status `closed` (confirmed by the requester or closed automatically).
    pub closed: u64,
    /// Closed tickets that had a due date (green and orange) and closed by it.
    pub closed_on_time: u64,
    /// `closed_on_time` over the closed tickets that had a due date, 0 to 1; null when none had
    /// one.
    pub on_time_rate: Option<f64>,
    /// Mean rating (1–5) of the rated tickets; null when none is rated.
    pub average_rating: Option<f64>,
    /// Mean hours from filing to closing over the closed tickets; null when none is closed.
    pub average_hours_to_close: Option<f64>,
    /// Open tickets past their due date or follow-up date.
    pub overdue_open: u64,
}

fn priority_label(p: Option<Priority>) -> &'static str {
    match p {
        Some(Priority::Green) => "绿色",
        Some(Priority::Orange) => "橙色",
        Some(Priority::Red) => "红色",
        None => "未分级",
    }
}

impl From<ticket_stats::TicketStats> for TicketStatsResponse {
    fn from(s: ticket_stats::TicketStats) -> Self {
        let on_time_rate = s.on_time_rate();
        let named = |v: Vec<NamedCount>| v.into_iter().map(|c| (c.id, c.name, c.count));
        Self {
            total: s.total,
            by_status: s
                .by_status
                .into_iter()
                .map(|(status, count)| StatusCount {
                    status,
                    label: status_label(status).to_string(),
                    count,
                })
                .collect(),
            by_priority: s
                .by_priority
                .into_iter()
                .map(|(priority, count)| PriorityCount {
                    priority,
                    label: priority_label(priority).to_string(),
                    count,
                })
                .collect(),
            by_category: named(s.by_category)
                .map(|(category_id, name, count)| CategoryCount {
                    category_id,
                    name,
                    count,
                })
                .collect(),
            by_compound: named(s.by_compound)
                .map(|(compound_id, name, count)| CompoundCount {
                    compound_id,
                    name,
                    count,
                })
                .collect(),
            closed: s.closed,
            closed_on_time: s.closed_on_time,
            on_time_rate,
            average_rating: s.average_rating,
            average_hours_to_close: s.average_hours_to_close,
            overdue_open: s.overdue_open,
        }
    }
}

/// Ticket stats by status, colour, category and compound, with on-time and closure figures.
#[utoipa::path(tag = "tickets", security(("bearer" = [])), params(TicketReportQuery),
    responses(
        (status = 200, body = TicketStatsResponse),
        (status = 400, description = "Invalid filter, or `from` after `to`"),
        (status = 403, description = "Not staff: residents have no ticket reports"),
    ))]
#[get("/tickets/stats")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn get_ticket_stats(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<TicketReportQuery>,
) -> AppResult<HttpResponse> {
    authorize(&user)?;
    let f = q.filter()?;
    let s = ticket_stats::stats(&state.db, &user, &f, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(TicketStatsResponse::from(s)))
}

/// The ledger: an .xlsx workbook.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct TicketLedgerFile(Vec<u8>);

/// The ledger's columns, in order.
pub const LEDGER_HEADER: [&str; 17] = [
    "编号",
    "提交时间",
    "小区",
    "楼栋",
    "类别",
    "标题",
    "内容",
    "颜色",
    "状态",
    "期限",
    "办结时间",
    "关闭时间",
    "是否按期",
    "评分",
    "评价",
    "自动关闭",
    "催办次数",
];

/// China Standard Time (UTC+8 all year): the ledger is read by local staff.
fn cst() -> AppResult<FixedOffset> {
    FixedOffset::east_opt(8 * 3600)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("UTC+8 is a valid offset")))
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::internal(anyhow::anyhow!("writing the ledger failed: {e}"))
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "是"
    } else {
        "否"
    }
}

/// The ledger as an .xlsx workbook: a header row, then one row per ticket. Times are date-time
/// cells in China Standard Time. Titles, descriptions and feedback are residents' own words:
/// any that a spreadsheet would run as a formula are written behind an apostrophe.
pub fn write_ledger(rows: &[LedgerRow]) -> AppResult<Vec<u8>> {
    let offset = i64::from(cst()?.local_minus_utc());
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let ws = wb.add_worksheet();
    ws.set_name("诉求台账").map_err(xlsx_error)?;
    for (col, title) in LEDGER_HEADER.iter().enumerate() {
        let col = col as u16;
        ws.write_string_with_format(0, col, *title, &bold)
            .map_err(xlsx_error)?;
        let width = match col {
            0 => 38,
            1 | 9 | 10 | 11 => 17,
            5 => 24,
            6 | 14 => 40,
            _ => 10,
        };
        ws.set_column_width(col, width).map_err(xlsx_error)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    for (i, r) in rows.iter().enumerate() {
        let row = u32::try_from(i + 1).map_err(AppError::internal)?;
        let t = &r.ticket;
        let mut put = |col: u16, v: Option<&str>| -> AppResult<()> {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                ws.write_string_with_format(row, col, neutralize(v), &text)
                    .map_err(xlsx_error)?;
            }
            Ok(())
        };
        put(0, Some(&t.id.to_string()))?;
        put(2, Some(&r.compound))?;
        put(3, r.building.as_deref())?;
        put(4, Some(&r.category))?;
        put(5, Some(&t.title))?;
        put(6, Some(&t.description))?;
        put(7, t.priority.map(|p| priority_label(Some(p))))?;
        put(8, Some(status_label(t.status)))?;
        put(12, t.on_time().map(yes_no))?;
        put(14, t.feedback.as_deref())?;
        put(15, Some(yes_no(t.auto_closed)))?;
        for (col, at) in [
            (1, Some(t.created_at)),
            (9, t.due_at),
            (10, t.resolved_at),
            (11, t.closed_at),
        ] {
            if let Some(at) = at {
                let dt =
                    ExcelDateTime::from_timestamp(at.timestamp() + offset).map_err(xlsx_error)?;
                ws.write_datetime_with_format(row, col, &dt, &when)
                    .map_err(xlsx_error)?;
            }
        }
        if let Some(rating) = t.rating {
            ws.write_number(row, 13, rating).map_err(xlsx_error)?;
        }
        ws.write_number(row, 16, t.urge_count).map_err(xlsx_error)?;
    }
    wb.save_to_buffer().map_err(xlsx_error)
}

/// Export the ticket ledger (.xlsx) of the tickets the filters select; audited.
///
/// One row per ticket, oldest first, without the requester's name or contact. At most 50,000
/// tickets: narrow the filter for more. Every export is written to the audit log
/// (`tickets_export`).
#[utoipa::path(tag = "tickets", security(("bearer" = [])), params(TicketReportQuery),
    responses(
        (status = 200, description = "The workbook (`Content-Disposition: attachment; filename=\"tickets-YYYYMMDD.xlsx\"`)",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            body = TicketLedgerFile),
        (status = 400, description = "Invalid filter, `from` after `to`, or more than 50,000 \
            tickets selected (`too_many_rows`)"),
        (status = 403, description = "Not staff: residents have no ticket reports"),
    ))]
#[get("/tickets/export")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn export_tickets(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<TicketReportQuery>,
) -> AppResult<HttpResponse> {
    authorize(&user)?;
    let f = q.filter()?;
    let now = state.clock.now();
    let ledger = ticket_views::export_rows(&state.db, &user, &f, now, MAX_EXPORT_ROWS).await?;
    let count = ledger.rows.len();
    let rows = ledger.rows;
    let bytes = tokio::task::spawn_blocking(move || write_ledger(&rows))
        .await
        .map_err(|e| {
            AppError::internal(anyhow::anyhow!("writing the ledger was cancelled: {e}"))
        })??;
    let detail = serde_json::json!({
        "rows": count,
        "status": q.status,
        "priority": q.priority,
        "overdue": q.overdue,
        "category_id": q.category_id,
        "community_id": q.community_id,
        "compound_id": q.compound_id,
        "building_id": q.building_id,
        "from": f.created_from,
        "to": f.created_to,
    });
    let (street_id, community_id) = (ledger.street_id, ledger.community_id);
    // Written before the file leaves: no audit record, no export.
    let event = audit::record(
        &state.db,
        audit::Event {
            actor: (&user).into(),
            action: audit::Action::TicketsExport,
            street_id,
            community_id,
            resident_id: None,
            field: None,
            purpose: "ticket ledger export",
            detail: Some(detail.to_string()),
        },
        state.clock.now(),
    )
    .await?;
    tracing::info!(rows = count, audit_event = %event, "tickets exported");
    let filename = format!(
        "attachment; filename=\"tickets-{}.xlsx\"",
        now.with_timezone(&cst()?).format("%Y%m%d")
    );
    Ok(HttpResponse::Ok()
        .content_type(XLSX_CONTENT_TYPE)
        .insert_header((header::CONTENT_DISPOSITION, filename))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_after_to_is_rejected_and_equal_is_an_empty_period() {
        let q = |from: &str, to: &str| TicketReportQuery {
            status: None,
            priority: None,
            overdue: None,
            category_id: None,
            community_id: None,
            compound_id: None,
            building_id: None,
            from: Some(from.into()),
            to: Some(to.into()),
        };
        assert!(q("2026-02-01T00:00:00+08:00", "2026-01-01T00:00:00+08:00")
            .filter()
            .is_err());
        let f = q("2026-01-01T00:00:00+08:00", "2026-01-01T00:00:00+08:00")
            .filter()
            .unwrap();
        assert_eq!(f.created_from, f.created_to);
        assert!(q("yesterday", "2026-01-01T00:00:00Z").filter().is_err());
    }
}
