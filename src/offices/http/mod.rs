//! Office terms: appoint, list, read, end, hand over.

use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AuthUser;
use crate::offices::model::{Body, OfficeScope};
pub use crate::offices::query::OfficeTermResponse;
use crate::offices::query::{self, OfficeHolderResponse, TermFilter};
use crate::offices::service::{self as svc, Appointment, Ending, Handover, Holder};
use crate::platform::error::AppResult;
use crate::platform::http::created;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::{Page, PageParams};
use crate::platform::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointOfficeTermRequest {
    pub body: Body,
    /// 主任, 副主任, 委员, 楼组长, 街面长, 议事员, 队长, 值班长 … 1 to 20 characters.
    #[schema(max_length = 20, format = "text-line")]
    pub position: String,
    /// building_leader → building; street_leader → compound (a `street_front` or `mixed` one);
    /// residents_committee and council → community; the other bodies any.
    pub scope_type: OfficeScope,
    pub scope_id: Uuid,
    /// The team, council or duty room, when the body has one.
    pub body_ref_id: Option<Uuid>,
    /// The holder on the roster: must live within the scope. Their bound account is used when
    /// `user_id` is absent.
    pub resident_id: Option<Uuid>,
    /// The holder's account; required (directly or through the resident) when `grants_role`.
    pub user_id: Option<Uuid>,
    /// Defaults to the resident's name, then the account's display name. At most 100 characters.
    #[schema(max_length = 100, format = "text-line")]
    pub display_name: Option<String>,
    pub starts_on: NaiveDate,
    /// The last day (inclusive); absent for an open-ended term. Not before `starts_on`.
    pub ends_on: Option<NaiveDate>,
    /// Grant the body's role on the scope until the term ends (building_leader → building_leader,
    /// street_leader → street_leader, residents_committee and council → council_member; other
    /// bodies grant none). The role stops working at 00:00 Asia/Shanghai after `ends_on`.
    pub grants_role: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndOfficeTermRequest {
    /// The last day; today (Asia/Shanghai) when absent.
    pub ended_on: Option<NaiveDate>,
    /// Why (辞职, 迁出, 免职 …). 1 to 500 characters.
    #[schema(max_length = 500, format = "text-line")]
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandOverOfficeTermRequest {
    /// The successor on the roster (living within the term's scope).
    pub resident_id: Option<Uuid>,
    /// The successor's account; required (directly or through the resident) when `grants_role`.
    pub user_id: Option<Uuid>,
    #[schema(max_length = 100, format = "text-line")]
    pub display_name: Option<String>,
    /// The successor's first day; the old term ends the day before.
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub grants_role: bool,
    /// 荣退, 换届 … 1 to 500 characters.
    #[schema(max_length = 500, format = "text-line")]
    pub reason: String,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListOfficeTermsQuery {
    /// The node the office is on.
    pub scope_id: Option<Uuid>,
    /// Terms within this community.
    pub community_id: Option<Uuid>,
    pub body: Option<Body>,
    /// `true`: started, not ended, not past `ends_on`; `false`: the others.
    pub current: Option<bool>,
    pub resident_id: Option<Uuid>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Appoint someone to an office for a term (任命), optionally granting the office's role until it ends.
#[utoipa::path(
    tag = "offices",
    security(("bearer" = [])),
    request_body = AppointOfficeTermRequest,
    responses(
        (status = 201, body = OfficeTermResponse, headers(("Location" = String))),
        (status = 400, description = "Invalid values: the body does not sit on this kind of scope, `ends_on` before `starts_on`, the resident does not live in the scope, no account to grant the role to, or the body grants no role"),
        (status = 403, description = "The caller sees the scope but may not manage its offices"),
        (status = 404, description = "The scope is not found or outside the caller's reach"),
        (status = 409, description = "A street leader on a compound that is not `street_front` or `mixed` (`compound_not_street_front`), or the account already has the role on the scope (`role_already_assigned`)"),
    )
)]
#[post("/office-terms")]
pub async fn appoint_office_term(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: Json<AppointOfficeTermRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let a = Appointment {
        body: b.body,
        position: b.position,
        scope_type: b.scope_type,
        scope_id: b.scope_id,
        body_ref_id: b.body_ref_id,
        holder: Holder {
            resident_id: b.resident_id,
            user_id: b.user_id,
            display_name: b.display_name,
        },
        starts_on: b.starts_on,
        ends_on: b.ends_on,
        grants_role: b.grants_role,
    };
    let t = svc::appoint(&state.db, &state.cache, &caller, a, state.clock.now()).await?;
    Ok(created(format!("/api/v1/office-terms/{}", t.id), &t))
}

/// List the office terms within the caller's reach.
#[utoipa::path(
    tag = "offices",
    security(("bearer" = [])),
    params(ListOfficeTermsQuery),
    responses((status = 200, body = Page<OfficeTermResponse>))
)]
#[get("/office-terms")]
pub async fn list_office_terms(
    state: web::Data<AppState>,
    caller: AuthUser,
    q: Query<ListOfficeTermsQuery>,
) -> AppResult<HttpResponse> {
    let q = q.0;
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let f = TermFilter {
        scope_id: q.scope_id,
        community_id: q.community_id,
        body: q.body,
        current: q.current,
        resident_id: q.resident_id,
    };
    let page = query::list(&state.db, &caller, f, p, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One office term.
#[utoipa::path(
    tag = "offices",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = OfficeTermResponse),
        (status = 404, description = "Not found within the caller's reach"),
    )
)]
#[get("/office-terms/{id}")]
pub async fn get_office_term(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let t = query::get(&state.db, &caller, *id, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(t))
}

