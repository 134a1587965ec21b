//! What those who run an election read besides the election: its voter roll (masked) and its
//! result sheet (.xlsx, audited).

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AuthUser;
use crate::elections::query;
use crate::elections::service::sheet;
use crate::platform::error::AppResult;
use crate::platform::http::extract::Query;
use crate::platform::http::{Page, PageParams, XLSX_CONTENT_TYPE};
use crate::platform::state::AppState;
use crate::polls::model::RollStatus;
use crate::polls::query::RollEntry;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ElectionRollQuery {
    pub status: Option<RollStatus>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The election's voter roll for those who run it (staff within reach, its officers), by voter
/// key: names masked (`王*`), the status of each entry, never how or when anyone voted (the
/// ballot is secret). From `publish-roll` on: before voting it is the published roll that
/// objections edit.
#[utoipa::path(tag = "elections", security(("bearer" = [])),
    params(("id" = Uuid, Path), ElectionRollQuery),
    responses(
        (status = 200, body = Page<RollEntry>),
        (status = 403, description = "The caller may read the election but neither runs it nor is its officer"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "A draft: no roll published yet (`wrong_status`)"),
    ))]
#[get("/elections/{id}/roll")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn list_election_roll(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: Query<ElectionRollQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    Ok(HttpResponse::Ok().json(query::roll(&state.db, &user, *id, q.status, p).await?))
}

/// An election's result sheet: an .xlsx workbook.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct ElectionResultSheet(Vec<u8>);

/// The result sheet (.xlsx) of an election whose results are published (or that was voided at
/// publication), for those who run it; every download is audited.
#[utoipa::path(tag = "elections", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The workbook (`Content-Disposition: attachment; filename=\"election-<id>.xlsx\"`)",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            body = ElectionResultSheet),
        (status = 403, description = "The caller may read the election but neither runs it nor is its officer"),
        (status = 404, description = "Not found, not the caller's to see, or its results not published yet"),
    ))]
#[get("/elections/{id}/results.xlsx")]
#[tracing::instrument(skip_all, fields(user = %user.id, election = %id))]
pub async fn get_election_result_sheet(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let bytes = sheet::result_sheet(&state.db, &user, *id, state.clock.now()).await?;
    Ok(HttpResponse::Ok()
        .content_type(XLSX_CONTENT_TYPE)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"election-{}.xlsx\"", *id),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}
