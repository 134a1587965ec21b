//! A poll's roll, as other domains shape it before and while it is open: built from the roster,
//! an entry added (a late addition while open), struck or admitted; and the poll's officers.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::platform::error::{AppError, AppResult, FieldCode, FieldError, ProblemCode};
use crate::platform::lang::Text;
use crate::polls::model::{self, OfficerRole, RollStatus, Status, VoterUnit};
use crate::polls::service::roster;
use crate::polls::service::rows::{
    before_open, count_status, eligibility_of, load, not_open, wrong_status,
};
use entity::{poll, poll_officer, poll_roll};

/// Who to add to a roll: a resident (unit `resident`) or a household (unit `household`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoterRef {
    Resident(Uuid),
    Household(Uuid),
}

/// What building a roll wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollBuilt {
    /// Entries written (eligible and needs_review).
    pub size: u64,
    pub needs_review: u64,
}

/// Builds the roll from the roster now (draft or scheduled only), replacing an earlier build.
pub async fn build_roll_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<RollBuilt> {
    let p = load(conn, poll_id).await?;
    before_open(&p, "生成名册")?;
    poll_roll::Entity::delete_many()
        .filter(poll_roll::Column::PollId.eq(poll_id))
        .exec(conn)
        .await?;
    let size = roster::write_roll(conn, &p, &eligibility_of(&p)?, now.date_naive()).await?;
    poll::Entity::update_many()
        .col_expr(poll::Column::RollBuiltAt, Expr::value(Some(now)))
        .filter(poll::Column::Id.eq(poll_id))
        .exec(conn)
        .await?;
    let needs_review = count_status(conn, poll_id, &[RollStatus::NeedsReview]).await?;
    Ok(RollBuilt {
        size,
        needs_review: needs_review as u64,
    })
}

fn reason_error() -> AppError {
    AppError::invalid(
        "reason",
        FieldCode::Required,
        Text::new("请填写原因", "a reason is required"),
    )
}

