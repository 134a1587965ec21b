//! The verbs before the count (§A4.3): publish-roll, open-nominations, publish-candidates,
//! open-voting, close-voting, cancel and void. Each checks its guards (409 `guard_failed`
//! naming every unmet one), moves the status once with a conditional update, and writes an
//! audit event, in one transaction with the poll engine's calls.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};
use uuid::Uuid;

use crate::access::Actor;
use crate::elections::engine::{self, Question};
use crate::elections::model::{self, CandidateStatus, ObjectionStatus, OfficerRole, Status};
use crate::elections::policy as election_policy;
use crate::elections::service::people::officers;
use crate::elections::service::{
    audit_step, check_version, guards, reload, transition, unmet, wrong_status,
};
use crate::platform::audit::Action as Audited;
use crate::platform::error::{AppResult, FieldCode, FieldError};
use crate::platform::http::clean_text;
use entity::{candidate, election, election_position, roll_objection};

/// A verb on an election.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    PublishRoll,
    OpenNominations,
    PublishCandidates,
    OpenVoting,
    CloseVoting,
}

impl Verb {
    fn name(self) -> &'static str {
        match self {
            Verb::PublishRoll => "publish_roll",
            Verb::OpenNominations => "open_nominations",
            Verb::PublishCandidates => "publish_candidates",
            Verb::OpenVoting => "open_voting",
            Verb::CloseVoting => "close_voting",
        }
    }

    fn statuses(self) -> (Status, Status) {
        match self {
            Verb::PublishRoll => (Status::Draft, Status::RollPublished),
            Verb::OpenNominations => (Status::RollPublished, Status::Nominating),
            Verb::PublishCandidates => (Status::Nominating, Status::CandidatesPublished),
            Verb::OpenVoting => (Status::CandidatesPublished, Status::Voting),
            Verb::CloseVoting => (Status::Voting, Status::Counting),
        }
    }
}

/// `now ≤ voting_starts_at − days`, else the guard `rule` is unmet.
fn deadline(e: &election::Model, days: i32, rule: &str, now: DateTime<Utc>) -> Option<FieldError> {
    let by = e.voting_starts_at - Duration::days(i64::from(days));
    (now > by).then(|| {
        unmet(
            rule,
            FieldCode::TooLate,
            format!("须在投票开始前至少 {days} 天进行这一步"),
            format!("this step must happen at least {days} days before voting starts"),
        )
    })
}

/// The positions of election `id`, in order.
pub(crate) async fn positions<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> AppResult<Vec<election_position::Model>> {
    Ok(election_position::Entity::find()
        .filter(election_position::Column::ElectionId.eq(id))
        .order_by_asc(election_position::Column::Sort)
        .all(db)
        .await?)
}

/// The candidates of election `id` in `statuses`, by position then id.
pub(crate) async fn candidates_in<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    statuses: &[CandidateStatus],
) -> AppResult<Vec<candidate::Model>> {
    Ok(candidate::Entity::find()
        .filter(candidate::Column::ElectionId.eq(id))
        .filter(candidate::Column::Status.is_in(statuses.iter().copied()))
        .order_by_asc(candidate::Column::PositionId)
        .order_by_asc(candidate::Column::Id)
        .all(db)
        .await?)
}

/// The poll question of position `p` with candidates `cs` and `seats` to fill.
pub(crate) fn question(
    p: &election_position::Model,
    seats: i32,
    cs: &[&candidate::Model],
) -> Question {
    Question {
        title: p.title.clone(),
        seats,
        options: cs.iter().map(|c| (c.display_name.clone(), c.id)).collect(),
    }
}

/// The guards of `verb` on `e` (the unmet ones).
async fn unmet_guards<C: ConnectionTrait>(
    db: &C,
    e: &election::Model,
    verb: Verb,
    now: DateTime<Utc>,
) -> AppResult<Vec<FieldError>> {
    let mut u = Vec::new();
    match verb {
        Verb::PublishRoll => {
            u.extend(deadline(e, e.roll_publish_days, "roll_publish_days", now));
        }
        Verb::PublishCandidates => {
            let qualified = candidates_in(db, e.id, &[CandidateStatus::Qualified]).await?;
            for p in positions(db, e.id).await? {
                let n = qualified.iter().filter(|c| c.position_id == p.id).count();
                let n = i32::try_from(n).unwrap_or(i32::MAX);
                let need = if e.contested {
                    p.min_candidates.max(p.seats + 1)
                } else {
                    p.min_candidates
                };
                if n < need {
                    let title = &p.title;
                    u.push(unmet(
                        format!("positions[{}]", p.sort),
                        FieldCode::TooFew,
                        format!(
                            "「{title}」合格候选人 {n} 人，至少需要 {need} 人（名额 {} 人）",
                            p.seats
                        ),
                        format!(
                            "{title}: {n} qualified candidates, at least {need} needed ({} seats)",
                            p.seats
                        ),
                    ));
                }
            }
            let officer_ids: Vec<Uuid> = officers(db, e.id)
                .await?
                .iter()
                .map(|o| o.user_id)
                .collect();
            if qualified
                .iter()
                .any(|c| c.user_id.is_some_and(|u| officer_ids.contains(&u)))
            {
                u.push(unmet(
                    "officers",
                    FieldCode::NotAllowed,
                    "有选举工作人员同时是候选人".to_string(),
                    "an election officer is a candidate".to_string(),
                ));
            }
            u.extend(deadline(
                e,
                e.candidates_publish_days,
                "candidates_publish_days",
                now,
            ));
        }
        Verb::OpenVoting => {
            let pending = roll_objection::Entity::find()
                .filter(roll_objection::Column::ElectionId.eq(e.id))
                .filter(roll_objection::Column::Status.eq(ObjectionStatus::Pending))
                .count(db)
                .await?;
            if pending > 0 {
                u.push(unmet(
                    "objections",
                    FieldCode::Pending,
                    format!("还有 {pending} 条选民名单异议未处理"),
                    format!("{pending} roll objections are undecided"),
                ));
            }
            let os = officers(db, e.id).await?;
            if os.len() < 2 {
                u.push(unmet(
                    "officers",
                    FieldCode::TooFew,
                    "至少需要 2 名选举工作人员".to_string(),
                    "at least 2 officers are needed".to_string(),
                ));
            }
            if !os.iter().any(|o| o.role == OfficerRole::Scrutineer) {
                u.push(unmet(
                    "scrutineer",
                    FieldCode::Required,
                    "需要一名监票人".to_string(),
                    "a scrutineer is needed".to_string(),
                ));
            }
        }
        Verb::OpenNominations | Verb::CloseVoting => {}
    }
    Ok(u)
}

