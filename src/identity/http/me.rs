//! Resident self-service: binding a verified phone or asking to join a household, one's own
//! household, and the rights to one's data (export, erase).

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::super::query::binding_requests::{self, BindingRequestResponse};
use super::super::query::me::{self as query, MyAccount, MyResident, MyRole};
use super::super::service::binding;
use super::super::service::me as svc;
use super::auth::sessions;
use crate::access::AuthUser;
use crate::activity::query::audit::AuditEventResponse;
use crate::activity::query::messages::InboxMessageResponse;
use crate::platform::error::FieldCode;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http::clean_name;
use crate::platform::http::created;
use crate::platform::http::extract::Json;
use crate::platform::http::Page;
use crate::platform::lang::Text;
use crate::platform::state::AppState;
use crate::residents::query::roster::{respond, ResidentResponse};
use crate::residents::service::roster as rsvc;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindPhoneRequest {
    /// The code from the mini-program's getPhoneNumber button.
    #[schema(min_length = 1, max_length = 128, pattern = "^[!-~]+$")]
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct BindPhoneResponse {
    pub phone_masked: String,
    /// True when the phone matched exactly one resident of the roster and the account is now
    /// linked to them; otherwise ask to join a household with `/me/binding-requests`.
    pub bound: bool,
    pub resident_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
}

/// Bind the phone WeChat verified; link to the roster when it matches exactly one resident.
#[utoipa::path(tag = "me", security(("bearer" = [])), request_body = BindPhoneRequest,
    responses(
        (status = 200, body = BindPhoneResponse),
        (status = 401, description = "Invalid or expired phone code (`wechat_code_invalid`)"),
        (status = 429, description = "More than 10 attempts in an hour by this account, or WeChat rate-limited the call; retry after `Retry-After` seconds"),
        (status = 502, description = "WeChat answered something unusable"),
    ))]
#[post("/me/phone")]
pub async fn bind_my_phone(
    state: web::Data<AppState>,
    me: AuthUser,
    body: Json<BindPhoneRequest>,
) -> AppResult<HttpResponse> {
    let code = body.code.trim();
    if code.is_empty() || code.len() > 128 {
        return Err(AppError::invalid(
            "code",
            FieldCode::Invalid,
            Text::new("code 应为 1 到 128 个字符", "1 to 128 characters"),
        ));
    }
    let bound = svc::bind_phone(
        &state.db,
        &state.cache,
        &state.pii,
        &state.wechat,
        &me,
        code,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(BindPhoneResponse {
        phone_masked: bound.phone_masked,
        bound: bound.resident_id.is_some(),
        resident_id: bound.resident_id,
        household_id: bound.household_id,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBindingRequest {
    pub household_id: Uuid,
    /// The caller's name as the household knows it.
    #[schema(max_length = 50, format = "text-line")]
    pub name: String,
    /// Relation to the householder (户主, 配偶, 子女, …).
    #[schema(max_length = 20, format = "text-line")]
    pub relation: String,
}

/// Ask to join a household; staff of its community or grid approve or reject.
#[utoipa::path(tag = "me", security(("bearer" = [])), request_body = CreateBindingRequest,
    responses(
        (status = 201, body = BindingRequestResponse, headers(("Location" = String))),
        (status = 404, description = "No such household"),
        (status = 409, description = "A request of the caller is already pending"),
    ))]
#[post("/me/binding-requests")]
pub async fn create_my_binding_request(
    state: web::Data<AppState>,
    me: AuthUser,
    body: Json<CreateBindingRequest>,
) -> AppResult<HttpResponse> {
    let name = clean_name("name", &body.name, rsvc::NAME_MAX)?;
    let relation = clean_name("relation", &body.relation, rsvc::RELATION_MAX)?;
    let m = binding::create_request(
        &state.db,
        &me,
        body.household_id,
        name,
        relation,
        state.clock.now(),
    )
    .await?;
    Ok(created(
        format!("/api/v1/binding-requests/{}", m.id),
        &BindingRequestResponse::from(m),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MyBindingRequestsQuery {
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The caller's own binding requests, newest first.
#[utoipa::path(tag = "me", security(("bearer" = [])), params(MyBindingRequestsQuery),
    responses((status = 200, body = Page<BindingRequestResponse>)))]
#[get("/me/binding-requests")]
pub async fn list_my_binding_requests(
    state: web::Data<AppState>,
    me: AuthUser,
    q: crate::platform::http::extract::Query<MyBindingRequestsQuery>,
) -> AppResult<HttpResponse> {
    let page = binding_requests::list_mine(&state.db, me.id, q.limit, q.cursor.as_deref()).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Serialize, ToSchema)]
pub struct MyHouseholdResponse {
    pub household_id: Uuid,
    pub building_id: Uuid,
    pub compound_id: Uuid,
    pub community_id: Uuid,
    pub unit: String,
    pub room: String,
    pub street_name: String,
    pub community_name: String,
    pub compound_name: String,
    pub building_name: String,
    /// Current members, personal data masked.
    pub members: Vec<ResidentResponse>,
}

/// The caller's household and its members (masked). 404 until the account is bound.
#[utoipa::path(tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, body = MyHouseholdResponse),
        (status = 404, description = "The account is not bound to a resident yet"),
    ))]