/// Adds one voter (a resident or household per the poll's unit, a current one of its place)
/// with a reason, by `by`. Draft or scheduled: an ordinary entry; open: a late addition,
/// counted separately (`late_additions`). The caller audits it. Returns the voter key.
pub async fn add_voter_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    key: VoterRef,
    reason: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let _ = now;
    if reason.trim().is_empty() {
        return Err(reason_error());
    }
    let p = load(conn, poll_id).await?;
    if !matches!(p.status, Status::Draft | Status::Scheduled | Status::Open) {
        return Err(wrong_status(p.status, "增补选民"));
    }
    let (field, id) = match (key, p.unit) {
        (VoterRef::Resident(id), VoterUnit::Resident) => ("resident_id", id),
        (VoterRef::Household(id), VoterUnit::Household) => ("household_id", id),
        (VoterRef::Resident(_), VoterUnit::Household) => {
            return Err(AppError::invalid(
                "household_id",
                FieldCode::Required,
                Text::new("按户投票，请指定户", "a household poll: name the household"),
            ))
        }
        (VoterRef::Household(_), VoterUnit::Resident) => {
            return Err(AppError::invalid(
                "resident_id",
                FieldCode::Required,
                Text::new("按人投票，请指定居民", "a resident poll: name the resident"),
            ))
        }
    };
    let e = eligibility_of(&p)?;
    let entry = roster::entry_in_place(conn, &p, &e, id)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                field,
                FieldCode::NotEligible,
                Text::new(
                    "不是本次投票范围内的现住居民或住户",
                    "not a current resident or household of the poll's place",
                ),
            )
        })?;
    let late = p.status == Status::Open;
    if late {
        // Serialised with the close like a cast: never added to a closed poll.
        let moved = poll::Entity::update_many()
            .col_expr(
                poll::Column::LateAdditions,
                Expr::col(poll::Column::LateAdditions).add(1),
            )
            .filter(poll::Column::Id.eq(poll_id))
            .filter(poll::Column::Status.eq(Status::Open))
            .exec(conn)
            .await?;
        if moved.rows_affected != 1 {
            return Err(not_open());
        }
    }
    let added = poll_roll::Entity::insert(poll_roll::ActiveModel {
        poll_id: Set(poll_id),
        voter_key: Set(entry.voter_key),
        unit: Set(p.unit),
        household_id: Set(entry.household_id),
        resident_id: Set(entry.resident_id),
        building_id: Set(entry.building_id),
        status: Set(RollStatus::Eligible),
        channel: Set(None),
        cast_by_user_id: Set(None),
        voted_at: Set(None),
        late: Set(late),
        added_reason: Set(Some(reason.to_string())),
        added_by: Set(Some(by)),
        struck_reason: Set(None),
        struck_by: Set(None),
        version: Set(1),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::columns([
            poll_roll::Column::PollId,
            poll_roll::Column::VoterKey,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    if added != 1 {
        return Err(AppError::conflict(
            ProblemCode::AlreadyExists,
            Text::new("已在选民名册中", "already on the roll"),
        ));
    }
    Ok(entry.voter_key)
}

/// Strikes an `eligible` or `needs_review` entry with a reason (never a `voted` one; not after
/// close).
pub async fn strike_voter_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    voter_key: Uuid,
    reason: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let _ = now;
    if reason.trim().is_empty() {
        return Err(reason_error());
    }
    let p = load(conn, poll_id).await?;
    if !matches!(p.status, Status::Draft | Status::Scheduled | Status::Open) {
        return Err(wrong_status(p.status, "删除选民"));
    }
    let moved = poll_roll::Entity::update_many()
        .col_expr(poll_roll::Column::Status, Expr::value(RollStatus::Struck))
        .col_expr(
            poll_roll::Column::StruckReason,
            Expr::value(Some(reason.to_string())),
        )
        .col_expr(poll_roll::Column::StruckBy, Expr::value(Some(by)))
        .col_expr(
            poll_roll::Column::Version,
            Expr::col(poll_roll::Column::Version).add(1),
        )
        .filter(poll_roll::Column::PollId.eq(poll_id))
        .filter(poll_roll::Column::VoterKey.eq(voter_key))
        .filter(poll_roll::Column::Status.is_in([RollStatus::Eligible, RollStatus::NeedsReview]))
        .exec(conn)
        .await?;
    if moved.rows_affected == 1 {
        return Ok(());
    }
    roll_refusal(conn, poll_id, voter_key).await
}

async fn roll_refusal<C: ConnectionTrait>(conn: &C, poll_id: Uuid, key: Uuid) -> AppResult<()> {
    match poll_roll::Entity::find_by_id((poll_id, key))
        .one(conn)
        .await?
    {
        None => Err(AppError::NotFound),
        Some(r) => Err(AppError::conflict(
            ProblemCode::WrongStatus,
            crate::text!(
                "该选民当前状态为 {:?}，不能这样处理",
                "the entry is {:?}",
                r.status
            ),
        )),
    }
}

/// Marks a `needs_review` entry eligible (an objection accepted for it, a birth date checked).
pub async fn admit_voter_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    voter_key: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (_, _) = (by, now);
    let p = load(conn, poll_id).await?;
    if !matches!(p.status, Status::Draft | Status::Scheduled | Status::Open) {
        return Err(wrong_status(p.status, "确认选民"));
    }
    let moved = poll_roll::Entity::update_many()
        .col_expr(poll_roll::Column::Status, Expr::value(RollStatus::Eligible))
        .col_expr(
            poll_roll::Column::Version,
            Expr::col(poll_roll::Column::Version).add(1),
        )
        .filter(poll_roll::Column::PollId.eq(poll_id))
        .filter(poll_roll::Column::VoterKey.eq(voter_key))
        .filter(poll_roll::Column::Status.eq(RollStatus::NeedsReview))
        .exec(conn)
        .await?;
    if moved.rows_affected == 1 {
        return Ok(());
    }
    roll_refusal(conn, poll_id, voter_key).await
}

/// Replaces the poll's officers. When a poll has officers, only its tellers and chair keep its
/// paper boxes (mark voters, enter and confirm counts); without any, holders of `PollTally`.
/// Not after close.
pub async fn set_officers_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    officers: Vec<(Uuid, OfficerRole)>,
) -> AppResult<()> {
    let p = load(conn, poll_id).await?;
    if matches!(p.status, Status::Closed | Status::Cancelled) {
        return Err(wrong_status(p.status, "指定工作人员"));
    }
    if officers.len() > model::OFFICERS_MAX {
        return Err(AppError::Validation(vec![FieldError::too_many(
            "officers",
            model::OFFICERS_MAX,
        )]));
    }
    poll_officer::Entity::delete_many()
        .filter(poll_officer::Column::PollId.eq(poll_id))
        .exec(conn)
        .await?;
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<poll_officer::ActiveModel> = officers
        .into_iter()
        .filter(|(u, _)| seen.insert(*u))
        .map(|(user_id, role)| poll_officer::ActiveModel {
            poll_id: Set(poll_id),
            user_id: Set(user_id),
            role: Set(role),
        })
        .collect();
    if !rows.is_empty() {
        poll_officer::Entity::insert_many(rows)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}
