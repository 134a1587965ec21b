//! Read-side queries over tickets: the filtered, scoped, keyset-paginated list and the ledger
//! export (and the filter the stats in `query::stats` build on).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use crate::access::policy::{self, Action, ScopeType};
use crate::access::Actor;
use crate::identity::service::accounts;
use crate::platform::error::{AppError, AppResult};
use crate::territory::query::place_lookup;
use crate::tickets::model::{Priority, Status, OPEN};
use entity::{ticket, ticket_category};

/// What a list (or stats, or export) is narrowed to, on top of the caller's scope.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub statuses: Vec<Status>,
    pub priority: Option<Priority>,
    pub overdue: Option<bool>,
    pub category_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    /// Only tickets the caller filed (is the requester of).
    pub mine: bool,
    /// Only tickets the caller handles (assigned to them or to their property company).
    pub assigned_to_me: bool,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
}

/// The filter as one condition (scope not included).
pub fn condition(user: &Actor, f: &Filter, now: DateTime<Utc>) -> Condition {
    let mut c = Condition::all();
    if !f.statuses.is_empty() {
        c = c.add(ticket::Column::Status.is_in(f.statuses.iter().copied()));
    }
    if let Some(p) = f.priority {
        c = c.add(ticket::Column::Priority.eq(p));
    }
    match f.overdue {
        Some(true) => {
            c = c
                .add(ticket::Column::Status.is_in(OPEN))
                .add(ticket::Column::DeadlineAt.lt(now));
        }
        Some(false) => {
            c = c.add(
                Condition::any()
                    .add(ticket::Column::Status.is_not_in(OPEN))
                    .add(ticket::Column::DeadlineAt.is_null())
                    .add(ticket::Column::DeadlineAt.gte(now)),
            );
        }
        None => {}
    }
    if let Some(v) = f.category_id {
        c = c.add(ticket::Column::CategoryId.eq(v));
    }
    if let Some(v) = f.community_id {
        c = c.add(ticket::Column::CommunityId.eq(v));
    }
    if let Some(v) = f.compound_id {
        c = c.add(ticket::Column::CompoundId.eq(v));
    }
    if let Some(v) = f.building_id {
        c = c.add(ticket::Column::BuildingId.eq(v));
        // Filtering by building would tell a caller who may not see anonymous requesters where
        // one lives: anonymous tickets match only for those who triage (and the requester).
        if !policy::can_anywhere(user, Action::TicketTriage) {
            c = c.add(
                Condition::any()
                    .add(ticket::Column::Anonymous.eq(false))
                    .add(ticket::Column::RequesterUserId.eq(user.id)),
            );
        }
    }
    if let Some(v) = f.created_from {
        c = c.add(ticket::Column::CreatedAt.gte(v));
    }
    if let Some(v) = f.created_to {
        c = c.add(ticket::Column::CreatedAt.lt(v));
    }
    if f.mine {
        c = c.add(ticket::Column::RequesterUserId.eq(user.id));
    }
    if f.assigned_to_me {
        let companies: Vec<Uuid> = user
            .roles
            .iter()
            .filter(|a| {
                a.scope_type == ScopeType::PropertyCompany
                    && policy::allowed(a.role, Action::TicketHandle)
            })
            .map(|a| a.scope_id)
            .collect();
        let mut any = Condition::any().add(ticket::Column::HandlerUserId.eq(user.id));
        if !companies.is_empty() {
            any = any.add(ticket::Column::AssignedCompanyId.is_in(companies));
        }
        c = c.add(any);
    }
    c
}

/// How a list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Newest first.
    Created,
    /// Soonest deadline (due date or follow-up) first; tickets without one last.
    Due,
}

/// Where the previous page ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    Created(Uuid),
    Due(Option<DateTime<Utc>>, Uuid),
}

/// Beyond this many scope terms a page is one query over their OR (sorted by the database)
/// rather than one index walk per term.
const MAX_MERGED_TERMS: usize = 32;