/// End an office term now; the role it granted stops working at once.
#[utoipa::path(
    tag = "offices",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = EndOfficeTermRequest,
    responses(
        (status = 200, body = OfficeTermResponse),
        (status = 400, description = "`ended_on` before the term started, or no reason"),
        (status = 403, description = "The caller sees the term but may not manage offices"),
        (status = 404, description = "Not found within the caller's reach"),
        (status = 409, description = "The term has already ended (`term_already_ended`)"),
    )
)]
#[post("/office-terms/{id}/end")]
pub async fn end_office_term(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<Uuid>,
    body: Json<EndOfficeTermRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let ending = Ending {
        ended_on: b.ended_on,
        reason: b.reason,
    };
    let t = svc::end(
        &state.db,
        &state.cache,
        &caller,
        *id,
        ending,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(t))
}

/// Hand an office over to a successor (荣退交接): ends the term and starts the successor's, in one step.
#[utoipa::path(
    tag = "offices",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = HandOverOfficeTermRequest,
    responses(
        (status = 201, body = OfficeTermResponse, description = "The successor's term", headers(("Location" = String))),
        (status = 400, description = "Invalid values (as for an appointment), or no reason"),
        (status = 403, description = "The caller sees the term but may not manage offices"),
        (status = 404, description = "Not found within the caller's reach"),
        (status = 409, description = "The term has already ended (`term_already_ended`), or the successor already has the role (`role_already_assigned`)"),
    )
)]
#[post("/office-terms/{id}/handover")]
pub async fn hand_over_office_term(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<Uuid>,
    body: Json<HandOverOfficeTermRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let h = Handover {
        successor: Holder {
            resident_id: b.resident_id,
            user_id: b.user_id,
            display_name: b.display_name,
        },
        starts_on: b.starts_on,
        ends_on: b.ends_on,
        grants_role: b.grants_role,
        reason: b.reason,
    };
    let t = svc::hand_over(&state.db, &state.cache, &caller, *id, h, state.clock.now()).await?;
    Ok(created(format!("/api/v1/office-terms/{}", t.id), &t))
}

pub fn configure(cfg: &mut impl crate::platform::http::Routes) {
    cfg.service(list_my_offices)
        .service(appoint_office_term)
        .service(list_office_terms)
        .service(get_office_term)
        .service(end_office_term)
        .service(hand_over_office_term);
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MyOfficesQuery {
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Who serves the caller: the current offices held at their building, compound, community and
/// street (their 楼组长, 街面长, 居委会 members …), names and offices only. Any signed-in account;
/// empty for one bound nowhere.
#[utoipa::path(tag = "offices", security(("bearer" = [])), params(MyOfficesQuery),
    responses((status = 200, body = Page<OfficeHolderResponse>)))]
#[get("/me/offices")]
pub async fn list_my_offices(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<MyOfficesQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let page = query::holders_above(&state.db, &user, p, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(page))
}
