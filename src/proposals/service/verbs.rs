//! The verbs of 提 and 议: support (附议, once per household), accept, reject, merge,
//! withdraw, cancel, hold and resume. Referral (大事 → a red ticket) is in `referral`; the
//! decision in `decision`.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use uuid::Uuid;

use super::{
    audit_step, check_version, load, move_step, raced, require_step, touch, wrong_step, Guards,
};
use crate::access::policy::{Action, Role, ScopeType as AssignedAt};
use crate::access::Actor;
use crate::platform::error::{AppError, AppResult, FieldCode};
use crate::platform::lang::Text;
use crate::proposals::model::{Step, Tier, OPEN_STEPS};
use crate::proposals::policy as rules;
use crate::proposals::service::policy::policy_in;
use crate::proposals::service::subject::{insert_event, ProposalRef};
use entity::{proposal, proposal_support};

/// The caller's household, if they are a resident.
pub(crate) fn household_of(actor: &Actor) -> Option<Uuid> {
    actor
        .roles
        .iter()
        .find(|a| a.role == Role::Resident && a.scope_type == AssignedAt::Household)
        .map(|a| a.scope_id)
}

/// The proposal `id` the caller may read and do `action` on (404, then 403).
pub async fn authorized<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
    action: Action,
) -> AppResult<proposal::Model> {
    let p = rules::readable_proposal(conn, actor, id).await?;
    rules::require(conn, actor, action, &p).await?;
    Ok(p)
}

/// The proposal `id` the caller may read and support: residents, through the audience reach of
/// their household (404, then 403).
async fn supportable<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<(proposal::Model, Uuid)> {
    let p = rules::readable_proposal(conn, actor, id).await?;
    if !crate::access::policy::can_anywhere(actor, Action::ProposalSupport) {
        return Err(AppError::Forbidden);
    }
    let household = household_of(actor).ok_or(AppError::Forbidden)?;
    Ok((p, household))
}

