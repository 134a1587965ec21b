//! The notification outbox. A notification is written in the same transaction as the change it
//! reports; `jobs::outbox` delivers it later, so nothing is lost when WeChat is down.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::Serialize;
use uuid::Uuid;

use crate::platform::error::AppResult;
use crate::platform::inbox;
use entity::notification;

/// One notification of the outbox, as stored.
pub type Queued = notification::Model;

pub use entity::notification::{DeliveryStatus, Event};

/// The message content; the worker maps it onto the template's fields.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Payload {
    pub title: String,
    pub status: String,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// What the message centre shows for `event`: a Chinese title and a short body naming the
/// ticket. System notes (escalation, auto-close) are left out: they are written for the log.
fn inbox_text(event: Event, p: &Payload) -> (String, String) {
    let subject = format!("「{}」", p.title.trim());
    let with_note = |lead: &str| match p.note.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => format!("{subject}{lead}：{n}"),
        _ => format!("{subject}{lead}"),
    };
    let (title, body) = match event {
        Event::TicketStatusChanged => (format!("诉求{}", p.status), with_note("")),
        Event::TicketAssigned => ("新的派单".to_string(), with_note("已派给您处理")),
        Event::TicketUrged => ("居民催办".to_string(), with_note("被催办")),
        Event::TicketEscalated => (
            "诉求超期升级".to_string(),
            format!("{subject}超期未办结，已升级"),
        ),
        Event::TicketMessage => ("诉求有新留言".to_string(), with_note("")),
        Event::NoticePublished => ("新公告".to_string(), subject.clone()),
        Event::PollOpened => ("投票开始".to_string(), subject.clone()),
        Event::PollResult => ("投票结果".to_string(), with_note("结果已公布")),
        Event::ProposalStepped => (format!("议题{}", p.status), with_note("")),
        Event::ProposalPollOpen => ("议题表决开始".to_string(), with_note("")),
        Event::ProposalResult => ("议题表决结果".to_string(), with_note("")),
        Event::ProposalProgress => ("议题有新进展".to_string(), with_note("")),
        Event::ProposalEvaluationOpen => ("请评议办理效果".to_string(), subject.clone()),
        Event::ProposalReviewDue => ("议题回头看".to_string(), with_note("")),
        Event::ProposalCommented if p.status == "新回复" => {
            ("您的评论有新回复".to_string(), with_note(""))
        }
        Event::ProposalCommented => ("议题有新评论".to_string(), with_note("")),
    };
    (
        inbox::truncate(&title, inbox::TITLE_MAX),
        inbox::truncate(&body, inbox::BODY_MAX),
    )
}

/// What a notification is about, and where (the street and community whose staff may see the
/// outbox row).
#[derive(Debug, Clone, Copy)]
pub struct About {
    pub subject: inbox::Subject,
    pub street_id: Uuid,
    pub community_id: Option<Uuid>,
}

