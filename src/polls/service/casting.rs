//! Casting a ballot, exactly once per voter key, also under concurrency and across replicas
//! (design §A3.4), and a teller's paper ballot issued (`mark-voter`), by the same steps.
//!
//! One transaction:
//! 1. `UPDATE polls SET ballots_cast = ballots_cast + 1 WHERE id = ? AND status = 'open' AND
//!    opens_at <= now AND closes_at > now`; no row: 409 `poll_not_open`. The write serialises
//!    with the close's update of the same row, so a ballot is in the close tally or refused,
//!    never stored uncounted.
//! 2. `UPDATE poll_roll SET status = 'voted' … WHERE poll_id = ? AND voter_key = ? AND status =
//!    'eligible'`; no row: 409 `already_voted` (the entry is voted) or 403 `not_on_roll`, and
//!    the transaction rolls back step 1.
//! 3. The ballot (a v4 id; its voter key only for open polls) and its choices.
//!
//! Nothing here logs, audits or notifies: for a secret poll, nothing may tie the caller to
//! the poll they cast in.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError, ProblemCode};
use crate::platform::lang::Text;
use crate::polls::model::{
    self, BallotSource, Channel, QuestionKind, RollStatus, Secrecy, Status, VoterUnit,
};
use crate::polls::policy;
use crate::polls::service::engine::not_open;
use crate::polls::service::roster;
use entity::{ballot_choice, poll, poll_ballot, poll_option, poll_question, poll_roll};

/// The choices on one question.
#[derive(Debug, Clone)]
pub struct Answer {
    pub question_id: Uuid,
    pub option_ids: Vec<Uuid>,
    /// For a rating: one score (1–10) per option, in the same order.
    pub scores: Option<Vec<i16>>,
}

fn bad(field: String, code: FieldCode, zh: &str, en: &str) -> FieldError {
    FieldError::of(field, code, Text::new(zh.to_string(), en.to_string()))
}

