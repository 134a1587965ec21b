use sea_orm::entity::prelude::*;

use crate::subject::SubjectType;

/// One step of a subject's timeline (a ticket's filing, a verb, what the system did). `kind`,
/// the states and `facts` are the subject's own vocabulary, read and written through
/// `platform::timeline`, which types them for the domain.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "timeline_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub subject_type: SubjectType,
    pub subject_id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    /// Null for the system (escalation, auto-close) and after the actor's account was erased.
    pub actor_user_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub kind: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub note: Option<String>,
    /// Another subject of the same type this step concerns (the two sides of a merge).
    pub related_id: Option<Uuid>,
    /// JSON: what the step decided, as fields (a ticket's priority, rating, escalation level).
    pub facts: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
