//! Reading notices: the resident's own list, and the read and confirm verbs.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::access::AuthUser;
use crate::notices::query::{self, MyNotices, MyReceipt};
use crate::notices::service as svc;
use crate::platform::error::AppResult;
use crate::platform::http::extract::Query;
use crate::platform::http::page_limit;
use crate::platform::signed_urls::Signer;
use crate::platform::state::AppState;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MyNoticesQuery {
    /// Only the unread ones.
    #[serde(default)]
    pub unread: bool,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[ur][A-Za-z0-9_-]{21}[AQgw]$")]
    pub cursor: Option<String>,
}

/// The notices published to the caller: unread first, then read, each newest first; with the
/// unread count for the badge (published, unexpired, unread). Withdrawn notices leave the list.
#[utoipa::path(tag = "notices", security(("bearer" = [])), params(MyNoticesQuery),
    responses(
        (status = 200, body = MyNotices),
        (status = 400, description = "Not a cursor of this list"),
    ))]
#[get("/me/notices")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn list_my_notices(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<MyNoticesQuery>,
) -> AppResult<HttpResponse> {
    let limit = page_limit(q.limit)?;
    let page = query::mine(
        &state.db,
        &user,
        q.unread,
        limit,
        q.cursor.as_deref(),
        &Signer::from_settings(&state.settings),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Marks the notice read by the caller. Idempotent: the first call counts the read (and the
/// caller's household as reached); later calls change nothing and answer the same receipt. No
/// body.
#[utoipa::path(tag = "notices", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = MyReceipt),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not published (`wrong_status`)"),
    ))]
#[post("/notices/{id}/read")]
#[tracing::instrument(skip_all, fields(user = %user.id, notice = %id))]
pub async fn read_notice(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let r = svc::read(&state.db, &user, *id, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(MyReceipt::from(r)))
}

/// Confirms (回执) a notice that asks for it; confirming also reads it. Idempotent. No body.
#[utoipa::path(tag = "notices", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = MyReceipt),
        (status = 403, description = "The caller sees the notice but is not one of its residents"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not published, or it asks for no confirmation (`wrong_status`)"),
    ))]
#[post("/notices/{id}/confirm")]
#[tracing::instrument(skip_all, fields(user = %user.id, notice = %id))]
pub async fn confirm_notice(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let r = svc::confirm(&state.db, &user, *id, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(MyReceipt::from(r)))
}
