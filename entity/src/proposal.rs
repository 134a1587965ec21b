use sea_orm::entity::prelude::*;

/// A proposal (议题) through the six steps 提议决筹办评 (participation design §A1).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "proposals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub scope_type: ScopeType,
    pub scope_id: Uuid,
    pub title: String,
    pub body: String,
    pub category: String,
    pub tier: Option<Tier>,
    pub step: Step,
    pub on_hold: bool,
    pub source_ticket_id: Option<Uuid>,
    pub channel: Channel,
    pub author_user_id: Option<Uuid>,
    pub author_resident_id: Option<Uuid>,
    pub author_household_id: Option<Uuid>,
    /// "3栋 王**": what everyone sees of the author.
    pub author_display: String,
    pub created_by: Uuid,
    pub supporters_count: i32,
    pub support_deadline: DateTimeUtc,
    pub deliberation_ends_at: Option<DateTimeUtc>,
    pub current_revision: i32,
    pub frozen_revision: Option<i32>,
    pub decision_poll_id: Option<Uuid>,
    pub evaluation_poll_id: Option<Uuid>,
    pub budget_fen: i64,
    /// Written by the funds service only (approved allocations not released).
    pub allocated_fen: i64,
    /// Written by the funds/pledges services only (money contributions received).
    pub received_fen: i64,
    /// Written by the funds service only.
    pub spent_fen: i64,
    /// Written by the pledges service only.
    pub pledged_money_fen: i64,
    pub labour_goal_minutes: i32,
    /// Written by the pledges service only.
    pub labour_done_minutes: i32,
    pub lead_user_id: Option<Uuid>,
    pub lead_resident_id: Option<Uuid>,
    /// "3栋 李*": what everyone sees of the lead.
    pub lead_display: Option<String>,
    pub progress_pct: i16,
    pub started_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub satisfaction_pct: Option<i16>,
    pub rating_avg_x100: Option<i32>,
    pub evaluation_answers: Option<i32>,
    pub review_on: Option<Date>,
    pub review_due_at: Option<DateTimeUtc>,
    pub review_notified_at: Option<DateTimeUtc>,
    pub golden: bool,
    pub merged_into_id: Option<Uuid>,
    pub referred_ticket_id: Option<Uuid>,
    pub reason: Option<String>,
    /// A cancel past the decision waiting for its co-signature: who asked, and when.
    pub cancel_requested_by: Option<Uuid>,
    pub cancel_requested_at: Option<DateTimeUtc>,
    pub idempotency_key: Option<String>,
    pub activity_at: DateTimeUtc,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// The step of a proposal (the six steps and the ends). No doc comment: it would become the
// schema's description.
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
#[schema(as = ProposalStep)]
pub enum Step {
    /// 提
    #[sea_orm(string_value = "proposed")]
    Proposed,
    /// 议
    #[sea_orm(string_value = "deliberating")]
    Deliberating,
    /// 决
    #[sea_orm(string_value = "deciding")]
    Deciding,
    /// 筹
    #[sea_orm(string_value = "raising")]
    Raising,
    /// 办
    #[sea_orm(string_value = "implementing")]
    Implementing,
    /// 评
    #[sea_orm(string_value = "evaluating")]
    Evaluating,
    #[sea_orm(string_value = "closed")]
    Closed,
    #[sea_orm(string_value = "rejected")]
    Rejected,
    #[sea_orm(string_value = "referred")]
    Referred,
    #[sea_orm(string_value = "merged")]
    Merged,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

impl Step {
    /// Whether the step ends the proposal (nothing moves it again).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Step::Closed
                | Step::Rejected
                | Step::Referred
                | Step::Merged
                | Step::Failed
                | Step::Withdrawn
                | Step::Cancelled
        )
    }
}

// 小事/普通事/大事.
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
#[schema(as = ProposalTier)]
pub enum Tier {
    /// 小事: the residents do it themselves.
    #[sea_orm(string_value = "small")]
    Small,
    /// 普通事: social workers help.
    #[sea_orm(string_value = "ordinary")]
    Ordinary,
    /// 大事: the government answers (referred to the street).
    #[sea_orm(string_value = "major")]
    Major,
}

// The level of the place a proposal is addressed to.
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
#[schema(as = ProposalScopeType)]
pub enum ScopeType {
    #[sea_orm(string_value = "building")]
    Building,
    #[sea_orm(string_value = "compound")]
    Compound,
    #[sea_orm(string_value = "community")]
    Community,
}

// How a proposal came in.
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
#[schema(as = ProposalChannel)]
pub enum Channel {
    #[sea_orm(string_value = "mini_program")]
    MiniProgram,
    #[sea_orm(string_value = "phone")]
    Phone,
    #[sea_orm(string_value = "visit")]
    Visit,
    #[sea_orm(string_value = "meeting")]
    Meeting,
    #[sea_orm(string_value = "station")]
    Station,
}
