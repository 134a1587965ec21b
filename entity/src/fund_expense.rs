use sea_orm::entity::prelude::*;

pub use crate::fund_entry::CounterpartyKind;

/// A request to spend from a fund account: submitted, approved by two people of different
/// roles (reserving the amount), paid against an invoice (an `expense` entry), or rejected or
/// cancelled.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_expenses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Option<Uuid>,
    pub proposal_id: Option<Uuid>,
    pub allocation_id: Option<Uuid>,
    pub amount_fen: i64,
    pub payee_kind: CounterpartyKind,
    pub payee_name: String,
    pub public_name: String,
    pub purpose: String,
    pub status: Status,
    pub requested_by: Uuid,
    pub requested_by_name: String,
    pub paid_entry_id: Option<Uuid>,
    pub paid_on: Option<Date>,
    pub reason: Option<String>,
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
#[schema(as = FundExpenseStatus)]
pub enum Status {
    #[sea_orm(string_value = "submitted")]
    Submitted,
    #[sea_orm(string_value = "approved")]
    Approved,
    #[sea_orm(string_value = "paid")]
    Paid,
    #[sea_orm(string_value = "rejected")]
    Rejected,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}
