//! Ballots as they may be shown: the caller's own in an open poll, the anonymous ones of a
//! closed secret poll, and the results after close.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::error::{AppError, AppResult, ProblemCode};
use crate::platform::lang::Text;
use crate::polls::model::{self, RollStatus, Secrecy, Status};
use crate::polls::policy;
use crate::polls::service::{casting, engine, tally};
use entity::{ballot_choice, poll_ballot};

/// One choice of a ballot.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = PollBallotChoice)]
pub struct ChoiceView {
    pub question_id: Uuid,
    pub option_id: Uuid,
    /// 1, or a rating's score.
    pub score: i32,
}

/// The caller's own ballot in an open (not secret) poll; 404 for a secret poll, or when they
/// have no online ballot.
pub async fn my_ballot<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    poll_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Vec<ChoiceView>> {
    let p = policy::readable_poll(db, actor, poll_id).await?;
    if p.secrecy == Secrecy::Secret {
        return Err(AppError::NotFound);
    }
    let entry = casting::voter_key_of(db, &p, actor.id, now)
        .await?
        .ok_or(AppError::NotFound)?;
    let ballot = poll_ballot::Entity::find()
        .filter(poll_ballot::Column::PollId.eq(poll_id))
        .filter(poll_ballot::Column::VoterKey.eq(entry.voter_key))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    choices_of(db, &[ballot.id])
        .await
        .map(|mut m| m.remove(&ballot.id).unwrap_or_default())
}

async fn choices_of<C: ConnectionTrait>(
    db: &C,
    ballots: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<ChoiceView>>> {
    let mut out: HashMap<Uuid, Vec<ChoiceView>> = HashMap::new();
    for chunk in ballots.chunks(1000) {
        for c in ballot_choice::Entity::find()
            .filter(ballot_choice::Column::BallotId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            out.entry(c.ballot_id).or_default().push(ChoiceView {
                question_id: c.question_id,
                option_id: c.option_id,
                score: i32::from(c.score),
            });
        }
    }
    for v in out.values_mut() {
        v.sort_by_key(|c| (c.question_id, c.option_id));
    }
    Ok(out)
}

/// One anonymous ballot.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnonymousBallot {
    pub choices: Vec<ChoiceView>,
}

/// The anonymous online ballots of a closed secret poll in which at least
/// `model::PUBLISH_BALLOTS_MIN` took part, in random order, for a public recount. Ballot ids,
/// voters and any order of casting are left out.
pub async fn anonymous_ballots<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    poll_id: Uuid,
) -> AppResult<Vec<AnonymousBallot>> {
    use rand::seq::SliceRandom;
    let p = policy::readable_poll(db, actor, poll_id).await?;
    let participants = engine::count_status(db, poll_id, &[RollStatus::Voted]).await?;
    if p.secrecy != Secrecy::Secret
        || p.status != Status::Closed
        || participants < i64::from(model::PUBLISH_BALLOTS_MIN)
    {
        return Err(AppError::conflict(
            ProblemCode::WrongStatus,
            crate::text!(
                "只有已结束、至少 {} 人参加的无记名投票才公开匿名选票",
                "only a closed secret poll with at least {} participants publishes its ballots",
                model::PUBLISH_BALLOTS_MIN
            ),
        ));
    }
    let ids: Vec<Uuid> = poll_ballot::Entity::find()
        .select_only()
        .column(poll_ballot::Column::Id)
        .filter(poll_ballot::Column::PollId.eq(poll_id))
        .into_tuple()
        .all(db)
        .await?;
    let mut by_ballot = choices_of(db, &ids).await?;
    let mut out: Vec<AnonymousBallot> = ids
        .iter()
        .map(|id| AnonymousBallot {
            choices: by_ballot.remove(id).unwrap_or_default(),
        })
        .collect();
    out.shuffle(&mut rand::thread_rng());
    Ok(out)
}

/// The results of a poll the caller may read, once closed; 409 before (never per-option counts
/// of a poll still open through this route, whoever asks).
pub async fn results<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    poll_id: Uuid,
) -> AppResult<tally::PollResults> {
    let p = policy::readable_poll(db, actor, poll_id).await?;
    if p.status != Status::Closed {
        return Err(AppError::conflict(
            ProblemCode::WrongStatus,
            Text::new("投票结束后才公布结果", "results are published after close"),
        ));
    }
    engine::results_in(db, poll_id)
        .await?
        .ok_or(AppError::NotFound)
}
