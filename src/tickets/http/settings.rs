//! Per-community ticket settings: categories and the deadline policy.

use actix_web::{get, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AuthUser;
use crate::platform::error::AppResult;
use crate::platform::http::clean_name;
use crate::platform::http::created;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::Page;
use crate::platform::state::AppState;
pub use crate::tickets::query::settings::TicketCategoryResponse;
use crate::tickets::query::settings::{settings_community, ticket_community};
use crate::tickets::service::settings::{self as ticket_settings, Policy};

/// All categories of a community (at most 50), in display order.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListTicketCategoriesQuery {
    pub community_id: Uuid,
}

/// The ticket categories of a community (a community starts with 环境卫生, 停车, 物业服务,
/// 邻里纠纷, 设施维修, 安全隐患, 建议, 其他). A community has at most 50, all on one page
/// (`next_cursor` is always null), in the shape of every other list.
#[utoipa::path(tag = "tickets", security(("bearer" = [])), params(ListTicketCategoriesQuery),
    responses(
        (status = 200, body = Page<TicketCategoryResponse>),
        (status = 404, description = "Not a community the caller files or sees tickets in"),
    ))]
#[get("/ticket-categories")]
pub async fn list_ticket_categories(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListTicketCategoriesQuery>,
) -> AppResult<HttpResponse> {
    let c = ticket_community(&state.db, &user, q.community_id).await?;
    let items = ticket_settings::list_categories(&state.db, &c, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(Page::<TicketCategoryResponse> {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketCategoryRequest {
    pub community_id: Uuid,
    /// 1–30 characters, unique in the community.
    #[schema(example = "垃圾分类", max_length = 30, format = "text-line")]
    pub name: String,
    /// Lower sorts first; default after the last one.
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    pub sort_order: Option<i32>,
}

/// Add a ticket category to a community (community staff, admins).
#[utoipa::path(tag = "tickets", security(("bearer" = [])), request_body = CreateTicketCategoryRequest,
    responses(
        (status = 201, body = TicketCategoryResponse, headers(("Location" = String))),
        (status = 403, description = "The caller may not change this community's settings"),
        (status = 404, description = "Community not found or outside the caller's scope"),
        (status = 409, description = "A category of that name exists, or the community has 50"),
    ))]
#[post("/ticket-categories")]
pub async fn create_ticket_category(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateTicketCategoryRequest>,
) -> AppResult<HttpResponse> {
    let name = clean_name("name", &body.name, 30)?;
    let c = settings_community(&state.db, &user, body.community_id).await?;
    let m = ticket_settings::add_category(&state.db, &c, name, body.sort_order, state.clock.now())
        .await?;
    Ok(created(
        format!("/api/v1/ticket-categories?community_id={}", m.community_id),
        &TicketCategoryResponse::from(m),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketPolicyResponse {
    pub community_id: Uuid,
    /// Days from triage a green ticket is due.
    pub green_days: i32,
    /// Days from triage an orange ticket is due.
    pub orange_days: i32,
    /// Days between follow-ups of a red ticket.
    pub red_follow_up_days: i32,
    /// Hours an overdue ticket stays at one escalation level before it climbs the next.
    pub escalation_interval_hours: i32,
    /// Days a resolved ticket waits for the requester before it closes on its own.
    pub auto_close_days: i32,
    /// True while the community uses the defaults.
    pub is_default: bool,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<Uuid>,
}

fn policy_response(
    community_id: Uuid,
    p: Policy,
    changed: Option<(DateTime<Utc>, Option<Uuid>)>,
) -> TicketPolicyResponse {
    TicketPolicyResponse {
        community_id,
        green_days: p.green_days,
        orange_days: p.orange_days,
        red_follow_up_days: p.red_follow_up_days,
        escalation_interval_hours: p.escalation_interval_hours,
        auto_close_days: p.auto_close_days,
        is_default: changed.is_none(),
        updated_at: changed.map(|c| c.0),
        updated_by: changed.and_then(|c| c.1),
    }
}

/// The deadline policy of a community.
#[utoipa::path(tag = "tickets", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = TicketPolicyResponse),
        (status = 404, description = "Not a community the caller files or sees tickets in"),
    ))]
#[get("/communities/{id}/ticket-policy")]
pub async fn get_ticket_policy(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let c = ticket_community(&state.db, &user, *id).await?;
    let (p, changed) = ticket_settings::policy_of(&state.db, c.id).await?;
    Ok(HttpResponse::Ok().json(policy_response(c.id, p, changed)))
}

/// The whole policy; each number 1–365 days (escalation 1–720 hours), green at most orange.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTicketPolicyRequest {
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(example = 7, minimum = 1, maximum = 365)]
    pub green_days: i32,
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(example = 30, minimum = 1, maximum = 365)]
    pub orange_days: i32,
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(example = 7, minimum = 1, maximum = 365)]
    pub red_follow_up_days: i32,
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(example = 24, minimum = 1, maximum = 720)]
    pub escalation_interval_hours: i32,
    #[serde(deserialize_with = "crate::platform::http::integer")]
    #[schema(example = 7, minimum = 1, maximum = 365)]
    pub auto_close_days: i32,
}

/// Replace a community's deadline policy (community staff, admins). Deadlines already set keep
/// their dates; new triages, follow-ups and resolutions use the new numbers.
#[utoipa::path(tag = "tickets", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = UpdateTicketPolicyRequest,
    responses(
        (status = 200, body = TicketPolicyResponse),
        (status = 403, description = "The caller may not change this community's settings"),
        (status = 404, description = "Community not found or outside the caller's scope"),
    ))]
#[put("/communities/{id}/ticket-policy")]
pub async fn update_ticket_policy(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<UpdateTicketPolicyRequest>,
) -> AppResult<HttpResponse> {
    let c = settings_community(&state.db, &user, *id).await?;
    let p = Policy {
        green_days: body.green_days,
        orange_days: body.orange_days,
        red_follow_up_days: body.red_follow_up_days,
        escalation_interval_hours: body.escalation_interval_hours,
        auto_close_days: body.auto_close_days,
    };
    ticket_settings::set_policy(&state.db, &c, p, user.id, state.clock.now()).await?;
    let (p, changed) = ticket_settings::policy_of(&state.db, c.id).await?;
    tracing::info!(community = %c.id, by = %user.id, "ticket policy changed");
    Ok(HttpResponse::Ok().json(policy_response(c.id, p, changed)))
}
