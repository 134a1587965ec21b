//! One proposal with everything its page shows (§A10): the current text, the step tracker with
//! dates, the decision and evaluation poll cards, the funding figures (the caches the funds and
//! pledges services keep), the targets, the lead, the milestones and the latest updates.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{names_of, summary, ProposalSummary};
use crate::access::policy::{Role, ScopeType as AssignedAt};
use crate::access::Actor;
use crate::platform::error::AppResult;
use crate::polls::model::{Outcome, Status as PollStatus};
use crate::polls::service::engine;
use crate::proposals::model::{position, Step, UpdateKind, SIX_STEPS};
use crate::proposals::policy;
use crate::proposals::service::policy::policy_in;
use crate::proposals::service::revisions::{targets_of, Target};
use entity::{proposal, proposal_event, proposal_milestone, proposal_support, proposal_update};

/// One dot of the six-dot step tracker.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackerStep {
    pub step: Step,
    /// 提 议 决 筹 办 评.
    pub label: String,
    /// `done`, `current` or `pending` (`skipped` for 筹 when no money was needed).
    pub state: String,
    /// When the proposal reached the step.
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub at: Option<DateTime<Utc>>,
}

/// A poll of the proposal as its card shows it (counts only after close, on the poll's page).
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionCard {
    pub poll_id: Uuid,
    pub status: PollStatus,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub opens_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub closes_at: DateTime<Utc>,
    /// Voters on the frozen roll.
    pub roll_size: Option<i32>,
    /// Ballots cast so far (turnout).
    pub ballots_cast: i32,
    pub outcome: Option<Outcome>,
}

