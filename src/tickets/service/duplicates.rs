//! Duplicates (重复诉求): the open tickets of the same category near a ticket, and merging a
//! duplicate into the ticket that stays.
//!
//! A merged ticket ends in its own terminal status, `merged`, with `merged_into_id` naming the
//! survivor: unlike `closed` it was never resolved nor rated, and the stats and the ledger can
//! tell the two apart. Both timelines get an entry naming the other ticket, and both requesters
//! are told through the outbox as a status message (`ticket_status_changed`, the template they
//! consented to when filing; a new event would need a consent nobody asked them for).
//!
//! Both are for staff who triage and dispatch where the tickets lie ([`Action::TicketMerge`]):
//! community staff, grid managers and admins. Categories belong to one community, so merging
//! only within a category also keeps a merge inside one community.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use crate::access::policy::{self, Action};
use crate::access::Actor;
use crate::platform::error::{AppError, AppResult, FieldCode, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::notifications::{Event, Payload};
use crate::tickets::model::{status_label, Status, TimelineKind, LIVE};
use crate::tickets::service::intake::GeoPoint;
use crate::tickets::service::timeline::{self, step};
use crate::tickets::service::workflow as tickets;
use entity::ticket;

/// The radius the nearby search uses when none is asked for, in metres.
pub const DEFAULT_RADIUS_M: u32 = 300;
pub const MAX_RADIUS_M: u32 = 2000;
/// The most tickets a nearby search answers.
pub const MAX_NEARBY: usize = 20;
/// The most tickets of the bounding box measured; a box holding more open tickets of one
/// category than this (a very busy area) is measured on the first ones the index yields.
const MAX_CANDIDATES: u64 = 500;
/// Mean earth radius (IUGG), in metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// The great-circle distance between two points, in metres. GCJ-02 shifts WGS-84 by up to a few
/// hundred metres, but smoothly: between two GCJ-02 points a few kilometres apart the error is
/// far below a metre.
pub fn distance_m(a: GeoPoint, b: GeoPoint) -> f64 {
    let (la1, la2) = (a.latitude.to_radians(), b.latitude.to_radians());
    let dla = la2 - la1;
    let dlo = (b.longitude - a.longitude).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

fn location_of(t: &ticket::Model) -> Option<GeoPoint> {
    Some(GeoPoint {
        latitude: t.latitude?,
        longitude: t.longitude?,
    })
}

/// The ticket `id` for a merge-related action: 404 unless the caller may read it, 403 unless
/// they may merge there.
async fn for_merging<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    id: Uuid,
) -> AppResult<ticket::Model> {
    policy::authorize_object::<ticket::Entity, _>(
        db,
        user,
        Action::TicketRead,
        Action::TicketMerge,
        id,
    )
    .await
}

/// The open (not closed, cancelled, rejected or merged) tickets of ticket `id`'s category within
/// `radius_m` metres of it and within the caller's reach, nearest first, at most
/// [`MAX_NEARBY`], each with its distance. 409 when the ticket has no map location.
///
/// A bounding box around the point selects the candidates in SQL (on the
/// `(category_id, latitude, longitude)` index); the exact distance is computed here.
#[tracing::instrument(skip_all, fields(user = %user.id, ticket = %id))]
pub async fn nearby<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    id: Uuid,
    radius_m: u32,
) -> AppResult<Vec<(ticket::Model, f64)>> {
    let t = for_merging(db, user, id).await?;
    let Some(here) = location_of(&t) else {
        return Err(AppError::conflict(
            ProblemCode::TicketHasNoLocation,
            Text::new(
                "该诉求没有地图位置，无法查找附近的诉求",
                "the ticket has no map location, so no ticket can be found near it",
            ),
        ));
    };
    let radius = f64::from(radius_m.min(MAX_RADIUS_M));
    let dlat = (radius / EARTH_RADIUS_M).to_degrees();
    // Widest at the box's edge nearest a pole; China lies far from both and from ±180°.
    let widest = (here.latitude.abs() + dlat).min(89.0).to_radians().cos();
    let dlon = dlat / widest;
    let scope = policy::scope(db, user, Action::TicketMerge).await?;
    let candidates: Vec<(Uuid, Option<f64>, Option<f64>)> = ticket::Entity::find()
        .select_only()
        .columns([
            ticket::Column::Id,
            ticket::Column::Latitude,
            ticket::Column::Longitude,
        ])
        .filter(ticket::Column::CategoryId.eq(t.category_id))
        .filter(ticket::Column::Latitude.between(here.latitude - dlat, here.latitude + dlat))
        .filter(ticket::Column::Longitude.between(here.longitude - dlon, here.longitude + dlon))
        .filter(ticket::Column::Id.ne(t.id))
        .filter(ticket::Column::Status.is_in(LIVE))
        .filter(scope.condition::<ticket::Entity>())
        .limit(MAX_CANDIDATES)
        .into_tuple()
        .all(db)
        .await?;
    let mut near: Vec<(Uuid, f64)> = candidates
        .into_iter()
        .filter_map(|(id, lat, lon)| {
            let there = GeoPoint {
                latitude: lat?,
                longitude: lon?,
            };
            let d = distance_m(here, there);
            (d <= radius).then_some((id, d))
        })
        .collect();
    near.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    near.truncate(MAX_NEARBY);
    if near.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows: std::collections::HashMap<Uuid, ticket::Model> = ticket::Entity::find()
        .filter(ticket::Column::Id.is_in(near.iter().map(|(id, _)| *id)))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    Ok(near
        .into_iter()
        .filter_map(|(id, d)| rows.remove(&id).map(|t| (t, d)))
        .collect())
}