/// The choices to store, `(question, option, score)`, after checking every question is
/// answered within its min/max and every option belongs to its question.
pub async fn checked_choices<C: ConnectionTrait>(
    db: &C,
    poll_id: Uuid,
    answers: &[Answer],
) -> AppResult<Vec<(Uuid, Uuid, i16)>> {
    let questions = poll_question::Entity::find()
        .filter(poll_question::Column::PollId.eq(poll_id))
        .order_by_asc(poll_question::Column::Position)
        .all(db)
        .await?;
    let options: HashMap<Uuid, Uuid> = poll_option::Entity::find()
        .filter(poll_option::Column::PollId.eq(poll_id))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.question_id))
        .collect();
    let mut errors = Vec::new();
    let mut by_question: HashMap<Uuid, (usize, &Answer)> = HashMap::new();
    for (i, a) in answers.iter().enumerate() {
        if !questions.iter().any(|q| q.id == a.question_id) {
            errors.push(bad(
                format!("answers[{i}].question_id"),
                FieldCode::NotFound,
                "本次投票没有这道题",
                "no such question in this poll",
            ));
        } else if by_question.insert(a.question_id, (i, a)).is_some() {
            errors.push(bad(
                format!("answers[{i}].question_id"),
                FieldCode::Duplicate,
                "同一道题只能作答一次",
                "a question is answered once",
            ));
        }
    }
    let mut out = Vec::new();
    for q in &questions {
        let (i, chosen): (usize, &[Uuid]) = match by_question.get(&q.id) {
            Some((i, a)) => (*i, &a.option_ids),
            None => (answers.len(), &[]),
        };
        let field = |name: &str| format!("answers[{i}].{name}");
        let n = chosen.len() as i32;
        if n < q.min_choices || n > q.max_choices {
            errors.push(bad(
                if by_question.contains_key(&q.id) {
                    field("option_ids")
                } else {
                    "answers".to_string()
                },
                FieldCode::OutOfRange,
                &format!(
                    "「{}」须选 {} 到 {} 项",
                    q.title, q.min_choices, q.max_choices
                ),
                "number of choices out of range",
            ));
            continue;
        }
        let mut seen = HashSet::new();
        let scores = by_question.get(&q.id).and_then(|(_, a)| a.scores.clone());
        if q.kind == QuestionKind::Rating {
            let ok = scores.as_ref().is_some_and(|s| {
                s.len() == chosen.len() && s.iter().all(|v| (1..=model::SCORE_MAX).contains(v))
            });
            if !ok {
                errors.push(bad(
                    field("scores"),
                    FieldCode::Invalid,
                    "评分题须为每个选项打 1 到 10 分",
                    "one score 1–10 per chosen option",
                ));
                continue;
            }
        } else if scores.is_some() {
            errors.push(bad(
                field("scores"),
                FieldCode::NotAllowed,
                "只有评分题可以打分",
                "scores are for ratings only",
            ));
            continue;
        }
        for (j, o) in chosen.iter().enumerate() {
            if options.get(o) != Some(&q.id) {
                errors.push(bad(
                    format!("answers[{i}].option_ids[{j}]"),
                    FieldCode::NotFound,
                    "该选项不属于这道题",
                    "the option is not one of this question's",
                ));
            } else if !seen.insert(*o) {
                errors.push(bad(
                    format!("answers[{i}].option_ids[{j}]"),
                    FieldCode::Duplicate,
                    "同一选项只能选一次",
                    "an option is chosen once",
                ));
            } else {
                let score = scores.as_ref().and_then(|s| s.get(j).copied()).unwrap_or(1);
                out.push((q.id, *o, score));
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(AppError::Validation(errors))
    }
}

pub(crate) fn not_on_roll(household: bool) -> AppError {
    AppError::forbidden(
        ProblemCode::NotOnRoll,
        if household {
            Text::new(
                "您不在本次投票的选民名册中（按户投票须由本户成年成员投票）",
                "you are not on this poll's roll (a household votes through an adult member)",
            )
        } else {
            Text::new(
                "您不在本次投票的选民名册中",
                "you are not on this poll's roll",
            )
        },
    )
}

pub(crate) fn already_voted(household: bool) -> AppError {
    AppError::conflict(
        ProblemCode::AlreadyVoted,
        if household {
            Text::new("本户已投票", "your household has already voted")
        } else {
            Text::new("您已投过票", "you have already voted")
        },
    )
}

/// The voter key the caller casts with in `p`: their resident entry (unit `resident`) or the
/// household they are an adult member of (unit `household`), among the roll's entries;
/// preferring one still eligible. 403 `not_on_roll` when none is on the roll.
pub async fn voter_key_of<C: ConnectionTrait>(
    db: &C,
    p: &poll::Model,
    user: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Option<poll_roll::Model>> {
    let bound = roster::bound_to(db, user).await?;
    let adult_by = roster::born_by(now.date_naive(), roster::ADULT_AGE);
    let keys: Vec<Uuid> = match p.unit {
        VoterUnit::Resident => bound.iter().map(|b| b.resident_id).collect(),
        VoterUnit::Household => bound
            .iter()
            .filter(|b| b.birth_date.is_some_and(|d| d <= adult_by))
            .map(|b| b.household_id)
            .collect(),
    };
    if keys.is_empty() {
        return Ok(None);
    }
    let rows = poll_roll::Entity::find()
        .filter(poll_roll::Column::PollId.eq(p.id))
        .filter(poll_roll::Column::VoterKey.is_in(keys))
        .order_by_asc(poll_roll::Column::VoterKey)
        .all(db)
        .await?;
    let pick = |s: RollStatus| rows.iter().find(|r| r.status == s).cloned();
    Ok(pick(RollStatus::Eligible)
        .or_else(|| pick(RollStatus::Voted))
        .or_else(|| rows.first().cloned()))
}

/// Step 1: counts one more ballot (or paper ballot issued) on the poll row, only while it is
/// open and within its times.
async fn claim_slot<C: ConnectionTrait>(
    txn: &C,
    poll_id: Uuid,
    counter: poll::Column,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let claimed = poll::Entity::update_many()
        .col_expr(counter, Expr::col(counter).add(1))
        .filter(poll::Column::Id.eq(poll_id))
        .filter(poll::Column::Status.eq(Status::Open))
        .filter(poll::Column::OpensAt.lte(now))
        .filter(poll::Column::ClosesAt.gt(now))
        .exec(txn)
        .await?;
    if claimed.rows_affected == 1 {
        Ok(())
    } else {
        Err(not_open())
    }
}

/// Step 2: the roll entry `eligible` → `voted` by `channel`; who and when only for open polls.
pub(crate) async fn mark_voted<C: ConnectionTrait>(
    txn: &C,
    p: &poll::Model,
    voter_key: Uuid,
    channel: Channel,
    user: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut update = poll_roll::Entity::update_many()
        .col_expr(poll_roll::Column::Status, Expr::value(RollStatus::Voted))
        .col_expr(poll_roll::Column::Channel, Expr::value(Some(channel)))
        .col_expr(
            poll_roll::Column::Version,
            Expr::col(poll_roll::Column::Version).add(1),
        );
    if p.secrecy == Secrecy::Open {
        update = update
            .col_expr(poll_roll::Column::CastByUserId, Expr::value(Some(user)))
            .col_expr(poll_roll::Column::VotedAt, Expr::value(Some(now)));
    }
    let moved = update
        .filter(poll_roll::Column::PollId.eq(p.id))
        .filter(poll_roll::Column::VoterKey.eq(voter_key))
        .filter(poll_roll::Column::Status.eq(RollStatus::Eligible))
        .exec(txn)
        .await?;
    if moved.rows_affected == 1 {
        return Ok(());
    }
    let household = p.unit == VoterUnit::Household;
    match poll_roll::Entity::find_by_id((p.id, voter_key))
        .one(txn)
        .await?
    {
        Some(r) if r.status == RollStatus::Voted => Err(already_voted(household)),
        _ => Err(not_on_roll(household)),
    }
}

/// Casts the caller's ballot in poll `poll_id` (which they must be able to read: 404).
pub async fn cast<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    poll_id: Uuid,
    answers: Vec<Answer>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let p = policy::readable_poll(db, actor, poll_id).await?;
    if p.status != Status::Open {
        return Err(not_open());
    }
    let choices = checked_choices(db, poll_id, &answers).await?;
    let household = p.unit == VoterUnit::Household;
    let Some(entry) = voter_key_of(db, &p, actor.id, now).await? else {
        return Err(not_on_roll(household));
    };
    let txn = db.begin().await?;
    claim_slot(&txn, poll_id, poll::Column::BallotsCast, now).await?;
    mark_voted(&txn, &p, entry.voter_key, Channel::Online, actor.id, now).await?;
    let ballot = Uuid::new_v4();
    poll_ballot::Entity::insert(poll_ballot::ActiveModel {
        id: Set(ballot),
        poll_id: Set(poll_id),
        voter_key: Set((p.secrecy == Secrecy::Open).then_some(entry.voter_key)),
        source: Set(BallotSource::Online),
        box_id: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    let rows: Vec<ballot_choice::ActiveModel> = choices
        .into_iter()
        .map(|(q, o, score)| ballot_choice::ActiveModel {
            ballot_id: Set(ballot),
            question_id: Set(q),
            option_id: Set(o),
            score: Set(score),
        })
        .collect();
    if !rows.is_empty() {
        ballot_choice::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// A teller hands `voter_key` a paper ballot at box `box_id` of `p`: the same two steps as a
/// cast, bumping `paper_issued` and the box's `marked_count`, channel `paper`. Refused after
/// close like a cast.
pub async fn mark_paper<C: ConnectionTrait>(
    txn: &C,
    p: &poll::Model,
    box_id: Uuid,
    voter_key: Uuid,
    teller: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    claim_slot(txn, p.id, poll::Column::PaperIssued, now).await?;
    mark_voted(txn, p, voter_key, Channel::Paper, teller, now).await?;
    entity::poll_box::Entity::update_many()
        .col_expr(
            entity::poll_box::Column::MarkedCount,
            Expr::col(entity::poll_box::Column::MarkedCount).add(1),
        )
        .filter(entity::poll_box::Column::Id.eq(box_id))
        .exec(txn)
        .await?;
    Ok(())
}
