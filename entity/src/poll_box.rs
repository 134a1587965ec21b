use sea_orm::entity::prelude::*;

pub use super::poll::BoxStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "poll_boxes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub poll_id: Uuid,
    pub label: String,
    /// Where the box stands, or the route it walks (流动票箱).
    pub location: Option<String>,
    /// When it is there ("12月6日 9:00–11:00"), as its tellers wrote it.
    pub schedule: Option<String>,
    pub issued_count: i32,
    /// Voters a teller marked as handed a paper ballot at this box.
    pub marked_count: i32,
    pub returned_count: Option<i32>,
    /// JSON `[{option_id, votes}]` as the first teller entered them.
    pub counts: Option<String>,
    pub status: BoxStatus,
    pub entered_by: Option<Uuid>,
    pub confirmed_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