/// Merges ticket `id` (the duplicate) into `into_id` (the one that stays). 400 into itself; 404
/// when the caller cannot see either, 403 when they may not merge there; 412 when `if_match`
/// (of the duplicate) is stale; 409 when the duplicate is already merged
/// (`ticket_already_merged`, also what a repeated call answers), is finished
/// (`wrong_status`), when the survivor is finished (`merge_target_not_open`), or when the two
/// are of different categories (`merge_category_mismatch`). Returns the merged duplicate.
#[tracing::instrument(skip_all, fields(user = %user.id, ticket = %id, into = %into_id))]
pub async fn merge(
    db: &DatabaseConnection,
    user: &Actor,
    id: Uuid,
    into_id: Uuid,
    if_match: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<ticket::Model> {
    if id == into_id {
        return Err(AppError::invalid(
            "into_ticket_id",
            FieldCode::Invalid,
            Text::new(
                "不能把诉求合并到它自己",
                "a ticket cannot be merged into itself",
            ),
        ));
    }
    let txn = db.begin().await?;
    let dup = for_merging(&txn, user, id).await?;
    if if_match.is_some_and(|v| v != dup.version) {
        return Err(AppError::PreconditionFailed);
    }
    let from = dup.status;
    if from == Status::Merged {
        return Err(tickets::already_merged());
    }
    if !LIVE.contains(&from) {
        let (label, status) = (status_label(from), from.to_value());
        return Err(AppError::conflict(
            ProblemCode::WrongStatus,
            crate::text!(
                "{label}的诉求不能再合并",
                "a {status} ticket cannot be merged"
            ),
        ));
    }
    let into = for_merging(&txn, user, into_id).await?;
    let into_status = into.status;
    if !LIVE.contains(&into_status) {
        let (label, status) = (status_label(into_status), into_status.to_value());
        return Err(AppError::conflict(
            ProblemCode::MergeTargetNotOpen,
            crate::text!(
                "目标诉求{label}，只能合并到仍在办理的诉求",
                "the target ticket is {status}; merge only into a ticket still being worked on"
            ),
        ));
    }
    if into.category_id != dup.category_id {
        return Err(AppError::conflict(
            ProblemCode::MergeCategoryMismatch,
            Text::new(
                "只能合并同一类别的诉求",
                "only tickets of the same category can be merged",
            ),
        ));
    }
    // Both versions are claimed, lower id first so that two opposite merges cannot deadlock:
    // of two racing merges of the same duplicate, the second finds its version gone.
    let (first, second) = if dup.id < into.id {
        ((&dup, if_match.is_some()), (&into, false))
    } else {
        ((&into, false), (&dup, if_match.is_some()))
    };
    tickets::claim(&txn, first.0, first.1).await?;
    tickets::claim(&txn, second.0, second.1).await?;

    let none_at = Expr::value(Option::<DateTime<Utc>>::None);
    ticket::Entity::update_many()
        .col_expr(ticket::Column::Status, Expr::value(Status::Merged))
        .col_expr(ticket::Column::MergedIntoId, Expr::value(Some(into.id)))
        .col_expr(ticket::Column::ClosedAt, Expr::value(Some(now)))
        .col_expr(ticket::Column::AutoCloseAt, none_at.clone())
        .col_expr(ticket::Column::DeadlineAt, none_at.clone())
        .col_expr(ticket::Column::EscalateAt, none_at)
        .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
        .filter(ticket::Column::Id.eq(dup.id))
        .exec(&txn)
        .await?;
    ticket::Entity::update_many()
        .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
        .filter(ticket::Column::Id.eq(into.id))
        .exec(&txn)
        .await?;
    let merged = ticket::Entity::find_by_id(dup.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let survivor = ticket::Entity::find_by_id(into.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;

    timeline::record(
        &txn,
        &merged,
        Some(user),
        step(TimelineKind::Merged)
            .moves(Some(from), Some(Status::Merged))
            .related(survivor.id),
        now,
    )
    .await?;
    timeline::record(
        &txn,
        &survivor,
        Some(user),
        step(TimelineKind::MergedIn).related(merged.id),
        now,
    )
    .await?;

    let told = |t: &ticket::Model| t.requester_user_id.filter(|r| *r != user.id);
    if let Some(r) = told(&merged) {
        let payload = Payload {
            title: merged.title.clone(),
            status: status_label(Status::Merged).into(),
            note: Some(format!("已与「{}」合并办理", survivor.title)),
            at: now,
        };
        crate::tickets::service::notify::enqueue(
            &txn,
            Event::TicketStatusChanged,
            &merged,
            &[r],
            &payload,
            now,
        )
        .await?;
    }
    if let Some(r) = told(&survivor) {
        let payload = Payload {
            title: survivor.title.clone(),
            status: status_label(into_status).into(),
            note: Some("相同的诉求已并入本诉求，将一并办理".into()),
            at: now,
        };
        crate::tickets::service::notify::enqueue(
            &txn,
            Event::TicketStatusChanged,
            &survivor,
            &[r],
            &payload,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    tracing::info!(ticket = %merged.id, into = %survivor.id, by = %user.id, "ticket merged");
    Ok(merged)
}

/// The merged duplicates of ticket `id` the caller may see (the same scope as every read of
/// tickets), oldest first: (id, title, status).
pub async fn duplicates_of<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    id: Uuid,
) -> AppResult<Vec<(Uuid, String, Status)>> {
    use sea_orm::QueryOrder;
    let scope = policy::scope(db, user, Action::TicketRead).await?;
    Ok(ticket::Entity::find()
        .select_only()
        .columns([
            ticket::Column::Id,
            ticket::Column::Title,
            ticket::Column::Status,
        ])
        .filter(ticket::Column::MergedIntoId.eq(id))
        .filter(scope.condition::<ticket::Entity>())
        .order_by_asc(ticket::Column::Id)
        .limit(MAX_DUPLICATES_SHOWN)
        .into_tuple()
        .all(db)
        .await?)
}

/// The most merged duplicates a ticket's detail lists.
pub const MAX_DUPLICATES_SHOWN: u64 = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_match_known_values() {
        let p = |latitude, longitude| GeoPoint {
            latitude,
            longitude,
        };
        assert_eq!(distance_m(p(30.0, 120.0), p(30.0, 120.0)), 0.0);
        // One thousandth of a degree of latitude is about 111 m everywhere.
        let d = distance_m(p(30.0, 120.0), p(30.001, 120.0));
        assert!((d - 111.2).abs() < 0.5, "{d}");
        // A thousandth of a degree of longitude at 30°N is cos(30°) of that.
        let d = distance_m(p(30.0, 120.0), p(30.0, 120.001));
        assert!((d - 96.3).abs() < 0.5, "{d}");
    }
}
