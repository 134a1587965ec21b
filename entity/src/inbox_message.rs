use sea_orm::entity::prelude::*;

/// One entry of a user's in-app message centre.
///
/// `event` and `subject_type` stay text on purpose, unlike the other enum columns: a user's
/// message list must keep working on an older replica while a newer one (mid-upgrade) writes
/// messages of an event or subject it does not know yet; the list shows those with `event` null
/// (`activity::query::messages`) rather than failing the whole screen.
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
