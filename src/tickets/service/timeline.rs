//! A ticket's timeline: one entry per filing, verb or move of the system, with what it decided.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::error::AppResult;
use crate::tickets::model::{EscalationTarget, Priority, Status, TimelineKind};
use entity::{ticket, ticket_event};

/// What a timeline step decided, kept as fields rather than written into its note.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts {
    pub priority: Option<Priority>,
    pub rating: Option<i32>,
    pub escalated_to: Option<EscalationTarget>,
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn timeline<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
    actor: Option<&Actor>,
    kind: TimelineKind,
    from: Option<Status>,
    to: Option<Status>,
    note: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    timeline_with(db, t, actor, kind, from, to, note, Facts::default(), now).await
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn timeline_with<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
    actor: Option<&Actor>,
    kind: TimelineKind,
    from: Option<Status>,
    to: Option<Status>,
    note: Option<String>,
    facts: Facts,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let step = Step {
        kind,
        from,
        to,
        note,
        facts,
        related_ticket_id: None,
    };
    record_step(db, t, actor, step, now).await
}

/// One entry of a ticket's timeline.
pub(crate) struct Step {
    pub kind: TimelineKind,
    pub from: Option<Status>,
    pub to: Option<Status>,
    pub note: Option<String>,
    /// What the step decided, as fields.
    pub facts: Facts,
    /// The other ticket a step concerns (the two sides of a merge).
    pub related_ticket_id: Option<Uuid>,
}

/// Appends `step` to ticket `t`'s timeline; returns the entry's id.
pub(crate) async fn record_step<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
    actor: Option<&Actor>,
    step: Step,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let Step {
        kind,
        from,
        to,
        note,
        facts,
        related_ticket_id,
    } = step;
    let id = Uuid::now_v7();
    ticket_event::ActiveModel {
        id: Set(id),
        ticket_id: Set(t.id),
        street_id: Set(t.street_id),
        community_id: Set(t.community_id),
        actor_user_id: Set(actor.map(|a| a.id)),
        actor_name: Set(actor.map(|a| a.display_name.clone())),
        kind: Set(kind),
        from_status: Set(from),
        to_status: Set(to),
        note: Set(note),
        priority: Set(facts.priority),
        rating: Set(facts.rating),
        escalated_to: Set(facts.escalated_to),
        related_ticket_id: Set(related_ticket_id),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(id)
}
