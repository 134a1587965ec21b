//! The roster (`/api/v1/residents`): personal data masked in every response; full values only
//! through the audited `reveal`.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AuthUser;
use crate::platform::error::AppResult;
use crate::platform::http::created;
use crate::platform::http::double_option;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::Page;
use crate::platform::state::AppState;
pub use crate::residents::model::RevealField;
use crate::residents::query::roster::{self as query, ListResidentsQuery};
pub use crate::residents::query::roster::{
    respond, ResidentResponse, ResidentStatsResponse, StatsGroup, StatsGroupBy, View,
};
use crate::residents::service::entries;
pub use crate::residents::service::limits::{PHONE_LOOKUPS_PER_HOUR, REVEALS_PER_HOUR};
use crate::residents::service::roster::{Gender, ResidentInput};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateResidentRequest {
    pub household_id: Uuid,
    #[schema(example = "张三", max_length = 50, format = "text-line")]
    pub name: String,
    pub gender: Option<Gender>,
    /// Not in the future; must agree with the ID number when both are given; taken from it
    /// when absent.
    pub birth_date: Option<NaiveDate>,
    /// Mainland mobile number (11 digits). Blank counts as absent.
    #[schema(example = "13812341234", format = "mobile-or-blank")]
    pub phone: Option<String>,
    /// 18-digit resident ID number; the check digit is verified. Blank counts as absent.
    #[schema(format = "id-number-or-blank")]
    pub id_number: Option<String>,
    /// Relation to the householder (户主, 配偶, 子女, …). Blank counts as absent.
    #[schema(max_length = 20, format = "text-line-or-blank")]
    pub relation: Option<String>,
    /// e.g. 党员, 志愿者, 退休, 居民代表, 独居老人; at most 20 of at most 20 characters.
    #[serde(default)]
    #[schema(max_items = 20, max_length = 20, format = "text-line")]
    pub tags: Vec<String>,
    pub moved_in_on: Option<NaiveDate>,
    /// Not before `moved_in_on`.
    pub moved_out_on: Option<NaiveDate>,
}

/// Absent fields are left as they are; `null` clears an optional one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateResidentRequest {
    #[schema(max_length = 50, format = "text-line")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Gender>)]
    pub gender: Option<Option<Gender>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub birth_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = "mobile-or-blank")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = "id-number-or-blank")]
    pub id_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 20, format = "text-line-or-blank")]
    pub relation: Option<Option<String>>,
    /// Replaces the tags.
    #[schema(max_items = 20, max_length = 20, format = "text-line")]
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub moved_in_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub moved_out_on: Option<Option<NaiveDate>>,
}

/// List residents the caller may see, with personal data masked. A `phone` lookup is for roles
/// that may reveal, within where they may reveal, at most 100 an hour, and audited.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(ListResidentsQuery),
    responses(
        (status = 200, body = Page<ResidentResponse>),
        (status = 403, description = "A `phone` lookup by a role that may not reveal personal data"),
        (status = 429, description = "More than 100 phone lookups in an hour by this account; retry after `Retry-After` seconds"),
    ))]
#[get("/residents")]
pub async fn list_residents(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListResidentsQuery>,
) -> AppResult<HttpResponse> {
    let page = query::list(
        &state.db,
        &state.cache,
        &state.pii,
        &user,
        &q,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Register a resident in a household.
#[utoipa::path(tag = "residents", security(("bearer" = [])), request_body = CreateResidentRequest,
    responses(
        (status = 201, body = ResidentResponse, headers(("Location" = String))),
        (status = 403, description = "The caller's role may not register residents here"),
        (status = 404, description = "The household is not found or outside the caller's scope"),
        (status = 409, description = "A resident with this ID number is already registered"),
    ))]
#[post("/residents")]
pub async fn create_resident(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateResidentRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let input = ResidentInput {
        name: b.name,
        gender: b.gender,
        birth_date: b.birth_date,
        phone: b.phone,
        id_number: b.id_number,
        relation: b.relation,
        tags: b.tags,
        moved_in_on: b.moved_in_on,
        moved_out_on: b.moved_out_on,
    };
    let r = entries::create(
        &state.db,
        &state.pii,
        &user,
        b.household_id,
        input,
        state.clock.now(),
    )
    .await?;
    Ok(created(format!("/api/v1/residents/{}", r.id), &r))
}

