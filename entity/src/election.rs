use sea_orm::entity::prelude::*;

/// An election (选举, 推选) of a body on one node of the territory (participation design §A4).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "elections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub scope_type: ElectionScope,
    pub scope_id: Uuid,
    pub body: ElectionBody,
    pub title: String,
    pub method: Method,
    pub term_years: i32,
    pub term_starts_on: Option<Date>,
    pub validity_num: i32,
    pub validity_den: i32,
    pub validity_strict: bool,
    pub win_num: i32,
    pub win_den: i32,
    pub win_strict: bool,
    pub runoff_min_num: i32,
    pub runoff_min_den: i32,
    pub contested: bool,
    pub min_women: i32,
    pub roll_publish_days: i32,
    pub candidates_publish_days: i32,
    pub joint_nominators_min: i32,
    pub status: Status,
    pub poll_id: Option<Uuid>,
    pub voting_starts_at: DateTimeUtc,
    pub voting_ends_at: DateTimeUtc,
    pub certified_by_1: Option<Uuid>,
    pub certified_by_2: Option<Uuid>,
    pub certified_at: Option<DateTimeUtc>,
    pub published_at: Option<DateTimeUtc>,
    pub end_reason: Option<String>,
    pub runoff_position_id: Option<Uuid>,
    pub version: i32,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// The kind of node an election's roll is drawn from.
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
pub enum ElectionScope {
    #[sea_orm(string_value = "community")]
    Community,
    #[sea_orm(string_value = "compound")]
    Compound,
    #[sea_orm(string_value = "building")]
    Building,
}

// The body elected.
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
pub enum ElectionBody {
    /// 居委会 (on a community).
    #[sea_orm(string_value = "residents_committee")]
    ResidentsCommittee,
    /// 楼组长 (on a building).
    #[sea_orm(string_value = "building_leader")]
    BuildingLeader,
    /// 街面长 (on a street-front or mixed compound).
    #[sea_orm(string_value = "street_leader")]
    StreetLeader,
    /// 议事会 (on a community).
    #[sea_orm(string_value = "council")]
    Council,
    /// 邻里大管家 (on a community, compound or building).
    #[sea_orm(string_value = "neighbour_steward")]
    NeighbourSteward,
}

// Who votes.
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
#[schema(as = ElectionMethod)]
pub enum Method {
    /// Every eligible resident votes (the poll's unit `resident`).
    #[sea_orm(string_value = "direct")]
    Direct,
    /// One vote per household (每户派代表; the poll's unit `household`).
    #[sea_orm(string_value = "household_rep")]
    HouseholdRep,
}

// Where an election is in its life (§A4.3).
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
#[schema(as = ElectionStatus)]
pub enum Status {
    #[sea_orm(string_value = "draft")]
    Draft,
    #[sea_orm(string_value = "roll_published")]
    RollPublished,
    #[sea_orm(string_value = "nominating")]
    Nominating,
    #[sea_orm(string_value = "candidates_published")]
    CandidatesPublished,
    #[sea_orm(string_value = "voting")]
    Voting,
    #[sea_orm(string_value = "counting")]
    Counting,
    #[sea_orm(string_value = "certified")]
    Certified,
    #[sea_orm(string_value = "published")]
    Published,
    #[sea_orm(string_value = "void")]
    Void,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}
