use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "role_assignments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub scope_type: ScopeType,
    pub scope_id: Uuid,
    pub street_id: Uuid,
    pub created_at: DateTimeUtc,
    /// The grant stops authorizing from this instant (a term's end); None when open-ended.
    pub valid_until: Option<DateTimeUtc>,
    /// The office term that made this grant, if any.
    pub source_term_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// What an assignment lets its holder do (the policy's permission table), on one scope. No doc
// comment: it would become the schema's description.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[sea_orm(string_value = "admin")]
    Admin,
    #[sea_orm(string_value = "community_staff")]
    CommunityStaff,
    #[sea_orm(string_value = "grid_manager")]
    GridManager,
    #[sea_orm(string_value = "property_staff")]
    PropertyStaff,
    #[sea_orm(string_value = "council_member")]
    CouncilMember,
    #[sea_orm(string_value = "building_leader")]
    BuildingLeader,
    #[sea_orm(string_value = "street_leader")]
    StreetLeader,
    #[sea_orm(string_value = "resident")]
    Resident,
}

// The kind of place an assignment is on.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum ScopeType {
    #[sea_orm(string_value = "street")]
    Street,
    #[sea_orm(string_value = "community")]
    Community,
    #[sea_orm(string_value = "grid")]
    Grid,
    #[sea_orm(string_value = "compound")]
    Compound,
    #[sea_orm(string_value = "building")]
    Building,
    #[sea_orm(string_value = "household")]
    Household,
    #[sea_orm(string_value = "property_company")]
    PropertyCompany,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::CommunityStaff,
        Role::GridManager,
        Role::PropertyStaff,
        Role::CouncilMember,
        Role::BuildingLeader,
        Role::StreetLeader,
        Role::Resident,
    ];

    /// The stored and serialised name (`community_staff`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::CommunityStaff => "community_staff",
            Role::GridManager => "grid_manager",
            Role::PropertyStaff => "property_staff",
            Role::CouncilMember => "council_member",
            Role::BuildingLeader => "building_leader",
            Role::StreetLeader => "street_leader",
            Role::Resident => "resident",
        }
    }

    /// The one scope type each role is assigned on.
    pub fn scope_type(self) -> ScopeType {
        match self {
            Role::Admin => ScopeType::Street,
            Role::CommunityStaff | Role::CouncilMember => ScopeType::Community,
            Role::GridManager => ScopeType::Grid,
            Role::PropertyStaff => ScopeType::PropertyCompany,
            Role::BuildingLeader => ScopeType::Building,
            Role::StreetLeader => ScopeType::Compound,
            Role::Resident => ScopeType::Household,
        }
    }
}

impl ScopeType {
    /// The stored and serialised name (`property_company`).
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeType::Street => "street",
            ScopeType::Community => "community",
            ScopeType::Grid => "grid",
            ScopeType::Compound => "compound",
            ScopeType::Building => "building",
            ScopeType::Household => "household",
            ScopeType::PropertyCompany => "property_company",
        }
    }
}
