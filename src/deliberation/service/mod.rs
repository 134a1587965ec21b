//! Writing comments and deciding on them.
//!
//! ```text
//! (check pass) ──▶ published ──reports ≥ policy──▶ hidden (queued) ──unhide/approve──▶ published
//! (check review, or the check down) ──▶ pending_review ──approve──▶ published
//! published | pending_review | hidden ──hide{reason}──▶ hidden        (moderators)
//! any but deleted ──delete (author)──▶ deleted (the body erased)
//! ```
//!
//! A `risky` text is refused before anything is stored. Every move is a conditional update on
//! the status and version the caller saw, so two moderators racing decide once.

pub mod author;
mod moderation;
mod notify;
mod reports;
pub mod subject;

pub use moderation::{approve, hide, unhide};
pub use reports::report;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::access::Actor;
use crate::deliberation::model::{self, Alignment, Status, SubjectKind};
use crate::deliberation::policy;
use crate::platform::error::{AppError, AppResult, FieldCode, ProblemCode};
use crate::platform::lang::Text;
use entity::comment;
use subject::Subject;

/// A comment as stored.
pub type Comment = comment::Model;

/// What a new comment says (validated by the handler: length, characters).
#[derive(Debug, Clone)]
pub struct Draft {
    pub parent_id: Option<Uuid>,
    pub alignment: Alignment,
    pub body: String,
}

/// What the content check said about a draft (the handler asks it: it needs the WeChat client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    Pass,
    /// Held for a moderator, with the check's label and trace.
    Review {
        label: String,
        trace_id: Option<String>,
    },
}

pub(crate) fn closed() -> AppError {
    AppError::conflict(
        ProblemCode::CommentsClosed,
        Text::new(
            "该事项已结束或尚未发布，不能评论",
            "the subject takes no comments (ended, or not published)",
        ),
    )
}

/// The subject `(kind, id)` if `actor` may comment on it now: 404 unless they may read it, 403
/// without [`crate::access::policy::Action::CommentCreate`], 409 `comments_closed` when it takes
/// no comments, 429 `comment_limit` past the hourly limit. The handler asks this before the
/// content check, so a refused comment is never sent to WeChat.
pub async fn writable_subject<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    kind: SubjectKind,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Subject> {
    let s = subject::readable(db, actor, kind, id, now).await?;
    if !policy::may_comment(actor) {
        return Err(AppError::Forbidden);
    }
    if !s.open {
        return Err(closed());
    }
    within_limit(db, actor, &s, now).await?;
    Ok(s)
}

/// 429 `comment_limit` (with `Retry-After`: until the oldest comment of the hour is an hour old)
/// when `actor` wrote the community's `comments_per_hour` in the last hour. Counted from the
/// comments themselves, so every replica counts the same.
async fn within_limit<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    s: &Subject,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let limits = subject::limits(db, s).await?;
    let since = now - Duration::hours(1);
    let recent = comment::Entity::find()
        .filter(comment::Column::AuthorUserId.eq(actor.id))
        .filter(comment::Column::CreatedAt.gt(since));
    let n = recent.clone().count(db).await?;
    if n < u64::from(limits.comments_per_hour) {
        return Ok(());
    }
    let oldest: Option<DateTime<Utc>> = recent
        .select_only()
        .column(comment::Column::CreatedAt)
        .order_by_asc(comment::Column::CreatedAt)
        .into_tuple()
        .one(db)
        .await?;
    let wait = oldest.map_or(Duration::hours(1), |o| o + Duration::hours(1) - now);
    let secs = u64::try_from(wait.num_seconds()).unwrap_or(0).max(1);
    let max = limits.comments_per_hour;
    Err(AppError::limited(
        std::time::Duration::from_secs(secs),
        ProblemCode::CommentLimit,
        crate::text!(
            "每小时最多发表 {max} 条评论，请稍后再试",
            "at most {max} comments an hour; retry later"
        ),
    ))
}

