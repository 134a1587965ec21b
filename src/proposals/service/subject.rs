//! A proposal as other domains see it (comments, pledges, funds): its place, step and the few
//! figures their own checks need, read with or without the caller's authorization, and the
//! proposal's timeline they may append to.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::error::{AppError, AppResult};
use crate::proposals::model::{ScopeType, Step};
use crate::proposals::policy;
use entity::{proposal, proposal_event};

/// A proposal's identity, place, step and the figures another domain checks against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalRef {
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub scope_type: ScopeType,
    pub scope_id: Uuid,
    pub step: Step,
    pub on_hold: bool,
    pub title: String,
    pub author_user_id: Option<Uuid>,
    pub lead_user_id: Option<Uuid>,
    pub budget_fen: i64,
    pub decision_poll_id: Option<Uuid>,
}

impl From<&proposal::Model> for ProposalRef {
    fn from(p: &proposal::Model) -> Self {
        ProposalRef {
            id: p.id,
            street_id: p.street_id,
            community_id: p.community_id,
            compound_id: p.compound_id,
            building_id: p.building_id,
            scope_type: p.scope_type,
            scope_id: p.scope_id,
            step: p.step,
            on_hold: p.on_hold,
            title: p.title.clone(),
            author_user_id: p.author_user_id,
            lead_user_id: p.lead_user_id,
            budget_fen: p.budget_fen,
            decision_poll_id: p.decision_poll_id,
        }
    }
}

/// 404 (AppError::NotFound) unless `actor` may read it (ProposalRead within reach; residents by
/// audience §0.1).
pub async fn readable<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
    _now: DateTime<Utc>,
) -> AppResult<ProposalRef> {
    let p = policy::readable_proposal(conn, actor, id).await?;
    Ok((&p).into())
}

/// No authorization: for jobs and for another domain's own checks. 404 when missing.
pub async fn load_in<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<ProposalRef> {
    let p = proposal::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((&p).into())
}

/// Appends a timeline entry of the proposal (kind is a short snake_case word, e.g.
/// "pledge_fulfilled").
pub async fn record_event_in<C: ConnectionTrait>(
    conn: &C,
    proposal_id: Uuid,
    actor: Option<&Actor>,
    kind: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let p = load_in(conn, proposal_id).await?;
    insert_event(conn, &p, actor, kind, None, note, now).await
}

/// A move of a proposal from one step to another, for [`insert_event`].
pub type Move = Option<(Step, Step)>;

/// Inserts one row of `proposal_events`.
pub(crate) async fn insert_event<C: ConnectionTrait>(
    conn: &C,
    p: &ProposalRef,
    actor: Option<&Actor>,
    kind: &str,
    moved: Move,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use sea_orm::ActiveEnum;
    proposal_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        proposal_id: Set(p.id),
        street_id: Set(p.street_id),
        community_id: Set(p.community_id),
        actor_user_id: Set(actor.map(|a| a.id)),
        actor_name: Set(actor.map(|a| a.display_name.clone())),
        kind: Set(kind.to_string()),
        from_step: Set(moved.map(|(f, _)| f.to_value())),
        to_step: Set(moved.map(|(_, t)| t.to_value())),
        note: Set(note.map(|n| n.chars().take(1000).collect())),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(())
}
