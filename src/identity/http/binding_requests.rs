//! Residents' requests to join a household, as staff in scope review them.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::super::query::binding_requests as query;
pub use super::super::query::binding_requests::BindingRequestResponse;
use super::super::service::binding;
use crate::access::AuthUser;
use crate::platform::error::AppResult;
use crate::platform::http::extract::{Json, JsonOrEmpty, Query};
use crate::platform::http::Page;
use crate::platform::state::AppState;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListBindingRequestsQuery {
    #[param(value_type = Option<query::BindingStatus>)]
    pub status: Option<String>,
    pub community_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Binding requests for households in the caller's scope.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(ListBindingRequestsQuery),
    responses((status = 200, body = Page<BindingRequestResponse>)))]
#[get("/binding-requests")]
pub async fn list_binding_requests(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListBindingRequestsQuery>,
) -> AppResult<HttpResponse> {
    let page = query::list(
        &state.db,
        &user,
        q.status.as_deref(),
        q.community_id,
        q.household_id,
        q.limit,
        q.cursor.as_deref(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ApproveBindingRequest {
    /// Attach this unlinked resident of the household (one of the request's `candidates`):
    /// the account then sees that entry's personal data. Absent: the resident matching the
    /// requester's WeChat-verified phone, else a new entry with the requested name only.
    pub resident_id: Option<Uuid>,
}

/// Approve: link the account to the chosen resident, to the one its WeChat-verified phone
/// matches, or to a new roster entry; grant it the resident role on the household. The body may
/// be empty.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body(content = Option<ApproveBindingRequest>, description = "Optional; an empty body approves without a choice"),
    responses(
        (status = 200, body = BindingRequestResponse),
        (status = 400, description = "`resident_id` is not an unlinked current resident of the household"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "The request was already decided (also when two decisions race)"),
    ))]
#[post("/binding-requests/{id}/approve")]
pub async fn approve_binding_request(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: JsonOrEmpty<ApproveBindingRequest>,
) -> AppResult<HttpResponse> {
    let attach = match body.0.resident_id {
        Some(r) => binding::Attach::Chosen(r),
        None => binding::Attach::Default,
    };
    let m = binding::approve_request(
        &state.db,
        &state.cache,
        &state.pii,
        &user,
        *id,
        attach,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(BindingRequestResponse::from(m)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBindingRequest {
    /// Shown to the resident. 1 to 500 characters.
    #[schema(max_length = 500, format = "text-line")]
    pub reason: String,
}

/// Reject, with a reason the resident sees.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = RejectBindingRequest,
    responses(
        (status = 200, body = BindingRequestResponse),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "The request was already decided"),
    ))]
#[post("/binding-requests/{id}/reject")]
pub async fn reject_binding_request(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<RejectBindingRequest>,
) -> AppResult<HttpResponse> {
    let reason = crate::platform::http::clean_name("reason", &body.reason, 500)?;
    let m = binding::reject_request(&state.db, &user, *id, reason, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(BindingRequestResponse::from(m)))
}
