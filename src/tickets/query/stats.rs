//! Ticket stats: counts by status, colour, category and compound, on-time and closure figures,
//! over the tickets a filter selects within the caller's scope, in a handful of aggregate
//! queries.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, Func, IntoCondition, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, FromQueryResult, Iterable, QuerySelect,
    Select,
};
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::error::{AppError, AppResult};
use crate::territory::query::place_lookup;
use crate::tickets::model::{Priority, Status, OPEN};
use crate::tickets::query::views::{category_names, scoped, Filter};
use entity::ticket;

/// Tickets per value of one dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedCount {
    pub id: Uuid,
    pub name: String,
    pub count: u64,
}

/// Aggregates over the tickets a filter selects within the caller's scope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketStats {
    pub total: u64,
    /// Every status, in workflow order, zeros included.
    pub by_status: Vec<(Status, u64)>,
    /// Green, orange, red, then untriaged (`None`), zeros included.
    pub by_priority: Vec<(Option<Priority>, u64)>,
    /// Categories with at least one ticket, most tickets first.
    pub by_category: Vec<NamedCount>,
    /// Compounds with at least one ticket, most tickets first.
    pub by_compound: Vec<NamedCount>,
    /// Status `closed` (confirmed by the requester or closed automatically).
    pub closed: u64,
    /// Closed tickets that had a due date.
    pub closed_with_due: u64,
    /// Closed tickets whose `closed_at` is not after their `due_at`.
    pub closed_on_time: u64,
    pub rated: u64,
    pub average_rating: Option<f64>,
    pub average_hours_to_close: Option<f64>,
    /// Open and past the deadline (due date, or a red ticket's follow-up).
    pub overdue_open: u64,
}

impl TicketStats {
    /// Share of the closed tickets with a due date that closed by it; None when there are none.
    pub fn on_time_rate(&self) -> Option<f64> {
        (self.closed_with_due > 0).then(|| self.closed_on_time as f64 / self.closed_with_due as f64)
    }
}

#[derive(Debug, FromQueryResult)]
struct Totals {
    total: i64,
    closed: i64,
    closed_with_due: i64,
    closed_on_time: i64,
    rated: i64,
    average_rating: Option<f64>,
    average_seconds_to_close: Option<f64>,
    overdue_open: i64,
}

/// Seconds from filing to closing, as SQL. Subtracting timestamps is backend-specific, so this is
/// the one place that branches on the backend; it keeps the average a single aggregate in the
/// database instead of loading every closed ticket.
fn seconds_to_close(backend: DbBackend) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust("EXTRACT(EPOCH FROM (closed_at - created_at))"),
        // Stored as RFC 3339 text with an offset, which julianday() reads (to the millisecond).
        DbBackend::Sqlite | DbBackend::MySql => {
            Expr::cust("((julianday(closed_at) - julianday(created_at)) * 86400.0)")
        }
    }
}

fn count_when(c: impl IntoCondition) -> SimpleExpr {
    Func::count(Expr::case(c, 1)).into()
}

fn as_double(e: impl Into<SimpleExpr>) -> SimpleExpr {
    // AVG is numeric on PostgreSQL; a double reads the same on both backends.
    Func::cast_as(e, Alias::new("DOUBLE PRECISION")).into()
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

/// How many of the tickets `base` selects have each value of `col`.
async fn counts_by<C: ConnectionTrait>(
    db: &C,
    base: &Select<ticket::Entity>,
    col: ticket::Column,
) -> AppResult<Vec<(Uuid, i64)>> {
    Ok(base
        .clone()
        .select_only()
        .column(col)
        .column_as(ticket::Column::Id.count(), "n")
        .group_by(col)
        .into_tuple()
        .all(db)
        .await?)
}

/// The counts with their names, most first (then by name).
fn named(counts: Vec<(Uuid, i64)>, mut names: HashMap<Uuid, String>) -> Vec<NamedCount> {
    let mut out: Vec<NamedCount> = counts
        .into_iter()
        .map(|(id, n)| NamedCount {
            id,
            name: names.remove(&id).unwrap_or_default(),
            count: to_u64(n),
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    out
}

/// Stats over the caller's tickets that `f` selects: a handful of GROUP BY and aggregate
/// queries, so the cost does not depend on loading the tickets.
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn stats<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    f: &Filter,
    now: DateTime<Utc>,
) -> AppResult<TicketStats> {
    let base = scoped(db, user, f, now).await?;
    let closed = || ticket::Column::Status.eq(Status::Closed);
    let totals =
        base.clone()
            .select_only()
            .column_as(ticket::Column::Id.count(), "total")
            .column_as(count_when(closed()), "closed")
            .column_as(
                count_when(
                    Condition::all()
                        .add(closed())
                        .add(ticket::Column::DueAt.is_not_null()),
                ),
                "closed_with_due",
            )
            .column_as(
                count_when(Condition::all().add(closed()).add(
                    Expr::col(ticket::Column::ClosedAt).lte(Expr::col(ticket::Column::DueAt)),
                )),
                "closed_on_time",
            )
            .column_as(ticket::Column::Rating.count(), "rated")
            .column_as(
                as_double(Func::avg(Expr::col(ticket::Column::Rating))),
                "average_rating",
            )
            .column_as(
                as_double(Func::avg(Expr::case(
                    closed(),
                    seconds_to_close(db.get_database_backend()),
                ))),
                "average_seconds_to_close",
            )
            .column_as(
                count_when(
                    Condition::all()
                        .add(ticket::Column::Status.is_in(OPEN))
                        .add(ticket::Column::DeadlineAt.lt(now)),
                ),
                "overdue_open",
            )
            .into_model::<Totals>()
            .one(db)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("an aggregate returned no row")))?;

    // A status this version does not know fails to read: an error, not tickets left uncounted.
    let statuses: HashMap<Status, i64> = base
        .clone()
        .select_only()
        .column(ticket::Column::Status)
        .column_as(ticket::Column::Id.count(), "n")
        .group_by(ticket::Column::Status)
        .into_tuple::<(Status, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let priorities: HashMap<Option<Priority>, i64> = base
        .clone()
        .select_only()
        .column(ticket::Column::Priority)
        .column_as(ticket::Column::Id.count(), "n")
        .group_by(ticket::Column::Priority)
        .into_tuple::<(Option<Priority>, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let categories = counts_by(db, &base, ticket::Column::CategoryId).await?;
    let names = category_names(db, categories.iter().map(|(id, _)| *id)).await?;
    let by_category = named(categories, names);
    let compounds = counts_by(db, &base, ticket::Column::CompoundId).await?;
    let compound_names =
        place_lookup::compound_names(db, compounds.iter().map(|(id, _)| *id)).await?;
    let by_compound = named(compounds, compound_names);

    let by_priority = [
        Some(Priority::Green),
        Some(Priority::Orange),
        Some(Priority::Red),
        None,
    ]
    .into_iter()
    .map(|p| (p, to_u64(priorities.get(&p).copied().unwrap_or(0))))
    .collect();
    Ok(TicketStats {
        total: to_u64(totals.total),
        by_status: Status::iter()
            .map(|s| (s, to_u64(statuses.get(&s).copied().unwrap_or(0))))
            .collect(),
        by_priority,
        by_category,
        by_compound,
        closed: to_u64(totals.closed),
        closed_with_due: to_u64(totals.closed_with_due),
        closed_on_time: to_u64(totals.closed_on_time),
        rated: to_u64(totals.rated),
        average_rating: totals.average_rating,
        average_hours_to_close: totals.average_seconds_to_close.map(|s| s / 3600.0),
        overdue_open: to_u64(totals.overdue_open),
    })
}