/// Queues one notification per recipient, on `db` (the caller's transaction), and puts the same
/// event in each recipient's message centre: that needs no consent and no WeChat, so it is
/// written for every recipient, whether or not the subscribe message can be sent.
pub async fn enqueue_about<C: ConnectionTrait>(
    db: &C,
    event: Event,
    about: About,
    recipients: &[Uuid],
    payload: &Payload,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let body =
        serde_json::to_string(payload).map_err(crate::platform::error::AppError::internal)?;
    let mut seen = std::collections::BTreeSet::new();
    let recipients: Vec<Uuid> = recipients
        .iter()
        .copied()
        .filter(|r| seen.insert(*r))
        .collect();
    let (title, text) = inbox_text(event, payload);
    inbox::deliver(
        db,
        &recipients,
        event.as_str(),
        about.subject,
        &title,
        &text,
        now,
    )
    .await?;
    for r in &recipients {
        notification::ActiveModel {
            id: Set(Uuid::now_v7()),
            event_type: Set(event),
            ticket_id: Set(match about.subject {
                inbox::Subject::Ticket(id) => Some(id),
                _ => None,
            }),
            subject_type: Set(Some(about.subject.kind())),
            subject_id: Set(Some(about.subject.id())),
            recipient_user_id: Set(*r),
            street_id: Set(Some(about.street_id)),
            community_id: Set(about.community_id),
            payload: Set(body.clone()),
            status: Set(DeliveryStatus::Pending),
            attempts: Set(0),
            next_attempt_at: Set(now),
            locked_until: Set(None),
            last_error: Set(None),
            sent_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Rows of the outbox written per statement by [`enqueue_outbox`].
const OUTBOX_BATCH: usize = 500;

/// Queues one subscribe message per recipient, on `db` (the caller's transaction), in batches
/// of a few hundred rows per statement: for an announcement to a whole place, whose recipients
/// read it in a list of its own, so nothing goes to the message centre.
pub async fn enqueue_outbox<C: ConnectionTrait>(
    db: &C,
    event: Event,
    about: About,
    recipients: &[Uuid],
    payload: &Payload,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use sea_orm::EntityTrait;
    let body =
        serde_json::to_string(payload).map_err(crate::platform::error::AppError::internal)?;
    for chunk in recipients.chunks(OUTBOX_BATCH) {
        let rows = chunk.iter().map(|r| notification::ActiveModel {
            id: Set(Uuid::now_v7()),
            event_type: Set(event),
            ticket_id: Set(None),
            subject_type: Set(Some(about.subject.kind())),
            subject_id: Set(Some(about.subject.id())),
            recipient_user_id: Set(*r),
            street_id: Set(Some(about.street_id)),
            community_id: Set(about.community_id),
            payload: Set(body.clone()),
            status: Set(DeliveryStatus::Pending),
            attempts: Set(0),
            next_attempt_at: Set(now),
            locked_until: Set(None),
            last_error: Set(None),
            sent_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        });
        notification::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Puts a `failed` or `skipped` notification back in the queue, due now, with a fresh allowance of
/// attempts. Conflict when it is pending or already sent.
pub async fn retry<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<notification::Model> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let done = notification::Entity::update_many()
        .col_expr(
            notification::Column::Status,
            Expr::value(DeliveryStatus::Pending),
        )
        .col_expr(notification::Column::Attempts, Expr::value(0))
        .col_expr(notification::Column::NextAttemptAt, Expr::value(now))
        .col_expr(
            notification::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(notification::Column::UpdatedAt, Expr::value(now))
        .filter(notification::Column::Id.eq(id))
        .filter(
            notification::Column::Status.is_in([DeliveryStatus::Failed, DeliveryStatus::Skipped]),
        )
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(crate::platform::error::AppError::conflict(
            crate::platform::error::ProblemCode::NotificationNotRetryable,
            crate::platform::lang::Text::new(
                "只有发送失败或被跳过的通知才能重发",
                "only a failed or skipped notification can be retried",
            ),
        ));
    }
    notification::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(crate::platform::error::AppError::NotFound)
}

/// Deletes every notification addressed to `user_id` (erasure of the account).
pub async fn forget_recipient<C: ConnectionTrait>(db: &C, user_id: Uuid) -> AppResult<()> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    notification::Entity::delete_many()
        .filter(notification::Column::RecipientUserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A page of the notifications `visible` selects (the caller's reach), of a status, a ticket
/// and an event type when given, oldest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    visible: sea_orm::Condition,
    status: Option<&str>,
    ticket_id: Option<Uuid>,
    event_type: Option<&str>,
    p: crate::platform::paging::PageParams,
) -> AppResult<(Vec<Queued>, Option<String>)> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    let mut q = notification::Entity::find().filter(visible);
    if let Some(s) = status {
        q = q.filter(notification::Column::Status.eq(s));
    }
    if let Some(e) = event_type {
        q = q.filter(notification::Column::EventType.eq(e));
    }
    if let Some(t) = ticket_id {
        q = q.filter(notification::Column::TicketId.eq(t));
    }
    if let Some(after) = p.after {
        q = q.filter(notification::Column::Id.gt(after));
    }
    let rows = q
        .order_by_asc(notification::Column::Id)
        .limit(p.limit + 1)
        .all(db)
        .await?;
    Ok(crate::platform::paging::cut_page(rows, p.limit, |m| m.id))
}
