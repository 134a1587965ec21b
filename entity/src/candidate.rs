use sea_orm::entity::prelude::*;

/// A candidate (候选人) for one position of an election: a resident on the roll.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "candidates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub election_id: Uuid,
    pub position_id: Uuid,
    pub resident_id: Uuid,
    pub user_id: Option<Uuid>,
    pub display_name: String,
    pub gender: Option<crate::resident::Gender>,
    pub statement: String,
    pub photo_attachment_id: Option<Uuid>,
    pub nomination_kind: NominationKind,
    pub nominators_count: i32,
    pub status: CandidateStatus,
    pub reason: Option<String>,
    pub votes: Option<i32>,
    pub rank: Option<i32>,
    pub created_by: Uuid,
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
pub enum NominationKind {
    /// 自荐: the resident nominates themself.
    #[sea_orm(string_value = "own")]
    #[serde(rename = "self")]
    Own,
    /// 联名: residents on the roll nominate jointly (at least `joint_nominators_min`).
    #[sea_orm(string_value = "joint")]
    Joint,
    /// By a 居民小组 (staff record it).
    #[sea_orm(string_value = "group")]
    Group,
    /// By the 议事会 or the outgoing committee (staff record it).
    #[sea_orm(string_value = "council")]
    Council,
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
pub enum CandidateStatus {
    #[sea_orm(string_value = "nominated")]
    Nominated,
    #[sea_orm(string_value = "qualified")]
    Qualified,
    #[sea_orm(string_value = "disqualified")]
    Disqualified,
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
    #[sea_orm(string_value = "elected")]
    Elected,
    #[sea_orm(string_value = "not_elected")]
    NotElected,
    /// In a runoff (另行选举) for a seat the first count left open or tied.
    #[sea_orm(string_value = "runoff")]
    Runoff,
}
