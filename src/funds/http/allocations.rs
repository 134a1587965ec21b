//! Allocations of fund accounts to proposals and their verbs: request, list, read, approve,
//! reject, release.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::expenses::{ApproveExpenseRequest, RejectExpenseRequest};
use super::{check_amount, with_etag};
use crate::access::AuthUser;
use crate::funds::model::{self, AllocationStatus};
use crate::funds::query::{self, AllocationResponse, AllocationsOf};
use crate::funds::service::allocations as svc;
use crate::platform::error::AppResult;
use crate::platform::http::extract::{Json, JsonOrEmpty, Query};
use crate::platform::http::{clean_optional, clean_text, if_match, Page, PageParams};
use crate::platform::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFundAllocationRequest {
    pub account_id: Uuid,
    /// A proposal of the account's community (and compound, for a compound's account), deciding,
    /// raising or implementing.
    pub proposal_id: Uuid,
    /// 1 to 10,000,000,000 fen.
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(minimum = 1, maximum = 10000000000_i64)]
    pub amount_fen: i64,
}

async fn answer(
    state: &AppState,
    user: &AuthUser,
    x: svc::Allocation,
    res: actix_web::HttpResponseBuilder,
) -> AppResult<HttpResponse> {
    let r = query::allocation_response(&state.db, user, x).await?;
    Ok(with_etag(res, r.version, &r))
}

/// Requests money of an account for a proposal (admins, community staff). It waits for two
/// approvals of different roles, neither by the requester; the second reserves the amount.
#[utoipa::path(tag = "funds", security(("bearer" = [])),
    request_body = CreateFundAllocationRequest,
    responses(
        (status = 201, body = AllocationResponse, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Invalid fields, or the proposal lies elsewhere"),
        (status = 403, description = "The caller may read the account but not allocate from it"),
        (status = 404, description = "The account or the proposal is not found or not the caller's to see"),
        (status = 409, description = "The account is not active (`wrong_status`), or the proposal is in another step (`wrong_step`)"),
    ))]
#[post("/fund-allocations")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn create_fund_allocation(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateFundAllocationRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let amount = check_amount("amount_fen", b.amount_fen)?;
    let now = state.clock.now();
    let x = svc::create(&state.db, &user, b.account_id, b.proposal_id, amount, now).await?;
    tracing::info!(allocation = %x.id, "fund allocation requested");
    let location = format!("/api/v1/fund-allocations/{}", x.id);
    let res = HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .take();
    answer(&state, &user, x, res).await
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListFundAllocationsQuery {
    pub status: Option<AllocationStatus>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn list(
    state: &AppState,
    user: &AuthUser,
    of: AllocationsOf,
    q: &ListFundAllocationsQuery,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let page = query::allocations(&state.db, user, of, q.status, p).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The allocations of an account, newest first (an account the caller may not read lists
/// nothing).
#[utoipa::path(tag = "funds", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The fund account"), ListFundAllocationsQuery),
    responses(
        (status = 200, body = Page<AllocationResponse>),
        (status = 404, description = "No such account, or not the caller's to read"),
    ))]
#[get("/fund-accounts/{id}/allocations")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn list_account_allocations(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: Query<ListFundAllocationsQuery>,
) -> AppResult<HttpResponse> {
    crate::funds::policy::reader(&state.db, &user, *id).await?;
    list(&state, &user, AllocationsOf::Account(*id), &q).await
}

/// The allocations for a proposal, newest first, on the accounts the caller may read (404 only
/// for no such proposal).
#[utoipa::path(tag = "funds", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The proposal"), ListFundAllocationsQuery),
    responses(
        (status = 200, body = Page<AllocationResponse>),
        (status = 404, description = "No such proposal"),
    ))]
