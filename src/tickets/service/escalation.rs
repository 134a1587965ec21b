//! The system's own moves: escalation of overdue tickets, level by level, and the auto-close of
//! resolved tickets the requester did not confirm. Both run as jobs, safe to race across replicas.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use crate::access::policy::Role;
use crate::platform::error::AppResult;
use crate::platform::notifications::{Event, Payload};
use crate::territory::query::place_lookup;
use crate::tickets::model::{
    escalation_label_zh, escalation_target, status_label, Status, TimelineKind, MAX_ESCALATION,
    OPEN,
};
use crate::tickets::service::settings as ticket_settings;
use crate::tickets::service::timeline::{self, step, Facts};
use crate::tickets::service::workflow::holders;
use entity::ticket;

/// Who is told when a ticket reaches escalation `level`.
pub(crate) async fn escalation_recipients<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
    level: i32,
) -> AppResult<Vec<Uuid>> {
    match level {
        1 => {
            let grids = place_lookup::grids_covering(db, t.compound_id, t.building_id).await?;
            holders(db, Role::GridManager, &grids).await
        }
        2 => holders(db, Role::CommunityStaff, &[t.community_id]).await,
        _ => holders(db, Role::Admin, &[t.street_id]).await,
    }
}

/// How many tickets one round of a job looks at; the rest wait for the next round.
const JOB_BATCH: u64 = 200;

/// Raises every overdue ticket one escalation level, exactly once per level: the raise is a
/// conditional update on the level read, so of several replicas racing only one succeeds, and
/// only that one writes the timeline entry and the notifications.
pub async fn escalate_due(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<u64> {
    let due = ticket::Entity::find()
        .filter(ticket::Column::EscalateAt.lte(now))
        .filter(ticket::Column::EscalationLevel.lt(MAX_ESCALATION))
        .filter(ticket::Column::Status.is_in(OPEN))
        .order_by_asc(ticket::Column::EscalateAt)
        .limit(JOB_BATCH)
        .all(db)
        .await?;
    let mut raised = 0;
    for t in due {
        let txn = db.begin().await?;
        let (policy, _) = ticket_settings::policy_of(&txn, t.community_id).await?;
        let level = t.escalation_level + 1;
        let next = (level < MAX_ESCALATION)
            .then(|| now + Duration::hours(policy.escalation_interval_hours.into()));
        let done = ticket::Entity::update_many()
            .col_expr(ticket::Column::EscalationLevel, Expr::value(level))
            .col_expr(ticket::Column::EscalateAt, Expr::value(next))
            .col_expr(
                ticket::Column::Version,
                Expr::col(ticket::Column::Version).add(1),
            )
            .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
            .filter(ticket::Column::Id.eq(t.id))
            .filter(ticket::Column::EscalationLevel.eq(t.escalation_level))
            .filter(ticket::Column::EscalateAt.lte(now))
            .filter(ticket::Column::Status.is_in(OPEN))
            .exec(&txn)
            .await?;
        if done.rows_affected != 1 {
            txn.rollback().await?;
            continue;
        }
        let note = format!("已超期，升级至{}", escalation_label_zh(level));
        let escalated = step(TimelineKind::Escalated).facts(Facts {
            escalated_to: Some(escalation_target(level)),
            ..Facts::default()
        });
        timeline::record(&txn, &t, None, escalated, now).await?;
        let to = escalation_recipients(&txn, &t, level).await?;
        let payload = Payload {
            title: t.title.clone(),
            status: "已升级".into(),
            note: Some(note),
            at: now,
        };
        crate::tickets::service::notify::enqueue(
            &txn,
            Event::TicketEscalated,
            &t,
            &to,
            &payload,
            now,
        )
        .await?;
        txn.commit().await?;
        tracing::info!(ticket = %t.id, level, "ticket escalated");
        raised += 1;
    }
    Ok(raised)
}

/// Closes resolved tickets whose requester did not confirm or reject in time, marked as such.
pub async fn auto_close_due(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<u64> {
    let due = ticket::Entity::find()
        .filter(ticket::Column::AutoCloseAt.lte(now))
        .filter(ticket::Column::Status.eq(Status::Resolved))
        .order_by_asc(ticket::Column::AutoCloseAt)
        .limit(JOB_BATCH)
        .all(db)
        .await?;
    let mut closed = 0;
    for t in due {
        let txn = db.begin().await?;
        let done = ticket::Entity::update_many()
            .col_expr(ticket::Column::Status, Expr::value(Status::Closed))
            .col_expr(ticket::Column::ClosedAt, Expr::value(Some(now)))
            .col_expr(ticket::Column::AutoClosed, Expr::value(true))
            .col_expr(
                ticket::Column::AutoCloseAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                ticket::Column::Version,
                Expr::col(ticket::Column::Version).add(1),
            )
            .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
            .filter(ticket::Column::Id.eq(t.id))
            .filter(ticket::Column::Version.eq(t.version))
            .filter(ticket::Column::Status.eq(Status::Resolved))
            .exec(&txn)
            .await?;
        if done.rows_affected != 1 {
            txn.rollback().await?;
            continue;
        }
        let note = "not confirmed in time; closed automatically".to_string();
        let auto_closed = step(TimelineKind::AutoClosed)
            .moves(Some(Status::Resolved), Some(Status::Closed))
            .note(Some(note.clone()));
        timeline::record(&txn, &t, None, auto_closed, now).await?;
        if let Some(r) = t.requester_user_id {
            let payload = Payload {
                title: t.title.clone(),
                status: status_label(Status::Closed).into(),
                // What the requester reads (WeChat, message centre); the timeline keeps the
                // log's words.
                note: Some("超时未确认，已自动关闭".into()),
                at: now,
            };
            crate::tickets::service::notify::enqueue(
                &txn,
                Event::TicketStatusChanged,
                &t,
                &[r],
                &payload,
                now,
            )
            .await?;
        }
        txn.commit().await?;
        closed += 1;
    }
    Ok(closed)
}
