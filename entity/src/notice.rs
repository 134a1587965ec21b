use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub scope_type: Place,
    pub scope_id: Uuid,
    /// JSON array of tags: residents carrying any of them; empty: every resident in scope.
    pub audience_tags: String,
    pub include_shops: bool,
    pub category: Category,
    pub title: String,
    pub body: String,
    pub priority: Priority,
    pub requires_confirmation: bool,
    pub publish_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
    pub pinned_until: Option<DateTimeUtc>,
    pub status: Status,
    /// The content check's label when it held the notice for review.
    pub review_label: Option<String>,
    /// A moderator's note when they sent the notice back to draft.
    pub review_note: Option<String>,
    /// Drawn (v7) at publication; the recipients' list order.
    pub sort_key: Option<Uuid>,
    pub recipients_count: i32,
    pub read_count: i32,
    pub confirmed_count: i32,
    pub households_total: i32,
    pub households_reached: i32,
    pub created_by: Uuid,
    pub created_by_name: String,
    pub published_by: Option<Uuid>,
    pub published_by_name: Option<String>,
    pub published_at: Option<DateTimeUtc>,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub withdrawn_reason: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// The level of the territory node a notice is addressed to. No doc comment: it would become the
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
#[schema(as = NoticeScopeType)]
pub enum Place {
    #[sea_orm(string_value = "street")]
    Street,
    #[sea_orm(string_value = "community")]
    Community,
    #[sea_orm(string_value = "compound")]
    Compound,
    #[sea_orm(string_value = "building")]
    Building,
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
#[schema(as = NoticeCategory)]
pub enum Category {
    /// 通知
    #[sea_orm(string_value = "notice")]
    Notice,
    /// 公示
    #[sea_orm(string_value = "publicity")]
    Publicity,
    /// 活动
    #[sea_orm(string_value = "event")]
    Event,
    /// 安全提示
    #[sea_orm(string_value = "safety")]
    Safety,
    /// 政策
    #[sea_orm(string_value = "policy")]
    Policy,
    /// 资金公开
    #[sea_orm(string_value = "fund_report")]
    FundReport,
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
#[schema(as = NoticePriority)]
pub enum Priority {
    #[sea_orm(string_value = "normal")]
    Normal,
    #[sea_orm(string_value = "urgent")]
    Urgent,
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
#[schema(as = NoticeStatus)]
pub enum Status {
    /// Being written; only its author's colleagues see it.
    #[sea_orm(string_value = "draft")]
    Draft,
    /// Held by the content check until a moderator passes it.
    #[sea_orm(string_value = "pending_review")]
    PendingReview,
    /// To be published by the job at `publish_at`.
    #[sea_orm(string_value = "scheduled")]
    Scheduled,
    #[sea_orm(string_value = "published")]
    Published,
    /// Taken down; its receipts stay.
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
}
