//! Reports over proposals: the figures (`GET /proposals/stats`) and the 协商台账
//! (`GET /proposals/export`, .xlsx, audited). Both cover what the list would: the proposals the
//! caller may read, within one community when asked.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AuthUser;
use crate::platform::error::AppResult;
use crate::platform::http::extract::Query;
use crate::platform::http::XLSX_CONTENT_TYPE;
use crate::platform::state::AppState;
use crate::proposals::query::stats::{self, ProposalStatsResponse};
use crate::proposals::service::export;

/// Within one community (of the caller's reach; another's counts nothing).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProposalReportQuery {
    pub community_id: Option<Uuid>,
}

/// Figures over the proposals the caller may read (the list's reach): by step, tier, category
/// and compound (named), the 回头看 reviews upcoming and due, the mean satisfaction and rating
/// of the closed ones, and the visible comments (hidden, deleted and held ones never count).
/// Counts only: no person.
#[utoipa::path(tag = "proposals", security(("bearer" = [])), params(ProposalReportQuery),
    responses(
        (status = 200, body = ProposalStatsResponse),
        (status = 400, description = "Invalid filter"),
    ))]
#[get("/proposals/stats")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn get_proposal_stats(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ProposalReportQuery>,
) -> AppResult<HttpResponse> {
    let s = stats::stats(&state.db, &user, q.community_id, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(s))
}

/// The 协商台账: an .xlsx workbook.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct ProposalLedgerFile(Vec<u8>);

/// Export the 协商台账 (.xlsx): one row per proposal the caller may read, oldest first, with
/// 编号, 标题, 范围, 类别, 分级, 步骤, 提出日期, 附议户数, 评论数(可见), 决策结果, 预算/已筹/已拨
/// (元), 负责人, 完成日期, 满意度, 回头看日期, 提议人 and the referred ticket. People as everyone
/// reads them ("3栋 王*"), no phone or ID number. Those who keep the consultation's records
/// (administrators, community staff, grid managers, council members, leaders); residents and
/// property staff 403. Every export is audited (`proposal_export`).
#[utoipa::path(tag = "proposals", security(("bearer" = [])), params(ProposalReportQuery),
    responses(
        (status = 200, description = "The workbook (`Content-Disposition: attachment; filename=\"proposals-YYYYMMDD.xlsx\"`)",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            body = ProposalLedgerFile),
        (status = 400, description = "Invalid filter, or more than 50,000 proposals (`too_many_rows`)"),
        (status = 403, description = "Not one who keeps the consultation's records"),
    ))]
#[get("/proposals/export")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn export_proposals(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ProposalReportQuery>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let (bytes, count) = export::export(&state.db, &user, q.community_id, now).await?;
    tracing::info!(rows = count, "协商台账 exported");
    let filename = format!(
        "attachment; filename=\"proposals-{}.xlsx\"",
        export::cst_date(now).format("%Y%m%d")
    );
    Ok(HttpResponse::Ok()
        .content_type(XLSX_CONTENT_TYPE)
        .insert_header((header::CONTENT_DISPOSITION, filename))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}
