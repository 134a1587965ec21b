//! Transfers as staff read them: both ends by name, listed for the roster the caller keeps.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::error::{AppError, AppResult};
use crate::platform::paging::{cut_page, Page, PageParams};
use crate::residents::model::TransferStatus;
use crate::residents::policy::{transfer_scope, TransferEnd};
use crate::territory::query::places;
use entity::resident_transfer;

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
pub async fn respond<C: ConnectionTrait>(
    db: &C,
    rows: Vec<resident_transfer::Model>,
) -> AppResult<Vec<ResidentTransferResponse>> {
    let households: Vec<Uuid> = rows
        .iter()
        .flat_map(|t| [t.from_household_id, t.to_household_id])
        .collect();
    let names = places::household_names(db, &households).await?;
    let place = |street_id, community_id, compound_id, building_id, household_id| {
        let p = names.get(&household_id).cloned().unwrap_or_default();
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
            status: t.status,
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

/// The response for one transfer.
pub async fn respond_one<C: ConnectionTrait>(
    db: &C,
    t: resident_transfer::Model,
) -> AppResult<ResidentTransferResponse> {
    respond(db, vec![t]).await?.pop().ok_or(AppError::NotFound)
}

/// One page of the transfers the caller sees (at `end`, or at either), oldest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    end: Option<TransferEnd>,
    status: Option<TransferStatus>,
    p: PageParams,
) -> AppResult<Page<ResidentTransferResponse>> {
    let mut sel = resident_transfer::Entity::find()
        .filter(transfer_scope(db, actor, end).await?)
        .order_by_asc(resident_transfer::Column::Id)
        .limit(p.limit + 1);
    if let Some(s) = status {
        sel = sel.filter(resident_transfer::Column::Status.eq(s));
    }
    if let Some(after) = p.after {
        sel = sel.filter(resident_transfer::Column::Id.gt(after));
    }
    let (rows, next_cursor) = cut_page(sel.all(db).await?, p.limit, |t| t.id);
    let items = respond(db, rows).await?;
    Ok(Page { items, next_cursor })
}

/// A transfer the caller's roster is at either end of, else 404.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<ResidentTransferResponse> {
    let t = resident_transfer::Entity::find()
        .filter(resident_transfer::Column::Id.eq(id))
        .filter(transfer_scope(db, actor, None).await?)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    respond_one(db, t).await
}
