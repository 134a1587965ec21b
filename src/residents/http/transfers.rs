//! Transfers of residents between households and communities (迁出/迁入): filed under the
//! resident, listed and decided under `/resident-transfers`.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::policy::{self, Action};
use crate::access::AuthUser;
use crate::platform::error::{AppError, AppResult, FieldCode};
use crate::platform::http::created;
use crate::platform::http::encode_cursor;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::lang::Text;
use crate::platform::state::AppState;
use crate::residents::policy::{authorize_transfer, transfer_scope, TransferEnd};
use crate::residents::service::transfers as svc;
use entity::{household, resident, resident_transfer};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    Pending,
    Accepted,
    Refused,
    Cancelled,
}

impl TransferStatus {
    fn as_str(self) -> &'static str {
        match self {
            TransferStatus::Pending => svc::PENDING,
            TransferStatus::Accepted => svc::ACCEPTED,
            TransferStatus::Refused => svc::REFUSED,
            TransferStatus::Cancelled => svc::CANCELLED,
        }
    }

    fn parse(s: &str) -> TransferStatus {
        [
            TransferStatus::Accepted,
            TransferStatus::Refused,
            TransferStatus::Cancelled,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
        .unwrap_or(TransferStatus::Pending)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferDirection {
    /// Into households the caller keeps the roster of (迁入, theirs to accept or refuse).
    Incoming,
    /// Out of households the caller keeps the roster of (迁出, theirs to cancel).
    Outgoing,
}

/// One end of a transfer, by name.
#[derive(Serialize, ToSchema)]
pub struct TransferPlace {
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub community_name: String,
    pub compound_id: Uuid,
    pub compound_name: String,
    pub building_id: Uuid,
    pub building_name: String,
    pub household_id: Uuid,
    pub unit: String,
    pub room: String,
}

#[derive(Serialize, ToSchema)]
pub struct ResidentTransferResponse {
    pub id: Uuid,
    pub status: TransferStatus,
    pub resident_id: Uuid,
    /// As the roster had it when the transfer was filed.
    pub resident_name: String,
    /// `138******34`, as filed.
    pub phone_masked: Option<String>,
    /// Last four characters only, as filed.
    pub id_number_masked: Option<String>,
    /// Where the resident lived when it was filed (迁出).
    pub from: TransferPlace,
    /// Where the resident moves (迁入).
    pub to: TransferPlace,
    pub note: Option<String>,
    /// Why it was refused.
    pub reason: Option<String>,
    pub filed_by: Uuid,
    pub filed_by_name: String,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    /// Who accepted, refused or cancelled it.
    pub decided_by: Option<Uuid>,
    pub decided_by_name: Option<String>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub decided_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

/// Responses for `rows`, with the names of both ends.
async fn respond(
    state: &AppState,
    rows: Vec<resident_transfer::Model>,
) -> AppResult<Vec<ResidentTransferResponse>> {
    let households: Vec<Uuid> = rows
        .iter()
        .flat_map(|t| [t.from_household_id, t.to_household_id])
        .collect();
    let places = svc::places(&state.db, &households).await?;
    let place = |street_id, community_id, compound_id, building_id, household_id| {
        let p = places.get(&household_id).cloned().unwrap_or_default();
        TransferPlace {
            street_id,
            community_id,
            community_name: p.community_name,
            compound_id,
            compound_name: p.compound_name,
            building_id,
            building_name: p.building_name,
            household_id,
            unit: p.unit,
            room: p.room,
        }
    };
    Ok(rows
        .into_iter()
        .map(|t| ResidentTransferResponse {
            id: t.id,
            status: TransferStatus::parse(&t.status),
            resident_id: t.resident_id,
            resident_name: t.resident_name,
            phone_masked: t.phone_masked,
            id_number_masked: t.id_number_masked,
            from: place(
                t.from_street_id,
                t.from_community_id,
                t.from_compound_id,
                t.from_building_id,
                t.from_household_id,
            ),
            to: place(
                t.to_street_id,
                t.to_community_id,
                t.to_compound_id,
                t.to_building_id,
                t.to_household_id,
            ),
            note: t.note,
            reason: t.reason,
            filed_by: t.filed_by,
            filed_by_name: t.filed_by_name,
            created_at: t.created_at,
            decided_by: t.decided_by,
            decided_by_name: t.decided_by_name,
            decided_at: t.decided_at,
            updated_at: t.updated_at,
        })
        .collect())
}

async fn respond_one(
    state: &AppState,
    t: resident_transfer::Model,
) -> AppResult<ResidentTransferResponse> {
    respond(state, vec![t])
        .await?
        .pop()
        .ok_or(AppError::NotFound)
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
    let r = policy::authorize_object::<resident::Entity, _>(
        &state.db,
        &user,
        Action::ResidentRead,
        Action::ResidentWrite,
        *id,
    )
    .await?;
    // Any household may be named: the picker shows every one, and filing reads nothing of the
    // receiving community's roster.
    let to = household::Entity::find_by_id(b.to_household_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "to_household_id",
                FieldCode::NotFound,
                Text::new("没有这一户", "No such household"),
            )
        })?;
    let txn = state.db.begin().await?;
    let t = svc::file(&txn, (&user).into(), &r, &to, note, state.clock.now()).await?;
    txn.commit().await?;
    tracing::info!(transfer = %t.id, "resident transfer filed");
    let location = format!("/api/v1/resident-transfers/{}", t.id);
    Ok(created(location, &respond_one(&state, t).await?))
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
    let mut sel = resident_transfer::Entity::find()
        .filter(transfer_scope(&state.db, &user, end).await?)
        .order_by_asc(resident_transfer::Column::Id)
        .limit(p.limit + 1);
    if let Some(s) = q.status {
        sel = sel.filter(resident_transfer::Column::Status.eq(s.as_str()));
    }
    if let Some(after) = p.after {
        sel = sel.filter(resident_transfer::Column::Id.gt(after));
    }
    let mut rows = sel.all(&state.db).await?;
    let more = rows.len() as u64 > p.limit;
    rows.truncate(p.limit as usize);
    let next_cursor = if more {
        rows.last().map(|t| encode_cursor(t.id))
    } else {
        None
    };
    let items = respond(&state, rows).await?;
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
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
    let t = resident_transfer::Entity::find()
        .filter(resident_transfer::Column::Id.eq(*id))
        .filter(transfer_scope(&state.db, &user, None).await?)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(respond_one(&state, t).await?))
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
    let t = authorize_transfer(&state.db, &user, *id, TransferEnd::To).await?;
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    let t = svc::accept(&txn, (&user).into(), &t, now.date_naive(), now).await?;
    txn.commit().await?;
    tracing::info!(resident = %t.resident_id, "resident transfer accepted");
    Ok(HttpResponse::Ok().json(respond_one(&state, t).await?))
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
    let t = authorize_transfer(&state.db, &user, *id, TransferEnd::To).await?;
    let txn = state.db.begin().await?;
    let t = svc::refuse(&txn, (&user).into(), &t, reason, state.clock.now()).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(respond_one(&state, t).await?))
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
    let t = authorize_transfer(&state.db, &user, *id, TransferEnd::From).await?;
    let txn = state.db.begin().await?;
    let t = svc::cancel(&txn, (&user).into(), &t, state.clock.now()).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(respond_one(&state, t).await?))
}