/// Writes a comment on `s` (which [`writable_subject`] let the caller comment on): published
/// when the check passed, `pending_review` (queued) when it held it.
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    s: &Subject,
    d: Draft,
    checked: Checked,
    now: DateTime<Utc>,
) -> AppResult<Comment> {
    let txn = db.begin().await?;
    if let Some(parent) = d.parent_id {
        let p = comment::Entity::find_by_id(parent).one(&txn).await?;
        let ok = p.is_some_and(|p| {
            p.subject_type == s.kind
                && p.subject_id == s.id
                && p.parent_id.is_none()
                && p.status == Status::Published
        });
        if !ok {
            return Err(AppError::invalid(
                "parent_id",
                FieldCode::Invalid,
                Text::new(
                    "只能回复本事项下已发布的评论（回复不能再被回复）",
                    "a reply answers a published top-level comment of the same subject",
                ),
            ));
        }
    }
    let (kind, display) = author::author(&txn, actor, s).await?;
    let (status, label, trace, rank) = match checked {
        Checked::Pass => (Status::Published, None, None, None),
        Checked::Review { label, trace_id } => (
            Status::PendingReview,
            Some(label),
            trace_id,
            Some(model::RANK_OTHER),
        ),
    };
    let c = comment::ActiveModel {
        id: Set(Uuid::now_v7()),
        street_id: Set(s.street_id),
        community_id: Set(s.community_id),
        compound_id: Set(s.compound_id),
        building_id: Set(s.building_id),
        subject_type: Set(s.kind),
        subject_id: Set(s.id),
        parent_id: Set(d.parent_id),
        author_user_id: Set(actor.id),
        author_kind: Set(kind),
        author_display: Set(display),
        alignment: Set(d.alignment.value()),
        body: Set(d.body),
        status: Set(status),
        check_label: Set(label),
        check_trace_id: Set(trace),
        reports_count: Set(0),
        replies_count: Set(0),
        queue_rank: Set(rank),
        hidden_reason: Set(None),
        hidden_by: Set(None),
        hidden_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    if c.status == Status::Published {
        count_reply(&txn, c.parent_id, 1).await?;
        notify::published(&txn, s, &c, now).await?;
    }
    txn.commit().await?;
    Ok(c)
}

/// Keeps a parent's `replies_count` as one of its replies moves into (`+1`) or out of (`-1`)
/// `published`, in the mover's transaction.
pub(crate) async fn count_reply<C: ConnectionTrait>(
    db: &C,
    parent: Option<Uuid>,
    by: i32,
) -> AppResult<()> {
    if let Some(p) = parent {
        comment::Entity::update_many()
            .col_expr(
                comment::Column::RepliesCount,
                Expr::col(comment::Column::RepliesCount).add(by),
            )
            .filter(comment::Column::Id.eq(p))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// [`count_reply`] for `c` moving from its status to `to`.
pub(crate) async fn recount<C: ConnectionTrait>(db: &C, c: &Comment, to: Status) -> AppResult<()> {
    let (was, is) = (c.status == Status::Published, to == Status::Published);
    if was != is {
        count_reply(db, c.parent_id, if is { 1 } else { -1 }).await?;
    }
    Ok(())
}

/// The comment `id` if `actor` may see it: its subject readable, and the comment published,
/// hidden or their own (a moderator's of the subject: any but deleted). 404 otherwise.
pub async fn visible<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<(Comment, Subject, bool)> {
    let c = comment::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let s = subject::readable(db, actor, c.subject_type, c.subject_id, now).await?;
    let moderator = policy::covers(&policy::moderation(db, actor).await?, &c);
    let seen = match c.status {
        Status::Published | Status::Hidden => true,
        Status::PendingReview => moderator || c.author_user_id == actor.id,
        Status::Deleted => false,
    };
    if seen {
        Ok((c, s, moderator))
    } else {
        Err(AppError::NotFound)
    }
}

/// The author deletes their comment: its body is erased, it leaves every count and the queue;
/// its replies stay (the parent shows `该评论已删除`). 403 for anyone but the author.
pub async fn delete<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let (c, _, _) = visible(&txn, actor, id, now).await?;
    if c.author_user_id != actor.id {
        return Err(AppError::Forbidden);
    }
    let gone = comment::Entity::update_many()
        .col_expr(comment::Column::Status, Expr::value(Status::Deleted))
        .col_expr(comment::Column::Body, Expr::value(String::new()))
        .col_expr(comment::Column::QueueRank, Expr::value(Option::<i16>::None))
        .col_expr(
            comment::Column::Version,
            Expr::col(comment::Column::Version).add(1),
        )
        .col_expr(comment::Column::UpdatedAt, Expr::value(now))
        .filter(comment::Column::Id.eq(id))
        .filter(comment::Column::Status.eq(c.status))
        .exec(&txn)
        .await?;
    if gone.rows_affected == 1 {
        recount(&txn, &c, Status::Deleted).await?;
    }
    txn.commit().await?;
    tracing::info!(comment = %id, "comment deleted by its author");
    Ok(())
}

/// Reloads a comment after a change.
pub(crate) async fn reload<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<Comment> {
    comment::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}
