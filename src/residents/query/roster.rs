//! The roster as screens show it: entries with personal data masked (the birth date only to
//! who may reveal it), lists with their filters and the audited phone lookup, and the counts
//! by gender, age band and tag.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, LikeExpr, Query as SqlQuery};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::policy::{self, Action, Level};
use crate::access::Actor;
use crate::platform::audit;
use crate::platform::cache::SharedCache;
use crate::platform::error::{AppError, AppResult};
use crate::platform::limits;
use crate::platform::paging::{Page, PageParams};
use crate::platform::pii::Pii;
use crate::residents::model::{RosterEntry, ROSTER_ENTRY_COLUMNS};
use crate::residents::service::limits::PHONE_LOOKUPS;
use crate::residents::service::roster::{self as svc, Gender};
use crate::territory::service::tree as territory;
use entity::{resident, resident_tag};

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
    pub async fn of<C: ConnectionTrait>(
        db: &C,
        user: &Actor,
        now: DateTime<Utc>,
    ) -> AppResult<View> {
        let reveal = if policy::can_anywhere(user, Action::ResidentReveal) {
            policy::scope(db, user, Action::ResidentReveal).await?
        } else {
            policy::Scope::default()
        };
        Ok(View {
            reveal,
            own_user: Some(user.id),
            today: now.date_naive(),
        })
    }

    /// A member of the caller's household looking at the household.
    pub fn household_member(user: &Actor, now: DateTime<Utc>) -> View {
        View {
            reveal: policy::Scope::default(),
            own_user: Some(user.id),
            today: now.date_naive(),
        }
    }
}

/// A page row of the list: the entry and its tags, read in one statement.
struct ListedResident {
    entry: RosterEntry,
    tags: Vec<String>,
}

/// Read by position ([`RosterEntry::at`]): [`list`] selects [`ROSTER_ENTRY_COLUMNS`], then the
/// tags.
impl sea_orm::FromQueryResult for ListedResident {
    fn from_query_result(res: &sea_orm::QueryResult, _: &str) -> Result<Self, sea_orm::DbErr> {
        debug_assert_eq!(
            res.column_names()
                .get(ROSTER_ENTRY_COLUMNS.len())
                .map(String::as_str),
            Some("tags")
        );
        let tags: Option<String> = res.try_get_by_index(ROSTER_ENTRY_COLUMNS.len())?;
        Ok(ListedResident {
            entry: RosterEntry::at(res)?,
            tags: svc::split_tags_joined(tags.as_deref()),
        })
    }
}

pub fn respond(m: impl Into<RosterEntry>, tags: Vec<String>, view: &View) -> ResidentResponse {
    let m: RosterEntry = m.into();
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
        gender: m.gender,
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

/// One page of the residents the caller may see, with personal data masked. A `phone` lookup
/// is for roles that may reveal, within where they may reveal, at most
/// [`PHONE_LOOKUPS_PER_HOUR`] an hour, and audited.
pub async fn list<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cache: &SharedCache,
    pii: &Pii,
    user: &Actor,
    q: &ListResidentsQuery,
    now: DateTime<Utc>,
) -> AppResult<Page<ResidentResponse>> {
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
        if !policy::can_anywhere(user, Action::ResidentReveal) {
            return Err(AppError::Forbidden);
        }
        limits::per_user(cache, user.id, &PHONE_LOOKUPS).await?;
        let reveal = policy::scope(db, user, Action::ResidentReveal).await?;
        filter = filter.add(reveal.condition::<resident::Entity>());
        // An impossible number matches nobody (rather than 400, which would confirm the format).
        let hash = svc::normalize_phone(phone)
            .map(|p| pii.lookup_hash("phone", &p))
            .unwrap_or_default();
        filter = filter.add(resident::Column::PhoneHash.eq(hash));
    }
    let (rows, next_cursor) = territory::list_page_as::<resident::Entity, ListedResident, _>(
        db,
        user,
        Action::ResidentRead,
        &within,
        filter,
        p,
        Some(&ROSTER_ENTRY_COLUMNS),
        &[(svc::tags_column(), "tags")],
        |r: &ListedResident| Some(r.entry.id),
    )
    .await?;
    if phone_lookup {
        let found: Vec<&RosterEntry> = rows.iter().map(|r| &r.entry).collect();
        audit_lookup(db, user, &found, now).await?;
    }
    let view = View::of(db, user, now).await?;
    let items = rows
        .into_iter()
        .map(|r| respond(r.entry, r.tags, &view))
        .collect::<Vec<_>>();
    Ok(Page { items, next_cursor })
}

/// One audit event per resident a phone lookup found, in that resident's street's log; a
/// lookup that found nobody goes to the caller's own street.
async fn audit_lookup<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    user: &Actor,
    found: &[&RosterEntry],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let txn = db.begin().await?;
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
            now,
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
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// A resident the caller may read, masked, else 404.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<ResidentResponse> {
    let m = policy::find_visible::<resident::Entity, _>(db, user, Action::ResidentRead, id).await?;
    let tags = svc::tags_of(db, &[m.id])
        .await?
        .remove(&m.id)
        .unwrap_or_default();
    Ok(respond(m, tags, &View::of(db, user, now).await?))
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

/// Counts of the current residents the caller may read (of a community or a compound) by
/// gender, age band on `today` and tag, per compound or building.
pub async fn stats<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    community_id: Option<Uuid>,
    compound_id: Option<Uuid>,
    group_by: StatsGroupBy,
    today: NaiveDate,
) -> AppResult<ResidentStatsResponse> {
    let scope = policy::scope(db, user, Action::ResidentRead).await?;
    let mut sel = resident::Entity::find()
        .select_only()
        .column(resident::Column::Id)
        .column(resident::Column::CompoundId)
        .column(resident::Column::BuildingId)
        .column(resident::Column::Gender)
        .column(resident::Column::BirthDate)
        .filter(scope.condition::<resident::Entity>())
        .filter(resident::Column::MovedOutOn.is_null());
    if let Some(v) = community_id {
        sel = sel.filter(resident::Column::CommunityId.eq(v));
    }
    if let Some(v) = compound_id {
        sel = sel.filter(resident::Column::CompoundId.eq(v));
    }
    type Row = (Uuid, Uuid, Uuid, Option<String>, Option<NaiveDate>);
    let rows: Vec<Row> = sel.into_tuple().all(db).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let mut tags = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        tags.extend(svc::tags_of(db, chunk).await?);
    }
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
    Ok(ResidentStatsResponse {
        group_by,
        groups: groups.into_values().collect(),
    })
}
