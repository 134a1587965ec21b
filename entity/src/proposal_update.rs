use sea_orm::entity::prelude::*;

/// A progress report of an implementing proposal; photos are attachments of subject
/// `proposal_update`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "proposal_updates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub proposal_id: Uuid,
    pub kind: UpdateKind,
    pub progress_pct: Option<i16>,
    pub note: String,
    pub author_user_id: Uuid,
    pub author_name: String,
    pub photos: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// What an update reports.
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
#[schema(as = ProposalUpdateKind)]
pub enum UpdateKind {
    #[sea_orm(string_value = "progress")]
    Progress,
    #[sea_orm(string_value = "milestone")]
    Milestone,
    #[sea_orm(string_value = "issue")]
    Issue,
    #[sea_orm(string_value = "completion")]
    Completion,
}
