//! The notice workflow: draft → (content check) → scheduled or published, pending review when
//! the check holds it, withdrawn; and what recipients and leaders do with a published notice.
//!
//! ```text
//! draft ──publish──▶ published            (publish_at absent or past, check passed)
//!   │  └──publish──▶ scheduled ──job at publish_at──▶ published
//!   └──publish──▶ pending_review ──approve──▶ scheduled | published
//!                        └──send back──▶ draft
//! scheduled | pending_review | published ──withdraw──▶ withdrawn   (receipts stay)
//! ```
//!
//! Publishing is exactly once: the move to `published` is a conditional update on the status
//! the caller saw, and only the transaction whose update changed the row writes the recipients
//! and queues the messages, so two job runners (or a verb racing the job) publish once.

pub mod audience;
mod publication;
mod receipts;

pub(crate) use publication::go_public;
pub use receipts::{confirm, read, record_offline, OfflineReach, Receipt};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::access::Actor;
use crate::notices::model::{self, Category, Place, Priority, Status};
use crate::notices::policy;
use crate::platform::attachments::{self, SubjectType};
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError, ProblemCode};
use crate::platform::lang::Text;
use audience::Audience;
use entity::notice;

/// What a draft says (validated by the handler: lengths, characters).
#[derive(Debug, Clone)]
pub struct Draft {
    pub place: Place,
    pub place_id: Uuid,
    pub audience_tags: Vec<String>,
    pub include_shops: bool,
    pub category: Category,
    pub title: String,
    pub body: String,
    pub priority: Priority,
    pub requires_confirmation: bool,
    pub publish_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub pinned_until: Option<DateTime<Utc>>,
    /// The author's own uploads to show with it (at most 9).
    pub photo_ids: Vec<Uuid>,
}

/// A change to a draft: each field absent leaves it, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub audience_tags: Option<Vec<String>>,
    pub include_shops: Option<bool>,
    pub category: Option<Category>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub priority: Option<Priority>,
    pub requires_confirmation: Option<bool>,
    pub publish_at: Option<Option<DateTime<Utc>>>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub pinned_until: Option<Option<DateTime<Utc>>>,
    /// The photos it shows from now on: those kept stay, new ones (the editor's own uploads) are
    /// attached, the others detached.
    pub photo_ids: Option<Vec<Uuid>>,
}

fn wrong_status(s: Status, doing: &str) -> AppError {
    AppError::conflict(
        ProblemCode::WrongStatus,
        crate::text!(
            "公告当前为「{}」，不能{}",
            "the notice is {:?}; it cannot be {}",
            model::status_label(s),
            doing
        ),
    )
}

fn stale() -> AppError {
    AppError::PreconditionFailed
}

