//! Timelines keyed by subject: one append-only list of steps per ticket (and later per proposal,
//! poll, …) in one table, `timeline_events`.
//!
//! The table stores a step's kind, states and facts as text; a domain reads and writes them typed
//! through its [`Vocabulary`]: its subject type, its enum of step kinds, its enum of states and
//! its struct of facts. A stored value the vocabulary does not know fails the read, loudly, rather
//! than reading as something else.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{de::DeserializeOwned, Serialize};
use uuid::Uuid;

use crate::platform::audit::Who;
use crate::platform::error::{AppError, AppResult};
use entity::timeline_event;

pub use entity::subject::SubjectType;

/// One domain's timeline words.
pub trait Vocabulary {
    /// What the timeline is about.
    const SUBJECT: SubjectType;
    /// The kinds of step (filed, a verb, what the system did).
    type Kind: ActiveEnum<Value = String> + Copy;
    /// The states a step moves the subject between.
    type State: ActiveEnum<Value = String> + Copy;
    /// What a step decided, as fields; its serialisation leaves out what it did not decide (an
    /// object with no members is stored as null).
    type Facts: Serialize + DeserializeOwned + Default;
}

/// Where a subject sits, copied onto its steps.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    pub street_id: Uuid,
    pub community_id: Uuid,
}

/// One step, typed by its vocabulary.
pub struct Step<V: Vocabulary> {
    pub kind: V::Kind,
    pub from: Option<V::State>,
    pub to: Option<V::State>,
    /// What a person wrote (never what the step decided: that is in `facts`).
    pub note: Option<String>,
    /// Another subject of the same type the step concerns.
    pub related_id: Option<Uuid>,
    pub facts: V::Facts,
}

impl<V: Vocabulary> Step<V> {
    /// A step of `kind` that moves nothing and decides nothing; say what it does with the
    /// methods below.
    pub fn new(kind: V::Kind) -> Self {
        Step {
            kind,
            from: None,
            to: None,
            note: None,
            related_id: None,
            facts: V::Facts::default(),
        }
    }

    /// The state the subject had (`from`) and, when it changed, the one it has now (`to`).
    pub fn moves(self, from: Option<V::State>, to: Option<V::State>) -> Self {
        Step { from, to, ..self }
    }

    pub fn note(self, note: Option<String>) -> Self {
        Step { note, ..self }
    }

    pub fn facts(self, facts: V::Facts) -> Self {
        Step { facts, ..self }
    }

    /// Another subject of the same type the step concerns.
    pub fn related(self, id: Uuid) -> Self {
        Step {
            related_id: Some(id),
            ..self
        }
    }
}

/// A recorded step.
pub struct Entry<V: Vocabulary> {
    pub id: Uuid,
    /// Null for the system and after the actor's account was erased.
    pub actor_user_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub step: Step<V>,
    pub created_at: DateTime<Utc>,
}

/// Appends `step` to the timeline of subject `subject_id`, on `db` (the caller's transaction);
/// `actor` is None for the system. Returns the entry's id (time-ordered, so entries read back in
/// the order they were written).
pub async fn append<V: Vocabulary, C: ConnectionTrait>(
    db: &C,
    subject_id: Uuid,
    place: Place,
    actor: Option<Who<'_>>,
    step: Step<V>,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let id = Uuid::now_v7();
    timeline_event::ActiveModel {
        id: Set(id),
        subject_type: Set(V::SUBJECT),
        subject_id: Set(subject_id),
        street_id: Set(place.street_id),
        community_id: Set(place.community_id),
        actor_user_id: Set(actor.as_ref().map(|a| a.id)),
        actor_name: Set(actor.map(|a| a.name.to_string())),
        kind: Set(step.kind.to_value()),
        from_state: Set(step.from.map(|s| s.to_value())),
        to_state: Set(step.to.map(|s| s.to_value())),
        note: Set(step.note),
        related_id: Set(step.related_id),
        facts: Set(facts_text(&step.facts)?),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// The timeline of subject `subject_id`, oldest first.
pub async fn entries<V: Vocabulary, C: ConnectionTrait>(
    db: &C,
    subject_id: Uuid,
) -> AppResult<Vec<Entry<V>>> {
    timeline_event::Entity::find()
        .filter(timeline_event::Column::SubjectType.eq(V::SUBJECT))
        .filter(timeline_event::Column::SubjectId.eq(subject_id))
        .order_by_asc(timeline_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(typed::<V>)
        .collect()
}

/// Erasing an account: its steps stay, no longer linked to it; `keep_name` keeps the name it
/// acted under (a staff member's name on a step is part of the record), otherwise it goes too.
pub async fn forget_actor<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    keep_name: bool,
) -> AppResult<()> {
    let mut update = timeline_event::Entity::update_many().col_expr(
        timeline_event::Column::ActorUserId,
        Expr::value(Option::<Uuid>::None),
    );
    if !keep_name {
        update = update.col_expr(
            timeline_event::Column::ActorName,
            Expr::value(Option::<String>::None),
        );
    }
    update
        .filter(timeline_event::Column::ActorUserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

fn facts_text<F: Serialize>(facts: &F) -> AppResult<Option<String>> {
    let value = serde_json::to_value(facts)
        .map_err(|e| AppError::internal(anyhow::anyhow!("timeline facts: {e}")))?;
    Ok(match &value {
        serde_json::Value::Object(m) if m.is_empty() => None,
        serde_json::Value::Null => None,
        _ => Some(value.to_string()),
    })
}

fn typed<V: Vocabulary>(e: timeline_event::Model) -> AppResult<Entry<V>> {
    let unknown = |what: &str, err: sea_orm::DbErr| {
        AppError::internal(anyhow::anyhow!(
            "timeline entry {} of {:?} {}: unknown {what}: {err}",
            e.id,
            V::SUBJECT,
            e.subject_id
        ))
    };
    let state = |s: &Option<String>| -> AppResult<Option<V::State>> {
        s.clone()
            .map(|s| V::State::try_from_value(&s).map_err(|err| unknown("state", err)))
            .transpose()
    };
    let kind = V::Kind::try_from_value(&e.kind).map_err(|err| unknown("kind", err))?;
    let from = state(&e.from_state)?;
    let to = state(&e.to_state)?;
    let facts = match &e.facts {
        None => V::Facts::default(),
        Some(text) => serde_json::from_str(text).map_err(|err| {
            AppError::internal(anyhow::anyhow!(
                "timeline entry {}: facts do not read: {err}",
                e.id
            ))
        })?,
    };
    Ok(Entry {
        id: e.id,
        actor_user_id: e.actor_user_id,
        actor_name: e.actor_name,
        step: Step {
            kind,
            from,
            to,
            note: e.note,
            related_id: e.related_id,
            facts,
        },
        created_at: e.created_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, serde::Deserialize, Default, PartialEq, Debug)]
    struct Facts {
        #[serde(skip_serializing_if = "Option::is_none")]
        rating: Option<i32>,
    }

    #[test]
    fn facts_that_decide_nothing_are_stored_as_null() {
        assert_eq!(facts_text(&Facts::default()).ok(), Some(None));
        assert_eq!(
            facts_text(&Facts { rating: Some(4) }).ok(),
            Some(Some(r#"{"rating":4}"#.to_string()))
        );
    }
}
