use sea_orm::entity::prelude::*;

/// One movement of a fund account: written once by `platform::ledger`, never updated or
/// deleted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    pub seq: i64,
    /// + in, − out; 0 for a `release` only (it moves no money).
    pub amount_fen: i64,
    pub balance_after_fen: i64,
    pub reverses_entry_id: Option<Uuid>,
    pub prev_hash: String,
    pub hash: String,
    pub created_at: DateTimeUtc,
    pub kind: Kind,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Option<Uuid>,
    pub proposal_id: Option<Uuid>,
    pub pledge_id: Option<Uuid>,
    pub expense_id: Option<Uuid>,
    pub allocation_id: Option<Uuid>,
    /// The other account of a transfer.
    pub counter_account_id: Option<Uuid>,
    pub counterparty_kind: Option<CounterpartyKind>,
    /// Staff only.
    pub counterparty_name: Option<String>,
    /// What residents see: organisations by name, people masked or 匿名居民.
    pub public_name: Option<String>,
    pub memo: Option<String>,
    pub occurred_on: Option<Date>,
    pub recorded_by: Uuid,
    pub recorded_by_name: String,
    pub approved_by_1: Option<Uuid>,
    pub approved_by_2: Option<Uuid>,
    /// A `release`: the reserved fen it freed (> 0); NULL on every other kind.
    pub released_fen: Option<i64>,
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
#[schema(as = FundEntryKind)]
pub enum Kind {
    /// 上级拨付
    #[sea_orm(string_value = "allocation")]
    Allocation,
    /// 捐赠、筹款
    #[sea_orm(string_value = "contribution")]
    Contribution,
    #[sea_orm(string_value = "transfer_in")]
    TransferIn,
    #[sea_orm(string_value = "transfer_out")]
    TransferOut,
    #[sea_orm(string_value = "expense")]
    Expense,
    #[sea_orm(string_value = "refund")]
    Refund,
    /// 释放预留: an allocation's unspent reservation freed (amount 0)
    #[sea_orm(string_value = "release")]
    Release,
    #[sea_orm(string_value = "reversal")]
    Reversal,
}

// Who money came from or went to.
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
#[schema(as = FundCounterpartyKind)]
pub enum CounterpartyKind {
    #[sea_orm(string_value = "government")]
    Government,
    #[sea_orm(string_value = "organization")]
    Organization,
    #[sea_orm(string_value = "business")]
    Business,
    #[sea_orm(string_value = "resident")]
    Resident,
    #[sea_orm(string_value = "other")]
    Other,
}
