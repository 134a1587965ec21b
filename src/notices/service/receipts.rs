//! What recipients and leaders do with a published notice: read it, confirm it, and (leaders)
//! record the households they reached offline.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use uuid::Uuid;

use super::audience::{self, Audience};
use super::{readable_notice, tags_of, wrong_status};
use crate::access::Actor;
use crate::notices::model::{Reach, Status};
use crate::notices::policy;
use crate::platform::error::{AppError, AppResult, FieldCode, ProblemCode};
use crate::platform::lang::Text;
use entity::{notice, notice_household_reach as reach, notice_recipient as recipient};

/// What a read or confirmation changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub read_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// Marks the notice read by the caller, once: the first call sets `read_at` and counts the read
/// (and the household, when it is the first of it reached); later calls change nothing. A reader
/// who was not a recipient at publication (bound to a household of the place since) becomes one.
/// Readers who are not residents of the place (staff) are not counted.
pub async fn read<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Receipt> {
    let txn = db.begin().await?;
    let n = readable_notice(&txn, actor, id).await?;
    if n.status != Status::Published {
        return Err(wrong_status(n.status, "标记已读"));
    }
    mark_read(&txn, &n, actor.id, now).await?;
    let r = receipt_of(&txn, id, actor.id).await?;
    txn.commit().await?;
    Ok(r)
}

async fn receipt_of<C: ConnectionTrait>(db: &C, id: Uuid, user: Uuid) -> AppResult<Receipt> {
    Ok(recipient::Entity::find_by_id((id, user))
        .one(db)
        .await?
        .map(|r| Receipt {
            read_at: r.read_at,
            confirmed_at: r.confirmed_at,
        })
        .unwrap_or(Receipt {
            read_at: None,
            confirmed_at: None,
        }))
}

