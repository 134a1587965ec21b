use sea_orm::entity::prelude::*;

/// A comment (评论) on a subject (a proposal, a notice), or a reply to one (one level).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "comments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub street_id: Uuid,
    /// None for a comment on something addressed to a whole street.
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub subject_type: SubjectKind,
    pub subject_id: Uuid,
    /// The comment this one replies to (itself never a reply).
    pub parent_id: Option<Uuid>,
    pub author_user_id: Uuid,
    pub author_kind: AuthorKind,
    /// What everyone sees of the author (`3栋 王**`, `物业`, `社区工作人员`): never a full name.
    pub author_display: String,
    /// -1 against, 0 neutral, 1 for.
    pub alignment: i16,
    pub body: String,
    pub status: Status,
    /// The content check's label when it held the comment for review.
    pub check_label: Option<String>,
    pub check_trace_id: Option<String>,
    pub reports_count: i32,
    /// Published replies (kept by every move of a reply).
    pub replies_count: i32,
    /// Waiting in the moderation queue: 0 reported for privacy, 1 anything else; None when no
    /// decision is waiting.
    pub queue_rank: Option<i16>,
    pub hidden_reason: Option<String>,
    pub hidden_by: Option<Uuid>,
    pub hidden_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// What a comment is about. No doc comment: it would become the schema's description.
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
#[schema(as = CommentSubjectType)]
pub enum SubjectKind {
    #[sea_orm(string_value = "proposal")]
    Proposal,
    #[sea_orm(string_value = "notice")]
    Notice,
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
#[schema(as = CommentStatus)]
pub enum Status {
    #[sea_orm(string_value = "published")]
    Published,
    #[sea_orm(string_value = "pending_review")]
    PendingReview,
    #[sea_orm(string_value = "hidden")]
    Hidden,
    #[sea_orm(string_value = "deleted")]
    Deleted,
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
#[schema(as = CommentAuthorKind)]
pub enum AuthorKind {
    #[sea_orm(string_value = "resident")]
    Resident,
    #[sea_orm(string_value = "staff")]
    Staff,
    #[sea_orm(string_value = "property")]
    Property,
    #[sea_orm(string_value = "council")]
    Council,
}
