//! The roster (`/api/v1/residents`): personal data masked in every response; full values only
//! through the audited `reveal`.

use std::collections::BTreeMap;

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, LikeExpr, Query as SqlQuery};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::policy::{self, Action, Level};
use crate::access::AuthUser;
use crate::platform::audit;
use crate::platform::error::{AppError, AppResult};
use crate::platform::error::{FieldCode, ProblemCode};
use crate::platform::http::created;
use crate::platform::http::double_option;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::lang::Text;
use crate::platform::state::AppState;
use crate::residents::service::roster::{self as svc, Gender, ResidentInput};
use crate::territory::service::tree as territory;
use entity::{household, resident, resident_tag};

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

#[derive(Serialize, ToSchema)]
pub struct ResidentResponse {
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Uuid,
    pub building_id: Uuid,
    pub household_id: Uuid,
    pub name: String,
    pub gender: Option<Gender>,
    /// Shown to the resident themselves and to staff who may reveal this resident's personal
    /// data; `null` for everyone else, who see `age_band`.
    pub birth_date: Option<NaiveDate>,
    /// Ten-year age band (`0-9` … `80-89`, `90+`), shown whenever the birth date is known.
    #[schema(example = "60-69")]
    pub age_band: Option<String>,
    /// `138****1234` for the resident themselves, `138******34` for everyone else.
    pub phone_masked: Option<String>,
    /// Last four characters only.
    pub id_number_masked: Option<String>,
    pub relation: Option<String>,
    pub tags: Vec<String>,
    pub moved_in_on: Option<NaiveDate>,
    pub moved_out_on: Option<NaiveDate>,
    /// Whether a WeChat account is bound to this resident.
    pub has_account: bool,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

/// What a caller may see of a roster entry beyond what every reader sees.
pub struct View {
    /// Where the caller may reveal personal data: there, the birth date is shown too.
    reveal: policy::Scope,
    /// The caller's own account: their own entry shows the owner's phone mask and birth date.
    own_user: Option<Uuid>,
    today: NaiveDate,
}

impl View {
    pub async fn of(db: &sea_orm::DatabaseConnection, user: &AuthUser) -> AppResult<View> {
        let reveal = if policy::can_anywhere(user, Action::ResidentReveal) {
            policy::scope(db, user, Action::ResidentReveal).await?
        } else {
            policy::Scope::default()
        };
        Ok(View {
            reveal,
            own_user: Some(user.id),
            today: Utc::now().date_naive(),
        })
    }