/// The read of `user`, counted once; false when they are no recipient and cannot become one.
async fn mark_read<C: ConnectionTrait>(
    txn: &C,
    n: &notice::Model,
    user: Uuid,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let sort_key = n.sort_key.unwrap_or(n.id);
    // A reader bound to a household of the place since publication joins the recipients.
    if recipient::Entity::find_by_id((n.id, user))
        .one(txn)
        .await?
        .is_none()
    {
        let a = Audience::of(n, Vec::new());
        let Some((household, building)) = audience::household_of_reader(txn, user, &a).await?
        else {
            return Ok(false);
        };
        let added = recipient::Entity::insert(recipient::ActiveModel {
            notice_id: Set(n.id),
            user_id: Set(user),
            sort_key: Set(sort_key),
            household_id: Set(Some(household)),
            building_id: Set(Some(building)),
            is_read: Set(false),
            read_at: Set(None),
            confirmed_at: Set(None),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([recipient::Column::NoticeId, recipient::Column::UserId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
        if added == 1 {
            bump(txn, n.id, notice::Column::RecipientsCount).await?;
        }
    }
    let done = recipient::Entity::update_many()
        .col_expr(recipient::Column::IsRead, Expr::value(true))
        .col_expr(recipient::Column::ReadAt, Expr::value(Some(now)))
        .filter(recipient::Column::NoticeId.eq(n.id))
        .filter(recipient::Column::UserId.eq(user))
        .filter(recipient::Column::ReadAt.is_null())
        .exec(txn)
        .await?;
    if done.rows_affected == 1 {
        bump(txn, n.id, notice::Column::ReadCount).await?;
        let r = recipient::Entity::find_by_id((n.id, user))
            .one(txn)
            .await?
            .ok_or(AppError::NotFound)?;
        if let (Some(h), Some(b)) = (r.household_id, r.building_id) {
            reach_household(txn, n.id, h, b, Reach::Read, None, None, now).await?;
        }
    }
    Ok(true)
}

async fn bump<C: ConnectionTrait>(db: &C, id: Uuid, col: notice::Column) -> AppResult<()> {
    notice::Entity::update_many()
        .col_expr(col, Expr::col(col).add(1))
        .filter(notice::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records the household reached, if nothing reached it before; counts it then. Returns whether
/// this call reached it.
#[allow(clippy::too_many_arguments)]
async fn reach_household<C: ConnectionTrait>(
    db: &C,
    notice_id: Uuid,
    household_id: Uuid,
    building_id: Uuid,
    how: Reach,
    by: Option<Uuid>,
    note: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let added = reach::Entity::insert(reach::ActiveModel {
        notice_id: Set(notice_id),
        household_id: Set(household_id),
        building_id: Set(building_id),
        how: Set(how),
        by_user_id: Set(by),
        note: Set(note),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([reach::Column::NoticeId, reach::Column::HouseholdId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    if added == 1 {
        bump(db, notice_id, notice::Column::HouseholdsReached).await?;
    }
    Ok(added == 1)
}

/// Confirms (回执) a notice that asks for it; confirming reads it too. Once per recipient.
pub async fn confirm<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Receipt> {
    let txn = db.begin().await?;
    let n = readable_notice(&txn, actor, id).await?;
    if n.status != Status::Published {
        return Err(wrong_status(n.status, "确认"));
    }
    if !n.requires_confirmation {
        return Err(AppError::conflict(
            ProblemCode::WrongStatus,
            Text::new("这条公告不需要回执", "this notice asks for no confirmation"),
        ));
    }
    if !mark_read(&txn, &n, actor.id, now).await? {
        return Err(AppError::Forbidden);
    }
    let done = recipient::Entity::update_many()
        .col_expr(recipient::Column::ConfirmedAt, Expr::value(Some(now)))
        .filter(recipient::Column::NoticeId.eq(id))
        .filter(recipient::Column::UserId.eq(actor.id))
        .filter(recipient::Column::ConfirmedAt.is_null())
        .exec(&txn)
        .await?;
    if done.rows_affected == 1 {
        bump(&txn, id, notice::Column::ConfirmedCount).await?;
    }
    let r = receipt_of(&txn, id, actor.id).await?;
    txn.commit().await?;
    Ok(r)
}

/// What an offline record found: whether it reached the household, or how it was reached before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfflineReach {
    pub recorded: bool,
    pub how: Reach,
}

/// A leader or staff member records having told a household offline (a visit, a call, the
/// board). Counted once per household, whether or not a member read it too.
pub async fn record_offline<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    household_id: Uuid,
    how: Reach,
    note: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<OfflineReach> {
    if how == Reach::Read {
        return Err(AppError::invalid(
            "method",
            FieldCode::Invalid,
            Text::new(
                "线下送达方式只能是 visit、phone 或 board",
                "an offline reach is a visit, phone or board",
            ),
        ));
    }
    let txn = db.begin().await?;
    let n = readable_notice(&txn, actor, id).await?;
    let follow = policy::follow_up(&txn, actor, &n).await?;
    if n.status != Status::Published {
        return Err(wrong_status(n.status, "登记送达"));
    }
    let a = Audience::of(&n, tags_of(&n)?);
    let Some((building, compound)) =
        audience::household_in_audience(&txn, household_id, &a).await?
    else {
        return Err(AppError::invalid(
            "household_id",
            FieldCode::NotFound,
            Text::new(
                "该户不在这条公告的发布范围内",
                "the household is not in the notice's audience",
            ),
        ));
    };
    // The household must lie where the recorder follows up (a building leader: their building).
    if !follow.covers(compound, building) {
        return Err(AppError::Forbidden);
    }
    let recorded = reach_household(
        &txn,
        id,
        household_id,
        building,
        how,
        Some(actor.id),
        note,
        now,
    )
    .await?;
    let how = if recorded {
        how
    } else {
        reach::Entity::find_by_id((id, household_id))
            .one(&txn)
            .await?
            .map(|r| r.how)
            .unwrap_or(how)
    };
    txn.commit().await?;
    Ok(OfflineReach { recorded, how })
}
