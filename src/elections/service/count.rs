//! The verbs after voting (§A4.3): certify (two distinct officers, neither a candidate, once
//! the poll is closed and its ballots reconcile), publish-results (validity, winners by rank,
//! runoff prompts, women elected; office terms and their role grants in the same
//! transaction) and runoff (a new poll for one position's open seats).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Months, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    TransactionTrait,
};
use uuid::Uuid;

use crate::access::{epoch, Actor};
use crate::elections::engine::{self, Phase};
use crate::elections::model::{self, CandidateStatus, Rules, Status, Votes};
use crate::elections::policy as election_policy;
use crate::elections::service::people::{is_officer, officers};
use crate::elections::service::verbs::{candidates_in, positions, question};
use crate::elections::service::{
    audit_step, check_version, concurrent, guards, reload, transition, unmet, wrong_status,
};
use crate::offices::model as offices;
use crate::offices::service::{self as terms, Appointment, Holder};
use crate::platform::audit::Action as Audited;
use crate::platform::cache::SharedCache;
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError};
use crate::residents::model::Gender;
use entity::{candidate, election, election_position};

fn not_closed() -> FieldError {
    unmet(
        "poll",
        FieldCode::NotClosed,
        "投票尚未结束".to_string(),
        "the poll is not closed".to_string(),
    )
}

