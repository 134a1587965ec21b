//! Paper boxes (流动票箱, 中心会场): a teller marks each voter handed a paper ballot (the roll
//! entry → `voted`, channel `paper`, by the same two steps as a cast); after close one teller
//! enters the box's counts and a second, distinct teller confirms them by entering them again
//! (a mismatch is 409 `guard_failed` naming `counts`); confirmed counts join the results in a
//! new tally (`paper`). A recount writes a new tally from the stored ballots and the confirmed
//! boxes, with a reason; earlier tallies stay.
//!
//! Who keeps boxes: when the poll has officers, its tellers and chair only; otherwise holders
//! of `PollTally` whose reach covers the poll.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
    TransactionTrait,
};
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError, ProblemCode};
use crate::platform::lang::Text;
use crate::polls::model::{BoxStatus, OfficerRole, Status, TallyKind};
use crate::polls::policy;
use crate::polls::service::casting;
use crate::polls::service::engine::{not_open, wrong_status};
use crate::polls::service::tally::{self, Made, PaperCount};
use entity::{poll, poll_box, poll_officer, poll_option};

/// Whether `actor` keeps the paper boxes of `p` (which they may read): 403 otherwise.
pub async fn may_tally<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    p: &poll::Model,
) -> AppResult<()> {
    let officers = poll_officer::Entity::find()
        .filter(poll_officer::Column::PollId.eq(p.id))
        .count(db)
        .await?;
    if officers > 0 {
        let me = poll_officer::Entity::find_by_id((p.id, actor.id))
            .one(db)
            .await?;
        return match me {
            Some(o) if matches!(o.role, OfficerRole::Teller | OfficerRole::Chair) => Ok(()),
            _ => Err(AppError::Forbidden),
        };
    }
    if policy::selects(db, policy::tallyable(db, actor).await?, p.id).await? {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Where and when a paper box is (both optional, shown to its voters).
#[derive(Debug, Clone, Default)]
pub struct BoxPlace {
    pub location: Option<String>,
    pub schedule: Option<String>,
}

/// Opens a paper box for a poll not yet closed.
pub async fn create_box<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    poll_id: Uuid,
    label: String,
    issued_count: i32,
    at: BoxPlace,
    now: DateTime<Utc>,
) -> AppResult<poll_box::Model> {
    let txn = db.begin().await?;
    let p = policy::readable_poll(&txn, actor, poll_id).await?;
    may_tally(&txn, actor, &p).await?;
    if !matches!(p.status, Status::Draft | Status::Scheduled | Status::Open) {
        return Err(wrong_status(p.status, "设立票箱"));
    }
    let b = poll_box::ActiveModel {
        id: Set(Uuid::now_v7()),
        poll_id: Set(poll_id),
        label: Set(label),
        location: Set(at.location),
        schedule: Set(at.schedule),
        issued_count: Set(issued_count),
        marked_count: Set(0),
        returned_count: Set(None),
        counts: Set(None),
        status: Set(BoxStatus::Open),
        entered_by: Set(None),
        confirmed_by: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(b)
}

/// The box `id` and its poll, if the caller may read the poll and keeps its boxes.
async fn kept_box<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<(poll_box::Model, poll::Model)> {
    let b = poll_box::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let p = policy::readable_poll(db, actor, b.poll_id).await?;
    may_tally(db, actor, &p).await?;
    Ok((b, p))
}

/// A teller hands `voter_key` a paper ballot at box `id`: the roll entry → voted (paper).
pub async fn mark_voter<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    voter_key: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let (b, p) = kept_box(&txn, actor, id).await?;
    if p.status != Status::Open {
        return Err(not_open());
    }
    if b.status != BoxStatus::Open || b.marked_count >= b.issued_count {
        return Err(AppError::conflict(
            ProblemCode::WrongStatus,
            Text::new(
                "票箱已封存或选票已发完",
                "the box is sealed or out of ballots",
            ),
        ));
    }
    casting::mark_paper(&txn, &p, id, voter_key, actor.id, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Checks a box's counts: options of the poll, non-negative, each once, returned ≤ marked.
async fn check_counts<C: ConnectionTrait>(
    db: &C,
    b: &poll_box::Model,
    counts: &[PaperCount],
    returned: i32,
) -> AppResult<Vec<PaperCount>> {
    let options: Vec<Uuid> = poll_option::Entity::find()
        .filter(poll_option::Column::PollId.eq(b.poll_id))
        .all(db)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, c) in counts.iter().enumerate() {
        if !options.contains(&c.option_id) {
            errors.push(FieldError::of(
                format!("counts[{i}].option_id"),
                FieldCode::NotFound,
                Text::new("该选项不属于这次投票", "not an option of this poll"),
            ));
        } else if !seen.insert(c.option_id) {
            errors.push(FieldError::of(
                format!("counts[{i}].option_id"),
                FieldCode::Duplicate,
                Text::new("同一选项只能填一次", "an option once"),
            ));
        }
        if c.votes < 0 || c.votes > returned {
            errors.push(FieldError::of(
                format!("counts[{i}].votes"),
                FieldCode::OutOfRange,
                Text::new("票数须在 0 到收回票数之间", "0 to returned_count"),
            ));
        }
    }
    if returned < 0 || returned > b.marked_count {
        errors.push(FieldError::of(
            "returned_count",
            FieldCode::OutOfRange,
            crate::text!(
                "收回票数须在 0 到已发出票数（{}）之间",
                "0 to the ballots handed out ({})",
                b.marked_count
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut sorted = counts.to_vec();
    sorted.sort_by_key(|c| c.option_id);
    Ok(sorted)
}

/// The first teller enters a box's counts after close.
pub async fn enter_counts<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    counts: Vec<PaperCount>,
    returned: i32,
) -> AppResult<poll_box::Model> {
    let txn = db.begin().await?;
    let (b, p) = kept_box(&txn, actor, id).await?;
    if p.status != Status::Closed {
        return Err(wrong_status(p.status, "录入票箱计票（须在投票结束后）"));
    }
    let sorted = check_counts(&txn, &b, &counts, returned).await?;
    let moved = poll_box::Entity::update_many()
        .col_expr(poll_box::Column::Status, Expr::value(BoxStatus::Counted))
        .col_expr(
            poll_box::Column::Counts,
            Expr::value(Some(
                serde_json::to_string(&sorted).map_err(AppError::internal)?,
            )),
        )
        .col_expr(poll_box::Column::ReturnedCount, Expr::value(Some(returned)))
        .col_expr(poll_box::Column::EnteredBy, Expr::value(Some(actor.id)))
        .filter(poll_box::Column::Id.eq(id))
        .filter(poll_box::Column::Status.eq(BoxStatus::Open))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::conflict(
            ProblemCode::WrongStatus,
            Text::new("该票箱已录入计票", "the box's counts are already entered"),
        ));
    }
    let b = poll_box::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(b)
}

/// A second teller confirms a box's counts by entering them again; they join the results in a
/// new `paper` tally.
pub async fn confirm_counts<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    counts: Vec<PaperCount>,
    returned: i32,
    now: DateTime<Utc>,
) -> AppResult<poll_box::Model> {
    let txn = db.begin().await?;
    let (b, _) = kept_box(&txn, actor, id).await?;
    if b.status != BoxStatus::Counted {
        return Err(AppError::conflict(
            ProblemCode::WrongStatus,
            Text::new(
                "该票箱尚未录入计票或已确认",
                "the box is not counted, or already confirmed",
            ),
        ));
    }
    let mut guards = Vec::new();
    if b.entered_by == Some(actor.id) {
        guards.push(FieldError::of(
            "second_teller",
            FieldCode::NotAllowed,
            Text::new(
                "须由另一位计票员确认",
                "a second, different teller confirms",
            ),
        ));
    }
    let sorted = check_counts(&txn, &b, &counts, returned).await?;
    if sorted != tally::box_counts(&b) || Some(returned) != b.returned_count {
        guards.push(FieldError::of(
            "counts",
            FieldCode::Mismatch,
            Text::new(
                "两次录入的计票结果不一致，请重新清点",
                "the counts differ from the first entry",
            ),
        ));
    }
    if !guards.is_empty() {
        return Err(AppError::GuardFailed(guards));
    }
    let moved = poll_box::Entity::update_many()
        .col_expr(poll_box::Column::Status, Expr::value(BoxStatus::Confirmed))
        .col_expr(poll_box::Column::ConfirmedBy, Expr::value(Some(actor.id)))
        .filter(poll_box::Column::Id.eq(id))
        .filter(poll_box::Column::Status.eq(BoxStatus::Counted))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::conflict(
            ProblemCode::ConcurrentChange,
            Text::new("该票箱刚被确认", "the box was just confirmed"),
        ));
    }
    tally::write(
        &txn,
        b.poll_id,
        Made {
            kind: TallyKind::Paper,
            by: b.entered_by,
            second: Some(actor.id),
            reason: Some(format!("票箱「{}」计票确认", b.label)),
        },
        now,
    )
    .await?;
    let b = poll_box::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(b)
}

/// Recounts a closed poll from its stored ballots and confirmed boxes: a new tally with the
/// reason; the results show it.
pub async fn recount<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    poll_id: Uuid,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let txn = db.begin().await?;
    let p = policy::readable_poll(&txn, actor, poll_id).await?;
    if may_tally(&txn, actor, &p).await.is_err() {
        policy::managed_poll(&txn, actor, poll_id).await?;
    }
    if p.status != Status::Closed {
        return Err(wrong_status(p.status, "重新计票"));
    }
    let id = tally::write(
        &txn,
        poll_id,
        Made {
            kind: TallyKind::Recount,
            by: Some(actor.id),
            second: None,
            reason: Some(reason),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}
