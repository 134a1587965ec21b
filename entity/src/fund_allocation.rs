use sea_orm::entity::prelude::*;

/// Money of a fund account earmarked for a proposal: requested, approved by two people of
/// different roles (reserving the amount on the account), spent by expenses under it, and its
/// unspent rest released when the proposal no longer needs it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_allocations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Option<Uuid>,
    pub proposal_id: Uuid,
    pub amount_fen: i64,
    /// Paid by expenses under it; `spent_fen + released_fen ≤ amount_fen` (CHECK).
    pub spent_fen: i64,
    /// Given back to the account's available money by a release.
    pub released_fen: i64,
    pub status: Status,
    pub requested_by: Uuid,
    pub requested_by_name: String,
    /// The passed poll that allowed an amount above the policy's threshold.
    pub poll_id: Option<Uuid>,
    /// Why it was rejected.
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
#[schema(as = FundAllocationStatus)]
pub enum Status {
    #[sea_orm(string_value = "requested")]
    Requested,
    #[sea_orm(string_value = "approved")]
    Approved,
    #[sea_orm(string_value = "released")]
    Released,
    #[sea_orm(string_value = "rejected")]
    Rejected,
}
