use sea_orm::entity::prelude::*;

pub use super::poll::{Outcome, TallyKind};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "poll_tallies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub poll_id: Uuid,
    pub kind: TallyKind,
    /// JSON `{question_id: {option_id: n, "blank": n}}`.
    pub counts: String,
    pub participants: i32,
    pub eligible: i32,
    pub abstentions: i32,
    pub quorum_met: bool,
    pub outcome: Outcome,
    pub by_user_id: Option<Uuid>,
    pub second_user_id: Option<Uuid>,
    pub reason: Option<String>,
    pub supersedes_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
