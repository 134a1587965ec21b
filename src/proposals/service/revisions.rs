//! A proposal's texts: each revision (title, body, budget, targets) with its sha256, and the
//! targets (§A6) of the current one.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::error::{AppError, AppResult};
use crate::proposals::model::TargetKind;
use crate::proposals::policy as rules;
use entity::{proposal_revision, proposal_target};

/// One target (§A6): money in fen, labour in minutes, or an item and its quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ProposalTarget)]
pub struct Target {
    pub kind: TargetKind,
    /// What is needed (materials; the skill for labour), up to 40 characters.
    #[serde(default)]
    pub item: Option<String>,
    #[serde(default)]
    pub quantity: Option<i32>,
    /// 个, 袋, 米 … up to 10 characters.
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub amount_fen: Option<i64>,
    #[serde(default)]
    pub minutes: Option<i32>,
}

/// The sha256 of a revision: over its title, body, budget and targets as one JSON document in
/// this order (what the decision poll carries).
pub fn revision_sha256(title: &str, body: &str, budget_fen: i64, targets: &[Target]) -> String {
    #[derive(Serialize)]
    struct Doc<'a> {
        title: &'a str,
        body: &'a str,
        budget_fen: i64,
        targets: &'a [Target],
    }
    let doc = serde_json::to_vec(&Doc {
        title,
        body,
        budget_fen,
        targets,
    })
    .unwrap_or_default();
    hex::encode(Sha256::digest(doc))
}

pub(crate) async fn write_targets<C: ConnectionTrait>(
    db: &C,
    proposal_id: Uuid,
    targets: &[Target],
) -> AppResult<()> {
    proposal_target::Entity::delete_many()
        .filter(proposal_target::Column::ProposalId.eq(proposal_id))
        .exec(db)
        .await?;
    for (i, t) in targets.iter().enumerate() {
        proposal_target::ActiveModel {
            id: Set(Uuid::now_v7()),
            proposal_id: Set(proposal_id),
            position: Set(i as i32 + 1),
            kind: Set(t.kind),
            item: Set(t.item.clone()),
            quantity: Set(t.quantity),
            unit: Set(t.unit.clone()),
            amount_fen: Set(t.amount_fen),
            minutes: Set(t.minutes),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

pub(crate) fn labour_minutes(targets: &[Target]) -> i32 {
    targets
        .iter()
        .filter(|t| t.kind == TargetKind::Labour)
        .filter_map(|t| t.minutes)
        .fold(0i32, |a, m| a.saturating_add(m))
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn write_revision<C: ConnectionTrait>(
    db: &C,
    proposal_id: Uuid,
    n: i32,
    title: &str,
    body: &str,
    budget_fen: i64,
    targets: &[Target],
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<()> {
    proposal_revision::ActiveModel {
        proposal_id: Set(proposal_id),
        n: Set(n),
        title: Set(title.to_string()),
        body: Set(body.to_string()),
        budget_fen: Set(budget_fen),
        targets: Set(Some(
            serde_json::to_string(targets).map_err(AppError::internal)?,
        )),
        sha256: Set(revision_sha256(title, body, budget_fen, targets)),
        created_by: Set(actor.id),
        created_by_name: Set(actor.display_name.clone()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The targets of a proposal, in order.
pub async fn targets_of<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<Vec<Target>> {
    Ok(proposal_target::Entity::find()
        .filter(proposal_target::Column::ProposalId.eq(id))
        .order_by_asc(proposal_target::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|t| Target {
            kind: t.kind,
            item: t.item,
            quantity: t.quantity,
            unit: t.unit,
            amount_fen: t.amount_fen,
            minutes: t.minutes,
        })
        .collect())
}

/// The revisions of a proposal the caller may read, newest first.
pub async fn revisions<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<Vec<proposal_revision::Model>> {
    rules::readable_proposal(db, actor, id).await?;
    Ok(proposal_revision::Entity::find()
        .filter(proposal_revision::Column::ProposalId.eq(id))
        .order_by_desc(proposal_revision::Column::N)
        .all(db)
        .await?)
}
