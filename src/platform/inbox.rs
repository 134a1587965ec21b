//! The in-app message centre (站内消息): what happened that concerns a user, kept for them to
//! read in the mini-program. WeChat subscribe messages are one-shot and need consent per
//! template; the message centre needs neither, so every recipient of every notification event
//! gets a row here (written by `notifications::enqueue`, in the same transaction as the change).
//!
//! A user sees only their own messages ([`own_inbox`]), whatever their roles. Reading a
//! list or a count never marks anything read; `mark_read` and `mark_all_read` do, once: the
//! first time is kept. Read messages older than `LINLI_INBOX_RETENTION_DAYS` are deleted by the
//! housekeeping job; unread ones are kept.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::platform::error::{AppError, AppResult};
use crate::platform::paging::{encode_cursor, PageParams};
use entity::inbox_message;
pub use entity::subject::SubjectType;

/// Characters of a message's title and body (the columns' widths).
pub const TITLE_MAX: usize = 60;
pub const BODY_MAX: usize = 200;

/// What a message is about; the mini-program opens the matching page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Ticket(Uuid),
    ResidentTransfer(Uuid),
    Notice(Uuid),
    Poll(Uuid),
    Proposal(Uuid),
}

impl Subject {
    pub fn kind(self) -> SubjectType {
        match self {
            Subject::Ticket(_) => SubjectType::Ticket,
            Subject::ResidentTransfer(_) => SubjectType::ResidentTransfer,
            Subject::Notice(_) => SubjectType::Notice,
            Subject::Poll(_) => SubjectType::Poll,
            Subject::Proposal(_) => SubjectType::Proposal,
        }
    }

    pub fn id(self) -> Uuid {
        match self {
            Subject::Ticket(id)
            | Subject::ResidentTransfer(id)
            | Subject::Notice(id)
            | Subject::Poll(id)
            | Subject::Proposal(id) => id,
        }
    }
}

/// What a message reports that is no WeChat subscribe event: the message centre only.
pub const TRANSFER_FILED: &str = "transfer_filed";
pub const TRANSFER_ACCEPTED: &str = "transfer_accepted";
pub const TRANSFER_REFUSED: &str = "transfer_refused";

/// `s` cut to at most `max` characters, the cut marked with an ellipsis.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// One message per recipient, on `db` (the caller's transaction). Recipients are distinct.
pub async fn deliver<C: ConnectionTrait>(
    db: &C,
    recipients: &[Uuid],
    event: &str,
    subject: Subject,
    title: &str,
    body: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if recipients.is_empty() {
        return Ok(());
    }
    let rows = recipients.iter().map(|r| inbox_message::ActiveModel {
        id: Set(Uuid::now_v7()),
        recipient_user_id: Set(*r),
        event: Set(event.to_string()),
        subject_type: Set(subject.kind().to_value()),
        subject_id: Set(subject.id()),
        title: Set(truncate(title, TITLE_MAX)),
        body: Set(truncate(body, BODY_MAX)),
        read_at: Set(None),
        created_at: Set(now),
    });
    inbox_message::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

/// The messages addressed to `user`, whatever their roles (a superadmin reads nobody else's
/// either). The list, the count, and reading one or all filter with this one condition, so
/// another user's message is simply not found (404).
/// One message of a message centre, as stored.
pub type Message = inbox_message::Model;

fn own_inbox(user: Uuid) -> sea_orm::Condition {
    sea_orm::Condition::all().add(inbox_message::Column::RecipientUserId.eq(user))
}

/// A page of the caller's messages, newest first; only unread ones when `unread_only`.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    unread_only: bool,
    p: PageParams,
) -> AppResult<(Vec<inbox_message::Model>, Option<String>)> {
    let mut q = inbox_message::Entity::find().filter(own_inbox(user));
    if unread_only {
        q = q.filter(inbox_message::Column::ReadAt.is_null());
    }
    if let Some(after) = p.after {
        q = q.filter(inbox_message::Column::Id.lt(after));
    }
    let mut rows = q
        .order_by_desc(inbox_message::Column::Id)
        .limit(p.limit + 1)
        .all(db)
        .await?;
    let next = if rows.len() as u64 > p.limit {
        rows.truncate(p.limit as usize);
        rows.last().map(|m| encode_cursor(m.id))
    } else {
        None
    };
    Ok((rows, next))
}

/// Every message of the caller, newest first (their data export).
pub async fn all_of<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
) -> AppResult<Vec<inbox_message::Model>> {
    Ok(inbox_message::Entity::find()
        .filter(own_inbox(user))
        .order_by_desc(inbox_message::Column::Id)
        .all(db)
        .await?)
}

/// How many of the caller's messages are unread.
pub async fn unread_count<C: ConnectionTrait>(db: &C, user: Uuid) -> AppResult<u64> {
    Ok(inbox_message::Entity::find()
        .filter(own_inbox(user))
        .filter(inbox_message::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// Marks one of the caller's messages read (the first time is kept) and returns it; 404 for a
/// message that is not the caller's.
pub async fn mark_read<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<inbox_message::Model> {
    inbox_message::Entity::update_many()
        .col_expr(inbox_message::Column::ReadAt, Expr::value(Some(now)))
        .filter(inbox_message::Column::Id.eq(id))
        .filter(own_inbox(user))
        .filter(inbox_message::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    inbox_message::Entity::find_by_id(id)
        .filter(own_inbox(user))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// Marks every unread message of the caller read; how many were.
pub async fn mark_all_read<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    Ok(inbox_message::Entity::update_many()
        .col_expr(inbox_message::Column::ReadAt, Expr::value(Some(now)))
        .filter(own_inbox(user))
        .filter(inbox_message::Column::ReadAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Deletes messages read before `cutoff` (the retention job); how many.
pub async fn purge_read<C: ConnectionTrait>(db: &C, cutoff: DateTime<Utc>) -> AppResult<u64> {
    Ok(inbox_message::Entity::delete_many()
        .filter(inbox_message::Column::ReadAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}

/// An erased account's messages go with it.
pub async fn forget_user<C: ConnectionTrait>(db: &C, user_id: Uuid) -> AppResult<()> {
    inbox_message::Entity::delete_many()
        .filter(inbox_message::Column::RecipientUserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_with_an_ellipsis_by_characters() {
        assert_eq!(truncate("楼道灯坏了", 5), "楼道灯坏了");
        assert_eq!(truncate("楼道灯坏了吧", 5), "楼道灯坏…");
    }
}
