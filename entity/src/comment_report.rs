use sea_orm::entity::prelude::*;

/// A user's report of a comment: at most one per user and comment.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "comment_reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub comment_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub reason: Reason,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// Why a comment is reported. No doc comment: it would become the schema's description.
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
#[schema(as = CommentReportReason)]
pub enum Reason {
    #[sea_orm(string_value = "spam")]
    Spam,
    #[sea_orm(string_value = "offensive")]
    Offensive,
    #[sea_orm(string_value = "off_topic")]
    OffTopic,
    #[sea_orm(string_value = "privacy")]
    Privacy,
    #[sea_orm(string_value = "false_info")]
    FalseInfo,
}
