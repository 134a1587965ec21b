//! Expense requests and their verbs: file, list, read, approve, reject, pay, cancel.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{check_amount, with_etag};
use crate::access::AuthUser;
use crate::funds::model::{self, CounterpartyKind, ExpenseStatus};
use crate::funds::query::{self, ExpenseResponse};
use crate::funds::service::expenses::{self as svc, NewExpense};
use crate::platform::error::AppResult;
use crate::platform::http::extract::{Json, JsonOrEmpty, Query};
use crate::platform::http::{clean_line, clean_optional, clean_text, if_match, Page, PageParams};
use crate::platform::signed_urls::Signer;
use crate::platform::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFundExpenseRequest {
    pub account_id: Uuid,
    /// 1 to 10,000,000,000 fen.
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(minimum = 1, maximum = 10000000000_i64)]
    pub amount_fen: i64,
    pub payee_kind: CounterpartyKind,
    /// Who is paid, 1 to 50 characters (a person is shown masked to residents).
    #[schema(max_length = 50, format = "text-line")]
    pub payee_name: String,
    /// Show a person paid as `匿名居民`. Default false.
    #[serde(default)]
    pub anonymous: bool,
    /// What the money is for, 1 to 200 characters.
    #[schema(max_length = 200, format = "text")]
    pub purpose: String,
    /// The proposal it is spent for: required on a 自治金 or 协商资金 account, and then in
    /// `implementing`.
    pub proposal_id: Option<Uuid>,
    /// The approved allocation it spends (its proposal is the request's): paying it consumes the
    /// allocation's reservation, never more than is left of it.
    pub allocation_id: Option<Uuid>,
    /// Quotes or invoices at hand: the requester's own uploads, at most 9.
    #[serde(default)]
    #[schema(max_items = 9)]
    pub attachment_ids: Vec<Uuid>,
}

async fn answer(
    state: &AppState,
    user: &AuthUser,
    e: svc::Expense,
    res: actix_web::HttpResponseBuilder,
) -> AppResult<HttpResponse> {
    let r = query::expense_response(
        &state.db,
        user,
        e,
        &Signer::from_settings(&state.settings),
        state.clock.now(),
    )
    .await?;
    Ok(with_etag(res, r.version, &r))
}

/// Files an expense request on an account the caller keeps (admins, community staff). It waits
/// for two approvals of different roles, neither by the requester.
#[utoipa::path(tag = "funds", security(("bearer" = [])),
    request_body = CreateFundExpenseRequest,
    responses(
        (status = 201, body = ExpenseResponse, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Invalid fields"),
        (status = 403, description = "The caller may read the account but not record on it"),
        (status = 404, description = "The account is not found or not the caller's to see"),
        (status = 409, description = "The account is not active (`wrong_status`); a 自治金 or 协商资金 account without a proposal in `implementing` (`guard_failed`); more than the allocation has left (`insufficient_funds`)"),
    ))]
#[post("/fund-expenses")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn create_fund_expense(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateFundExpenseRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let n = NewExpense {
        account_id: b.account_id,
        amount_fen: check_amount("amount_fen", b.amount_fen)?,
        payee_kind: b.payee_kind,
        payee_name: clean_line("payee_name", &b.payee_name, model::PARTY_MAX)?,
        anonymous: b.anonymous,
        purpose: clean_text("purpose", &b.purpose, model::MEMO_MAX)?,
        proposal_id: b.proposal_id,
        allocation_id: b.allocation_id,
        attachment_ids: b.attachment_ids,
    };
    let e = svc::create(&state.db, &user, n, state.clock.now()).await?;
    tracing::info!(expense = %e.id, "fund expense requested");
    let location = format!("/api/v1/fund-expenses/{}", e.id);
    let res = HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .take();
    answer(&state, &user, e, res).await
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListFundExpensesQuery {
    /// The account whose requests to list.
    pub account_id: Uuid,
    pub status: Option<ExpenseStatus>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The expense requests of an account, newest first; an account the caller may not read (or
/// none) lists nothing.
#[utoipa::path(tag = "funds", security(("bearer" = [])), params(ListFundExpensesQuery),
    responses((status = 200, body = Page<ExpenseResponse>)))]
#[get("/fund-expenses")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn list_fund_expenses(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListFundExpensesQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let page = query::expenses(
        &state.db,
        &user,
        q.account_id,
        q.status,
        p,
        &Signer::from_settings(&state.settings),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One expense request with its approvals and invoices.
