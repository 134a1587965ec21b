//! Moderators' decisions: hide (with a reason), unhide (with a reason), approve (a comment held
//! for review, or one reported or hidden by reports). Each is a conditional update on the
//! status and version the moderator saw, and each is written to the audit log.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use uuid::Uuid;

use super::{reload, visible, Comment};
use crate::access::Actor;
use crate::deliberation::model::Status;
use crate::platform::audit;
use crate::platform::error::{AppError, AppResult, ProblemCode};
use entity::comment;

fn status_label(s: Status) -> &'static str {
    match s {
        Status::Published => "已发布",
        Status::PendingReview => "审核中",
        Status::Hidden => "已隐藏",
        Status::Deleted => "已删除",
    }
}

fn wrong_status(s: Status, doing: &str) -> AppError {
    AppError::conflict(
        ProblemCode::WrongStatus,
        crate::text!(
            "评论当前为「{}」，不能{}",
            "the comment is {:?}; it cannot be {}",
            status_label(s),
            doing
        ),
    )
}

/// The comment `id` if `actor` moderates it: 404 unless they see it, 403 unless they moderate
/// where it lies; 412 when `expected` (If-Match) is stale.
async fn moderated<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<Comment> {
    let (c, _, moderator) = visible(db, actor, id, now).await?;
    if !moderator {
        return Err(AppError::Forbidden);
    }
    if expected.is_some_and(|v| v != c.version) {
        return Err(AppError::PreconditionFailed);
    }
    Ok(c)
}

/// Moves `c` as the moderator saw it; 412 when it changed meanwhile.
async fn decide<C: ConnectionTrait>(
    db: &C,
    c: &Comment,
    to: Status,
    extra: Vec<(comment::Column, SimpleExpr)>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut update = comment::Entity::update_many()
        .col_expr(comment::Column::Status, Expr::value(to))
        // A decision empties the queue for this comment.
        .col_expr(comment::Column::QueueRank, Expr::value(Option::<i16>::None))
        .col_expr(
            comment::Column::Version,
            Expr::col(comment::Column::Version).add(1),
        )
        .col_expr(comment::Column::UpdatedAt, Expr::value(now));
    for (col, v) in extra {
        update = update.col_expr(col, v);
    }
    let moved = update
        .filter(comment::Column::Id.eq(c.id))
        .filter(comment::Column::Status.eq(c.status))
        .filter(comment::Column::Version.eq(c.version))
        .exec(db)
        .await?;
    if moved.rows_affected == 1 {
        super::recount(db, c, to).await
    } else {
        Err(AppError::PreconditionFailed)
    }
}

async fn audit_decision<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    action: audit::Action,
    c: &Comment,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let detail = serde_json::json!({
        "comment_id": c.id,
        "subject_type": c.subject_type,
        "subject_id": c.subject_id,
        "from": c.status,
        "reports_count": c.reports_count,
    });
    audit::record(
        db,
        audit::Event {
            actor: actor.into(),
            action,
            street_id: Some(c.street_id),
            community_id: c.community_id,
            resident_id: None,
            field: None,
            purpose: reason.unwrap_or("通过审核"),
            detail: Some(detail.to_string()),
        },
        now,
    )
    .await?;
    Ok(())
}

/// Hides a comment (published, held for review, or hidden by reports and waiting), with a
/// reason; its replies stay.
pub async fn hide<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<Comment> {
    let txn = db.begin().await?;
    let c = moderated(&txn, actor, id, expected, now).await?;
    let waiting_hidden = c.status == Status::Hidden && c.queue_rank.is_some();
    if !(matches!(c.status, Status::Published | Status::PendingReview) || waiting_hidden) {
        return Err(wrong_status(c.status, "隐藏"));
    }
    let extra = vec![
        (
            comment::Column::HiddenReason,
            Expr::value(Some(reason.clone())),
        ),
        (comment::Column::HiddenBy, Expr::value(Some(actor.id))),
        (comment::Column::HiddenAt, Expr::value(Some(now))),
    ];
    decide(&txn, &c, Status::Hidden, extra, now).await?;
    audit_decision(
        &txn,
        actor,
        audit::Action::CommentHide,
        &c,
        Some(&reason),
        now,
    )
    .await?;
    txn.commit().await?;
    reload(db, id).await
}

/// Shows a hidden comment again, with a reason; the reports so far count as dealt with.
pub async fn unhide<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<Comment> {
    let txn = db.begin().await?;
    let c = moderated(&txn, actor, id, expected, now).await?;
    if c.status != Status::Hidden {
        return Err(wrong_status(c.status, "取消隐藏"));
    }
    decide(&txn, &c, Status::Published, cleared(), now).await?;
    audit_decision(
        &txn,
        actor,
        audit::Action::CommentUnhide,
        &c,
        Some(&reason),
        now,
    )
    .await?;
    txn.commit().await?;
    reload(db, id).await
}

/// Passes a comment: one held for review is published; one reported (published, or hidden by
/// the reports and waiting) stays or becomes published, its reports dealt with.
pub async fn approve<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<Comment> {
    let txn = db.begin().await?;
    let c = moderated(&txn, actor, id, expected, now).await?;
    let waiting = c.queue_rank.is_some();
    let ok = match c.status {
        Status::PendingReview => true,
        Status::Published | Status::Hidden => waiting,
        Status::Deleted => false,
    };
    if !ok {
        return Err(wrong_status(c.status, "审核通过"));
    }
    decide(&txn, &c, Status::Published, cleared(), now).await?;
    audit_decision(&txn, actor, audit::Action::CommentApprove, &c, None, now).await?;
    if c.status == Status::PendingReview {
        // Published for the first time: its addressee hears of it now.
        let s = super::subject::readable(&txn, actor, c.subject_type, c.subject_id, now).await?;
        super::notify::published(&txn, &s, &c, now).await?;
    }
    txn.commit().await?;
    reload(db, id).await
}

/// What showing a comment again clears: the hiding, and the reports counted towards hiding it
/// again (each reporter still reports it once).
fn cleared() -> Vec<(comment::Column, SimpleExpr)> {
    vec![
        (
            comment::Column::HiddenReason,
            Expr::value(Option::<String>::None),
        ),
        (comment::Column::HiddenBy, Expr::value(Option::<Uuid>::None)),
        (
            comment::Column::HiddenAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        ),
        (comment::Column::ReportsCount, Expr::value(0)),
    ]
}
