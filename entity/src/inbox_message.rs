use sea_orm::entity::prelude::*;

/// One entry of a user's in-app message centre.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbox_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub recipient_user_id: Uuid,
    /// The notification event (`ticket_status_changed`, `ticket_message`, …).
    pub event: String,
    /// What it is about: `ticket` (later notices, polls, …).
    pub subject_type: String,
    pub subject_id: Uuid,
    /// Chinese, for people.
    pub title: String,
    pub body: String,
    pub read_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
