//! Comments as screens read them: a subject's page of top-level comments (newest first) with
//! their visible reply counts and the subject's counts by alignment, a comment's replies
//! (oldest first), and the moderation queue.

pub mod counts;
mod queue;

pub use counts::{count_visible_in, Counts};
pub use queue::queue;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Actor;
use crate::deliberation::model::{self, Alignment, AuthorKind, Status, SubjectKind};
use crate::deliberation::policy;
use crate::deliberation::service::{self, subject, Comment};
use crate::platform::error::{AppError, AppResult};
use crate::platform::paging::{cut_page, PageParams};
use entity::comment;

/// A comment as every screen shows it. What only moderators see is absent for the others.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentResponse {
    pub id: Uuid,
    pub subject_type: SubjectKind,
    pub subject_id: Uuid,
    /// The comment this one replies to.
    pub parent_id: Option<Uuid>,
    /// The building and masked surname (`3栋 王**`), or `物业`, `社区工作人员`, …
    pub author_display: String,
    pub author_kind: AuthorKind,
    /// `物业`, `工作人员`, `议事会`; none for residents.
    pub author_tag: Option<String>,
    pub alignment: Alignment,
    /// None when hidden or deleted (for everyone but moderators).
    pub body: Option<String>,
    pub status: Status,
    /// `审核中` for its author while held; `该评论已被隐藏` / `该评论已删除` in place of the body.
    pub status_label: Option<String>,
    /// Written by the caller.
    pub mine: bool,
    /// Visible replies (top-level comments of a page only).
    pub reply_count: Option<i64>,
    /// Moderators only: the account that wrote it (names are never shown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_user_id: Option<Uuid>,
    /// Moderators only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reports_count: Option<i32>,
    /// Moderators only: why the content check held it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_label: Option<String>,
    /// Moderators only: why it is hidden (`reports` when the reports hid it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_reason: Option<String>,
    /// Moderators only: waiting for a decision in the queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queued: Option<bool>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    pub version: i32,
}

/// `c` as `viewer` sees it (`moderator`: they moderate where it lies).
pub fn respond(
    c: Comment,
    viewer: Uuid,
    moderator: bool,
    reply_count: Option<i64>,
) -> CommentResponse {
    let mine = c.author_user_id == viewer;
    let (body, label) = match c.status {
        Status::Published => (Some(c.body), None),
        Status::PendingReview => (Some(c.body), Some(model::PENDING_LABEL)),
        Status::Hidden => (moderator.then_some(c.body), Some(model::HIDDEN_PLACEHOLDER)),
        Status::Deleted => (None, Some(model::DELETED_PLACEHOLDER)),
    };
    CommentResponse {
        id: c.id,
        subject_type: c.subject_type,
        subject_id: c.subject_id,
        parent_id: c.parent_id,
        author_tag: model::author_tag(c.author_kind).map(str::to_string),
        author_display: c.author_display,
        author_kind: c.author_kind,
        alignment: Alignment::of(c.alignment),
        body,
        status: c.status,
        status_label: label.map(str::to_string),
        mine,
        reply_count,
        author_user_id: moderator.then_some(c.author_user_id),
        reports_count: moderator.then_some(c.reports_count),
        check_label: if moderator { c.check_label } else { None },
        hidden_reason: if moderator { c.hidden_reason } else { None },
        queued: moderator.then_some(c.queue_rank.is_some()),
        created_at: c.created_at,
        version: c.version,
    }
}

/// One page of a subject's comments, with the subject's counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentPage {
    pub items: Vec<CommentResponse>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// The subject's visible comments (replies included) by alignment: hidden, deleted and
    /// held ones are never counted.
    pub counts: Counts,
    /// Whether the subject takes new comments now.
    pub open: bool,
}

/// What of a subject's comments `viewer` sees: moderators everything but the deleted; the
/// others the published, their own held or hidden ones; and to both a hidden or deleted
/// top-level comment whose replies show (`placeholders`: a column of the row, no subquery).
fn seen_by(viewer: Uuid, moderator: bool, placeholders: bool) -> Condition {
    let mut any = Condition::any();
    if moderator {
        any = any.add(comment::Column::Status.ne(Status::Deleted));
    } else {
        any = any.add(comment::Column::Status.eq(Status::Published)).add(
            Condition::all()
                .add(comment::Column::AuthorUserId.eq(viewer))
                .add(comment::Column::Status.is_in([Status::PendingReview, Status::Hidden])),
        );
    }
    if placeholders {
        any = any.add(
            Condition::all()
                .add(comment::Column::Status.is_in([Status::Hidden, Status::Deleted]))
                .add(comment::Column::RepliesCount.gt(0)),
        );
    }
    any
}

/// A page of subject `(kind, id)`'s comments as `actor` sees them: the top-level ones newest
/// first, or, with `parent_id`, that comment's replies oldest first. 404 unless `actor` may
/// read the subject (and, for replies, see the parent).
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    kind: SubjectKind,
    id: Uuid,
    parent_id: Option<Uuid>,
    p: PageParams,
    now: DateTime<Utc>,
) -> AppResult<CommentPage> {
    let s = subject::readable(db, actor, kind, id, now).await?;
    let moderator = subject_moderated(db, actor, &s).await?;
    let mut q = comment::Entity::find();
    match parent_id {
        None => {
            q = q
                .filter(comment::Column::SubjectType.eq(kind))
                .filter(comment::Column::SubjectId.eq(id))
                .filter(comment::Column::ParentId.is_null())
                .filter(seen_by(actor.id, moderator, true));
            if let Some(after) = p.after {
                q = q.filter(comment::Column::Id.lt(after));
            }
            q = q.order_by_desc(comment::Column::Id);
        }
        Some(parent) => {
            let (c, _, _) = service::visible(db, actor, parent, now).await?;
            if c.subject_type != kind || c.subject_id != id {
                return Err(AppError::NotFound);
            }
            q = q
                .filter(comment::Column::ParentId.eq(parent))
                .filter(seen_by(actor.id, moderator, false));
            if let Some(after) = p.after {
                q = q.filter(comment::Column::Id.gt(after));
            }
            q = q.order_by_asc(comment::Column::Id);
        }
    }
    let rows = q.limit(p.limit + 1).all(db).await?;
    let (rows, next_cursor) = cut_page(rows, p.limit, |c| c.id);
    let counts = count_visible_in(db, kind, id).await?;
    let items = rows
        .into_iter()
        .map(|c| {
            let n = c.parent_id.is_none().then_some(i64::from(c.replies_count));
            respond(c, actor.id, moderator, n)
        })
        .collect();
    Ok(CommentPage {
        items,
        next_cursor,
        counts,
        open: s.open,
    })
}

/// Whether `actor` moderates the comments of `s` (they lie where it lies).
async fn subject_moderated<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    s: &subject::Subject,
) -> AppResult<bool> {
    Ok(policy::moderation(db, actor).await?.contains(&s.places()))
}

/// One comment as `actor` sees it (404 unless they may).
pub async fn get<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<CommentResponse> {
    let (c, _, moderator) = service::visible(db, actor, id, now).await?;
    Ok(respond(c, actor.id, moderator, None))
}