/// One page of the caller's tickets. The caller's scope is a union of terms (`community_id = …`,
/// `requester_user_id = …`, …); each term is walked along its own `(column, sort key)` index for
/// at most one page and the results merged, so the cost of a page depends on the page size and
/// the number of terms, not on the size of the table.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    f: &Filter,
    sort: Sort,
    after: Option<After>,
    limit: u64,
    now: DateTime<Utc>,
) -> AppResult<(Vec<ticket::Model>, Option<After>)> {
    let scope = policy::scope(db, user, Action::TicketRead).await?;
    let base = ticket::Entity::find().filter(condition(user, f, now));
    let selects: Vec<Select<ticket::Entity>> = match scope.terms::<ticket::Entity>() {
        None => vec![base],
        Some(terms) if terms.len() <= MAX_MERGED_TERMS => terms
            .into_iter()
            .map(|(col, id)| base.clone().filter(col.eq(id)))
            .collect(),
        Some(_) => vec![base.filter(scope.condition::<ticket::Entity>())],
    };
    let mut rows: Vec<ticket::Model> = Vec::new();
    for sel in selects {
        rows.extend(page(db, sel, sort, after, limit + 1).await?);
    }
    rows.sort_by(|a, b| match sort {
        Sort::Created => b.id.cmp(&a.id),
        Sort::Due => (a.deadline_at.is_none(), a.deadline_at, a.id).cmp(&(
            b.deadline_at.is_none(),
            b.deadline_at,
            b.id,
        )),
    });
    rows.dedup_by_key(|t| t.id);
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next = match rows.last() {
        Some(t) if more => Some(match sort {
            Sort::Created => After::Created(t.id),
            Sort::Due => After::Due(t.deadline_at, t.id),
        }),
        _ => None,
    };
    Ok((rows, next))
}

/// At most `n` rows of `base` after `after`, in `sort` order.
async fn page<C: ConnectionTrait>(
    db: &C,
    base: Select<ticket::Entity>,
    sort: Sort,
    after: Option<After>,
    n: u64,
) -> AppResult<Vec<ticket::Model>> {
    Ok(match (sort, after) {
        (Sort::Created, after) => {
            let mut sel = base.order_by_desc(ticket::Column::Id);
            if let Some(After::Created(id)) = after {
                sel = sel.filter(ticket::Column::Id.lt(id));
            }
            sel.limit(n).all(db).await?
        }
        // Two index ranges one after the other, (deadline_at, id) then the undated by id, rather
        // than one ORDER BY over an expression that would sort every matching row per page.
        (Sort::Due, Some(After::Due(None, id))) => undated(base, Some(id), n, db).await?,
        (Sort::Due, after) => {
            let mut sel = base
                .clone()
                .filter(ticket::Column::DeadlineAt.is_not_null())
                .order_by_asc(ticket::Column::DeadlineAt)
                .order_by_asc(ticket::Column::Id);
            if let Some(After::Due(Some(d), id)) = after {
                // `deadline_at >= d` bounds the index range; the OR only trims its first key.
                sel = sel.filter(ticket::Column::DeadlineAt.gte(d)).filter(
                    Condition::any()
                        .add(ticket::Column::DeadlineAt.gt(d))
                        .add(ticket::Column::Id.gt(id)),
                );
            }
            let mut rows = sel.limit(n).all(db).await?;
            let missing = n - rows.len() as u64;
            if missing > 0 {
                rows.extend(undated(base, None, missing, db).await?);
            }
            rows
        }
    })
}

/// Tickets without a deadline, by id, after `after`.
async fn undated<C: ConnectionTrait>(
    base: Select<ticket::Entity>,
    after: Option<Uuid>,
    limit: u64,
    db: &C,
) -> AppResult<Vec<ticket::Model>> {
    let mut sel = base
        .filter(ticket::Column::DeadlineAt.is_null())
        .order_by_asc(ticket::Column::Id);
    if let Some(id) = after {
        sel = sel.filter(ticket::Column::Id.gt(id));
    }
    Ok(sel.limit(limit).all(db).await?)
}

/// The caller's tickets that `f` selects, as one query to build on.
pub(crate) async fn scoped<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    f: &Filter,
    now: DateTime<Utc>,
) -> AppResult<Select<ticket::Entity>> {
    let scope = policy::scope(db, user, Action::TicketRead).await?;
    Ok(ticket::Entity::find()
        .filter(scope.condition::<ticket::Entity>())
        .filter(condition(user, f, now)))
}

/// How many ids go into one `IN (…)` list.
const LOOKUP_CHUNK: usize = 1000;

/// The most tickets one ledger export holds.
pub const MAX_EXPORT_ROWS: u64 = 50_000;

/// A ticket as the ledger shows it. Requester fields are not even selected: the ledger carries
/// no personal data about who asked.
#[derive(Debug, Clone, FromQueryResult)]
pub struct LedgerTicket {
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Uuid,
    pub building_id: Option<Uuid>,
    pub category_id: Uuid,
    pub title: String,
    pub description: String,
    pub status: Status,
    pub priority: Option<Priority>,
    pub due_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub auto_closed: bool,
    pub rating: Option<i32>,
    pub feedback: Option<String>,
    pub urge_count: i32,
    pub created_at: DateTime<Utc>,
}

