use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Option<Uuid>,
    pub scope_type: Place,
    pub scope_id: Uuid,
    pub name: String,
    pub kind: Kind,
    pub fiscal_year: Option<i32>,
    /// The sum of the account's entries; never negative (CHECK).
    pub balance_fen: i64,
    /// Earmarked for approved expenses not yet paid; 0 ≤ reserved ≤ balance (CHECK).
    pub reserved_fen: i64,
    pub last_seq: i64,
    pub last_hash: String,
    pub status: Status,
    pub version: i32,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// The level of the place an account belongs to. No doc comment: it would become the schema's
// description.
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
#[schema(as = FundAccountScopeType)]
pub enum Place {
    #[sea_orm(string_value = "community")]
    Community,
    #[sea_orm(string_value = "compound")]
    Compound,
}

// What the money of an account is for.
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
#[schema(as = FundAccountKind)]
pub enum Kind {
    /// 自治金
    #[sea_orm(string_value = "self_governance")]
    SelfGovernance,
    /// 协商资金
    #[sea_orm(string_value = "consultation")]
    Consultation,
    /// 众筹
    #[sea_orm(string_value = "crowdfund")]
    Crowdfund,
    /// 专项补助
    #[sea_orm(string_value = "grant")]
    Grant,
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
#[schema(as = FundAccountStatus)]
pub enum Status {
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "frozen")]
    Frozen,
    #[sea_orm(string_value = "closed")]
    Closed,
}
