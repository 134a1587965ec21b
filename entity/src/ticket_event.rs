use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    /// Null for the system (escalation, auto-close).
    pub actor_user_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
    /// The priority a triage set.
    pub priority: Option<String>,
    /// The rating (1–5) a confirmation gave.
    pub rating: Option<i32>,
    /// Who an escalation went to (`tickets::escalation_target`).
    pub escalated_to: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