#[utoipa::path(tag = "funds", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ExpenseResponse, headers(("ETag" = String))),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/fund-expenses/{id}")]
pub async fn get_fund_expense(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let r = query::expense(
        &state.db,
        &user,
        *id,
        &Signer::from_settings(&state.settings),
        state.clock.now(),
    )
    .await?;
    Ok(with_etag(HttpResponse::Ok(), r.version, &r))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ApproveExpenseRequest {
    /// At most 500 characters.
    #[schema(max_length = 500, format = "text")]
    pub note: Option<String>,
}

/// Approves a submitted request (admins, community staff, council members of its place). The
/// first approval is recorded; the second, by someone else in a different role, reserves the
/// amount and approves it. 409 `same_approver` for the requester, the first approver again, or
/// a second approver in the first one's role; 409 `insufficient_funds` when less is available.
#[utoipa::path(tag = "funds", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The request's ETag; a stale one answers 412")),
    request_body(content = Option<ApproveExpenseRequest>, description = "Optional; an empty body means no note"),
    responses(
        (status = 200, body = ExpenseResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the request but not approve"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "`same_approver`, `insufficient_funds`, or not submitted (`wrong_status`)"),
        (status = 412, description = "If-Match does not match the request's current ETag, or it changed meanwhile"),
    ))]
#[post("/fund-expenses/{id}/approve")]
#[tracing::instrument(skip_all, fields(user = %user.id, expense = %id))]
pub async fn approve_fund_expense(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonOrEmpty<ApproveExpenseRequest>,
) -> AppResult<HttpResponse> {
    let note = clean_optional("note", &body.0.note, model::REASON_MAX)?;
    let now = state.clock.now();
    let e = svc::approve(&state.db, &user, *id, if_match(&req)?, note, now).await?;
    answer(&state, &user, e, HttpResponse::Ok()).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectExpenseRequest {
    /// 1 to 500 characters.
    #[schema(max_length = 500, format = "text")]
    pub reason: String,
}

/// Rejects a submitted request with a reason.
#[utoipa::path(tag = "funds", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The request's ETag; a stale one answers 412")),
    request_body = RejectExpenseRequest,
    responses(
        (status = 200, body = ExpenseResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the request but not decide on it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not submitted (`wrong_status`)"),
        (status = 412, description = "If-Match does not match the request's current ETag"),
    ))]
#[post("/fund-expenses/{id}/reject")]
#[tracing::instrument(skip_all, fields(user = %user.id, expense = %id))]
pub async fn reject_fund_expense(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<RejectExpenseRequest>,
) -> AppResult<HttpResponse> {
    let reason = clean_text("reason", &body.reason, model::REASON_MAX)?;
    let now = state.clock.now();
    let e = svc::reject(&state.db, &user, *id, if_match(&req)?, reason, now).await?;
    answer(&state, &user, e, HttpResponse::Ok()).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayExpenseRequest {
    /// The day it was paid; not in the future.
    pub occurred_on: NaiveDate,
    /// Invoices (发票): the payer's own uploads, at most 9; with those already attached at least
    /// one is needed.
    #[serde(default)]
    #[schema(max_items = 9)]
    pub attachment_ids: Vec<Uuid>,
}

/// Pays an approved request: an `expense` entry of −amount that spends its reservation. Needs at
/// least one invoice photo (400 on `attachment_ids` otherwise).
#[utoipa::path(tag = "funds", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The request's ETag; a stale one answers 412")),
    request_body = PayExpenseRequest,
    responses(
        (status = 200, body = ExpenseResponse, headers(("ETag" = String))),
        (status = 400, description = "No invoice, or invalid fields"),
        (status = 403, description = "The caller may read the request but not pay it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not approved (`wrong_status`), or `insufficient_funds`"),
        (status = 412, description = "If-Match does not match the request's current ETag"),
    ))]
#[post("/fund-expenses/{id}/pay")]
#[tracing::instrument(skip_all, fields(user = %user.id, expense = %id))]
pub async fn pay_fund_expense(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<PayExpenseRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let now = state.clock.now();
    let e = svc::pay(
        &state.db,
        &user,
        *id,
        if_match(&req)?,
        b.occurred_on,
        b.attachment_ids,
        now,
    )
    .await?;
    tracing::info!(expense = %e.id, entry = ?e.paid_entry_id, "fund expense paid");
    answer(&state, &user, e, HttpResponse::Ok()).await
}

/// Cancels a submitted or approved request; an approved one gives its reservation back. No body.
#[utoipa::path(tag = "funds", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The request's ETag; a stale one answers 412")),
    responses(
        (status = 200, body = ExpenseResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the request but not cancel it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Paid, rejected or cancelled (`wrong_status`)"),
        (status = 412, description = "If-Match does not match the request's current ETag"),
    ))]
#[post("/fund-expenses/{id}/cancel")]
#[tracing::instrument(skip_all, fields(user = %user.id, expense = %id))]
pub async fn cancel_fund_expense(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let e = svc::cancel(&state.db, &user, *id, if_match(&req)?, state.clock.now()).await?;
    answer(&state, &user, e, HttpResponse::Ok()).await
}
