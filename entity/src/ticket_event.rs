use sea_orm::entity::prelude::*;

use crate::ticket::{Priority, Status};

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
    pub kind: TimelineKind,
    pub from_status: Option<Status>,
    pub to_status: Option<Status>,
    pub note: Option<String>,
    /// The other ticket this step concerns (the two sides of a merge).
    pub related_ticket_id: Option<Uuid>,
    /// The priority a triage set.
    pub priority: Option<Priority>,
    /// The rating (1–5) a confirmation gave.
    pub rating: Option<i32>,
    /// Who an escalation went to (`tickets::escalation_target`).
    pub escalated_to: Option<EscalationTarget>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What a timeline entry records: filing, a verb, or what the system did.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    #[sea_orm(string_value = "filed")]
    Filed,
    #[sea_orm(string_value = "triage")]
    Triage,
    #[sea_orm(string_value = "assign")]
    Assign,
    #[sea_orm(string_value = "accept")]
    Accept,
    #[sea_orm(string_value = "return")]
    Return,
    #[sea_orm(string_value = "progress")]
    Progress,
    #[sea_orm(string_value = "resolve")]
    Resolve,
    #[sea_orm(string_value = "confirm")]
    Confirm,
    #[sea_orm(string_value = "reopen")]
    Reopen,
    #[sea_orm(string_value = "cancel")]
    Cancel,
    #[sea_orm(string_value = "reject")]
    Reject,
    #[sea_orm(string_value = "urge")]
    Urge,
    /// The deadline passed and the ticket went up a level.
    #[sea_orm(string_value = "escalated")]
    Escalated,
    /// Resolved and not confirmed in time: closed by the system.
    #[sea_orm(string_value = "auto_closed")]
    AutoClosed,
    /// This ticket was merged, as a duplicate, into `related_ticket_id`.
    #[sea_orm(string_value = "merged")]
    Merged,
    /// The duplicate `related_ticket_id` was merged into this ticket.
    #[sea_orm(string_value = "merged_in")]
    MergedIn,
}

/// Whose level an escalation raised a ticket to (`tickets::escalation_target`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum EscalationTarget {
    #[sea_orm(string_value = "handler")]
    Handler,
    #[sea_orm(string_value = "grid_manager")]
    GridManager,
    #[sea_orm(string_value = "community_staff")]
    CommunityStaff,
    #[sea_orm(string_value = "street_admin")]
    StreetAdmin,
}