/// Runs `verb` on election `id` (If-Match): guards, the poll engine's part, the status.
pub async fn run(
    db: &DatabaseConnection,
    caller: &Actor,
    id: Uuid,
    expected: Option<i32>,
    verb: Verb,
    now: DateTime<Utc>,
) -> AppResult<election::Model> {
    let e = election_policy::find_managed(db, caller, id).await?;
    check_version(&e, expected)?;
    let (from, to) = verb.statuses();
    if e.status != from {
        return Err(wrong_status(e.status));
    }
    let txn = db.begin().await?;
    guards(unmet_guards(&txn, &e, verb, now).await?)?;
    let mut extra = Vec::new();
    let mut detail = serde_json::json!({});
    match verb {
        Verb::PublishRoll => {
            let poll =
                engine::create_poll(&txn, caller.id, &caller.display_name, &e, Vec::new(), now)
                    .await?;
            let (size, needs_review) = engine::build_roll(&txn, poll, now).await?;
            if size + needs_review == 0 {
                guards(vec![unmet(
                    "roll",
                    FieldCode::Empty,
                    "选举范围内没有居民".to_string(),
                    "no residents live within the election's scope".to_string(),
                )])?;
            }
            extra.push((election::Column::PollId, Expr::value(Some(poll))));
            detail = serde_json::json!({"poll_id": poll, "roll_size": size, "needs_review": needs_review});
        }
        Verb::OpenVoting => {
            let poll = e
                .poll_id
                .ok_or(crate::platform::error::AppError::NotFound)?;
            let qualified = candidates_in(&txn, e.id, &[CandidateStatus::Qualified]).await?;
            let questions = positions(&txn, e.id)
                .await?
                .iter()
                .map(|p| {
                    let cs: Vec<&candidate::Model> =
                        qualified.iter().filter(|c| c.position_id == p.id).collect();
                    question(p, p.seats, &cs)
                })
                .collect();
            let os = officers(&txn, e.id)
                .await?
                .into_iter()
                .map(|o| (o.user_id, o.role))
                .collect();
            if !engine::open(&txn, poll, questions, os, now).await? {
                return Err(crate::elections::service::concurrent());
            }
        }
        Verb::CloseVoting => {
            let poll = e
                .poll_id
                .ok_or(crate::platform::error::AppError::NotFound)?;
            // The poll job may have closed it at `closes_at`: either way it is closed now.
            let closed = engine::close(&txn, poll, now).await?;
            detail = serde_json::json!({"closed_now": closed});
        }
        Verb::OpenNominations | Verb::PublishCandidates => {}
    }
    transition(&txn, &e, to, extra, now).await?;
    audit_step(
        &txn,
        caller.into(),
        Audited::ElectionStep,
        &e,
        verb.name(),
        None,
        detail,
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(election = %e.id, verb = verb.name(), "election step");
    reload(db, e.id).await
}

/// Ends election `id` early: `cancel` before voting, `void` after it (counting or certified),
/// with a reason.
pub async fn end(
    db: &DatabaseConnection,
    caller: &Actor,
    id: Uuid,
    expected: Option<i32>,
    void: bool,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<election::Model> {
    let e = election_policy::find_managed(db, caller, id).await?;
    check_version(&e, expected)?;
    let reason = clean_text("reason", &reason, model::REASON_MAX)?;
    let (from, to): (&[Status], Status) = if void {
        (&[Status::Counting, Status::Certified], Status::Void)
    } else {
        (
            &[
                Status::Draft,
                Status::RollPublished,
                Status::Nominating,
                Status::CandidatesPublished,
            ],
            Status::Cancelled,
        )
    };
    if !from.contains(&e.status) {
        return Err(wrong_status(e.status));
    }
    let txn = db.begin().await?;
    if let (false, Some(poll)) = (void, e.poll_id) {
        // Before voting the poll is a draft: it ends with its election.
        engine::cancel(&txn, poll, &reason, now).await?;
    }
    transition(
        &txn,
        &e,
        to,
        vec![(
            election::Column::EndReason,
            Expr::value(Some(reason.clone())),
        )],
        now,
    )
    .await?;
    audit_step(
        &txn,
        caller.into(),
        Audited::ElectionStep,
        &e,
        if void { "void" } else { "cancel" },
        None,
        serde_json::json!({"reason": reason}),
        now,
    )
    .await?;
    txn.commit().await?;
    reload(db, e.id).await
}
