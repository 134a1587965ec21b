//! A ticket's timeline: one entry per filing, verb or move of the system, with what it decided,
//! kept by `platform::timeline` under the subject `ticket`.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::error::AppResult;
use crate::platform::timeline::{self, Place, SubjectType, Vocabulary};
use crate::tickets::model::{EscalationTarget, Priority, Status, TimelineKind};
use entity::ticket;

/// What a timeline step decided, kept as fields rather than written into its note.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Facts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalated_to: Option<EscalationTarget>,
}

/// The words of a ticket's timeline.
pub struct Words;

impl Vocabulary for Words {
    const SUBJECT: SubjectType = SubjectType::Ticket;
    type Kind = TimelineKind;
    type State = Status;
    type Facts = Facts;
}

/// One entry of a ticket's timeline.
pub type Step = timeline::Step<Words>;
/// A recorded entry.
pub type Entry = timeline::Entry<Words>;

/// A step of `kind` that moves nothing and decides nothing (`.moves`, `.note`, `.facts`,
/// `.related` say what it does).
pub fn step(kind: TimelineKind) -> Step {
    Step::new(kind)
}

/// Appends `step` to ticket `t`'s timeline (`actor` None for the system); returns the entry's
/// id.
pub(crate) async fn record<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
    actor: Option<&Actor>,
    step: Step,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let place = Place {
        street_id: t.street_id,
        community_id: t.community_id,
    };
    timeline::append(db, t.id, place, actor.map(Into::into), step, now).await
}

/// Ticket `ticket_id`'s timeline, oldest first.
pub(crate) async fn entries<C: ConnectionTrait>(db: &C, ticket_id: Uuid) -> AppResult<Vec<Entry>> {
    timeline::entries::<Words, _>(db, ticket_id).await
}
