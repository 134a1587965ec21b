//! The notifications of a proposal (§A1.2), queued in the transaction of the move: its author,
//! the accounts of the households that support it, its lead and the building leaders of its
//! place hear of each step; the 回头看 reminder goes to the lead and the community's council and
//! staff. Each recipient once; never the one who acted (they know).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::access::policy::Role;
use crate::identity::query::role_holders;
use crate::platform::error::AppResult;
use crate::platform::inbox::Subject;
use crate::platform::notifications::{self, About, Event, Payload};
use crate::proposals::model::{step_label, Step};
use entity::{proposal, proposal_support};

/// The author, the supporting households' accounts, the lead, the building leaders.
async fn parties<C: ConnectionTrait>(txn: &C, p: &proposal::Model) -> AppResult<Vec<Uuid>> {
    let mut out: Vec<Uuid> = proposal_support::Entity::find()
        .select_only()
        .column(proposal_support::Column::UserId)
        .filter(proposal_support::Column::ProposalId.eq(p.id))
        .into_tuple()
        .all(txn)
        .await?;
    out.extend(p.author_user_id);
    out.extend(p.lead_user_id);
    if let Some(b) = p.building_id {
        out.extend(role_holders::holders(txn, Role::BuildingLeader, &[b]).await?);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

async fn send<C: ConnectionTrait>(
    txn: &C,
    p: &proposal::Model,
    event: Event,
    to: &[Uuid],
    status: String,
    note: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if to.is_empty() {
        return Ok(());
    }
    let payload = Payload {
        title: p.title.clone(),
        status,
        note,
        at: now,
    };
    let about = About {
        subject: Subject::Proposal(p.id),
        street_id: p.street_id,
        community_id: Some(p.community_id),
    };
    notifications::enqueue_about(txn, event, about, to, &payload, now).await
}

/// `p` moved to `to` by a verb.
pub async fn stepped<C: ConnectionTrait>(
    txn: &C,
    p: &proposal::Model,
    to: Step,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let parties = parties(txn, p).await?;
    let event = if to == Step::Deciding {
        Event::ProposalPollOpen
    } else {
        Event::ProposalStepped
    };
    send(
        txn,
        p,
        event,
        &parties,
        step_label(to).to_string(),
        None,
        now,
    )
    .await
}

/// The decision poll closed and moved `p` to `to`.
pub async fn result<C: ConnectionTrait>(
    txn: &C,
    p: &proposal::Model,
    to: Step,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let parties = parties(txn, p).await?;
    let note = if to == Step::Failed {
        "未通过"
    } else {
        "已通过"
    };
    let status = step_label(to).to_string();
    send(
        txn,
        p,
        Event::ProposalResult,
        &parties,
        status,
        Some(note.into()),
        now,
    )
    .await
}

/// The lead (or staff) reported progress.
pub async fn progress<C: ConnectionTrait>(
    txn: &C,
    p: &proposal::Model,
    note: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let parties = parties(txn, p).await?;
    let note: String = note.chars().take(20).collect();
    let status = step_label(p.step).to_string();
    send(
        txn,
        p,
        Event::ProposalProgress,
        &parties,
        status,
        Some(note),
        now,
    )
    .await
}

/// The work is complete and its evaluation open.
pub async fn evaluation_open<C: ConnectionTrait>(
    txn: &C,
    p: &proposal::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let parties = parties(txn, p).await?;
    let status = step_label(Step::Evaluating).to_string();
    send(
        txn,
        p,
        Event::ProposalEvaluationOpen,
        &parties,
        status,
        None,
        now,
    )
    .await
}

/// The 回头看 review of closed `p` is due.
pub async fn review_due<C: ConnectionTrait>(
    txn: &C,
    p: &proposal::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut to = Vec::new();
    to.extend(p.lead_user_id);
    to.extend(role_holders::holders(txn, Role::CouncilMember, &[p.community_id]).await?);
    to.extend(role_holders::holders(txn, Role::CommunityStaff, &[p.community_id]).await?);
    to.sort_unstable();
    to.dedup();
    let note = p.review_on.map(|d| format!("回访日 {d}"));
    send(
        txn,
        p,
        Event::ProposalReviewDue,
        &to,
        "回头看".into(),
        note,
        now,
    )
    .await
}

/// A message of the step `p` is in to `users` (e.g. the lead named).
pub async fn to_users<C: ConnectionTrait>(
    txn: &C,
    p: &proposal::Model,
    users: &[Uuid],
    note: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let status = step_label(p.step).to_string();
    send(
        txn,
        p,
        Event::ProposalStepped,
        users,
        status,
        Some(note.into()),
        now,
    )
    .await
}
