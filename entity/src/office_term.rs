use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "office_terms")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub street_id: Uuid,
    /// Null only for an office on a whole street.
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub scope_type: OfficeScope,
    pub scope_id: Uuid,
    pub body: Body,
    pub body_ref_id: Option<Uuid>,
    pub position: String,
    pub resident_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub display_name: String,
    pub source: Source,
    pub election_id: Option<Uuid>,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
    pub ended_on: Option<Date>,
    pub end_reason: Option<String>,
    pub role_assignment_id: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// The kind of territory node an office is on.
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
pub enum OfficeScope {
    #[sea_orm(string_value = "street")]
    Street,
    #[sea_orm(string_value = "community")]
    Community,
    #[sea_orm(string_value = "compound")]
    Compound,
    #[sea_orm(string_value = "building")]
    Building,
}

// The body an office belongs to.
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
#[schema(as = OfficeBody)]
pub enum Body {
    /// 居委会 (on a community).
    #[sea_orm(string_value = "residents_committee")]
    ResidentsCommittee,
    /// 楼组长 (on a building).
    #[sea_orm(string_value = "building_leader")]
    BuildingLeader,
    /// 街面长 (on a street-front or mixed compound).
    #[sea_orm(string_value = "street_leader")]
    StreetLeader,
    /// 议事会 / 议事员 (on a community).
    #[sea_orm(string_value = "council")]
    Council,
    /// 邻里大管家.
    #[sea_orm(string_value = "neighbour_steward")]
    NeighbourSteward,
    /// A volunteer team (队长, 副队长).
    #[sea_orm(string_value = "team")]
    Team,
    /// A neighbour duty room (值班长).
    #[sea_orm(string_value = "duty_room")]
    DutyRoom,
}

// How a term came about.
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
#[schema(as = OfficeTermSource)]
pub enum Source {
    #[sea_orm(string_value = "appointment")]
    Appointment,
    #[sea_orm(string_value = "election")]
    Election,
    /// 荣退交接: the successor of a term ended by handover.
    #[sea_orm(string_value = "handover")]
    Handover,
}
