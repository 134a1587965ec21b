//! Office terms as staff read them: one term, and keyset pages within the caller's downward
//! reach, with the name of the node each term is on (screens show names, not ids).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::policy::{self, Action, Level};
use crate::access::Actor;
use crate::offices::model::{self, Body, OfficeScope, Source};
use crate::platform::error::AppResult;
use crate::platform::http::{Page, PageParams};
use crate::territory::query::place_lookup;
use crate::territory::service::tree as territory;
use entity::office_term;

#[derive(Debug, Serialize, ToSchema)]
pub struct OfficeTermResponse {
    pub id: Uuid,
    pub body: Body,
    /// 主任, 副主任, 委员, 楼组长, 街面长, 议事员, 队长, 值班长 …
    pub position: String,
    pub scope_type: OfficeScope,
    pub scope_id: Uuid,
    /// The name of the street, community, compound or building the office is on.
    pub scope_name: String,
    /// The team, council or duty room the office belongs to, when the body has one.
    pub body_ref_id: Option<Uuid>,
    /// The holder on the roster, when they are on it.
    pub resident_id: Option<Uuid>,
    /// The holder's account, when the term is tied to one (needed to grant a role).
    pub user_id: Option<Uuid>,
    pub display_name: String,
    pub source: Source,
    pub starts_on: NaiveDate,
    /// The last day of the term (inclusive); null when open-ended.
    pub ends_on: Option<NaiveDate>,
    /// The day the term was ended (early, by handover, or by expiry of its role).
    pub ended_on: Option<NaiveDate>,
    /// Why it ended: free text, or `expired` when the expiry job ended it.
    pub end_reason: Option<String>,
    /// The role assignment the term granted, while it exists.
    pub role_assignment_id: Option<Uuid>,
    /// Started, not ended, and not past `ends_on` (today in Asia/Shanghai).
    pub current: bool,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

/// The term `t` as answered, with its node's `scope_name`.
pub fn respond(
    t: office_term::Model,
    scope_name: String,
    now: DateTime<Utc>,
) -> OfficeTermResponse {
    OfficeTermResponse {
        current: model::is_current(t.starts_on, t.ends_on, t.ended_on, model::today(now)),
        id: t.id,
        body: t.body,
        position: t.position,
        scope_type: t.scope_type,
        scope_id: t.scope_id,
        scope_name,
        body_ref_id: t.body_ref_id,
        resident_id: t.resident_id,
        user_id: t.user_id,
        display_name: t.display_name,
        source: t.source,
        starts_on: t.starts_on,
        ends_on: t.ends_on,
        ended_on: t.ended_on,
        end_reason: t.end_reason,
        role_assignment_id: t.role_assignment_id,
        created_at: t.created_at,
    }
}

/// The terms `rows` as answered, their nodes' names read in one statement per level.
pub async fn respond_all<C: ConnectionTrait>(
    db: &C,
    rows: Vec<office_term::Model>,
    now: DateTime<Utc>,
) -> AppResult<Vec<OfficeTermResponse>> {
    let nodes: Vec<(Level, Uuid)> = rows
        .iter()
        .map(|t| (model::level(t.scope_type), t.scope_id))
        .collect();
    let names = place_lookup::node_names(db, &nodes).await?;
    Ok(rows
        .into_iter()
        .map(|t| {
            let name = names.get(&t.scope_id).cloned().unwrap_or_default();
            respond(t, name, now)
        })
        .collect())
}

/// An office held at a place above the caller, as a resident's screen shows it (我的楼组长): who
/// and which office, never ids of accounts or roster entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfficeHolderResponse {
    pub id: Uuid,
    pub body: Body,
    pub position: String,
    pub scope_type: OfficeScope,
    pub scope_id: Uuid,
    pub scope_name: String,
    pub display_name: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

/// The current offices held at the places at and above the caller's own (their building,
/// compound, community and street), by id: what a resident may know of who serves them.
pub async fn holders_above<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    p: PageParams,
    now: DateTime<Utc>,
) -> AppResult<Page<OfficeHolderResponse>> {
    use office_term::Column as T;
    use sea_orm::{EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    let places = policy::places_above(db, caller).await?;
    if places.is_empty() {
        return Ok(Page {
            items: Vec::new(),
            next_cursor: None,
        });
    }
    let mut q = office_term::Entity::find()
        .filter(T::ScopeId.is_in(places))
        .filter(current_condition(true, model::today(now)));
    if let Some(after) = p.after {
        q = q.filter(T::Id.gt(after));
    }
    let rows = q.order_by_asc(T::Id).limit(p.limit + 1).all(db).await?;
    let (rows, next_cursor) = crate::platform::paging::cut_page(rows, p.limit, |t| t.id);
    let items = respond_all(db, rows, now)
        .await?
        .into_iter()
        .map(|t| OfficeHolderResponse {
            id: t.id,
            body: t.body,
            position: t.position,
            scope_type: t.scope_type,
            scope_id: t.scope_id,
            scope_name: t.scope_name,
            display_name: t.display_name,
            starts_on: t.starts_on,
            ends_on: t.ends_on,
        })
        .collect();
    Ok(Page { items, next_cursor })
}

/// What a list of terms is filtered by.
#[derive(Debug, Default, Clone, Copy)]
pub struct TermFilter {
    pub scope_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub body: Option<Body>,
    pub current: Option<bool>,
    pub resident_id: Option<Uuid>,
}

/// The condition "current on `today`" (or its negation).
fn current_condition(current: bool, today: NaiveDate) -> Condition {
    use office_term::Column as T;
    let is = Condition::all()
        .add(T::StartsOn.lte(today))
        .add(T::EndedOn.is_null())
        .add(
            Condition::any()
                .add(T::EndsOn.is_null())
                .add(T::EndsOn.gte(today)),
        );
    if current {
        is
    } else {
        Condition::any()
            .add(T::StartsOn.gt(today))
            .add(T::EndedOn.is_not_null())
            .add(T::EndsOn.lt(today))
    }
}

/// One page of the terms the caller may read, oldest first (by id, a keyset walk of the
/// `(<scope column>, id)` indexes).
pub async fn list<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    f: TermFilter,
    p: PageParams,
    now: DateTime<Utc>,
) -> AppResult<Page<OfficeTermResponse>> {
    use office_term::Column as T;
    let mut filter = Condition::all();
    if let Some(s) = f.scope_id {
        filter = filter.add(T::ScopeId.eq(s));
    }
    if let Some(b) = f.body {
        filter = filter.add(T::Body.eq(b));
    }
    if let Some(r) = f.resident_id {
        filter = filter.add(T::ResidentId.eq(r));
    }
    if let Some(c) = f.current {
        filter = filter.add(current_condition(c, model::today(now)));
    }
    let within: Vec<(Level, Uuid)> = f
        .community_id
        .map(|c| (Level::Community, c))
        .into_iter()
        .collect();
    let (rows, next_cursor) = territory::list_page::<office_term::Entity, _>(
        db,
        caller,
        Action::OfficeRead,
        &within,
        filter,
        p,
    )
    .await?;
    Ok(Page {
        items: respond_all(db, rows, now).await?,
        next_cursor,
    })
}

/// The term `id` if the caller may read it (else 404).
pub async fn visible<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    id: Uuid,
) -> AppResult<office_term::Model> {
    policy::find_visible::<office_term::Entity, C>(db, caller, Action::OfficeRead, id).await
}

/// One term as the caller may read it (else 404).
pub async fn get<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<OfficeTermResponse> {
    let t = visible(db, caller, id).await?;
    let mut all = respond_all(db, vec![t], now).await?;
    all.pop().ok_or(crate::platform::error::AppError::NotFound)
}
