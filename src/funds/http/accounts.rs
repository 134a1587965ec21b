//! Fund accounts: list, open, read, close, verify the chain, export the ledger.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::with_etag;
use crate::access::AuthUser;
use crate::funds::model::{self, AccountKind, AccountStatus, Place};
use crate::funds::query::{self, FundAccountResponse, Verification};
use crate::funds::service::accounts::{self as svc, NewAccount};
use crate::platform::error::{AppError, AppResult, FieldCode};
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::{clean_line, if_match, Page, PageParams, XLSX_CONTENT_TYPE};
use crate::platform::lang::Text;
use crate::platform::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFundAccountRequest {
    /// The level of the place the account belongs to.
    pub scope_type: Place,
    /// The community or compound.
    pub scope_id: Uuid,
    /// 1 to 40 characters, one line (`2026年度自治金`).
    #[schema(max_length = 40, format = "text-line")]
    pub name: String,
    pub kind: AccountKind,
    /// The year the money is for, 2000–2100.
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    #[schema(minimum = 2000, maximum = 2100)]
    pub fiscal_year: Option<i32>,
}

/// Opens an account on a community or compound where the caller records funds (admins, community
/// staff). It starts empty, its chain at 64 zeros.
#[utoipa::path(tag = "funds", security(("bearer" = [])),
    request_body = CreateFundAccountRequest,
    responses(
        (status = 201, body = FundAccountResponse, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Invalid fields"),
        (status = 403, description = "The caller sees the place but may not keep funds there"),
        (status = 404, description = "The place is not found or outside the caller's scope"),
    ))]
#[post("/fund-accounts")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn create_fund_account(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateFundAccountRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    if b.fiscal_year.is_some_and(|y| !(2000..=2100).contains(&y)) {
        return Err(AppError::invalid(
            "fiscal_year",
            FieldCode::OutOfRange,
            Text::new("年度须在 2000 到 2100 之间", "a year from 2000 to 2100"),
        ));
    }
    let n = NewAccount {
        place: b.scope_type,
        place_id: b.scope_id,
        name: clean_line("name", &b.name, model::NAME_MAX)?,
        kind: b.kind,
        fiscal_year: b.fiscal_year,
    };
    let a = svc::open(&state.db, &user, n, state.clock.now()).await?;
    tracing::info!(account = %a.id, "fund account opened");
    let location = format!("/api/v1/fund-accounts/{}", a.id);
    let r = query::respond(&state.db, a).await?;
    Ok(with_etag(
        HttpResponse::Created()
            .insert_header((header::LOCATION, location))
            .take(),
        r.version,
        &r,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListFundAccountsQuery {
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub status: Option<AccountStatus>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The fund accounts the caller may read, newest first: staff and leaders down their reach;
/// residents those of their compound and community.
#[utoipa::path(tag = "funds", security(("bearer" = [])), params(ListFundAccountsQuery),
    responses((status = 200, body = Page<FundAccountResponse>)))]
#[get("/fund-accounts")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn list_fund_accounts(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListFundAccountsQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let f = query::AccountFilters {
        community_id: q.community_id,
        compound_id: q.compound_id,
        status: q.status,
    };
    Ok(HttpResponse::Ok().json(query::accounts(&state.db, &user, f, p).await?))
}

/// One fund account: balance, reserved, available, the head of its hash chain, the names of its
/// place.
#[utoipa::path(tag = "funds", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = FundAccountResponse, headers(("ETag" = String))),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/fund-accounts/{id}")]
pub async fn get_fund_account(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let r = query::account(&state.db, &user, *id).await?;
    Ok(with_etag(HttpResponse::Ok(), r.version, &r))
}

/// Closes an account: only at balance 0 with nothing reserved (409 `fund_account_not_empty`).
/// No body.
#[utoipa::path(tag = "funds", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The account's ETag; a stale one answers 412")),
    responses(
        (status = 200, body = FundAccountResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the account but not keep it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Money left in it (`fund_account_not_empty`), or not active (`wrong_status`)"),
        (status = 412, description = "If-Match does not match the account's current ETag"),
    ))]
#[post("/fund-accounts/{id}/close")]
#[tracing::instrument(skip_all, fields(user = %user.id, account = %id))]
pub async fn close_fund_account(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let a = svc::close(&state.db, &user, *id, if_match(&req)?, state.clock.now()).await?;
    let r = query::respond(&state.db, a).await?;
    Ok(with_etag(HttpResponse::Ok(), r.version, &r))
}

/// Recomputes the account's hash chain from its entries, in batches: `ok` when every entry
/// chains to the one before and hashes to what it says, and the account's balance and head
/// agree; else the first broken seq.
#[utoipa::path(tag = "funds", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Verification),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/fund-accounts/{id}/verify")]
#[tracing::instrument(skip_all, fields(user = %user.id, account = %id))]
pub async fn verify_fund_account(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let v = query::verify(&state.db, &user, *id).await?;
    if !v.ok {
        tracing::warn!(first_broken_seq = ?v.first_broken_seq, problem = ?v.problem, "fund ledger does not verify");
    }
    Ok(HttpResponse::Ok().json(v))
}

/// The file of an export (an .xlsx workbook).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct FundLedgerFile(Vec<u8>);

/// Exports the account's ledger (自治金台账, .xlsx): every entry oldest first with counterparty
/// names, amounts and balances in yuan, and the hashes. Staff who keep the account only;
/// audited (`fund_export`).
#[utoipa::path(tag = "funds", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The workbook (`Content-Disposition: attachment; filename=\"fund-YYYYMMDD.xlsx\"`)",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            body = FundLedgerFile),
        (status = 400, description = "More than 50,000 entries (`too_many_rows`)"),
        (status = 403, description = "The caller may read the account but not keep it"),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/fund-accounts/{id}/export")]
#[tracing::instrument(skip_all, fields(user = %user.id, account = %id))]
pub async fn export_fund_account(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let (bytes, count) = crate::funds::service::export::export(&state.db, &user, *id, now).await?;
    tracing::info!(rows = count, "fund ledger exported");
    let filename = format!(
        "attachment; filename=\"fund-{}.xlsx\"",
        crate::funds::service::today(now).format("%Y%m%d")
    );
    Ok(HttpResponse::Ok()
        .content_type(XLSX_CONTENT_TYPE)
        .insert_header((header::CONTENT_DISPOSITION, filename))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}
