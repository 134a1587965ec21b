use sea_orm::entity::prelude::*;

/// One message of the conversation on a ticket.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub ticket_id: Uuid,
    /// Null once the author's account is erased.
    pub author_user_id: Option<Uuid>,
    /// The author's name when written (null for an erased resident).
    pub author_name: Option<String>,
    pub side: Side,
    pub body: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Which side of the conversation a message comes from.
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
pub enum Side {
    /// The resident who filed the ticket (or for whom it was filed).
    #[sea_orm(string_value = "requester")]
    Requester,
    /// Staff who can read the ticket: the handler, the property company, community staff.
    #[sea_orm(string_value = "staff")]
    Staff,
}
