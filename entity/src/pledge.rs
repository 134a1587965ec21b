use sea_orm::entity::prelude::*;

/// A pledge (民筹) of money, labour or materials to a proposal, made while it raises or is
/// implemented; fulfilled when received, cancelled by its pledger, or lapsed when the proposal
/// ends unfulfilled.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pledges")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub proposal_id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub pledger_kind: PledgerKind,
    pub pledger_user_id: Option<Uuid>,
    pub pledger_resident_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
    /// The pledger's name as given: staff only; the public see what `public_display` allows.
    pub pledger_name: String,
    pub public_display: PublicDisplay,
    pub kind: Kind,
    pub amount_fen: Option<i64>,
    pub minutes: Option<i32>,
    pub skill: Option<String>,
    pub item: Option<String>,
    pub quantity: Option<i32>,
    pub unit: Option<String>,
    pub est_value_fen: Option<i64>,
    pub note: Option<String>,
    pub status: Status,
    pub fulfilled_amount_fen: Option<i64>,
    pub fulfilled_minutes: Option<i32>,
    pub fulfilled_quantity: Option<i32>,
    /// The `contribution` entry a money pledge was received with.
    pub fund_entry_id: Option<Uuid>,
    pub received_by: Option<Uuid>,
    pub received_at: Option<DateTimeUtc>,
    pub created_by: Uuid,
    pub version: i32,
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
#[schema(as = PledgeKind)]
pub enum Kind {
    #[sea_orm(string_value = "money")]
    Money,
    #[sea_orm(string_value = "labour")]
    Labour,
    #[sea_orm(string_value = "material")]
    Material,
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
#[schema(as = PledgerKind)]
pub enum PledgerKind {
    #[sea_orm(string_value = "resident")]
    Resident,
    #[sea_orm(string_value = "household")]
    Household,
    #[sea_orm(string_value = "organization")]
    Organization,
    #[sea_orm(string_value = "business")]
    Business,
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
#[schema(as = PledgePublicDisplay)]
pub enum PublicDisplay {
    /// Organisations and businesses by name; a person masked all the same (王*).
    #[sea_orm(string_value = "name")]
    Name,
    #[sea_orm(string_value = "masked")]
    Masked,
    #[sea_orm(string_value = "anonymous")]
    Anonymous,
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
#[schema(as = PledgeStatus)]
pub enum Status {
    #[sea_orm(string_value = "pledged")]
    Pledged,
    #[sea_orm(string_value = "fulfilled")]
    Fulfilled,
    #[sea_orm(string_value = "partially_fulfilled")]
    PartiallyFulfilled,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    #[sea_orm(string_value = "lapsed")]
    Lapsed,
}