    /// A member of the caller's household looking at the household.
    pub fn household_member(user: &AuthUser) -> View {
        View {
            reveal: policy::Scope::default(),
            own_user: Some(user.id),
            today: Utc::now().date_naive(),
        }
    }
}

pub fn respond(m: resident::Model, tags: Vec<String>, view: &View) -> ResidentResponse {
    let own = m.user_id.is_some() && m.user_id == view.own_user;
    let full = own || crate::residents::policy::contains_resident(&view.reveal, &m);
    ResidentResponse {
        id: m.id,
        street_id: m.street_id,
        community_id: m.community_id,
        compound_id: m.compound_id,
        building_id: m.building_id,
        household_id: m.household_id,
        name: m.name,
        gender: m.gender.as_deref().and_then(Gender::parse),
        age_band: m
            .birth_date
            .map(|b| crate::platform::pii::age_band(b, view.today)),
        birth_date: m.birth_date.filter(|_| full),
        phone_masked: if own {
            m.phone_masked
        } else {
            m.phone_masked
                .as_deref()
                .map(crate::platform::pii::staff_phone_mask)
        },
        id_number_masked: m.id_number_masked,
        relation: m.relation,
        tags,
        moved_in_on: m.moved_in_on,
        moved_out_on: m.moved_out_on,
        has_account: m.user_id.is_some(),
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListResidentsQuery {
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
    /// Residents with this tag.
    pub tag: Option<String>,
    /// Name contains this text.
    pub q: Option<String>,
    /// Exact phone number (matched through its keyed hash). Only for roles that may reveal,
    /// only among residents they may reveal; rate-limited and audited as `phone_lookup`.
    pub phone: Option<String>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn invalid(e: Vec<crate::platform::error::FieldError>) -> AppError {
    AppError::Validation(e)
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
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let mut filter = Condition::all();
    let mut within = Vec::new();
    if let Some(v) = q.community_id {
        within.push((Level::Community, v));
    }
    if let Some(v) = q.compound_id {
        within.push((Level::Compound, v));
    }
    if let Some(v) = q.building_id {
        within.push((Level::Building, v));
    }
    if let Some(v) = q.household_id {
        within.push((Level::Household, v));
    }
    if let Some(tag) = q.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let tagged = SqlQuery::select()
            .column(resident_tag::Column::ResidentId)
            .from(resident_tag::Entity)
            .and_where(resident_tag::Column::Tag.eq(tag))
            .to_owned();
        filter = filter.add(resident::Column::Id.in_subquery(tagged));
    }
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        filter = filter.add(
            Expr::col(resident::Column::Name)
                .like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
        );
    }
    // Finding someone by their full number confirms that number as surely as revealing it: only
    // roles that may reveal may look up, only where they may reveal, a bounded number of times,
    // and every lookup is audited.
    let phone_lookup = q.phone.is_some();
    if let Some(phone) = q.phone.as_deref() {
        if !policy::can_anywhere(&user, Action::ResidentReveal) {
            return Err(AppError::Forbidden);
        }
        limit_per_user(&state, &user, "phone_lookup", PHONE_LOOKUPS_PER_HOUR).await?;
        let reveal = policy::scope(&state.db, &user, Action::ResidentReveal).await?;
        filter = filter.add(reveal.condition::<resident::Entity>());
        // An impossible number matches nobody (rather than 400, which would confirm the format).
        let hash = svc::normalize_phone(phone)
            .map(|p| state.pii.lookup_hash("phone", &p))
            .unwrap_or_default();
        filter = filter.add(resident::Column::PhoneHash.eq(hash));
    }
    let (rows, next_cursor) =
        territory::list_page_as::<resident::Entity, svc::ResidentWithTags, _>(
            &state.db,
            &user,
            Action::ResidentRead,
            &within,
            filter,
            p,
            &[(svc::tags_column(state.db.get_database_backend()), "tags")],
            |r: &svc::ResidentWithTags| Some(r.resident.id),
        )
        .await?;
    if phone_lookup {
        let found: Vec<resident::Model> = rows.iter().map(|r| r.resident.clone()).collect();
        audit_lookup(&state, &user, &found).await?;
    }
    let view = View::of(&state.db, &user).await?;
    let items = rows
        .into_iter()
        .map(|r| respond(r.resident, r.tags, &view))
        .collect::<Vec<_>>();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// Phone lookups (`GET /residents?phone=`) one staff member may make per hour.
pub const PHONE_LOOKUPS_PER_HOUR: u64 = 100;
/// Reveals one staff member may make per hour.
pub const REVEALS_PER_HOUR: u64 = 100;
const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

/// Counts one `what` by the caller; past `max` in the hour, 429 with `Retry-After`.
pub async fn limit_per_user(
    state: &AppState,
    user: &AuthUser,
    what: &str,
    max: u64,
) -> AppResult<()> {
    let (n, left) = state
        .cache
        .incr_window(&format!("limit:{what}:user:{}", user.id), HOUR)
        .await?;
    if n > max {
        let (code, what_zh, what_en) = match what {
            "phone_lookup" => (ProblemCode::LookupLimit, "按手机号查找", "phone lookups"),
            "reveal" => (ProblemCode::RateLimited, "查看完整信息", "reveals"),
            _ => (ProblemCode::RateLimited, "这个操作", "attempts"),
        };
        return Err(AppError::limited(
            left,
            code,
            crate::text!(
                "{what_zh}每小时最多 {max} 次，请稍后再试",
                "at most {max} {what_en} an hour; retry later"
            ),
        ));
    }
    Ok(())
}

/// One audit event per resident a phone lookup found, in that resident's street's log; a
/// lookup that found nobody goes to the caller's own street.
async fn audit_lookup(
    state: &AppState,
    user: &AuthUser,
    found: &[resident::Model],
) -> AppResult<()> {
    let txn = state.db.begin().await?;
    if found.is_empty() {
        let street_id = crate::identity::service::accounts::home_street(&txn, user.id).await?;
        audit::record(
            &txn,
            audit::Event {
                actor: user.into(),
                action: audit::Action::PhoneLookup,
                street_id,
                community_id: None,
                resident_id: None,
                field: Some("phone"),
                purpose: "",
                detail: Some(r#"{"matches":0}"#.into()),
            },
        )
        .await?;
    }
    for r in found {
        audit::record(
            &txn,
            audit::Event {
                actor: user.into(),
                action: audit::Action::PhoneLookup,
                street_id: Some(r.street_id),
                community_id: Some(r.community_id),
                resident_id: Some(r.id),
                field: Some("phone"),
                purpose: "",
                detail: None,
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Audits a write of a roster entry (`resident_create`, `resident_update`, `resident_delete`),
/// naming the personal-data fields it set or changed.
async fn audit_write<C: sea_orm::ConnectionTrait>(
    db: &C,
    user: &AuthUser,
    action: audit::Action,
    r: &resident::Model,
    changed: &[&str],
) -> AppResult<()> {
    audit::record(
        db,
        audit::Event {
            actor: user.into(),
            action,
            street_id: Some(r.street_id),
            community_id: Some(r.community_id),
            resident_id: Some(r.id),
            field: None,
            purpose: "",
            detail: (!changed.is_empty())
                .then(|| serde_json::json!({ "fields": changed }).to_string()),
        },
    )
    .await?;
    Ok(())
}

/// The personal-data fields of `data` that differ from `before` (all that are set, for a
/// new entry).
fn personal_fields(
    before: Option<&svc::ResidentInput>,
    data: &svc::ResidentData,
) -> Vec<&'static str> {
    let mut out = Vec::new();
    let differs = |a: Option<&str>, b: Option<&str>| a != b;
    let b_phone = before.and_then(|b| b.phone.as_deref());
    let b_id = before.and_then(|b| b.id_number.as_deref());
    let b_birth = before.and_then(|b| b.birth_date);
    if differs(b_phone, data.phone.as_deref()) {
        out.push("phone");
    }
    if differs(b_id, data.id_number.as_deref()) {
        out.push("id_number");
    }
    if b_birth != data.birth_date {
        out.push("birth_date");
    }
    if before.map(|b| &b.name) != Some(&data.name) {
        out.push("name");
    }
    if before.map(|b| &b.tags) != Some(&data.tags) {
        out.push("tags");
    }
    out
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
    let data = svc::validate(ResidentInput {
        name: b.name,
        gender: b.gender,
        birth_date: b.birth_date,
        phone: b.phone,
        id_number: b.id_number,
        relation: b.relation,
        tags: b.tags,
        moved_in_on: b.moved_in_on,
        moved_out_on: b.moved_out_on,
    })
    .map_err(invalid)?;
    let hh = policy::authorize_parent::<household::Entity, _>(
        &state.db,
        &user,
        Action::HouseholdRead,
        Action::ResidentWrite,
        b.household_id,
    )
    .await?;
    let txn = state.db.begin().await?;
    let m = svc::insert(&txn, &state.pii, &hh, &data).await?;
    audit_write(
        &txn,
        &user,
        audit::Action::ResidentCreate,
        &m,
        &personal_fields(None, &data),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(resident_id = %m.id, by = %user.id, "resident registered");
    Ok(created(
        format!("/api/v1/residents/{}", m.id),
        &respond(m, data.tags, &View::of(&state.db, &user).await?),
    ))
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
    let m =
        policy::find_visible::<resident::Entity, _>(&state.db, &user, Action::ResidentRead, *id)
            .await?;
    let tags = svc::tags_of(&state.db, &[m.id])
        .await?
        .remove(&m.id)
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(respond(m, tags, &View::of(&state.db, &user).await?)))
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
    let m = policy::authorize_object::<resident::Entity, _>(
        &state.db,
        &user,
        Action::ResidentRead,
        Action::ResidentWrite,
        *id,
    )
    .await?;
    let b = body.into_inner();
    let tags = svc::tags_of(&state.db, &[m.id])
        .await?
        .remove(&m.id)
        .unwrap_or_default();
    let mut input = svc::to_input(&state.pii, &m, tags)?;
    let before = input.clone();
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
    let data = svc::validate(input).map_err(invalid)?;
    let mut am = m.into_active_model();
    svc::apply(&state.pii, &mut am, &data)?;
    am.updated_at = Set(Utc::now());
    let txn = state.db.begin().await?;
    let m = am.update(&txn).await.map_err(svc::duplicate_id_number)?;
    svc::set_tags(&txn, m.id, &data.tags).await?;
    let changed = personal_fields(Some(&before), &data);
    if !changed.is_empty() {
        audit_write(&txn, &user, audit::Action::ResidentUpdate, &m, &changed).await?;
    }
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(respond(m, data.tags, &View::of(&state.db, &user).await?)))
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
    let m = policy::authorize_object::<resident::Entity, _>(
        &state.db,
        &user,
        Action::ResidentRead,
        Action::ResidentWrite,
        *id,
    )
    .await?;
    if m.user_id.is_some() {
        return Err(AppError::conflict(
            ProblemCode::ResidentBoundToWechat,
            Text::new(
                "这位居民已绑定微信账号，请先解除绑定再删除",
                "a WeChat account is bound to this resident; unbind it first",
            ),
        ));
    }
    let txn = state.db.begin().await?;
    resident::Entity::delete_by_id(m.id).exec(&txn).await?;
    audit_write(&txn, &user, audit::Action::ResidentDelete, &m, &[]).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RevealField {
    Phone,
    IdNumber,
}

impl RevealField {
    fn as_str(self) -> &'static str {
        match self {
            RevealField::Phone => "phone",
            RevealField::IdNumber => "id_number",
        }
    }
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
    let purpose = crate::platform::text::purpose_of(&body.purpose)
        .map_err(|m| AppError::invalid("purpose", FieldCode::Invalid, m))?;
    limit_per_user(&state, &user, "reveal", REVEALS_PER_HOUR).await?;
    let m = policy::authorize_object::<resident::Entity, _>(
        &state.db,
        &user,
        Action::ResidentRead,
        Action::ResidentReveal,
        *id,
    )
    .await?;
    let value = svc::open(&state.pii, &m, body.field.as_str())?;
    // Written before the value leaves: no audit record, no reveal.
    let event = audit::record(
        &state.db,
        audit::Event {
            actor: (&user).into(),
            action: audit::Action::Reveal,
            street_id: Some(m.street_id),
            community_id: Some(m.community_id),
            resident_id: Some(m.id),
            field: Some(body.field.as_str()),
            purpose,
            detail: None,
        },
    )
    .await?;
    tracing::info!(resident_id = %m.id, field = body.field.as_str(), audit_event = %event, "personal data revealed");
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(RevealResponse {
            field: body.field,
            value,
            audit_event_id: event,
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

#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, PartialEq, Eq, Default, Debug)]
#[serde(rename_all = "snake_case")]
pub enum StatsGroupBy {
    #[default]
    Compound,
    Building,
}

#[derive(Serialize, ToSchema, Default)]
pub struct StatsGroup {
    pub compound_id: Uuid,
    /// Set when grouping by building.
    pub building_id: Option<Uuid>,
    pub total: u64,
    /// `male`, `female`, `unknown`.
    pub by_gender: BTreeMap<String, u64>,
    /// `0-17`, `18-34`, `35-59`, `60-79`, `80+`, `unknown`.
    pub by_age_band: BTreeMap<String, u64>,
    pub by_tag: BTreeMap<String, u64>,
}

#[derive(Serialize, ToSchema)]
pub struct ResidentStatsResponse {
    pub group_by: StatsGroupBy,
    /// Residents who have not moved out, grouped.
    pub groups: Vec<StatsGroup>,
}

fn age_band(birth: Option<NaiveDate>, today: NaiveDate) -> &'static str {
    let Some(b) = birth else { return "unknown" };
    let mut age = today.year() - b.year();
    if (today.month(), today.day()) < (b.month(), b.day()) {
        age -= 1;
    }
    match age {
        i32::MIN..=17 => "0-17",
        18..=34 => "18-34",
        35..=59 => "35-59",
        60..=79 => "60-79",
        _ => "80+",
    }
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
    let group_by = q.group_by.unwrap_or_default();
    let scope = policy::scope(&state.db, &user, Action::ResidentRead).await?;
    let mut sel = resident::Entity::find()
        .select_only()
        .column(resident::Column::Id)
        .column(resident::Column::CompoundId)
        .column(resident::Column::BuildingId)
        .column(resident::Column::Gender)
        .column(resident::Column::BirthDate)
        .filter(scope.condition::<resident::Entity>())
        .filter(resident::Column::MovedOutOn.is_null());
    if let Some(v) = q.community_id {
        sel = sel.filter(resident::Column::CommunityId.eq(v));
    }
    if let Some(v) = q.compound_id {
        sel = sel.filter(resident::Column::CompoundId.eq(v));
    }
    type Row = (Uuid, Uuid, Uuid, Option<String>, Option<NaiveDate>);
    let rows: Vec<Row> = sel.into_tuple().all(&state.db).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let mut tags = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        tags.extend(svc::tags_of(&state.db, chunk).await?);
    }
    let today = state.clock.now().date_naive();
    let mut groups: BTreeMap<(Uuid, Option<Uuid>), StatsGroup> = BTreeMap::new();
    for (id, compound, building, gender, birth) in rows {
        let key = match group_by {
            StatsGroupBy::Compound => (compound, None),
            StatsGroupBy::Building => (compound, Some(building)),
        };
        let g = groups.entry(key).or_insert_with(|| StatsGroup {
            compound_id: compound,
            building_id: key.1,
            ..Default::default()
        });
        g.total += 1;
        *g.by_gender
            .entry(gender.unwrap_or_else(|| "unknown".into()))
            .or_default() += 1;
        *g.by_age_band
            .entry(age_band(birth, today).to_string())
            .or_default() += 1;
        for t in tags.remove(&id).unwrap_or_default() {
            *g.by_tag.entry(t).or_default() += 1;
        }
    }
    Ok(HttpResponse::Ok().json(ResidentStatsResponse {
        group_by,
        groups: groups.into_values().collect(),
    }))
}
