//! Lists of tickets (and, beside them, the stats and the ledger export).

use actix_web::{get, web, HttpResponse};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::TicketResponse;
use crate::access::AuthUser;
use crate::platform::error::FieldCode;
use crate::platform::error::{AppError, AppResult, FieldError};
use crate::platform::http::extract::Query;
use crate::platform::http::page_limit;
use crate::platform::http::Page;
use crate::platform::signed_urls::Signer;
use crate::platform::state::AppState;
use crate::tickets::model::{priority_named, status_named, Priority, Status};
use crate::tickets::query::detail as ticket_detail;
use crate::tickets::query::views::{After, Filter, Sort};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListTicketsQuery {
    /// One status or several, comma-separated (`submitted,triaged`).
    #[param(value_type = Option<Vec<Status>>, style = Form, explode = false, min_items = 1)]
    pub status: Option<String>,
    /// `green`, `orange` or `red`.
    #[param(value_type = Option<Priority>)]
    pub priority: Option<String>,
    /// `true`: open and past the deadline; `false`: everything else.
    pub overdue: Option<bool>,
    pub category_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    /// Only the tickets the caller filed.
    pub mine: Option<bool>,
    /// Only the tickets assigned to the caller or their property company.
    pub assigned_to_me: Option<bool>,
    /// `created` (newest first, the default) or `due` (soonest deadline first, none last).
    #[param(pattern = "^(created|due)$")]
    pub sort: Option<String>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (of the same sort).
    #[param(pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// `expected` names the accepted values, or says what the value should be.
fn invalid(field: &str, expected: &str) -> AppError {
    AppError::InvalidQuery(vec![FieldError::of(
        field,
        FieldCode::Invalid,
        crate::platform::lang::Text::new(
            format!("取值不对，应为：{expected}"),
            expected.to_string(),
        ),
    )])
}

pub fn parse_statuses(s: Option<&str>) -> AppResult<Vec<Status>> {
    let Some(s) = s else {
        return Ok(Vec::new());
    };
    s.split(',')
        .map(|x| {
            status_named(x.trim()).ok_or_else(|| {
                invalid(
                    "status",
                    "submitted, triaged, assigned, accepted, resolved, closed, cancelled, rejected or merged",
                )
            })
        })
        .collect()
}

pub fn parse_priority(s: Option<&str>) -> AppResult<Option<Priority>> {
    s.map(|p| priority_named(p).ok_or_else(|| invalid("priority", "green, orange or red")))
        .transpose()
}

fn encode(after: After) -> String {
    let raw = match after {
        After::Created(id) => format!("c.{id}"),
        // Nanoseconds: SQLite keeps whatever precision was written, and a rounded cursor would
        // find the row it ended on again.
        After::Due(Some(d), id) => {
            format!("d.{}.{id}", d.timestamp_nanos_opt().unwrap_or(i64::MAX))
        }
        After::Due(None, id) => format!("n.{id}"),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode(s: &str, sort: Sort) -> AppResult<After> {
    let bad = || {
        invalid(
            "cursor",
            "cursor is not one this API returned for this sort",
        )
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let parts: Vec<&str> = raw.split('.').collect();
    let id = |s: &str| s.parse::<Uuid>().map_err(|_| bad());
    match (sort, parts.as_slice()) {
        (Sort::Created, ["c", u]) => Ok(After::Created(id(u)?)),
        (Sort::Due, ["n", u]) => Ok(After::Due(None, id(u)?)),
        (Sort::Due, ["d", nanos, u]) => {
            let n: i64 = nanos.parse().map_err(|_| bad())?;
            let d = DateTime::<Utc>::from_timestamp_nanos(n);
            Ok(After::Due(Some(d), id(u)?))
        }
        _ => Err(bad()),
    }
}

/// Tickets the caller may see: residents their own, property staff those assigned to their
/// company, grid managers their grid's, community staff their community's.
#[utoipa::path(tag = "tickets", security(("bearer" = [])), params(ListTicketsQuery),
    responses((status = 200, body = Page<TicketResponse>)))]
#[get("/tickets")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn list_tickets(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListTicketsQuery>,
) -> AppResult<HttpResponse> {
    let sort = match q.sort.as_deref() {
        None | Some("created") => Sort::Created,
        Some("due") => Sort::Due,
        Some(_) => return Err(invalid("sort", "created or due")),
    };
    let limit = page_limit(q.limit)?;
    let after = q.cursor.as_deref().map(|c| decode(c, sort)).transpose()?;
    let f = Filter {
        statuses: parse_statuses(q.status.as_deref())?,
        priority: parse_priority(q.priority.as_deref())?,
        overdue: q.overdue,
        category_id: q.category_id,
        community_id: q.community_id,
        compound_id: q.compound_id,
        building_id: q.building_id,
        mine: q.mine.unwrap_or(false),
        assigned_to_me: q.assigned_to_me.unwrap_or(false),
        ..Default::default()
    };
    let now = state.clock.now();
    let (items, next) = ticket_detail::page(
        &state.db,
        &user,
        &f,
        sort,
        after,
        limit,
        now,
        &Signer::from_settings(&state.settings),
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: next.map(encode),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_do_not_cross_sorts() {
        let id = Uuid::now_v7();
        let d = DateTime::<Utc>::from_timestamp_nanos(1_790_000_000_123_456_789);
        for (a, s) in [
            (After::Created(id), Sort::Created),
            (After::Due(Some(d), id), Sort::Due),
            (After::Due(None, id), Sort::Due),
        ] {
            assert_eq!(decode(&encode(a), s).unwrap(), a);
        }
        assert!(decode(&encode(After::Created(id)), Sort::Due).is_err());
        assert!(decode("not-a-cursor", Sort::Created).is_err());
    }
}
