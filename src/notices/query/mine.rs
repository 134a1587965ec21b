//! A resident's own notices: unread first, then read, each newest publication first, with the
//! unread count and the caller's receipt.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, RelationDef,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{respond_all, NoticeResponse};
use crate::access::Actor;
use crate::notices::model::Status;
use crate::notices::service;
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError};
use crate::platform::lang::Text;
use crate::platform::signed_urls::Signer;
use entity::{notice, notice_recipient as recipient};

/// The caller's receipt of a notice.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyReceipt {
    pub read: bool,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub read_at: Option<DateTime<Utc>>,
    pub confirmed: bool,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl From<service::Receipt> for MyReceipt {
    fn from(r: service::Receipt) -> Self {
        MyReceipt {
            read: r.read_at.is_some(),
            read_at: r.read_at,
            confirmed: r.confirmed_at.is_some(),
            confirmed_at: r.confirmed_at,
        }
    }
}

/// A resident's notices: unread first, then read, each newest publication first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyNotices {
    pub items: Vec<NoticeResponse>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// Published, unexpired notices the caller has not read (the badge).
    pub unread_count: u64,
}

/// The pattern of a cursor of `/me/notices`: `u` (unread part) or `r` (read part) and a key.
pub const MY_CURSOR_PATTERN: &str = "^[ur][A-Za-z0-9_-]{21}[AQgw]$";

fn my_cursor(read: bool, key: Uuid) -> String {
    format!(
        "{}{}",
        if read { 'r' } else { 'u' },
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.as_bytes())
    )
}

fn bad_cursor() -> AppError {
    AppError::InvalidQuery(vec![FieldError::of(
        "cursor",
        FieldCode::Invalid,
        Text::new("cursor 无效", "not a cursor of this list"),
    )])
}

/// Parses a `/me/notices` cursor: which part, and the last key seen in it.
pub fn parse_my_cursor(s: &str) -> AppResult<(bool, Uuid)> {
    let read = match s.chars().next() {
        Some('u') => false,
        Some('r') => true,
        _ => return Err(bad_cursor()),
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&s[1..])
        .map_err(|_| bad_cursor())?;
    let key = Uuid::from_slice(&bytes).map_err(|_| bad_cursor())?;
    Ok((read, key))
}

fn to_notice() -> RelationDef {
    recipient::Entity::belongs_to(notice::Entity)
        .from(recipient::Column::NoticeId)
        .to(notice::Column::Id)
        .into()
}

/// One part of the caller's list (unread or read), after `after`, as notices.
async fn my_part<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    read: bool,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<Vec<(Uuid, notice::Model)>> {
    let mut q = recipient::Entity::find()
        .filter(recipient::Column::UserId.eq(user))
        .filter(recipient::Column::IsRead.eq(read))
        .join(JoinType::InnerJoin, to_notice())
        .filter(notice::Column::Status.eq(Status::Published));
    if let Some(after) = after {
        q = q.filter(recipient::Column::SortKey.lt(after));
    }
    let rows: Vec<(recipient::Model, Option<notice::Model>)> = q
        // A notice's sort key is drawn once at its publication: unique per notice, so it orders
        // a recipient's rows alone, as the `(user_id, is_read, sort_key)` index holds them.
        .order_by_desc(recipient::Column::SortKey)
        .limit(limit)
        .select_also(notice::Entity)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(r, n)| n.map(|n| (r.sort_key, n)))
        .collect())
}

/// The caller's notices (those published to them), unread first; `unread` only the unread.
pub async fn mine<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    unread_only: bool,
    limit: u64,
    cursor: Option<&str>,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<MyNotices> {
    let (mut in_read, after) = match cursor {
        Some(c) => {
            let (r, k) = parse_my_cursor(c)?;
            (r, Some(k))
        }
        None => (false, None),
    };
    // A cursor into the read part, asked for unread ones only: the unread part is behind it.
    if in_read && unread_only {
        return Ok(MyNotices {
            items: Vec::new(),
            next_cursor: None,
            unread_count: unread_count(db, actor.id, now).await?,
        });
    }
    let mut got: Vec<(bool, Uuid, notice::Model)> = Vec::new();
    if !in_read {
        for (k, n) in my_part(db, actor.id, false, after, limit + 1).await? {
            got.push((false, k, n));
        }
    }
    if (got.len() as u64) <= limit && !unread_only {
        let after_read = if in_read { after } else { None };
        let want = limit + 1 - got.len() as u64;
        for (k, n) in my_part(db, actor.id, true, after_read, want).await? {
            got.push((true, k, n));
        }
        in_read = true;
    }
    let _ = in_read;
    let more = got.len() as u64 > limit;
    got.truncate(limit as usize);
    let next_cursor = if more {
        got.last().map(|(r, k, _)| my_cursor(*r, *k))
    } else {
        None
    };
    let unread_count = unread_count(db, actor.id, now).await?;
    let rows = got.into_iter().map(|(_, _, n)| n).collect();
    Ok(MyNotices {
        items: respond_all(db, actor, rows, urls, now).await?,
        next_cursor,
        unread_count,
    })
}

/// Published, unexpired notices `user` has not read (the badge).
async fn unread_count<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    Ok(recipient::Entity::find()
        .filter(recipient::Column::UserId.eq(user))
        .filter(recipient::Column::IsRead.eq(false))
        .join(JoinType::InnerJoin, to_notice())
        .filter(notice::Column::Status.eq(Status::Published))
        .filter(
            Condition::any()
                .add(notice::Column::ExpiresAt.is_null())
                .add(notice::Column::ExpiresAt.gt(now)),
        )
        .count(db)
        .await?)
}
