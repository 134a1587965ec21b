//! An account's ledger: its entries, income, transfers, reversals.

use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::check_amount;
use crate::access::AuthUser;
use crate::funds::model::{self, CounterpartyKind, EntryKind};
use crate::funds::query::{self, EntryFilters, EntryResponse};
use crate::funds::service::money::{self as svc, Income};
use crate::platform::error::AppResult;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::{clean_line, clean_optional, clean_text, created, Page, PageParams};
use crate::platform::signed_urls::Signer;
use crate::platform::state::AppState;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListFundEntriesQuery {
    /// Only entries of this kind.
    pub kind: Option<EntryKind>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The account's ledger, newest first (by seq). Residents see public names; staff of the
/// account's place the counterparties and who recorded each entry. There is no route that edits
/// or deletes an entry: corrections are reversals.
#[utoipa::path(tag = "funds", security(("bearer" = [])),
    params(("id" = Uuid, Path), ListFundEntriesQuery),
    responses(
        (status = 200, body = Page<EntryResponse>),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/fund-accounts/{id}/entries")]
#[tracing::instrument(skip_all, fields(user = %user.id, account = %id))]
pub async fn list_fund_entries(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: Query<ListFundEntriesQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let page = query::entries(
        &state.db,
        &user,
        *id,
        EntryFilters { kind: q.kind },
        p,
        &Signer::from_settings(&state.settings),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The kinds of income: `allocation` (拨付 from the street or district), `contribution` (捐赠),
/// `transfer_in` (money from outside the system's accounts).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncomeKind {
    Allocation,
    Contribution,
    TransferIn,
}

impl From<IncomeKind> for EntryKind {
    fn from(k: IncomeKind) -> Self {
        match k {
            IncomeKind::Allocation => EntryKind::Allocation,
            IncomeKind::Contribution => EntryKind::Contribution,
            IncomeKind::TransferIn => EntryKind::TransferIn,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordIncomeRequest {
    pub kind: IncomeKind,
    /// 1 to 10,000,000,000 fen.
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(minimum = 1, maximum = 10000000000_i64)]
    pub amount_fen: i64,
    pub counterparty_kind: CounterpartyKind,
    /// Who the money came from, 1 to 50 characters. Residents see it only for government,
    /// organisations and businesses; a person is shown masked (`王*`).
    #[schema(max_length = 50, format = "text-line")]
    pub counterparty_name: String,
    /// Show the giver as `匿名居民`. Default false.
    #[serde(default)]
    pub anonymous: bool,
    /// At most 200 characters.
    #[schema(max_length = 200, format = "text")]
    pub memo: Option<String>,
    /// The day the money arrived; not in the future.
    pub occurred_on: NaiveDate,
    /// The proposal the money is for (of the account's community): it counts in the proposal's
    /// `received_fen`.
    pub proposal_id: Option<Uuid>,
    /// Receipts: the recorder's own uploads, at most 9.
    #[serde(default)]
    #[schema(max_items = 9)]
    pub attachment_ids: Vec<Uuid>,
}

/// Records income on the account: one entry of +amount in the hash chain, with its receipts.
#[utoipa::path(tag = "funds", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = RecordIncomeRequest,
    responses(
        (status = 201, body = EntryResponse, headers(("Location" = String))),
        (status = 400, description = "Invalid fields"),
        (status = 403, description = "The caller may read the account but not record on it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "The account is not active (`wrong_status`)"),
    ))]
#[post("/fund-accounts/{id}/income")]
#[tracing::instrument(skip_all, fields(user = %user.id, account = %id))]
pub async fn record_fund_income(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<RecordIncomeRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let i = Income {
        kind: b.kind.into(),
        amount_fen: check_amount("amount_fen", b.amount_fen)?,
        counterparty_kind: b.counterparty_kind,
        counterparty_name: clean_line("counterparty_name", &b.counterparty_name, model::PARTY_MAX)?,
        anonymous: b.anonymous,
        memo: clean_optional("memo", &b.memo, model::MEMO_MAX)?,
        occurred_on: b.occurred_on,
        proposal_id: b.proposal_id,
        pledge_id: None,
        attachment_ids: b.attachment_ids,
    };
    let now = state.clock.now();
    let e = svc::income(&state.db, &user, *id, i, now).await?;
    tracing::info!(entry = %e.id, seq = e.seq, "fund income recorded");
    let r = query::entry_response(
        &state.db,
        &user,
        e,
        &Signer::from_settings(&state.settings),
        now,
    )
    .await?;
    Ok(created(format!("/api/v1/fund-accounts/{id}/entries"), &r))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferFundsRequest {
    /// Another account the caller keeps.
    pub to_account_id: Uuid,
    /// 1 to 10,000,000,000 fen; at most what is available (neither spent nor reserved).
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(minimum = 1, maximum = 10000000000_i64)]
    pub amount_fen: i64,
    /// At most 200 characters.
    #[schema(max_length = 200, format = "text")]
    pub memo: Option<String>,
}

/// The two entries of a transfer.
#[derive(Serialize, ToSchema)]
pub struct TransferResponse {
    /// The `transfer_out` entry on this account.
    pub out_entry: EntryResponse,
    /// The `transfer_in` entry on the other account.
    pub in_entry: EntryResponse,
}

/// Moves money to another account: a `transfer_out` entry here and a `transfer_in` entry there,
/// in one transaction. 409 `insufficient_funds` when less is available.
#[utoipa::path(tag = "funds", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = TransferFundsRequest,
    responses(
        (status = 201, body = TransferResponse, headers(("Location" = String))),
        (status = 400, description = "Invalid fields, or the same account"),
        (status = 403, description = "The caller may read an account but not record on it"),
        (status = 404, description = "An account is not found or not the caller's to see"),
        (status = 409, description = "Not enough available (`insufficient_funds`), or an account not active (`wrong_status`)"),
    ))]
#[post("/fund-accounts/{id}/transfers")]
#[tracing::instrument(skip_all, fields(user = %user.id, account = %id))]
pub async fn transfer_funds(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<TransferFundsRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let amount = check_amount("amount_fen", b.amount_fen)?;
    let memo = clean_optional("memo", &b.memo, model::MEMO_MAX)?;
    let now = state.clock.now();
    let (out, into) =
        svc::transfer(&state.db, &user, *id, b.to_account_id, amount, memo, now).await?;
    let urls = Signer::from_settings(&state.settings);
    let r = TransferResponse {
        out_entry: query::entry_response(&state.db, &user, out, &urls, now).await?,
        in_entry: query::entry_response(&state.db, &user, into, &urls, now).await?,
    };
    Ok(created(format!("/api/v1/fund-accounts/{id}/entries"), &r))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseEntryRequest {
    /// Why (the reversal's memo). 1 to 500 characters.
    #[schema(max_length = 500, format = "text")]
    pub reason: String,
}

/// Reverses an entry: a `reversal` entry of the opposite amount, linked to it. Once per entry
/// (409 `already_reversed`); never a reversal or a leg of a transfer (409
/// `entry_not_reversible`); income already spent or reserved is 409 `insufficient_funds`.
#[utoipa::path(tag = "funds", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = ReverseEntryRequest,
    responses(
        (status = 201, body = EntryResponse, headers(("Location" = String))),
        (status = 400, description = "Invalid fields"),
        (status = 403, description = "The caller may read the account but not record on it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "`already_reversed`, `entry_not_reversible`, `insufficient_funds`, or the account not active (`wrong_status`)"),
    ))]
#[post("/fund-entries/{id}/reverse")]
#[tracing::instrument(skip_all, fields(user = %user.id, entry = %id))]
pub async fn reverse_fund_entry(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<ReverseEntryRequest>,
) -> AppResult<HttpResponse> {
    let reason = clean_text("reason", &body.reason, model::REASON_MAX)?;
    let now = state.clock.now();
    let e = svc::reverse(&state.db, &user, *id, reason, now).await?;
    tracing::info!(entry = %e.id, reverses = %id, "fund entry reversed");
    let account = e.account_id;
    let r = query::entry_response(
        &state.db,
        &user,
        e,
        &Signer::from_settings(&state.settings),
        now,
    )
    .await?;
    Ok(created(
        format!("/api/v1/fund-accounts/{account}/entries"),
        &r,
    ))
}
