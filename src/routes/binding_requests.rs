//! Residents' requests to join a household, as staff in scope review them.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::policy::{self, Action};
use crate::auth::AuthUser;
use crate::error::{AppError, AppResult};
use crate::routes::extract::{Json, Query};
use crate::routes::{Page, PageParams};
use crate::services::{binding, territory};
use crate::state::AppState;
use entity::binding_request;

#[derive(Serialize, ToSchema)]
pub struct BindingRequestResponse {
    pub id: Uuid,
    pub user_id: Uuid,
    pub household_id: Uuid,
    pub building_id: Uuid,
    pub compound_id: Uuid,
    pub community_id: Uuid,
    pub name: String,
    pub relation: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// Why it was rejected.
    pub reason: Option<String>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The resident the account was linked to on approval.
    pub resident_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<binding_request::Model> for BindingRequestResponse {
    fn from(m: binding_request::Model) -> Self {
        Self {
            id: m.id,
            user_id: m.user_id,
            household_id: m.household_id,
            building_id: m.building_id,
            compound_id: m.compound_id,
            community_id: m.community_id,
            name: m.name,
            relation: m.relation,
            status: m.status,
            reason: m.reason,
            decided_by: m.decided_by,
            decided_at: m.decided_at,
            resident_id: m.resident_id,
            created_at: m.created_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListBindingRequestsQuery {
    /// `pending`, `approved` or `rejected`.
    #[param(pattern = "^(pending|approved|rejected)$")]
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
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let mut filter = Condition::all();
    if let Some(s) = &q.status {
        if ![binding::PENDING, binding::APPROVED, binding::REJECTED].contains(&s.as_str()) {
            return Err(AppError::InvalidQuery(vec![crate::error::FieldError::new(
                "status",
                "invalid",
                "pending, approved or rejected",
            )]));
        }
        filter = filter.add(binding_request::Column::Status.eq(s.as_str()));
    }
    if let Some(v) = q.community_id {
        filter = filter.add(binding_request::Column::CommunityId.eq(v));
    }
    if let Some(v) = q.household_id {
        filter = filter.add(binding_request::Column::HouseholdId.eq(v));
    }
    let (rows, next_cursor) = territory::list_page::<binding_request::Entity, _>(
        &state.db,
        &user,
        Action::BindingReview,
        filter,
        p,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page {
        items: rows
            .into_iter()
            .map(BindingRequestResponse::from)
            .collect::<Vec<_>>(),
        next_cursor,
    }))
}

/// Approve: link the account to the household's resident of that name (or register one) and
/// grant it the resident role on the household.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = BindingRequestResponse),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "The request was already decided"),
    ))]
#[post("/binding-requests/{id}/approve")]
pub async fn approve_binding_request(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let req = policy::find_visible::<binding_request::Entity, _>(
        &state.db,
        &user,
        Action::BindingReview,
        *id,
    )
    .await?;
    let txn = state.db.begin().await?;
    let m = binding::approve(&txn, &state.pii, req, user.id).await?;
    txn.commit().await?;
    tracing::info!(request = %m.id, by = %user.id, "binding request approved");
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
    let reason = crate::routes::clean_name("reason", &body.reason, 500)?;
    let req = policy::find_visible::<binding_request::Entity, _>(
        &state.db,
        &user,
        Action::BindingReview,
        *id,
    )
    .await?;
    let m = binding::reject(&state.db, req, user.id, reason).await?;
    Ok(HttpResponse::Ok().json(BindingRequestResponse::from(m)))
}
