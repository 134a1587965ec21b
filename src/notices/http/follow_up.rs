//! Following notices up: receipts by building, the households not reached yet, offline
//! records; and moderation: the queue, approving and sending back.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::with_etag;
use crate::access::AuthUser;
use crate::notices::model::{self, Reach};
use crate::notices::query::{self, NoticeReceipts, NoticeResponse, UnreachedHousehold};
use crate::notices::service as svc;
use crate::platform::error::AppResult;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::{clean_optional, clean_text, if_match, Page, PageParams};
use crate::platform::signed_urls::Signer;
use crate::platform::state::AppState;

/// The receipts of a notice: totals, and per building read, confirmed and households reached.
/// Staff and writers down their reach see every building; a building leader their own.
#[utoipa::path(tag = "notices", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = NoticeReceipts),
        (status = 403, description = "The caller reads the notice but follows up no building of it"),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/notices/{id}/receipts")]
pub async fn get_notice_receipts(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(query::receipts(&state.db, &user, *id).await?))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnreachedQuery {
    /// The building to list (one the caller follows up).
    pub building_id: Uuid,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The households of one building the notice is addressed to that no member's read and no
/// offline record reached yet: a building leader's round (rooms, masked names).
#[utoipa::path(tag = "notices", security(("bearer" = [])), params(("id" = Uuid, Path), UnreachedQuery),
    responses(
        (status = 200, body = Page<UnreachedHousehold>),
        (status = 403, description = "The caller reads the notice but follows up no building of it"),
        (status = 404, description = "The notice or the building is not found or not the caller's to follow up"),
    ))]
#[get("/notices/{id}/unreached-households")]
pub async fn list_unreached_households(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: Query<UnreachedQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let page = query::unreached(&state.db, &user, *id, q.building_id, p).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfflineReachRequest {
    pub household_id: Uuid,
    /// How the household was told (a member's read is recorded by the mini-program itself).
    pub method: OfflineMethod,
    /// At most 200 characters; blank counts as absent.
    #[schema(max_length = 200, format = "text-or-blank")]
    pub note: Option<String>,
}

/// How a leader told a household offline.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfflineMethod {
    /// At the door.
    Visit,
    /// By telephone.
    Phone,
    /// On the building's notice board.
    Board,
}

impl From<OfflineMethod> for Reach {
    fn from(m: OfflineMethod) -> Self {
        match m {
            OfflineMethod::Visit => Reach::Visit,
            OfflineMethod::Phone => Reach::Phone,
            OfflineMethod::Board => Reach::Board,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfflineReachResponse {
    pub household_id: Uuid,
    /// Whether this call reached the household (false: something reached it before).
    pub recorded: bool,
    /// How the household was first reached.
    pub how: Reach,
    /// `已读`, `上门告知`, `电话告知`, `张贴公告栏`.
    pub how_label: String,
}

/// Records having told a household offline (the elderly without smartphones): counted once
/// per household, whether or not a member also read it. 201 when this reached the household,
/// 200 when it was reached before (the answer says how).
#[utoipa::path(tag = "notices", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = OfflineReachRequest,
    responses(
        (status = 201, body = OfflineReachResponse),
        (status = 200, body = OfflineReachResponse),
        (status = 400, description = "The household is not in the notice's audience"),
        (status = 403, description = "The household is not in a building the caller follows up"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not published (`wrong_status`)"),
    ))]
#[post("/notices/{id}/offline-reach")]
#[tracing::instrument(skip_all, fields(user = %user.id, notice = %id))]
pub async fn record_offline_reach(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<OfflineReachRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let note = clean_optional("note", &b.note, model::NOTE_MAX)?;
    let r = svc::record_offline(
        &state.db,
        &user,
        *id,
        b.household_id,
        b.method.into(),
        note,
        state.clock.now(),
    )
    .await?;
    let body = OfflineReachResponse {
        household_id: b.household_id,
        recorded: r.recorded,
        how: r.how,
        how_label: query::reach_label(r.how).to_string(),
    };
    Ok(if r.recorded {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ModerationQueueQuery {
    pub community_id: Option<Uuid>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// What the content check held for review in the caller's reach (optionally one community),
/// oldest first: community staff and administrators pass it or send it back.
#[utoipa::path(tag = "notices", security(("bearer" = [])), params(ModerationQueueQuery),
    responses((status = 200, body = Page<NoticeResponse>)))]
#[get("/moderation-queue")]
pub async fn list_moderation_queue(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ModerationQueueQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let page = query::moderation_queue(
        &state.db,
        &user,
        q.community_id,
        p,
        &Signer::from_settings(&state.settings),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A moderator passes a held notice: it is published now, or scheduled when `publish_at` lies
/// ahead. No body.
#[utoipa::path(tag = "notices", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The notice's ETag; a stale one answers 412")),
    responses(
        (status = 200, body = NoticeResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the notice but not moderate it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not held for review (`wrong_status`)"),
        (status = 412, description = "If-Match does not match the notice's current ETag"),
    ))]
#[post("/notices/{id}/approve")]
#[tracing::instrument(skip_all, fields(user = %user.id, notice = %id))]
pub async fn approve_notice(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let n = svc::approve(&state.db, &user, *id, if_match(&req)?, now).await?;
    let r = query::respond(
        &state.db,
        &user,
        n,
        &Signer::from_settings(&state.settings),
        now,
    )
    .await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBackNoticeRequest {
    /// What to change, for the author. 1 to 500 characters.
    #[schema(max_length = 500, format = "text")]
    pub note: String,
}

/// A moderator sends a held notice back to draft, with a note for its author.
#[utoipa::path(tag = "notices", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The notice's ETag; a stale one answers 412")),
    request_body = SendBackNoticeRequest,
    responses(
        (status = 200, body = NoticeResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the notice but not moderate it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not held for review (`wrong_status`)"),
        (status = 412, description = "If-Match does not match the notice's current ETag"),
    ))]
#[post("/notices/{id}/send-back")]
#[tracing::instrument(skip_all, fields(user = %user.id, notice = %id))]
pub async fn send_back_notice(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<SendBackNoticeRequest>,
) -> AppResult<HttpResponse> {
    let note = clean_text("note", &body.note, model::REASON_MAX)?;
    let now = state.clock.now();
    let n = svc::send_back(&state.db, &user, *id, if_match(&req)?, note, now).await?;
    let r = query::respond(
        &state.db,
        &user,
        n,
        &Signer::from_settings(&state.settings),
        now,
    )
    .await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}