/// The times of a notice make sense: expiry after publication, not scheduled absurdly far.
fn check_times(
    publish_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut errors = Vec::new();
    if let Some(p) = publish_at {
        if p > now + Duration::days(model::SCHEDULE_MAX_DAYS) {
            errors.push(FieldError::of(
                "publish_at",
                FieldCode::OutOfRange,
                crate::text!(
                    "最多提前 {} 天定时发布",
                    "at most {} days ahead",
                    model::SCHEDULE_MAX_DAYS
                ),
            ));
        }
    }
    if let Some(e) = expires_at {
        if e <= publish_at.unwrap_or(now).max(now) {
            errors.push(FieldError::of(
                "expires_at",
                FieldCode::OutOfRange,
                Text::new(
                    "过期时间须晚于发布时间",
                    "must be after the notice is published",
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Writes a draft addressed to a place the author may publish to, with the author's photos.
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    d: Draft,
    now: DateTime<Utc>,
) -> AppResult<notice::Model> {
    let txn = db.begin().await?;
    let target = policy::writable_target(&txn, actor, d.place, d.place_id).await?;
    policy::may_publish_kind(&txn, actor, &target, d.category, d.priority).await?;
    check_times(d.publish_at, d.expires_at, now)?;
    let m = notice::ActiveModel {
        id: Set(Uuid::now_v7()),
        street_id: Set(target.street_id),
        community_id: Set(target.community_id),
        compound_id: Set(target.compound_id),
        building_id: Set(target.building_id),
        scope_type: Set(target.place),
        scope_id: Set(target.id),
        audience_tags: Set(tags_json(&d.audience_tags)?),
        include_shops: Set(d.include_shops),
        category: Set(d.category),
        title: Set(d.title),
        body: Set(d.body),
        priority: Set(d.priority),
        requires_confirmation: Set(d.requires_confirmation),
        publish_at: Set(d.publish_at),
        expires_at: Set(d.expires_at),
        pinned_until: Set(d.pinned_until),
        status: Set(Status::Draft),
        review_label: Set(None),
        review_note: Set(None),
        sort_key: Set(None),
        recipients_count: Set(0),
        read_count: Set(0),
        confirmed_count: Set(0),
        households_total: Set(0),
        households_reached: Set(0),
        created_by: Set(actor.id),
        created_by_name: Set(actor.display_name.clone()),
        published_by: Set(None),
        published_by_name: Set(None),
        published_at: Set(None),
        withdrawn_at: Set(None),
        withdrawn_reason: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let n = m.insert(&txn).await?;
    attachments::link(
        &txn,
        actor.id,
        &d.photo_ids,
        (SubjectType::Notice, n.id),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(n)
}

/// The photos of notice `id`, oldest first.
pub async fn photos<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> AppResult<Vec<attachments::Attachment>> {
    attachments::of_subject(db, SubjectType::Notice, id).await
}

/// Replaces the photos of notice `id` with `ids`: kept ones stay, new ones (the editor's own
/// uploads) are attached, the others detached.
async fn set_photos<C: ConnectionTrait>(
    db: &C,
    editor: Uuid,
    id: Uuid,
    ids: &[Uuid],
) -> AppResult<()> {
    if ids.len() > attachments::MAX_PER_ENTRY {
        return Err(AppError::Validation(vec![FieldError::too_many(
            "photo_ids",
            attachments::MAX_PER_ENTRY,
        )]));
    }
    let subject = (SubjectType::Notice, id);
    attachments::detach_except(db, subject, ids).await?;
    let kept: Vec<Uuid> = photos(db, id).await?.iter().map(|a| a.id).collect();
    let new: Vec<Uuid> = ids.iter().copied().filter(|i| !kept.contains(i)).collect();
    attachments::link(db, editor, &new, subject, None).await
}

fn tags_json(tags: &[String]) -> AppResult<String> {
    serde_json::to_string(tags).map_err(AppError::internal)
}

/// The tags a stored notice is addressed to; an unreadable value is an error, never "everyone".
pub fn tags_of(n: &notice::Model) -> AppResult<Vec<String>> {
    serde_json::from_str(&n.audience_tags).map_err(|e| {
        AppError::internal(anyhow::anyhow!(
            "notice {}: unreadable audience_tags: {e}",
            n.id
        ))
    })
}

/// A notice the caller may write to: 404 unless they may read it, 403 unless they may write
/// where it lies.
async fn writable_notice<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<notice::Model> {
    let readable = policy::readable(db, actor).await?;
    let n = notice::Entity::find_by_id(id)
        .filter(readable)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let writable = policy::writable(db, actor).await?;
    if notice::Entity::find_by_id(id)
        .filter(writable)
        .one(db)
        .await?
        .is_none()
    {
        return Err(AppError::Forbidden);
    }
    Ok(n)
}

/// A notice the caller may read (404 otherwise).
pub async fn readable_notice<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<notice::Model> {
    let readable = policy::readable(db, actor).await?;
    notice::Entity::find_by_id(id)
        .filter(readable)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// Changes a draft (or a notice sent back to draft). A notice once published, scheduled or held
/// for review is not edited: 409 `wrong_status` (withdraw it and write a new one, so a receipt
/// always refers to the text that was read).
pub async fn update<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    c: Changes,
    now: DateTime<Utc>,
) -> AppResult<notice::Model> {
    let txn = db.begin().await?;
    let n = writable_notice(&txn, actor, id).await?;
    if n.status != Status::Draft {
        return Err(wrong_status(n.status, "修改"));
    }
    if expected.is_some_and(|v| v != n.version) {
        return Err(stale());
    }
    let category = c.category.unwrap_or(n.category);
    let priority = c.priority.unwrap_or(n.priority);
    if category != n.category || priority != n.priority {
        let target = policy::writable_target(&txn, actor, n.scope_type, n.scope_id).await?;
        policy::may_publish_kind(&txn, actor, &target, category, priority).await?;
    }
    let publish_at = c.publish_at.unwrap_or(n.publish_at);
    let expires_at = c.expires_at.unwrap_or(n.expires_at);
    check_times(publish_at, expires_at, now)?;
    let version = n.version;
    let mut m: notice::ActiveModel = n.into();
    if let Some(t) = c.audience_tags {
        m.audience_tags = Set(tags_json(&t)?);
    }
    if let Some(v) = c.include_shops {
        m.include_shops = Set(v);
    }
    m.category = Set(category);
    m.priority = Set(priority);
    if let Some(v) = c.title {
        m.title = Set(v);
    }
    if let Some(v) = c.body {
        m.body = Set(v);
    }
    if let Some(v) = c.requires_confirmation {
        m.requires_confirmation = Set(v);
    }
    m.publish_at = Set(publish_at);
    m.expires_at = Set(expires_at);
    if let Some(v) = c.pinned_until {
        m.pinned_until = Set(v);
    }
    if let Some(ids) = &c.photo_ids {
        set_photos(&txn, actor.id, id, ids).await?;
    }
    m.version = Set(version + 1);
    m.updated_at = Set(now);
    let updated = notice::Entity::update(m)
        .filter(notice::Column::Version.eq(version))
        .filter(notice::Column::Status.eq(Status::Draft))
        .exec(&txn)
        .await
        .map_err(|e| match e {
            sea_orm::DbErr::RecordNotUpdated => stale(),
            e => e.into(),
        })?;
    txn.commit().await?;
    Ok(updated)
}

/// What the content check said about a notice's text (the handler asks it: it needs the
/// WeChat client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    Pass,
    /// Held for a moderator, with the check's label.
    Review(String),
}

/// Publishes a draft: held for review when the check says so; else scheduled when `publish_at`
/// lies ahead, else published now (recipients written, messages queued). The publisher is who
/// answers for it, also when the job publishes it later.
pub async fn publish<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    checked: Checked,
    now: DateTime<Utc>,
) -> AppResult<notice::Model> {
    let txn = db.begin().await?;
    let n = writable_notice(&txn, actor, id).await?;
    if n.status != Status::Draft {
        return Err(wrong_status(n.status, "发布"));
    }
    if expected.is_some_and(|v| v != n.version) {
        return Err(stale());
    }
    // A schedule in the past publishes now; one that expired before it could be read is refused.
    if n.expires_at.is_some_and(|e| e <= now) {
        return Err(AppError::invalid(
            "expires_at",
            FieldCode::OutOfRange,
            Text::new("公告已过期，无法发布", "the notice has already expired"),
        ));
    }
    let next = match (&checked, n.publish_at) {
        (Checked::Review(_), _) => Status::PendingReview,
        (Checked::Pass, Some(at)) if at > now => Status::Scheduled,
        (Checked::Pass, _) => Status::Published,
    };
    let label = match checked {
        Checked::Review(l) => Some(l),
        Checked::Pass => None,
    };
    step(
        &txn,
        &n,
        next,
        vec![
            (notice::Column::ReviewLabel, Expr::value(label)),
            (
                notice::Column::ReviewNote,
                Expr::value(Option::<String>::None),
            ),
            (notice::Column::PublishedBy, Expr::value(actor.id)),
            (
                notice::Column::PublishedByName,
                Expr::value(actor.display_name.clone()),
            ),
        ],
        now,
    )
    .await?;
    if next == Status::Published {
        go_public(&txn, id, Status::Published, now).await?;
    }
    txn.commit().await?;
    reload(db, id).await
}

/// A moderator passes a notice the check held: scheduled when `publish_at` lies ahead, else
/// published now.
pub async fn approve<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<notice::Model> {
    let txn = db.begin().await?;
    let n = moderated_notice(&txn, actor, id).await?;
    if expected.is_some_and(|v| v != n.version) {
        return Err(stale());
    }
    let next = match n.publish_at {
        Some(at) if at > now => Status::Scheduled,
        _ => Status::Published,
    };
    step(&txn, &n, next, Vec::new(), now).await?;
    if next == Status::Published {
        go_public(&txn, id, Status::Published, now).await?;
    }
    txn.commit().await?;
    reload(db, id).await
}

/// A moderator sends a held notice back to draft, with a note its author reads.
pub async fn send_back<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    note: String,
    now: DateTime<Utc>,
) -> AppResult<notice::Model> {
    let txn = db.begin().await?;
    let n = moderated_notice(&txn, actor, id).await?;
    if expected.is_some_and(|v| v != n.version) {
        return Err(stale());
    }
    let extra = vec![(notice::Column::ReviewNote, Expr::value(Some(note)))];
    step(&txn, &n, Status::Draft, extra, now).await?;
    txn.commit().await?;
    reload(db, id).await
}

async fn moderated_notice<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<notice::Model> {
    let n = readable_notice(db, actor, id).await?;
    let cond = policy::moderatable(db, actor).await?;
    if notice::Entity::find_by_id(id)
        .filter(cond)
        .one(db)
        .await?
        .is_none()
    {
        return Err(AppError::Forbidden);
    }
    if n.status != Status::PendingReview {
        return Err(wrong_status(n.status, "审核"));
    }
    Ok(n)
}

/// Takes a notice down (scheduled, held or published), with a reason; its receipts stay.
pub async fn withdraw<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<notice::Model> {
    let txn = db.begin().await?;
    let n = writable_notice(&txn, actor, id).await?;
    if !matches!(
        n.status,
        Status::Scheduled | Status::PendingReview | Status::Published
    ) {
        return Err(wrong_status(n.status, "撤回"));
    }
    if expected.is_some_and(|v| v != n.version) {
        return Err(stale());
    }
    let extra = vec![
        (notice::Column::WithdrawnAt, Expr::value(Some(now))),
        (notice::Column::WithdrawnReason, Expr::value(Some(reason))),
    ];
    step(&txn, &n, Status::Withdrawn, extra, now).await?;
    txn.commit().await?;
    reload(db, id).await
}

/// Moves `n` to `to` as the caller saw it (its status and version), with `extra` columns set;
/// 412 when someone changed it meanwhile (the update changed no row).
async fn step<C: ConnectionTrait>(
    db: &C,
    n: &notice::Model,
    to: Status,
    extra: Vec<(notice::Column, sea_orm::sea_query::SimpleExpr)>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut update = notice::Entity::update_many()
        .col_expr(notice::Column::Status, Expr::value(to))
        .col_expr(
            notice::Column::Version,
            Expr::col(notice::Column::Version).add(1),
        )
        .col_expr(notice::Column::UpdatedAt, Expr::value(now));
    for (col, value) in extra {
        update = update.col_expr(col, value);
    }
    let moved = update
        .filter(notice::Column::Id.eq(n.id))
        .filter(notice::Column::Status.eq(n.status))
        .filter(notice::Column::Version.eq(n.version))
        .exec(db)
        .await?;
    if moved.rows_affected == 1 {
        Ok(())
    } else {
        Err(stale())
    }
}

async fn reload<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<notice::Model> {
    notice::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The audience of a notice, for its receipts.
pub fn audience_of(n: &notice::Model) -> AppResult<Audience> {
    Ok(Audience::of(n, tags_of(n)?))
}
