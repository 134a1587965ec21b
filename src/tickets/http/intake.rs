//! Filing a ticket and reading one.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{clean_line, clean_optional, clean_text, with_etag, TicketDetail, TicketLocation};
use crate::access::AuthUser;
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError};
use crate::platform::http::extract::Json;
use crate::platform::signed_urls::Signer;
use crate::platform::state::AppState;
use crate::tickets::model::Channel;
use crate::tickets::query::detail as ticket_detail;
use crate::tickets::service::intake::{GeoPoint, NewTicket};
use crate::tickets::service::operations;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketRequest {
    /// One of the community's categories (`GET /api/v1/ticket-categories`).
    pub category_id: Uuid,
    /// 1–50 characters.
    #[schema(example = "楼道灯不亮", max_length = 50, format = "text-line")]
    pub title: String,
    /// 1–2000 characters; line breaks allowed.
    #[schema(
        example = "3单元2楼到5楼的楼道灯坏了一周，晚上很黑",
        max_length = 2000,
        format = "text"
    )]
    pub description: String,
    /// Residents: their own household's compound.
    pub compound_id: Uuid,
    /// A building of that compound, when the matter concerns one.
    pub building_id: Option<Uuid>,
    /// Where: a map point (GCJ-02, from `wx.chooseLocation`) and/or the address text.
    pub location: Option<TicketLocation>,
    /// Hide the requester's name from everyone but the requester and the community's staff.
    #[serde(default)]
    pub anonymous: bool,
    /// Photos uploaded with `POST /api/v1/attachments` (at most 9).
    #[serde(default)]
    #[schema(max_items = 9)]
    pub attachment_ids: Vec<Uuid>,
    /// Staff filing on a resident's behalf: how it reached them. Omit (or `mini_program`) when a
    /// resident files their own.
    pub channel: Option<Channel>,
    /// Staff: the roster resident it is for. If they have an account they follow and confirm
    /// it themselves; otherwise the filing staff member does on their behalf.
    pub resident_id: Option<Uuid>,
    /// Staff: the requester's name when they are not on the roster (instead of `resident_id`).
    #[schema(max_length = 50, format = "text-line-or-blank")]
    pub requester_name: Option<String>,
}

const ADDRESS_MAX: usize = 200;

/// The map point of a filed location: each coordinate in range, both or neither.
fn coordinates(l: Option<&TicketLocation>) -> AppResult<Option<GeoPoint>> {
    let Some(l) = l else {
        return Ok(None);
    };
    let in_range = |field: &str, v: Option<f64>, max: f64| {
        v.filter(|v| !(-max..=max).contains(v)).map(|_| {
            FieldError::of(
                field,
                FieldCode::OutOfRange,
                crate::text!(
                    "须在 -{max} 到 {max} 之间",
                    "must be between -{max} and {max}"
                ),
            )
        })
    };
    let mut errors: Vec<FieldError> = [
        in_range("location.latitude", l.latitude, 90.0),
        in_range("location.longitude", l.longitude, 180.0),
    ]
    .into_iter()
    .flatten()
    .collect();
    let together = |field: &str| {
        FieldError::of(
            field,
            FieldCode::Required,
            crate::text!(
                "经度和纬度须同时提供",
                "latitude and longitude come together"
            ),
        )
    };
    match (l.latitude, l.longitude) {
        (Some(_), None) => errors.push(together("location.longitude")),
        (None, Some(_)) => errors.push(together("location.latitude")),
        _ => {}
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(l.latitude
        .zip(l.longitude)
        .map(|(latitude, longitude)| GeoPoint {
            latitude,
            longitude,
        }))
}

/// File a ticket: residents for their own compound, staff on a resident's behalf.
#[utoipa::path(tag = "tickets", security(("bearer" = [])), request_body = CreateTicketRequest,
    responses(
        (status = 201, body = TicketDetail, headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "Neither a resident with a household nor staff who may file here"),
        (status = 404, description = "The compound is outside the caller's scope"),
        (status = 429, description = "The resident already filed 10 tickets in the last 24 hours (see Retry-After)"),
    ))]
#[post("/tickets")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn create_ticket(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: Json<CreateTicketRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    // Validated by the idempotency middleware (1–255 visible characters) before we get here.
    let idempotency_key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let input = NewTicket {
        category_id: b.category_id,
        title: clean_line("title", &b.title, 50)?,
        description: clean_text("description", &b.description, 2000)?,
        compound_id: b.compound_id,
        building_id: b.building_id,
        location: clean_optional(
            "location.address",
            &b.location.as_ref().and_then(|l| l.address.clone()),
            ADDRESS_MAX,
        )?,
        coordinates: coordinates(b.location.as_ref())?,
        anonymous: b.anonymous,
        attachment_ids: b.attachment_ids,
        channel: b.channel,
        resident_id: b.resident_id,
        requester_name: clean_optional("requester_name", &b.requester_name, 50)?
            .map(|n| clean_line("requester_name", &n, 50))
            .transpose()?,
        idempotency_key,
    };
    let d = operations::file(
        &state.db,
        &user,
        input,
        state.clock.now(),
        &Signer::from_settings(&state.settings),
    )
    .await?;
    tracing::info!(ticket = %d.ticket.id, "ticket filed");
    Ok(with_etag(
        HttpResponse::Created()
            .insert_header((
                actix_web::http::header::LOCATION,
                format!("/api/v1/tickets/{}", d.ticket.id),
            ))
            .take(),
        &d,
    ))
}

/// One ticket with its photos and timeline.
#[utoipa::path(tag = "tickets", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = TicketDetail, headers(("ETag" = String))),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/tickets/{id}")]
pub async fn get_ticket(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let d = ticket_detail::visible(
        &state.db,
        &user,
        *id,
        state.clock.now(),
        &Signer::from_settings(&state.settings),
    )
    .await?;
    Ok(with_etag(HttpResponse::Ok(), &d))
}