/// Supports (附议) a proposal for the caller's household: once per household, however many of
/// its members press at once (the household is part of the key; the count moves only for the
/// row that was inserted). Only while `proposed`, before the support deadline, never for the
/// author's own household. Supporting again is a no-op.
pub async fn support<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let (p, household) = supportable(&txn, actor, id).await?;
    require_step(&p, &[Step::Proposed], "附议")?;
    let mut g = Guards::default();
    g.check(
        now < p.support_deadline,
        "support_deadline",
        FieldCode::TooLate,
        "附议期已结束",
        "the support window has ended",
    );
    g.check(
        p.author_household_id != Some(household),
        "household",
        FieldCode::NotAllowed,
        "提议人所在的户不能附议",
        "the author's household does not support its own proposal",
    );
    g.done()?;
    let inserted = proposal_support::Entity::insert(proposal_support::ActiveModel {
        proposal_id: Set(id),
        household_id: Set(household),
        user_id: Set(actor.id),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            proposal_support::Column::ProposalId,
            proposal_support::Column::HouseholdId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if inserted == 1 {
        proposal::Entity::update_many()
            .col_expr(
                proposal::Column::SupportersCount,
                Expr::col(proposal::Column::SupportersCount).add(1),
            )
            .col_expr(proposal::Column::ActivityAt, Expr::value(now))
            .filter(proposal::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        insert_event(
            &txn,
            &ProposalRef::from(&p),
            Some(actor),
            "supported",
            None,
            None,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Takes the household's support back while `proposed` (any member of the household may).
pub async fn unsupport<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let (p, household) = supportable(&txn, actor, id).await?;
    require_step(&p, &[Step::Proposed], "撤回附议")?;
    let gone = proposal_support::Entity::delete_many()
        .filter(proposal_support::Column::ProposalId.eq(id))
        .filter(proposal_support::Column::HouseholdId.eq(household))
        .exec(&txn)
        .await?;
    if gone.rows_affected == 1 {
        proposal::Entity::update_many()
            .col_expr(
                proposal::Column::SupportersCount,
                Expr::col(proposal::Column::SupportersCount).sub(1),
            )
            .filter(proposal::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        insert_event(
            &txn,
            &ProposalRef::from(&p),
            Some(actor),
            "unsupported",
            None,
            None,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// What accept decides.
#[derive(Debug, Clone)]
pub struct Acceptance {
    pub tier: Option<Tier>,
    pub deliberation_days: Option<i32>,
    /// 议事会受理: accepting with fewer supporters than the policy asks records why.
    pub note: Option<String>,
}

/// Accepts a proposal for deliberation (proposed → deliberating), tiering it. Guards: a tier
/// (given or set before); `supporters_count ≥ policy.min_supporters` or a note (议事会受理).
/// Deliberation runs at least the policy's days (more when asked).
pub async fn accept<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    a: Acceptance,
    now: DateTime<Utc>,
) -> AppResult<proposal::Model> {
    use proposal::Column as P;
    let txn = db.begin().await?;
    let p = rules::readable_proposal(&txn, actor, id).await?;
    // A leader accepts what becomes a small matter of their building or compound.
    let mut as_tiered = p.clone();
    as_tiered.tier = a.tier.or(p.tier);
    rules::require(&txn, actor, Action::ProposalAdvance, &as_tiered).await?;
    check_version(&p, expected)?;
    require_step(&p, &[Step::Proposed], "受理")?;
    let pol = policy_in(&txn, p.community_id).await?;
    let mut g = Guards::default();
    g.check(
        as_tiered.tier.is_some(),
        "tier",
        FieldCode::NotSet,
        "请先确定议题分级（小事/普通事/大事）",
        "give the tier (small, ordinary, major)",
    );
    g.check(
        p.supporters_count >= pol.min_supporters || a.note.is_some(),
        "supporters",
        FieldCode::TooFew,
        "附议户数不足，议事会受理须填写说明",
        "too few households support it; a 议事会 acceptance gives a note",
    );
    g.done()?;
    let days = a
        .deliberation_days
        .unwrap_or(pol.min_deliberation_days)
        .max(pol.min_deliberation_days);
    let sets = vec![
        (P::Tier, Expr::value(as_tiered.tier)),
        (
            P::DeliberationEndsAt,
            Expr::value(Some(now + Duration::days(i64::from(days)))),
        ),
    ];
    if !move_step(
        &txn,
        &p,
        Step::Deliberating,
        sets,
        Some(actor),
        "accepted",
        a.note.as_deref(),
        now,
    )
    .await?
    {
        return Err(raced());
    }
    audit_step(
        &txn,
        actor,
        &p,
        "accept",
        serde_json::json!({"tier": as_tiered.tier, "days": days, "note": a.note}),
        now,
    )
    .await?;
    super::notify::stepped(&txn, &p, Step::Deliberating, now).await?;
    txn.commit().await?;
    load(db, id).await
}

/// Ends a proposal by a staff verb (`verb` from `from` to `to`) with a reason, in one
/// transaction: the caller may advance it, the version and step are as seen.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn end_by_staff<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    from: &[Step],
    to: Step,
    verb: (&str, &str),
    reason: Option<String>,
    extra: Vec<(proposal::Column, sea_orm::sea_query::SimpleExpr)>,
    now: DateTime<Utc>,
) -> AppResult<proposal::Model> {
    let txn = db.begin().await?;
    let p = authorized(&txn, actor, id, Action::ProposalAdvance).await?;
    check_version(&p, expected)?;
    require_step(&p, from, verb.1)?;
    let mut sets = extra;
    sets.push((proposal::Column::Reason, Expr::value(reason.clone())));
    if !move_step(
        &txn,
        &p,
        to,
        sets,
        Some(actor),
        verb.0,
        reason.as_deref(),
        now,
    )
    .await?
    {
        return Err(raced());
    }
    audit_step(
        &txn,
        actor,
        &p,
        verb.0,
        serde_json::json!({"reason": reason}),
        now,
    )
    .await?;
    super::notify::stepped(&txn, &p, to, now).await?;
    txn.commit().await?;
    load(db, id).await
}

/// Rejects a proposal (proposed → rejected) with the answer.
pub async fn reject<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<proposal::Model> {
    let from = [Step::Proposed];
    end_by_staff(
        db,
        actor,
        id,
        expected,
        &from,
        Step::Rejected,
        ("rejected", "不予受理"),
        Some(reason),
        vec![],
        now,
    )
    .await
}

/// What a cancel did: the proposal ended, or (past its decision) the request waits for a
/// council member's co-signature.
pub enum Cancelled {
    Ended,
    AwaitingCosign,
}

/// The steps past the decision, where a cancel needs a council member's co-signature: money
/// pledged and work begun on the community's vote are not undone by one person.
const COSIGNED_STEPS: [Step; 3] = [Step::Raising, Step::Implementing, Step::Evaluating];

/// Whether `actor` sits on the council (议事会) of `community` now.
fn on_council(actor: &Actor, community: Uuid, now: DateTime<Utc>) -> bool {
    actor.roles.iter().any(|a| {
        a.role == Role::CouncilMember
            && a.scope_type == AssignedAt::Community
            && a.scope_id == community
            && a.is_valid_at(now)
    })
}

/// Cancels a proposal in any open step with a reason; a decision poll still open without a
/// ballot is cancelled with it (one with ballots must close first: 409 `guard_failed`). Past
/// the decision the first cancel is a request (`cancel_requested_by`), and the cancel happens
/// when a council member of the community other than the requester co-signs it (409
/// `guard_failed` `cosign` for the requester again, or for someone off the council).
pub async fn cancel<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<Cancelled> {
    let txn = db.begin().await?;
    let p = authorized(&txn, actor, id, Action::ProposalAdvance).await?;
    check_version(&p, expected)?;
    require_step(&p, &OPEN_STEPS, "取消")?;
    if COSIGNED_STEPS.contains(&p.step) {
        match p.cancel_requested_by {
            None => {
                let sets = vec![
                    (
                        proposal::Column::CancelRequestedBy,
                        Expr::value(Some(actor.id)),
                    ),
                    (proposal::Column::CancelRequestedAt, Expr::value(Some(now))),
                ];
                if !touch(&txn, &p, sets, now).await? {
                    return Err(raced());
                }
                let r = ProposalRef::from(&p);
                insert_event(
                    &txn,
                    &r,
                    Some(actor),
                    "cancel_requested",
                    None,
                    Some(&reason),
                    now,
                )
                .await?;
                audit_step(
                    &txn,
                    actor,
                    &p,
                    "cancel_request",
                    serde_json::json!({"reason": reason}),
                    now,
                )
                .await?;
                txn.commit().await?;
                return Ok(Cancelled::AwaitingCosign);
            }
            Some(first) => {
                let mut g = Guards::default();
                g.check(
                    first != actor.id && on_council(actor, p.community_id, now),
                    "cosign",
                    FieldCode::NotAllowed,
                    "取消已表决通过的议题须由另一位议事会成员会签",
                    "a council member other than the requester co-signs the cancel",
                );
                g.done()?;
            }
        }
    }
    if p.step == Step::Deciding {
        super::decision::cancel_poll_in(&txn, &p, &reason, now).await?;
    }
    let sets = vec![(proposal::Column::Reason, Expr::value(Some(reason.clone())))];
    if !move_step(
        &txn,
        &p,
        Step::Cancelled,
        sets,
        Some(actor),
        "cancelled",
        Some(&reason),
        now,
    )
    .await?
    {
        return Err(raced());
    }
    audit_step(
        &txn,
        actor,
        &p,
        "cancel",
        serde_json::json!({"reason": reason}),
        now,
    )
    .await?;
    super::notify::stepped(&txn, &p, Step::Cancelled, now).await?;
    txn.commit().await?;
    Ok(Cancelled::Ended)
}

/// Merges a proposal into another open one of the same community (proposed|deliberating →
/// merged); its supporters are not carried over.
pub async fn merge<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    into_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<proposal::Model> {
    let target = rules::readable_proposal(db, actor, into_id)
        .await
        .map_err(|_| {
            AppError::invalid(
                "into_id",
                FieldCode::NotFound,
                Text::new("没有这个议题", "no such proposal"),
            )
        })?;
    let p = load(db, id).await?;
    let mut g = Guards::default();
    g.check(
        into_id != id && target.community_id == p.community_id,
        "into_id",
        FieldCode::NotAllowed,
        "只能合并到本社区的另一个议题",
        "merge into another proposal of the same community",
    );
    g.check(
        !target.step.is_terminal(),
        "into_id",
        FieldCode::NotAllowed,
        "目标议题已结束",
        "the target proposal has ended",
    );
    g.done()?;
    end_by_staff(
        db,
        actor,
        id,
        expected,
        &[Step::Proposed, Step::Deliberating],
        Step::Merged,
        ("merged", "合并"),
        Some(format!("合并到「{}」", target.title)),
        vec![(proposal::Column::MergedIntoId, Expr::value(Some(into_id)))],
        now,
    )
    .await
}

/// The author withdraws their proposal (proposed|deliberating → withdrawn).
pub async fn withdraw<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<proposal::Model> {
    let txn = db.begin().await?;
    let p = rules::readable_proposal(&txn, actor, id).await?;
    if p.author_user_id != Some(actor.id) {
        return Err(AppError::Forbidden);
    }
    check_version(&p, expected)?;
    require_step(&p, &[Step::Proposed, Step::Deliberating], "撤回")?;
    let sets = vec![(proposal::Column::Reason, Expr::value(reason.clone()))];
    if !move_step(
        &txn,
        &p,
        Step::Withdrawn,
        sets,
        Some(actor),
        "withdrawn",
        reason.as_deref(),
        now,
    )
    .await?
    {
        return Err(raced());
    }
    audit_step(
        &txn,
        actor,
        &p,
        "withdraw",
        serde_json::json!({"reason": reason}),
        now,
    )
    .await?;
    super::notify::stepped(&txn, &p, Step::Withdrawn, now).await?;
    txn.commit().await?;
    load(db, id).await
}

/// Holds (`reason`: Some) or resumes (None) an implementation: the flag, not the step.
pub async fn hold<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<proposal::Model> {
    let txn = db.begin().await?;
    let p = authorized(&txn, actor, id, Action::ProposalAdvance).await?;
    check_version(&p, expected)?;
    let holding = reason.is_some();
    require_step(
        &p,
        &[Step::Implementing],
        if holding { "暂停" } else { "恢复" },
    )?;
    if p.on_hold == holding {
        return Err(wrong_step(
            p.step,
            if holding {
                "再次暂停"
            } else {
                "恢复（未暂停）"
            },
        ));
    }
    let sets = vec![
        (proposal::Column::OnHold, Expr::value(holding)),
        (proposal::Column::Reason, Expr::value(reason.clone())),
    ];
    if !touch(&txn, &p, sets, now).await? {
        return Err(raced());
    }
    let kind = if holding { "held" } else { "resumed" };
    insert_event(
        &txn,
        &ProposalRef::from(&p),
        Some(actor),
        kind,
        None,
        reason.as_deref(),
        now,
    )
    .await?;
    audit_step(
        &txn,
        actor,
        &p,
        kind,
        serde_json::json!({"reason": reason}),
        now,
    )
    .await?;
    txn.commit().await?;
    load(db, id).await
}
