use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tickets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Uuid,
    pub building_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
    pub category_id: Uuid,
    pub title: String,
    pub description: String,
    /// The address text (from `wx.chooseLocation`, or typed).
    pub location: Option<String>,
    /// GCJ-02, as WeChat gives it; set together with `longitude` or not at all.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub channel: Channel,
    pub anonymous: bool,
    pub requester_user_id: Option<Uuid>,
    pub requester_name: Option<String>,
    pub requester_resident_id: Option<Uuid>,
    pub created_by: Uuid,
    /// The `Idempotency-Key` it was filed with, unique per filer.
    pub idempotency_key: Option<String>,
    pub status: Status,
    pub priority: Option<Priority>,
    pub triaged_at: Option<DateTimeUtc>,
    pub due_at: Option<DateTimeUtc>,
    pub next_follow_up_at: Option<DateTimeUtc>,
    /// `due_at` or `next_follow_up_at` while the ticket is open: the sort and overdue key.
    pub deadline_at: Option<DateTimeUtc>,
    /// When the escalation job next raises the level; null when it never will.
    pub escalate_at: Option<DateTimeUtc>,
    pub escalation_level: i32,
    pub assigned_company_id: Option<Uuid>,
    pub handler_user_id: Option<Uuid>,
    pub assigned_at: Option<DateTimeUtc>,
    pub accepted_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    /// A resolved ticket the requester has not confirmed by then closes on its own.
    pub auto_close_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub auto_closed: bool,
    pub rating: Option<i32>,
    pub feedback: Option<String>,
    /// Why it was rejected, returned or cancelled (the latest such reason).
    pub reason: Option<String>,
    pub last_urged_at: Option<DateTimeUtc>,
    pub urge_count: i32,
    pub reopen_count: i32,
    pub version: i32,
    /// Set when this ticket was merged (status `merged`) into another as its duplicate.
    pub merged_into_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

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
pub enum Status {
    #[sea_orm(string_value = "submitted")]
    Submitted,
    #[sea_orm(string_value = "triaged")]
    Triaged,
    #[sea_orm(string_value = "assigned")]
    Assigned,
    #[sea_orm(string_value = "accepted")]
    Accepted,
    #[sea_orm(string_value = "resolved")]
    Resolved,
    #[sea_orm(string_value = "closed")]
    Closed,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    #[sea_orm(string_value = "rejected")]
    Rejected,
    /// Merged into another ticket as its duplicate (`merged_into_id`); terminal.
    #[sea_orm(string_value = "merged")]
    Merged,
}

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
pub enum Priority {
    /// Simple: resolved within the green deadline (default 7 days).
    #[sea_orm(string_value = "green")]
    Green,
    /// Harder: within the orange deadline (default 30 days).
    #[sea_orm(string_value = "orange")]
    Orange,
    /// Hard: no fixed deadline, a follow-up every N days (default 7) until resolved.
    #[sea_orm(string_value = "red")]
    Red,
}

/// How a ticket reached us.
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
pub enum Channel {
    #[sea_orm(string_value = "mini_program")]
    MiniProgram,
    #[sea_orm(string_value = "phone")]
    Phone,
    #[sea_orm(string_value = "visit")]
    Visit,
    #[sea_orm(string_value = "patrol")]
    Patrol,
    #[sea_orm(string_value = "duty_room")]
    DutyRoom,
}

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