#[get("/me/household")]
pub async fn get_my_household(state: web::Data<AppState>, me: AuthUser) -> AppResult<HttpResponse> {
    let mine = query::my_household(&state.db, &me).await?;
    let view = crate::residents::query::roster::View::household_member(&me, state.clock.now());
    let (hh, names) = (mine.household, mine.names);
    Ok(HttpResponse::Ok().json(MyHouseholdResponse {
        street_name: names.street_name,
        community_name: names.community_name,
        compound_name: names.compound_name,
        building_name: names.building_name,
        household_id: hh.id,
        building_id: hh.building_id,
        compound_id: hh.compound_id,
        community_id: hh.community_id,
        unit: hh.unit,
        room: hh.room,
        members: mine
            .members
            .into_iter()
            .map(|(m, tags)| respond(m, tags, &view))
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct MyDataExport {
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub exported_at: DateTime<Utc>,
    pub account: MyAccount,
    pub resident: Option<MyResident>,
    pub roles: Vec<MyRole>,
    pub binding_requests: Vec<BindingRequestResponse>,
    /// Who read or exported the caller's personal data, when and why.
    pub access_log: Vec<AuditEventResponse>,
    /// Sign-in sessions (refresh tokens) on record, active or not.
    pub sessions: u64,
    /// The tickets the caller filed (or that were filed for them), each with its timeline.
    pub tickets: Vec<crate::tickets::query::detail::TicketDetail>,
    /// The caller's message centre, newest first.
    pub messages: Vec<InboxMessageResponse>,
    /// What the caller wrote on tickets' conversations, oldest first.
    pub ticket_messages: Vec<crate::tickets::query::messages::TicketMessageResponse>,
}

/// Everything the system holds about the caller, as JSON.
#[utoipa::path(tag = "me", security(("bearer" = [])),
    responses((status = 200, body = MyDataExport)))]
#[get("/me/export")]
pub async fn export_my_data(state: web::Data<AppState>, me: AuthUser) -> AppResult<HttpResponse> {
    let db = &state.db;
    let own = query::own_data(db, &state.pii, &me).await?;
    let mut tickets = Vec::new();
    let urls = crate::platform::signed_urls::Signer::from_settings(&state.settings);
    for t in crate::tickets::query::filed_by::requester(db, me.id).await? {
        tickets.push(
            crate::tickets::query::detail::detail(db, &me, t, state.clock.now(), &urls).await?,
        );
    }
    let ticket_messages = crate::tickets::service::messages::written_by(db, &me)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"my-data.json\"",
        ))
        .json(MyDataExport {
            exported_at: state.clock.now(),
            account: own.account,
            resident: own.resident,
            roles: own.roles,
            binding_requests: own.binding_requests,
            access_log: own.access_log,
            sessions: own.sessions,
            tickets,
            messages: own.messages,
            ticket_messages,
        }))
}

/// Erase the caller's account and its personal data; every token of it stops working. The
/// roster entry the account was linked to stays with the community, unlinked; tickets it filed
/// stay in the community's ledger without the requester's name. A later WeChat
/// login starts a fresh, empty account.
#[utoipa::path(tag = "me", security(("bearer" = [])),
    responses(
        (status = 204, description = "Erased"),
        (status = 409, description = "The deployment administrator cannot erase itself"),
    ))]
#[delete("/me")]
pub async fn erase_me(state: web::Data<AppState>, me: AuthUser) -> AppResult<HttpResponse> {
    svc::erase(
        &sessions(&state),
        &me,
        me.jti,
        me.family,
        me.token_exp,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
