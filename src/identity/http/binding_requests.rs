//! Residents' requests to join a household, as staff in scope review them.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::policy::{self, Action, Level};
use crate::access::AuthUser;
use crate::identity::service::binding;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http::extract::{Json, JsonOrEmpty, Query};
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::state::AppState;
use crate::territory::service::tree as territory;
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
    #[schema(value_type = crate::identity::service::binding::BindingStatus)]
    pub status: String,
    /// Why it was rejected.
    pub reason: Option<String>,
    pub decided_by: Option<Uuid>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub decided_at: Option<DateTime<Utc>>,
    /// The resident the account was linked to on approval.
    pub resident_id: Option<Uuid>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    /// While pending: the unlinked residents of the household an approval could attach, with
    /// what each would hand the account (its own data in `/me/export`). Approving without
    /// `resident_id` attaches `phone_verified_match` if there is one, else registers a new entry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<BindingCandidate>,
    /// The candidate whose phone is the one WeChat verified for the requester, if exactly one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_verified_match: Option<Uuid>,
}

/// An existing roster entry an approval could attach, as staff see it before choosing.
#[derive(Serialize, ToSchema)]
pub struct BindingCandidate {
    pub resident_id: Uuid,
    pub name: String,
    pub relation: Option<String>,
    /// Whether it has the name the request gave.
    pub same_name: bool,
    /// `138******34`: attaching hands the account the full number.
    pub phone_masked: Option<String>,
    /// Attaching hands the account the full ID number.
    pub id_number_masked: Option<String>,
    pub has_birth_date: bool,
    pub tags: Vec<String>,
}

impl From<binding_request::Model> for BindingRequestResponse {
    fn from(m: binding_request::Model) -> Self {
        Self {
            candidates: Vec::new(),
            phone_verified_match: None,
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
    #[param(value_type = Option<crate::identity::service::binding::BindingStatus>)]
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
    let mut within = Vec::new();
    if let Some(s) = &q.status {
        if ![binding::PENDING, binding::APPROVED, binding::REJECTED].contains(&s.as_str()) {
            return Err(AppError::InvalidQuery(vec![
                crate::platform::error::FieldError::of(
                    "status",
                    crate::platform::error::FieldCode::Invalid,
                    crate::platform::lang::Text::new(
                        "取值不对，应为：pending、approved 或 rejected",
                        "pending, approved or rejected",
                    ),
                ),
            ]));
        }
        filter = filter.add(binding_request::Column::Status.eq(s.as_str()));
    }
    if let Some(v) = q.community_id {
        within.push((Level::Community, v));
    }
    if let Some(v) = q.household_id {
        within.push((Level::Household, v));
    }
    // The requester's verified phone (its lookup hash) comes with each request.
    let requester_phone = sea_orm::sea_query::Expr::cust(
        r#"(SELECT "phone_hash" FROM "users" WHERE "users"."id" = "binding_requests"."user_id")"#,
    );
    let (rows, next_cursor) = territory::list_page_as::<binding_request::Entity, RequestRow, _>(
        &state.db,
        &user,
        Action::BindingReview,
        &within,
        filter,
        p,
        &[(requester_phone, "requester_phone_hash")],
        |r: &RequestRow| Some(r.request.id),
    )
    .await?;
    let items = with_candidates(&state, rows).await?;
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// A binding request with the lookup hash of its requester's verified phone.
struct RequestRow {
    request: binding_request::Model,
    requester_phone_hash: Option<String>,
}

impl sea_orm::FromQueryResult for RequestRow {
    fn from_query_result(res: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(RequestRow {
            request: binding_request::Model::from_query_result(res, pre)?,
            requester_phone_hash: res.try_get(pre, "requester_phone_hash")?,
        })
    }
}

/// Responses for `rows`, the pending ones with their candidates and the candidates' tags (one
/// more statement per page).
async fn with_candidates(
    state: &AppState,
    rows: Vec<RequestRow>,
) -> AppResult<Vec<BindingRequestResponse>> {
    let households: Vec<Uuid> = rows
        .iter()
        .filter(|r| r.request.status == binding::PENDING)
        .map(|r| r.request.household_id)
        .collect();
    let unlinked = binding::candidates_with_tags(&state.db, &households).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let m = row.request;
            let verified = row.requester_phone_hash;
            let pending = m.status == binding::PENDING;
            let (household, name) = (m.household_id, m.name.clone());
            let mut out = BindingRequestResponse::from(m);
            if !pending {
                return out;
            }
            let here: Vec<&crate::residents::service::roster::ResidentWithTags> = unlinked
                .iter()
                .filter(|r| r.resident.household_id == household)
                .collect();
            let matches: Vec<Uuid> = here
                .iter()
                .filter(|r| r.resident.phone_hash.is_some() && r.resident.phone_hash == verified)
                .map(|r| r.resident.id)
                .collect();
            out.phone_verified_match = (matches.len() == 1).then(|| matches[0]);
            out.candidates = here
                .into_iter()
                .map(|c| {
                    let r = &c.resident;
                    BindingCandidate {
                        resident_id: r.id,
                        name: r.name.clone(),
                        relation: r.relation.clone(),
                        same_name: r.name == name,
                        phone_masked: r
                            .phone_masked
                            .as_deref()
                            .map(crate::platform::pii::staff_phone_mask),
                        id_number_masked: r.id_number_masked.clone(),
                        has_birth_date: r.birth_date.is_some(),
                        tags: c.tags.clone(),
                    }
                })
                .collect();
            out
        })
        .collect())
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
    let req = policy::find_visible::<binding_request::Entity, _>(
        &state.db,
        &user,
        Action::BindingReview,
        *id,
    )
    .await?;
    let attach = match body.0.resident_id {
        Some(r) => binding::Attach::Chosen(r),
        None => binding::Attach::Default,
    };
    let txn = state.db.begin().await?;
    let m = binding::approve(&txn, &state.pii, req, user.id, attach).await?;
    binding::audit_link(
        &txn,
        (&user).into(),
        &m,
        serde_json::json!({"chosen": matches!(attach, binding::Attach::Chosen(_))}),
    )
    .await?;
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
    let reason = crate::platform::http::clean_name("reason", &body.reason, 500)?;
    let req = policy::find_visible::<binding_request::Entity, _>(
        &state.db,
        &user,
        Action::BindingReview,
        *id,
    )
    .await?;
    let txn = state.db.begin().await?;
    let m = binding::reject(&txn, req, user.id, reason).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(BindingRequestResponse::from(m)))
}
