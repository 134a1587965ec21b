//! A community's consultation policy (§A1.3): the row, or the defaults when it has none. Every
//! ◇ number of the design lives here, editable per community.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveEnum, ConnectionTrait, EntityTrait, Set, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::error::{AppError, AppResult};
use crate::polls::model::Preset;
use entity::consultation_policy;

/// The policy as the services read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConsultationPolicy {
    pub community_id: Uuid,
    /// Household supports (附议) a proposal needs to be accepted without a 议事会 note.
    pub min_supporters: i32,
    /// Days after creation a proposal takes supports.
    pub support_window_days: i32,
    /// Days of deliberation before the decision may open.
    pub min_deliberation_days: i32,
    /// The rules of a decision poll.
    pub decision_preset: Preset,
    /// Days a decision poll stays open.
    pub poll_days: i32,
    /// Days an evaluation poll stays open.
    pub evaluation_days: i32,
    /// Days after close the 回头看 review falls due.
    pub review_after_days: i32,
    /// Proposals a resident may make per day.
    pub max_proposals_per_day: i32,
    /// Comments a resident may post per hour.
    pub comments_per_hour: i32,
    /// Reports that hide a comment until a moderator looks.
    pub reports_to_hide: i32,
    /// Spending for a proposal above this many fen needs a passed poll.
    pub spending_poll_above_fen: i64,
    /// 0 while the community keeps the defaults (no row); the row's version otherwise.
    pub version: i32,
    /// Whether these are the defaults (the community never changed them).
    pub is_default: bool,
}

impl ConsultationPolicy {
    /// The defaults of §A1.3.
    pub fn defaults(community_id: Uuid) -> Self {
        ConsultationPolicy {
            community_id,
            min_supporters: 5,
            support_window_days: 30,
            min_deliberation_days: 7,
            decision_preset: Preset::ResidentsMeeting,
            poll_days: 7,
            evaluation_days: 14,
            review_after_days: 90,
            max_proposals_per_day: 3,
            comments_per_hour: 20,
            reports_to_hide: 3,
            spending_poll_above_fen: 500_000,
            version: 0,
            is_default: true,
        }
    }

    fn from_row(r: consultation_policy::Model) -> AppResult<Self> {
        let preset = Preset::try_from_value(&r.decision_preset).map_err(AppError::internal)?;
        Ok(ConsultationPolicy {
            community_id: r.community_id,
            min_supporters: r.min_supporters,
            support_window_days: r.support_window_days,
            min_deliberation_days: r.min_deliberation_days,
            decision_preset: preset,
            poll_days: r.poll_days,
            evaluation_days: r.evaluation_days,
            review_after_days: r.review_after_days,
            max_proposals_per_day: r.max_proposals_per_day,
            comments_per_hour: r.comments_per_hour,
            reports_to_hide: r.reports_to_hide,
            spending_poll_above_fen: r.spending_poll_above_fen,
            version: r.version,
            is_default: false,
        })
    }
}

/// The policy of `community_id`: its row or the defaults.
pub async fn policy_in<C: ConnectionTrait>(
    conn: &C,
    community_id: Uuid,
) -> AppResult<ConsultationPolicy> {
    match consultation_policy::Entity::find_by_id(community_id)
        .one(conn)
        .await?
    {
        Some(r) => ConsultationPolicy::from_row(r),
        None => Ok(ConsultationPolicy::defaults(community_id)),
    }
}

/// Writes `p` as the community's policy (insert or update), version bumped; no authorization
/// and no version check (the caller's).
pub async fn store_in<C: ConnectionTrait>(
    conn: &C,
    p: &ConsultationPolicy,
    by: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use consultation_policy::Column as P;
    let row = consultation_policy::ActiveModel {
        community_id: Set(p.community_id),
        min_supporters: Set(p.min_supporters),
        support_window_days: Set(p.support_window_days),
        min_deliberation_days: Set(p.min_deliberation_days),
        decision_preset: Set(p.decision_preset.to_value()),
        poll_days: Set(p.poll_days),
        evaluation_days: Set(p.evaluation_days),
        review_after_days: Set(p.review_after_days),
        max_proposals_per_day: Set(p.max_proposals_per_day),
        comments_per_hour: Set(p.comments_per_hour),
        reports_to_hide: Set(p.reports_to_hide),
        spending_poll_above_fen: Set(p.spending_poll_above_fen),
        version: Set(p.version + 1),
        updated_by: Set(Some(by)),
        updated_at: Set(now),
    };
    consultation_policy::Entity::insert(row)
        .on_conflict(
            OnConflict::column(P::CommunityId)
                .update_columns([
                    P::MinSupporters,
                    P::SupportWindowDays,
                    P::MinDeliberationDays,
                    P::DecisionPreset,
                    P::PollDays,
                    P::EvaluationDays,
                    P::ReviewAfterDays,
                    P::MaxProposalsPerDay,
                    P::CommentsPerHour,
                    P::ReportsToHide,
                    P::SpendingPollAboveFen,
                    P::Version,
                    P::UpdatedBy,
                    P::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(conn)
        .await?;
    Ok(())
}

/// The policy of `community_id` if the caller may see the community and read its proposals
/// (404 otherwise).
pub async fn readable_policy<C: ConnectionTrait>(
    db: &C,
    actor: &crate::access::Actor,
    community_id: Uuid,
) -> AppResult<ConsultationPolicy> {
    use crate::access::policy::{Action, Level};
    crate::territory::query::place_lookup::authorize_place(
        db,
        actor,
        Level::Community,
        community_id,
        Action::ProposalRead,
    )
    .await
    .map_err(|_| AppError::NotFound)?;
    policy_in(db, community_id).await
}

/// Replaces the policy of `community_id` as the caller saw it (`expected`: its version, 0 for
/// the defaults): 404 unless they see the community, 403 unless they manage its consultation
/// policy; audited.
pub async fn replace<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &crate::access::Actor,
    mut p: ConsultationPolicy,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<ConsultationPolicy> {
    use crate::access::policy::{Action, Level};
    use crate::platform::audit;
    let txn = db.begin().await?;
    let place = crate::territory::query::place_lookup::authorize_place(
        &txn,
        actor,
        Level::Community,
        p.community_id,
        Action::ConsultationPolicyManage,
    )
    .await?;
    let current = policy_in(&txn, p.community_id).await?;
    if expected.is_some_and(|v| v != current.version) {
        return Err(AppError::PreconditionFailed);
    }
    p.version = current.version;
    store_in(&txn, &p, actor.id, now).await?;
    audit::record(
        &txn,
        audit::Event {
            actor: actor.into(),
            action: audit::Action::ConsultationPolicyChange,
            street_id: Some(place.street_id),
            community_id: Some(p.community_id),
            resident_id: None,
            field: None,
            purpose: "consultation policy changed",
            detail: Some(serde_json::to_string(&p).map_err(AppError::internal)?),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    policy_in(db, p.community_id).await
}