/// A progress report.
#[derive(Debug, Serialize, ToSchema)]
pub struct UpdateResponse {
    pub id: Uuid,
    pub kind: UpdateKind,
    #[schema(value_type = Option<i32>)]
    pub progress_pct: Option<i16>,
    pub note: String,
    /// Who posted it ("3栋 李*" for the lead; staff by name).
    pub author_name: String,
    /// How many photos it has (the timeline lists them).
    pub photos: i32,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

/// A milestone of the implementation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ProposalMilestone)]
pub struct MilestoneResponse {
    pub id: Uuid,
    pub position: i32,
    pub title: String,
    pub planned_on: Option<NaiveDate>,
    pub done_on: Option<NaiveDate>,
}

/// A proposal with everything its page shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProposalResponse {
    #[serde(flatten)]
    pub summary: ProposalSummary,
    pub body: String,
    pub current_revision: i32,
    /// The revision the decision poll was opened on.
    pub frozen_revision: Option<i32>,
    pub source_ticket_id: Option<Uuid>,
    /// Whether the caller wrote it.
    pub is_mine: bool,
    /// Whether the caller leads it.
    pub is_lead: bool,
    /// Whether the caller's household supports it.
    pub supported: bool,
    /// Supports needed to be accepted without a 议事会 note (the policy).
    pub min_supporters: i32,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub support_deadline: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub deliberation_ends_at: Option<DateTime<Utc>>,
    pub tracker: Vec<TrackerStep>,
    pub decision: Option<DecisionCard>,
    pub evaluation: Option<DecisionCard>,
    /// (满意 + 基本满意) / answers, percent; with `evaluation_answers`.
    #[schema(value_type = Option<i32>)]
    pub satisfaction_pct: Option<i16>,
    /// The mean star rating × 100.
    pub rating_avg_x100: Option<i32>,
    pub evaluation_answers: Option<i32>,
    /// Money approved for it and not released (fen).
    pub allocated_fen: i64,
    /// Money contributions received (fen).
    pub received_fen: i64,
    /// `allocated_fen + received_fen`: what start_implementation compares with the budget.
    pub committed_fen: i64,
    pub spent_fen: i64,
    /// Money pledged and not yet received (fen).
    pub pledged_money_fen: i64,
    pub labour_goal_minutes: i32,
    pub labour_done_minutes: i32,
    pub targets: Vec<Target>,
    pub milestones: Vec<MilestoneResponse>,
    /// The latest updates, newest first (at most 3; the timeline has all).
    pub last_updates: Vec<UpdateResponse>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub closed_at: Option<DateTime<Utc>>,
    /// The 回头看 review date.
    pub review_on: Option<NaiveDate>,
    /// Why it was rejected, referred, cancelled, held.
    pub reason: Option<String>,
    /// A cancel past the decision waiting for a council member's co-signature, since when.
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub cancel_requested_at: Option<DateTime<Utc>>,
    pub merged_into_id: Option<Uuid>,
    pub referred_ticket_id: Option<Uuid>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

async fn card<C: ConnectionTrait>(db: &C, id: Option<Uuid>) -> AppResult<Option<DecisionCard>> {
    let Some(id) = id else { return Ok(None) };
    let s = engine::status_in(db, id).await?;
    Ok(Some(DecisionCard {
        poll_id: s.id,
        status: s.status,
        opens_at: s.opens_at,
        closes_at: s.closes_at,
        roll_size: s.roll_size,
        ballots_cast: s.ballots_cast,
        outcome: s.outcome,
    }))
}

async fn tracker<C: ConnectionTrait>(db: &C, p: &proposal::Model) -> AppResult<Vec<TrackerStep>> {
    use sea_orm::ActiveEnum;
    let moves: Vec<(Option<String>, DateTime<Utc>)> = proposal_event::Entity::find()
        .select_only()
        .column(proposal_event::Column::ToStep)
        .column(proposal_event::Column::CreatedAt)
        .filter(proposal_event::Column::ProposalId.eq(p.id))
        .filter(proposal_event::Column::ToStep.is_not_null())
        .order_by_asc(proposal_event::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let reached = |s: Step| -> Option<DateTime<Utc>> {
        if s == Step::Proposed {
            return Some(p.created_at);
        }
        moves
            .iter()
            .find(|(to, _)| to.as_deref() == Some(s.to_value().as_str()))
            .map(|(_, at)| *at)
    };
    // How far it got: its own step, or the last of the six it reached before it ended.
    let furthest = position(p.step).unwrap_or_else(|| {
        SIX_STEPS
            .iter()
            .rposition(|(s, _)| reached(*s).is_some())
            .unwrap_or(0)
    });
    Ok(SIX_STEPS
        .iter()
        .enumerate()
        .map(|(i, (s, label))| {
            let at = reached(*s);
            let state = if i == furthest && !p.step.is_terminal() {
                "current"
            } else if i < furthest || (i == furthest && at.is_some()) {
                if at.is_none() {
                    "skipped"
                } else {
                    "done"
                }
            } else {
                "pending"
            };
            TrackerStep {
                step: *s,
                label: label.to_string(),
                state: state.to_string(),
                at,
            }
        })
        .collect())
}

/// The caller's household, if they are a resident.
fn household(actor: &Actor) -> Option<Uuid> {
    actor
        .roles
        .iter()
        .find(|a| a.role == Role::Resident && a.scope_type == AssignedAt::Household)
        .map(|a| a.scope_id)
}

/// The proposal `id` if the caller may read it, with everything its page shows.
pub async fn detail<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<ProposalResponse> {
    let p = policy::readable_proposal(db, actor, id).await?;
    let names = names_of(db, &[&p]).await?;
    let supported = match household(actor) {
        Some(h) => proposal_support::Entity::find_by_id((p.id, h))
            .one(db)
            .await?
            .is_some(),
        None => false,
    };
    let pol = policy_in(db, p.community_id).await?;
    let last_updates = proposal_update::Entity::find()
        .filter(proposal_update::Column::ProposalId.eq(p.id))
        .order_by_desc(proposal_update::Column::Id)
        .limit(3)
        .all(db)
        .await?
        .into_iter()
        .map(update_response)
        .collect();
    let milestones = proposal_milestone::Entity::find()
        .filter(proposal_milestone::Column::ProposalId.eq(p.id))
        .order_by_asc(proposal_milestone::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|m| MilestoneResponse {
            id: m.id,
            position: m.position,
            title: m.title,
            planned_on: m.planned_on,
            done_on: m.done_on,
        })
        .collect();
    Ok(ProposalResponse {
        summary: summary(&p, &names),
        body: p.body.clone(),
        current_revision: p.current_revision,
        frozen_revision: p.frozen_revision,
        source_ticket_id: p.source_ticket_id,
        is_mine: p.author_user_id == Some(actor.id),
        is_lead: p.lead_user_id == Some(actor.id),
        supported,
        min_supporters: pol.min_supporters,
        support_deadline: p.support_deadline,
        deliberation_ends_at: p.deliberation_ends_at,
        tracker: tracker(db, &p).await?,
        decision: card(db, p.decision_poll_id).await?,
        evaluation: card(db, p.evaluation_poll_id).await?,
        satisfaction_pct: p.satisfaction_pct,
        rating_avg_x100: p.rating_avg_x100,
        evaluation_answers: p.evaluation_answers,
        allocated_fen: p.allocated_fen,
        received_fen: p.received_fen,
        committed_fen: p.allocated_fen + p.received_fen,
        spent_fen: p.spent_fen,
        pledged_money_fen: p.pledged_money_fen,
        labour_goal_minutes: p.labour_goal_minutes,
        labour_done_minutes: p.labour_done_minutes,
        targets: targets_of(db, p.id).await?,
        milestones,
        last_updates,
        started_at: p.started_at,
        completed_at: p.completed_at,
        closed_at: p.closed_at,
        review_on: p.review_on,
        reason: p.reason.clone(),
        cancel_requested_at: p.cancel_requested_at,
        merged_into_id: p.merged_into_id,
        referred_ticket_id: p.referred_ticket_id,
        updated_at: p.updated_at,
    })
}

/// An update as answered.
pub fn update_response(u: proposal_update::Model) -> UpdateResponse {
    UpdateResponse {
        id: u.id,
        kind: u.kind,
        progress_pct: u.progress_pct,
        note: u.note,
        author_name: u.author_name,
        photos: u.photos,
        created_at: u.created_at,
    }
}
