//! The roster (`/api/v1/residents`): personal data masked in every response; full values only
//! through the audited `reveal`.

use std::collections::BTreeMap;

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, LikeExpr, Query as SqlQuery};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::policy::{self, Action};
use crate::auth::AuthUser;
use crate::error::{AppError, AppResult};
use crate::routes::extract::{Json, Query};
use crate::routes::{created, double_option, Page, PageParams};
use crate::services::residents::{self as svc, Gender, ResidentInput};
use crate::services::{audit, territory};
use crate::state::AppState;
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
    pub birth_date: Option<NaiveDate>,
    /// `138****1234`
    pub phone_masked: Option<String>,
    /// Last four characters only.
    pub id_number_masked: Option<String>,
    pub relation: Option<String>,
    pub tags: Vec<String>,
    pub moved_in_on: Option<NaiveDate>,
    pub moved_out_on: Option<NaiveDate>,
    /// Whether a WeChat account is bound to this resident.
    pub has_account: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn respond(m: resident::Model, tags: Vec<String>) -> ResidentResponse {
    ResidentResponse {
        id: m.id,
        street_id: m.street_id,
        community_id: m.community_id,
        compound_id: m.compound_id,
        building_id: m.building_id,
        household_id: m.household_id,
        name: m.name,
        gender: m.gender.as_deref().and_then(Gender::parse),
        birth_date: m.birth_date,
        phone_masked: m.phone_masked,
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
    /// Exact phone number (matched through its keyed hash).
    pub phone: Option<String>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn invalid(e: Vec<crate::error::FieldError>) -> AppError {
    AppError::Validation(e)
}

/// List residents the caller may see, with personal data masked.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(ListResidentsQuery),
    responses((status = 200, body = Page<ResidentResponse>)))]
#[get("/residents")]
pub async fn list_residents(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListResidentsQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let mut filter = Condition::all();
    if let Some(v) = q.community_id {
        filter = filter.add(resident::Column::CommunityId.eq(v));
    }
    if let Some(v) = q.compound_id {
        filter = filter.add(resident::Column::CompoundId.eq(v));
    }
    if let Some(v) = q.building_id {
        filter = filter.add(resident::Column::BuildingId.eq(v));
    }
    if let Some(v) = q.household_id {
        filter = filter.add(resident::Column::HouseholdId.eq(v));
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
    if let Some(phone) = q.phone.as_deref() {
        // An impossible number matches nobody (rather than 400, which would confirm the format).
        let hash = svc::normalize_phone(phone)
            .map(|p| state.pii.lookup_hash("phone", &p))
            .unwrap_or_default();
        filter = filter.add(resident::Column::PhoneHash.eq(hash));
    }
    let (rows, next_cursor) = territory::list_page::<resident::Entity, _>(
        &state.db,
        &user,
        Action::ResidentRead,
        filter,
        p,
    )
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut tags = svc::tags_of(&state.db, &ids).await?;
    let items = rows
        .into_iter()
        .map(|r| {
            let t = tags.remove(&r.id).unwrap_or_default();
            respond(r, t)
        })
        .collect::<Vec<_>>();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
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
    txn.commit().await?;
    tracing::info!(resident_id = %m.id, by = %user.id, "resident registered");
    Ok(created(
        format!("/api/v1/residents/{}", m.id),
        &respond(m, data.tags),
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
    Ok(HttpResponse::Ok().json(respond(m, tags)))
}

/// Update a resident. The household is fixed; move someone out (`moved_out_on`) and register
/// them again in the new household.
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
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(respond(m, data.tags)))
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
        return Err(AppError::HasChildren(
            "a WeChat account is bound to this resident".into(),
        ));
    }
    resident::Entity::delete_by_id(m.id).exec(&state.db).await?;
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
    ))]
#[post("/residents/{id}/reveal")]
pub async fn reveal_resident(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<RevealRequest>,
) -> AppResult<HttpResponse> {
    let purpose = body.purpose.trim();
    if purpose.chars().count() < 2 || purpose.chars().count() > 500 {
        return Err(AppError::validation(
            "purpose",
            "invalid",
            "state the purpose in 2 to 500 characters",
        ));
    }
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
            actor_id: user.id,
            action: "reveal",
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