/// Certifies the count of election `id` as one of its officers: the first of two distinct
/// officers records their certification, the second completes it (`certified`).
pub async fn certify(
    db: &DatabaseConnection,
    caller: &Actor,
    id: Uuid,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<election::Model> {
    let e = election_policy::find_readable(db, caller, id).await?;
    check_version(&e, expected)?;
    let officer = is_officer(db, e.id, caller.id).await?;
    if !officer && !election_policy::may_manage(db, caller, &e).await? {
        return Err(AppError::Forbidden);
    }
    if e.status != Status::Counting {
        return Err(wrong_status(e.status));
    }
    let poll = e.poll_id.ok_or(AppError::NotFound)?;
    let mut u = Vec::new();
    if !officer {
        u.push(unmet(
            "officer",
            FieldCode::NotAllowed,
            "只有本次选举的工作人员可以核验计票结果".to_string(),
            "only an officer of this election certifies its count".to_string(),
        ));
    }
    if e.certified_by_1 == Some(caller.id) {
        u.push(unmet(
            "officers",
            FieldCode::Duplicate,
            "需要两名不同的工作人员分别核验，您已经核验过".to_string(),
            "two distinct officers certify; you already did".to_string(),
        ));
    }
    let candidate_rows = candidate::Entity::find()
        .filter(candidate::Column::ElectionId.eq(e.id))
        .filter(candidate::Column::UserId.eq(caller.id))
        .count(db)
        .await?;
    if candidate_rows > 0 {
        u.push(unmet(
            "candidate",
            FieldCode::NotAllowed,
            "候选人不能核验计票结果".to_string(),
            "a candidate cannot certify the count".to_string(),
        ));
    }
    let txn = db.begin().await?;
    if engine::phase(&txn, poll).await? != Phase::Closed {
        u.push(not_closed());
    } else {
        let r = engine::reconciliation(&txn, poll).await?;
        if !r.unconfirmed_boxes.is_empty() {
            let boxes = r.unconfirmed_boxes.join("、");
            u.push(unmet(
                "boxes",
                FieldCode::Pending,
                format!("票箱尚未经第二名计票人确认：{boxes}"),
                format!("paper boxes not confirmed by a second teller: {boxes}"),
            ));
        }
        if r.online_ballots + r.paper_issued != r.roll_voted {
            let (o, i, v) = (r.online_ballots, r.paper_issued, r.roll_voted);
            u.push(unmet(
                "reconciliation",
                FieldCode::NotMet,
                format!("线上票 {o} 张加发出纸质票 {i} 张，不等于名册中已投票的 {v} 人"),
                format!("{o} online ballots and {i} paper ballots issued do not equal the {v} voters marked voted"),
            ));
        }
        if r.paper_returned > r.paper_issued {
            u.push(unmet(
                "paper_returned",
                FieldCode::NotMet,
                "收回的纸质票多于发出的".to_string(),
                "more paper ballots returned than issued".to_string(),
            ));
        }
    }
    guards(u)?;
    let second = e.certified_by_1.is_some();
    if second {
        transition(
            &txn,
            &e,
            Status::Certified,
            vec![
                (election::Column::CertifiedBy2, Expr::value(Some(caller.id))),
                (election::Column::CertifiedAt, Expr::value(Some(now))),
            ],
            now,
        )
        .await?;
    } else {
        let done = election::Entity::update_many()
            .col_expr(election::Column::CertifiedBy1, Expr::value(Some(caller.id)))
            .col_expr(
                election::Column::Version,
                Expr::col(election::Column::Version).add(1),
            )
            .col_expr(election::Column::UpdatedAt, Expr::value(now))
            .filter(election::Column::Id.eq(e.id))
            .filter(election::Column::Status.eq(Status::Counting))
            .filter(election::Column::CertifiedBy1.is_null())
            .exec(&txn)
            .await?;
        if done.rows_affected != 1 {
            return Err(concurrent());
        }
    }
    audit_step(
        &txn,
        caller.into(),
        Audited::ElectionStep,
        &e,
        "certify",
        None,
        serde_json::json!({"completes": second}),
        now,
    )
    .await?;
    txn.commit().await?;
    reload(db, e.id).await
}

/// One position's count in the current poll.
struct Counted {
    position: election_position::Model,
    outcome: model::Outcome,
}

/// The positions the current poll decides: the runoff's one, or all of them.
fn in_play(e: &election::Model, ps: &[election_position::Model]) -> Vec<election_position::Model> {
    ps.iter()
        .filter(|p| e.runoff_position_id.is_none_or(|r| r == p.id))
        .cloned()
        .collect()
}

/// Counts the positions in play from the closed poll's `votes`.
async fn count_positions<C: ConnectionTrait>(
    db: &C,
    e: &election::Model,
    ballots: i64,
    votes: &HashMap<Uuid, i64>,
) -> AppResult<Vec<Counted>> {
    let rules = Rules::of(e);
    let runoff = e.runoff_position_id.is_some();
    let standing = if runoff {
        CandidateStatus::Runoff
    } else {
        CandidateStatus::Qualified
    };
    let cs = candidates_in(db, e.id, &[standing]).await?;
    let ps = positions(db, e.id).await?;
    Ok(in_play(e, &ps)
        .into_iter()
        .map(|p| {
            let v: Vec<Votes> = cs
                .iter()
                .filter(|c| c.position_id == p.id)
                .map(|c| Votes {
                    candidate_id: c.id,
                    votes: votes.get(&c.id).copied().unwrap_or(0),
                })
                .collect();
            let outcome = model::count(&rules, p.seats - p.seats_filled, ballots, &v, runoff);
            Counted {
                position: p,
                outcome,
            }
        })
        .collect())
}

/// Writes the count of the positions in play: votes and rank of each candidate; elected,
/// in the runoff, or not elected; the seats filled.
async fn persist<C: ConnectionTrait>(
    db: &C,
    counted: &[Counted],
    now: DateTime<Utc>,
) -> AppResult<()> {
    for c in counted {
        for (id, rank, votes) in &c.outcome.ranks {
            let status = if c.outcome.elected.contains(id) {
                CandidateStatus::Elected
            } else if c.outcome.runoff.contains(id) {
                CandidateStatus::Runoff
            } else {
                CandidateStatus::NotElected
            };
            candidate::Entity::update_many()
                .col_expr(candidate::Column::Status, Expr::value(status))
                .col_expr(
                    candidate::Column::Votes,
                    Expr::value(Some(i32::try_from(*votes).unwrap_or(i32::MAX))),
                )
                .col_expr(candidate::Column::Rank, Expr::value(Some(*rank)))
                .col_expr(candidate::Column::UpdatedAt, Expr::value(now))
                .filter(candidate::Column::Id.eq(*id))
                .exec(db)
                .await?;
        }
        let filled = i32::try_from(c.outcome.elected.len()).unwrap_or(0);
        election_position::Entity::update_many()
            .col_expr(
                election_position::Column::SeatsFilled,
                Expr::col(election_position::Column::SeatsFilled).add(filled),
            )
            .filter(election_position::Column::Id.eq(c.position.id))
            .exec(db)
            .await?;
    }
    Ok(())
}

fn runoff_needed(c: &Counted) -> FieldError {
    let title = &c.position.title;
    let open = c.outcome.open_seats;
    if c.outcome.tie {
        unmet(
            format!("positions[{}]", c.position.sort),
            FieldCode::RunoffRequired,
            format!("「{title}」末位得票相同，需要另行选举 {open} 个名额"),
            format!("{title}: a tie at the cut-off; a runoff is needed for {open} seats"),
        )
    } else {
        unmet(
            format!("positions[{}]", c.position.sort),
            FieldCode::RunoffRequired,
            format!("「{title}」有 {open} 个名额无人当选，需要另行选举"),
            format!("{title}: {open} seats unfilled; a runoff is needed"),
        )
    }
}

/// Publishes the certified result of election `id`: void when the turnout misses the validity
/// rule; otherwise, when every seat is filled and the women rule holds, marks the elected and
/// starts their office terms (with the body's role until the term ends) in one transaction.
pub async fn publish_results(
    db: &DatabaseConnection,
    cache: &SharedCache,
    caller: &Actor,
    id: Uuid,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<election::Model> {
    let e = election_policy::find_managed(db, caller, id).await?;
    check_version(&e, expected)?;
    if e.status != Status::Certified {
        return Err(wrong_status(e.status));
    }
    let poll = e.poll_id.ok_or(AppError::NotFound)?;
    let count = engine::count(db, poll)
        .await?
        .ok_or_else(|| AppError::GuardFailed(vec![not_closed()]))?;
    let rules = Rules::of(&e);
    if !model::valid(&rules, count.registered, count.participants) {
        let (p, r) = (count.participants, count.registered);
        let reason = format!("参加投票 {p} 人，登记选民 {r} 人，未达到选举有效的比例");
        let txn = db.begin().await?;
        transition(
            &txn,
            &e,
            Status::Void,
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
            "void",
            None,
            serde_json::json!({"reason": reason}),
            now,
        )
        .await?;
        txn.commit().await?;
        return reload(db, e.id).await;
    }
    let counted = count_positions(db, &e, count.participants, &count.votes).await?;
    let mut u: Vec<FieldError> = counted
        .iter()
        .filter(|c| c.outcome.open_seats > 0)
        .map(runoff_needed)
        .collect();
    let ps = positions(db, e.id).await?;
    let playing: Vec<Uuid> = counted.iter().map(|c| c.position.id).collect();
    for p in ps
        .iter()
        .filter(|p| !playing.contains(&p.id) && p.seats_filled < p.seats)
    {
        u.push(unmet(
            format!("positions[{}]", p.sort),
            FieldCode::RunoffRequired,
            format!("「{}」还有名额需要另行选举", p.title),
            format!("{}: seats still need a runoff", p.title),
        ));
    }
    let already = candidates_in(db, e.id, &[CandidateStatus::Elected]).await?;
    let new_ids: Vec<Uuid> = counted
        .iter()
        .flat_map(|c| c.outcome.elected.clone())
        .collect();
    let new_rows = candidate::Entity::find()
        .filter(candidate::Column::Id.is_in(new_ids.clone()))
        .all(db)
        .await?;
    let elected: Vec<&candidate::Model> = already.iter().chain(new_rows.iter()).collect();
    let women = elected
        .iter()
        .filter(|c| c.gender == Some(Gender::Female))
        .count();
    if i32::try_from(women).unwrap_or(0) < e.min_women {
        u.push(unmet(
            "min_women",
            FieldCode::NotMet,
            format!("当选者中女性 {women} 人，少于规定的 {} 人", e.min_women),
            format!(
                "{women} women elected; at least {} are required",
                e.min_women
            ),
        ));
    }
    guards(u)?;
    let starts_on = e.term_starts_on.unwrap_or_else(|| offices::today(now));
    let ends_on = starts_on
        .checked_add_months(Months::new(12 * u32::try_from(e.term_years).unwrap_or(1)))
        .and_then(|d| d.pred_opt())
        .unwrap_or(starts_on);
    let body = model::office_body(e.body);
    let grants = offices::granted_role(body).is_some();
    let holders: Vec<Uuid> = {
        let mut v: Vec<Uuid> = elected.iter().filter_map(|c| c.user_id).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let by_position: HashMap<Uuid, String> =
        ps.iter().map(|p| (p.id, p.position.clone())).collect();
    let appointments: Vec<(Uuid, Appointment)> = elected
        .iter()
        .map(|c| {
            (
                c.id,
                Appointment {
                    body,
                    position: by_position.get(&c.position_id).cloned().unwrap_or_default(),
                    scope_type: model::office_scope(e.scope_type),
                    scope_id: e.scope_id,
                    body_ref_id: None,
                    holder: Holder {
                        resident_id: Some(c.resident_id),
                        user_id: c.user_id,
                        display_name: Some(c.display_name.clone()),
                    },
                    starts_on,
                    ends_on: Some(ends_on),
                    grants_role: grants && c.user_id.is_some(),
                },
            )
        })
        .collect();
    epoch::changing(cache, &holders, async {
        let txn = db.begin().await?;
        persist(&txn, &counted, now).await?;
        let mut started = Vec::new();
        for (cid, a) in &appointments {
            let t = terms::start_elected(&txn, cache, caller, a, e.id, now).await?;
            started.push(serde_json::json!({"candidate_id": cid, "term_id": t.id}));
        }
        transition(
            &txn,
            &e,
            Status::Published,
            vec![(election::Column::PublishedAt, Expr::value(Some(now)))],
            now,
        )
        .await?;
        audit_step(
            &txn,
            caller.into(),
            Audited::ElectionStep,
            &e,
            "publish_results",
            None,
            serde_json::json!({"terms": started, "registered": count.registered, "participants": count.participants}),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    })
    .await?;
    tracing::info!(election = %e.id, "election results published");
    reload(db, e.id).await
}

/// Starts a runoff (另行选举) for position `position_id` of election `id`: the count of the
/// closed poll is written (the clearly elected stay elected), and a new poll with the tied or
/// best-placed candidates for the open seats opens now until `voting_ends_at`.
pub async fn runoff(
    db: &DatabaseConnection,
    caller: &Actor,
    id: Uuid,
    expected: Option<i32>,
    position_id: Uuid,
    voting_ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<election::Model> {
    let e = election_policy::find_managed(db, caller, id).await?;
    check_version(&e, expected)?;
    if !matches!(e.status, Status::Counting | Status::Certified) {
        return Err(wrong_status(e.status));
    }
    if voting_ends_at <= now || voting_ends_at - now > Duration::days(model::VOTING_DAYS_MAX) {
        return Err(crate::elections::service::invalid(
            "voting_ends_at",
            FieldCode::OutOfRange,
            "另行选举的投票结束时间须在将来，且不超过 31 天",
            "voting_ends_at must be in the future, at most 31 days ahead",
        ));
    }
    let ps = positions(db, e.id).await?;
    let Some(position) = ps.iter().find(|p| p.id == position_id).cloned() else {
        return Err(crate::elections::service::invalid(
            "position_id",
            FieldCode::NotFound,
            "本次选举没有这个职位",
            "no such position in this election",
        ));
    };
    let poll = e.poll_id.ok_or(AppError::NotFound)?;
    let txn = db.begin().await?;
    let count = engine::count(&txn, poll)
        .await?
        .ok_or_else(|| AppError::GuardFailed(vec![not_closed()]))?;
    if !model::valid(&Rules::of(&e), count.registered, count.participants) {
        guards(vec![unmet(
            "validity",
            FieldCode::NotMet,
            "参加投票的人数未达到选举有效的比例，不能另行选举".to_string(),
            "the turnout misses the validity rule; no runoff".to_string(),
        )])?;
    }
    let counted = count_positions(&txn, &e, count.participants, &count.votes).await?;
    let playing = counted.iter().any(|c| c.position.id == position_id);
    let open = match counted.iter().find(|c| c.position.id == position_id) {
        Some(c) => c.outcome.open_seats,
        None => position.seats - position.seats_filled,
    };
    if open <= 0 {
        guards(vec![unmet(
            "position_id",
            FieldCode::NotAllowed,
            "该职位名额已满，无需另行选举".to_string(),
            "every seat of the position is filled; no runoff is needed".to_string(),
        )])?;
    }
    persist(&txn, &counted, now).await?;
    if !playing && position.seats_filled >= position.seats {
        return Err(concurrent());
    }
    let standing = candidates_in(&txn, e.id, &[CandidateStatus::Runoff]).await?;
    let cs: Vec<&candidate::Model> = standing
        .iter()
        .filter(|c| c.position_id == position_id)
        .collect();
    let filled = ps
        .iter()
        .find(|p| p.id == position_id)
        .map_or(0, |p| p.seats_filled);
    let open = if playing {
        open
    } else {
        position.seats - filled
    };
    let next = election::Model {
        voting_ends_at,
        voting_starts_at: now,
        runoff_position_id: Some(position_id),
        ..e.clone()
    };
    let new_poll = engine::create_poll(
        &txn,
        caller.id,
        &caller.display_name,
        &next,
        Vec::new(),
        now,
    )
    .await?;
    engine::build_roll(&txn, new_poll, now).await?;
    let os = officers(&txn, e.id)
        .await?
        .into_iter()
        .map(|o| (o.user_id, o.role))
        .collect();
    if !engine::open(
        &txn,
        new_poll,
        vec![question(&position, open, &cs)],
        os,
        now,
    )
    .await?
    {
        return Err(concurrent());
    }
    transition(
        &txn,
        &e,
        Status::Voting,
        vec![
            (election::Column::PollId, Expr::value(Some(new_poll))),
            (
                election::Column::RunoffPositionId,
                Expr::value(Some(position_id)),
            ),
            (election::Column::VotingStartsAt, Expr::value(now)),
            (election::Column::VotingEndsAt, Expr::value(voting_ends_at)),
            (
                election::Column::CertifiedBy1,
                Expr::value(Option::<Uuid>::None),
            ),
            (
                election::Column::CertifiedBy2,
                Expr::value(Option::<Uuid>::None),
            ),
            (
                election::Column::CertifiedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            ),
        ],
        now,
    )
    .await?;
    audit_step(
        &txn,
        caller.into(),
        Audited::ElectionStep,
        &e,
        "runoff",
        None,
        serde_json::json!({"position_id": position_id, "poll_id": new_poll, "seats": open, "candidates": cs.iter().map(|c| c.id).collect::<Vec<_>>()}),
        now,
    )
    .await?;
    txn.commit().await?;
    reload(db, e.id).await
}