impl LedgerTicket {
    /// For closed tickets with a due date: whether they closed by it (as the stats count it).
    pub fn on_time(&self) -> Option<bool> {
        if self.status != Status::Closed {
            return None;
        }
        match (self.closed_at, self.due_at) {
            (Some(c), Some(d)) => Some(c <= d),
            _ => None,
        }
    }
}

/// One line of the ledger: the ticket and the names of where and what it is.
#[derive(Debug, Clone)]
pub struct LedgerRow {
    pub ticket: LedgerTicket,
    pub compound: String,
    pub building: Option<String>,
    pub category: String,
}

/// The ledger's tickets and where they are (for the audit log).
#[derive(Debug, Default)]
pub struct Ledger {
    pub rows: Vec<LedgerRow>,
    /// The street and community of the tickets when they all share one; for an empty ledger,
    /// the caller's own street (see `identity::service::accounts::home_street`) and no community.
    pub street_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
}

fn only<T: Copy + Eq>(mut it: impl Iterator<Item = T>) -> Option<T> {
    let first = it.next()?;
    it.all(|x| x == first).then_some(first)
}

/// The names of the categories `ids`.
pub(crate) async fn category_names<C: ConnectionTrait>(
    db: &C,
    ids: impl Iterator<Item = Uuid>,
) -> AppResult<HashMap<Uuid, String>> {
    let mut ids: Vec<Uuid> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = HashMap::new();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        let found: Vec<(Uuid, String)> = ticket_category::Entity::find()
            .select_only()
            .column(ticket_category::Column::Id)
            .column(ticket_category::Column::Name)
            .filter(ticket_category::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(found);
    }
    Ok(out)
}

/// The caller's tickets that `f` selects, oldest first, for the ledger. Counted first: more than
/// `max` is a 400 asking for a narrower filter rather than a truncated ledger.
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn export_rows<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    f: &Filter,
    now: DateTime<Utc>,
    max: u64,
) -> AppResult<Ledger> {
    let base = scoped(db, user, f, now).await?;
    let n = base.clone().count(db).await?;
    if n > max {
        return Err(AppError::Validation(vec![crate::platform::error::FieldError::of(
            "rows",
            crate::platform::error::FieldCode::TooManyRows,
            crate::text!(
                "符合条件的诉求有 {n} 条，一次台账最多 {max} 条；请缩小范围（某个社区、小区或更短的时间段）",
                "{n} tickets match, more than {max} in one ledger; narrow the filter (a community, \
                 a compound, or a shorter from/to period)"
            ),
        )
        .with_limit(max)]));
    }
    let tickets: Vec<LedgerTicket> = base
        .select_only()
        .columns([
            ticket::Column::Id,
            ticket::Column::StreetId,
            ticket::Column::CommunityId,
            ticket::Column::CompoundId,
            ticket::Column::BuildingId,
            ticket::Column::CategoryId,
            ticket::Column::Title,
            ticket::Column::Description,
            ticket::Column::Status,
            ticket::Column::Priority,
            ticket::Column::DueAt,
            ticket::Column::ResolvedAt,
            ticket::Column::ClosedAt,
            ticket::Column::AutoClosed,
            ticket::Column::Rating,
            ticket::Column::Feedback,
            ticket::Column::UrgeCount,
            ticket::Column::CreatedAt,
        ])
        .order_by_asc(ticket::Column::CreatedAt)
        .order_by_asc(ticket::Column::Id)
        .limit(max)
        .into_model::<LedgerTicket>()
        .all(db)
        .await?;

    let compounds = place_lookup::compound_names(db, tickets.iter().map(|t| t.compound_id)).await?;
    let buildings =
        place_lookup::building_names(db, tickets.iter().filter_map(|t| t.building_id)).await?;
    let categories = category_names(db, tickets.iter().map(|t| t.category_id)).await?;

    // An empty ledger belongs in the caller's own street's log, whatever street the filter
    // names.
    let (street_id, community_id) = if tickets.is_empty() {
        (accounts::home_street(db, user.id).await?, None)
    } else {
        (
            only(tickets.iter().map(|t| t.street_id)),
            only(tickets.iter().map(|t| t.community_id)),
        )
    };
    let rows = tickets
        .into_iter()
        .map(|t| LedgerRow {
            compound: compounds.get(&t.compound_id).cloned().unwrap_or_default(),
            building: t.building_id.and_then(|b| buildings.get(&b).cloned()),
            category: categories.get(&t.category_id).cloned().unwrap_or_default(),
            ticket: t,
        })
        .collect();
    Ok(Ledger {
        rows,
        street_id,
        community_id,
    })
}
