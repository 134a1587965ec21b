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
    /// `requester` or `staff`.
    pub side: String,
    pub body: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