#[get("/proposals/{id}/allocations")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn list_proposal_allocations(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: Query<ListFundAllocationsQuery>,
) -> AppResult<HttpResponse> {
    // Listed by the accounts the caller reads (a resident reads a community's 自治金 and what
    // it earmarked, whichever building's proposal it went to).
    crate::proposals::service::subject::load_in(&state.db, *id).await?;
    list(&state, &user, AllocationsOf::Proposal(*id), &q).await
}

/// One allocation with its approvals.
#[utoipa::path(tag = "funds", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = AllocationResponse, headers(("ETag" = String))),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/fund-allocations/{id}")]
pub async fn get_fund_allocation(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let r = query::allocation(&state.db, &user, *id).await?;
    Ok(with_etag(HttpResponse::Ok(), r.version, &r))
}

/// Approves a requested allocation (admins, community staff, council members of its place). The
/// second approval, by someone else in a different role, reserves the amount; above the
/// community's `spending_poll_above_fen` it needs a passed poll (409 `guard_failed`,
/// `spending_poll`; the proposal's decision poll counts). 409 `same_approver` for the requester,
/// the first approver again, or a second approver in the first one's role; 409
/// `insufficient_funds` when less is available.
#[utoipa::path(tag = "funds", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The allocation's ETag; a stale one answers 412")),
    request_body(content = Option<ApproveExpenseRequest>, description = "Optional; an empty body means no note"),
    responses(
        (status = 200, body = AllocationResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the allocation but not approve"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "`same_approver`, `insufficient_funds`, `guard_failed` (`spending_poll`), `wrong_step`, or not requested (`wrong_status`)"),
        (status = 412, description = "If-Match does not match the allocation's current ETag, or it changed meanwhile"),
    ))]
#[post("/fund-allocations/{id}/approve")]
#[tracing::instrument(skip_all, fields(user = %user.id, allocation = %id))]
pub async fn approve_fund_allocation(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonOrEmpty<ApproveExpenseRequest>,
) -> AppResult<HttpResponse> {
    let note = clean_optional("note", &body.0.note, model::REASON_MAX)?;
    let now = state.clock.now();
    let x = svc::approve(&state.db, &user, *id, if_match(&req)?, note, now).await?;
    answer(&state, &user, x, HttpResponse::Ok()).await
}

/// Rejects a requested allocation with a reason.
#[utoipa::path(tag = "funds", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The allocation's ETag; a stale one answers 412")),
    request_body = RejectExpenseRequest,
    responses(
        (status = 200, body = AllocationResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the allocation but not decide on it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not requested (`wrong_status`)"),
        (status = 412, description = "If-Match does not match the allocation's current ETag"),
    ))]
#[post("/fund-allocations/{id}/reject")]
#[tracing::instrument(skip_all, fields(user = %user.id, allocation = %id))]
pub async fn reject_fund_allocation(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<RejectExpenseRequest>,
) -> AppResult<HttpResponse> {
    let reason = clean_text("reason", &body.reason, model::REASON_MAX)?;
    let now = state.clock.now();
    let x = svc::reject(&state.db, &user, *id, if_match(&req)?, reason, now).await?;
    answer(&state, &user, x, HttpResponse::Ok()).await
}

/// Releases what an approved allocation has not spent: the account's reservation shrinks by
/// the rest, its balance does not move, the proposal's `allocated_fen` falls by the rest. No
/// body.
#[utoipa::path(tag = "funds", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The allocation's ETag; a stale one answers 412")),
    responses(
        (status = 200, body = AllocationResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the allocation but not release it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not approved (`wrong_status`), or expenses under it unpaid (`guard_failed`, `expenses`)"),
        (status = 412, description = "If-Match does not match the allocation's current ETag"),
    ))]
#[post("/fund-allocations/{id}/release")]
#[tracing::instrument(skip_all, fields(user = %user.id, allocation = %id))]
pub async fn release_fund_allocation(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let x = svc::release(&state.db, &user, *id, if_match(&req)?, state.clock.now()).await?;
    answer(&state, &user, x, HttpResponse::Ok()).await
}
