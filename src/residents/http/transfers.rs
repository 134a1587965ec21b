//! Transfers of residents between households and communities (迁出/迁入): filed under the
//! resident, listed and decided under `/resident-transfers`.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AuthUser;
use crate::platform::error::AppResult;
use crate::platform::http::created;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::state::AppState;
pub use crate::residents::model::TransferStatus;
use crate::residents::policy::TransferEnd;
use crate::residents::query::transfers as query;
pub use crate::residents::query::transfers::{ResidentTransferResponse, TransferPlace};
use crate::residents::service::transfers::{self as svc, Decision};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileTransferRequest {
    /// The household the resident moves into, usually in another community (ids from the
    /// household picker, `/api/v1/directory/...`).
    pub to_household_id: Uuid,
    /// For the receiving staff (why, from when). At most 500 characters; blank counts as absent.
    #[schema(max_length = 500, format = "text-line-or-blank")]
    pub note: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefuseTransferRequest {
    /// Read by the sending staff. 1 to 500 characters.
    #[schema(max_length = 500, format = "text-line")]
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferDirection {
    /// Into households the caller keeps the roster of (迁入, theirs to accept or refuse).
    Incoming,
    /// Out of households the caller keeps the roster of (迁出, theirs to cancel).
    Outgoing,
}

/// File the transfer of a resident to another household (迁出), usually of another community,
/// whose staff accept or refuse it. One pending transfer per resident.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = FileTransferRequest,
    responses(
        (status = 201, body = ResidentTransferResponse, headers(("Location" = String))),
        (status = 400, description = "`to_household_id` names no household, or the one the resident lives in"),
        (status = 403, description = "The caller may see the resident but not change the roster"),
        (status = 404, description = "The resident is not found or outside the caller's scope"),
        (status = 409, description = "The resident already has a pending transfer (`transfer_pending`)"),
    ))]
#[post("/residents/{id}/transfers")]
#[tracing::instrument(skip_all, fields(user = %user.id, resident = %id))]
pub async fn file_resident_transfer(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<FileTransferRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let note = match b.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        None => None,
        Some(n) => Some(crate::platform::http::clean_name("note", n, svc::TEXT_MAX)?),
    };
    let t = svc::file_for(
        &state.db,
        &user,
        *id,
        b.to_household_id,
        note,
        state.clock.now(),
    )
    .await?;
    tracing::info!(transfer = %t.id, "resident transfer filed");
    let location = format!("/api/v1/resident-transfers/{}", t.id);
    Ok(created(location, &t))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListTransfersQuery {
    /// Only transfers into (`incoming`) or out of (`outgoing`) the caller's households; both
    /// when absent.
    pub direction: Option<TransferDirection>,
    pub status: Option<TransferStatus>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Transfers into or out of households whose roster the caller keeps, oldest first.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(ListTransfersQuery),
    responses((status = 200, body = Page<ResidentTransferResponse>)))]
#[get("/resident-transfers")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn list_resident_transfers(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListTransfersQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let end = q.direction.map(|d| match d {
        TransferDirection::Incoming => TransferEnd::To,
        TransferDirection::Outgoing => TransferEnd::From,
    });
    let page = query::list(&state.db, &user, end, q.status, p).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Get a transfer the caller's roster is at either end of.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ResidentTransferResponse),
        (status = 404, description = "Not found or outside the caller's scope"),
    ))]
#[get("/resident-transfers/{id}")]
pub async fn get_resident_transfer(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(query::get(&state.db, &user, *id).await?))
}

/// Accept (迁入): the resident moves into the target household and its community, moved in
/// today, `moved_out_on` cleared; a WeChat account bound to the resident stays bound. No body.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ResidentTransferResponse),
        (status = 403, description = "The caller keeps the sending side's roster, not the receiving one's"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "Already decided (`transfer_decided`, also when two decisions race), \
            or this community's roster already has the resident's ID number (`id_number_registered`)"),
    ))]
#[post("/resident-transfers/{id}/accept")]
#[tracing::instrument(skip_all, fields(user = %user.id, transfer = %id))]
pub async fn accept_resident_transfer(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let t = svc::decide(&state.db, &user, *id, Decision::Accept, state.clock.now()).await?;
    tracing::info!(resident = %t.resident_id, "resident transfer accepted");
    Ok(HttpResponse::Ok().json(t))
}

/// Refuse, with a reason the sending staff read.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = RefuseTransferRequest,
    responses(
        (status = 200, body = ResidentTransferResponse),
        (status = 403, description = "The caller keeps the sending side's roster, not the receiving one's"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "Already decided (`transfer_decided`)"),
    ))]
#[post("/resident-transfers/{id}/refuse")]
#[tracing::instrument(skip_all, fields(user = %user.id, transfer = %id))]
pub async fn refuse_resident_transfer(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<RefuseTransferRequest>,
) -> AppResult<HttpResponse> {
    let reason = crate::platform::http::clean_name("reason", &body.reason, svc::TEXT_MAX)?;
    let decision = Decision::Refuse(reason);
    let t = svc::decide(&state.db, &user, *id, decision, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(t))
}

/// Withdraw a pending transfer (the sending side: staff who keep the resident's roster). No body.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ResidentTransferResponse),
        (status = 403, description = "The caller keeps the receiving side's roster, not the sending one's"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "Already decided (`transfer_decided`)"),
    ))]
#[post("/resident-transfers/{id}/cancel")]
#[tracing::instrument(skip_all, fields(user = %user.id, transfer = %id))]
pub async fn cancel_resident_transfer(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let t = svc::decide(&state.db, &user, *id, Decision::Cancel, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(t))
}
