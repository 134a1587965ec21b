//! Duplicates: open tickets near a ticket, and merging one into another (`services::ticket_duplicates`).

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{if_match, with_etag, TicketDetail, TicketResponse};
use crate::access::AuthUser;
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError};
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::Page;
use crate::platform::signed_urls::Signer;
use crate::platform::state::AppState;
use crate::tickets::query::detail as ticket_detail;
use crate::tickets::service::duplicates::{DEFAULT_RADIUS_M, MAX_RADIUS_M};
use crate::tickets::service::operations;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NearbyQuery {
    /// How far to look, in metres: 1–2000, default 300.
    #[param(minimum = 1, maximum = 2000)]
    pub radius_m: Option<i64>,
}

/// An open ticket near another, with how far it is.
#[derive(Debug, Serialize, ToSchema)]
pub struct NearbyTicket {
    /// Metres between the two map points (great-circle, rounded).
    pub distance_m: u64,
    #[serde(flatten)]
    pub ticket: TicketResponse,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The ticket that stays (same category, still being worked on, within the caller's reach).
    pub into_ticket_id: Uuid,
}

fn radius(r: Option<i64>) -> AppResult<u32> {
    match r {
        None => Ok(DEFAULT_RADIUS_M),
        Some(r) if (1..=i64::from(MAX_RADIUS_M)).contains(&r) => Ok(r as u32),
        Some(_) => Err(AppError::InvalidQuery(vec![FieldError::of(
            "radius_m",
            FieldCode::OutOfRange,
            crate::text!(
                "须在 1 到 {MAX_RADIUS_M} 米之间",
                "must be between 1 and {MAX_RADIUS_M} metres"
            ),
        )])),
    }
}

/// Open tickets of the same category near this one (to find duplicates), nearest first.
///
/// Tickets not closed, cancelled, rejected or merged, of the ticket's category, within
/// `radius_m` of its map location and within the caller's reach; at most 20, so `next_cursor`
/// is always null. For staff who triage and dispatch there (community staff, grid managers,
/// admins). A ticket filed without a map location answers 409 `ticket_has_no_location`.
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), NearbyQuery),
    responses(
        (status = 200, body = Page<NearbyTicket>),
        (status = 403, description = "The caller may see the ticket but not merge tickets there"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "`ticket_has_no_location`: the ticket has no map location"),
    ))]
#[get("/tickets/{id}/nearby")]
#[tracing::instrument(skip_all, fields(user = %user.id, ticket = %id))]
pub async fn list_nearby_tickets(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: Query<NearbyQuery>,
) -> AppResult<HttpResponse> {
    let radius_m = radius(q.radius_m)?;
    let items = ticket_detail::nearby(
        &state.db,
        &user,
        *id,
        radius_m,
        state.clock.now(),
        &Signer::from_settings(&state.settings),
    )
    .await?
    .into_iter()
    .map(|(ticket, distance_m)| NearbyTicket { distance_m, ticket })
    .collect();
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

/// Merge this ticket, a duplicate, into another: it ends as `merged`, both requesters are told.
///
/// The duplicate's status becomes `merged` (terminal: every verb then answers 409
/// `ticket_already_merged`) with `merged_into_id`; both timelines get an entry naming the other
/// ticket (`merged`, `merged_in`); both requesters get a status message. Only within one
/// category, only into a ticket still being worked on, only by staff who triage and dispatch
/// where both tickets lie. A repeated call answers 409 `ticket_already_merged`.
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The duplicate's ETag; a stale one answers 412")),
    request_body = MergeRequest,
    responses(
        (status = 200, body = TicketDetail, headers(("ETag" = String))),
        (status = 403, description = "The caller may see a ticket but not merge tickets there"),
        (status = 404, description = "Either ticket not found or not the caller's to see"),
        (status = 409, description = "`ticket_already_merged`, `wrong_status` (the duplicate is finished), `merge_target_not_open`, `merge_category_mismatch`, or changed concurrently"),
        (status = 412, description = "If-Match does not match the duplicate's current ETag"),
    ))]
#[post("/tickets/{id}/merge")]
#[tracing::instrument(skip_all, fields(user = %user.id, ticket = %id))]
pub async fn merge_ticket(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<MergeRequest>,
) -> AppResult<HttpResponse> {
    let expected = if_match(&req)?;
    let now = state.clock.now();
    let urls = Signer::from_settings(&state.settings);
    let d = operations::merge(
        &state.db,
        &user,
        *id,
        body.into_ticket_id,
        expected,
        now,
        &urls,
    )
    .await?;
    Ok(with_etag(HttpResponse::Ok(), &d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radius_defaults_to_300_and_stays_within_1_to_2000() {
        assert_eq!(radius(None).unwrap(), 300);
        assert_eq!(radius(Some(2000)).unwrap(), 2000);
        assert!(radius(Some(0)).is_err());
        assert!(radius(Some(2001)).is_err());
    }
}
