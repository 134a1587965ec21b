use sea_orm::entity::prelude::*;

/// A resident's move to another household, usually of another community: `pending`, then
/// `accepted`, `refused` or `cancelled`. The `from_*` ids are where the resident lived when it
/// was filed; name and masks are as the filing staff saw them then.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resident_transfers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub resident_id: Uuid,
    /// The resident's id while pending, else NULL (one pending transfer per resident).
    pub pending_resident_id: Option<Uuid>,
    pub status: TransferStatus,
    pub from_street_id: Uuid,
    pub from_community_id: Uuid,
    pub from_compound_id: Uuid,
    pub from_building_id: Uuid,
    pub from_household_id: Uuid,
    pub to_street_id: Uuid,
    pub to_community_id: Uuid,
    pub to_compound_id: Uuid,
    pub to_building_id: Uuid,
    pub to_household_id: Uuid,
    pub resident_name: String,
    pub phone_masked: Option<String>,
    pub id_number_masked: Option<String>,
    pub note: Option<String>,
    pub reason: Option<String>,
    pub filed_by: Uuid,
    pub filed_by_name: String,
    pub decided_by: Option<Uuid>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// Where a transfer stands. Stored as its snake_case name; a stored value not listed here fails
// the read loudly instead of being taken for another. (No doc comment: the API's schema of the
// same name has no description.)
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
pub enum TransferStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "accepted")]
    Accepted,
    #[sea_orm(string_value = "refused")]
    Refused,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}