/// Get a resident (personal data masked).
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = ResidentResponse), (status = 404, description = "Not found or outside the caller's scope")))]
#[get("/residents/{id}")]
pub async fn get_resident(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(query::get(&state.db, &user, *id, state.clock.now()).await?))
}

/// Update a resident. The household is fixed; a move to another household, in this community
/// or another, is a transfer (`POST /residents/{id}/transfers`) the receiving side accepts.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = UpdateResidentRequest,
    responses(
        (status = 200, body = ResidentResponse),
        (status = 403, description = "The caller's role may not change residents"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "A resident with this ID number is already registered"),
    ))]
#[patch("/residents/{id}")]
pub async fn update_resident(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<UpdateResidentRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let r = entries::update(
        &state.db,
        &state.pii,
        &user,
        *id,
        |input| {
            if let Some(v) = b.name {
                input.name = v;
            }
            if let Some(v) = b.gender {
                input.gender = v;
            }
            // A new ID number brings its own birth date unless one is given with it.
            if let Some(v) = b.id_number {
                if b.birth_date.is_none() && v.is_some() {
                    input.birth_date = None;
                }
                input.id_number = v;
            }
            if let Some(v) = b.birth_date {
                input.birth_date = v;
            }
            if let Some(v) = b.phone {
                input.phone = v;
            }
            if let Some(v) = b.relation {
                input.relation = v;
            }
            if let Some(v) = b.tags {
                input.tags = v;
            }
            if let Some(v) = b.moved_in_on {
                input.moved_in_on = v;
            }
            if let Some(v) = b.moved_out_on {
                input.moved_out_on = v;
            }
        },
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Remove a resident from the roster (and their tags). A resident bound to an account is 409:
/// the account must be erased or unbound first.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The caller's role may not change residents"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 409, description = "A WeChat account is bound to this resident"),
    ))]
#[delete("/residents/{id}")]
pub async fn delete_resident(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    entries::delete(&state.db, &user, *id, state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    pub field: RevealField,
    /// Why the full value is needed; recorded in the audit log. 2 to 500 characters.
    #[schema(example = "上门走访核对联系方式", max_length = 500, format = "purpose")]
    pub purpose: String,
}

#[derive(Serialize, ToSchema)]
pub struct RevealResponse {
    pub field: RevealField,
    /// The full value, or null when none is recorded.
    pub value: Option<String>,
    /// The audit event recording this reveal.
    pub audit_event_id: Uuid,
}

/// Reveal one full phone or ID number, stating why. Every call is written to the audit log.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = RevealRequest,
    responses(
        (status = 200, body = RevealResponse),
        (status = 403, description = "The caller's role may not see full personal data"),
        (status = 404, description = "Not found or outside the caller's scope"),
        (status = 429, description = "More than 100 reveals in an hour by this account; retry after `Retry-After` seconds"),
    ))]
#[post("/residents/{id}/reveal")]
pub async fn reveal_resident(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<RevealRequest>,
) -> AppResult<HttpResponse> {
    let ask = entries::RevealAsk {
        resident_id: *id,
        field: body.field,
        purpose: &body.purpose,
    };
    let r = entries::reveal(
        &state.db,
        &state.cache,
        &state.pii,
        &user,
        ask,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(RevealResponse {
            field: body.field,
            value: r.value,
            audit_event_id: r.audit_event_id,
        }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    /// `compound` (default) or `building`.
    pub group_by: Option<StatsGroupBy>,
}

/// Counts of current residents by gender, age band and tag, per compound or building.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(StatsQuery),
    responses((status = 200, body = ResidentStatsResponse)))]
#[get("/residents/stats")]
pub async fn get_resident_stats(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<StatsQuery>,
) -> AppResult<HttpResponse> {
    let today = state.clock.now().date_naive();
    let stats = query::stats(
        &state.db,
        &user,
        q.community_id,
        q.compound_id,
        q.group_by.unwrap_or_default(),
        today,
    )
    .await?;
    Ok(HttpResponse::Ok().json(stats))
}
