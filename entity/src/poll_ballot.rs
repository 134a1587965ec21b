use sea_orm::entity::prelude::*;

pub use super::poll::BallotSource;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "poll_ballots")]
pub struct Model {
    /// Random (v4): a v7 id would carry the moment of casting.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub poll_id: Uuid,
    /// Open polls only; always null for secret polls.
    pub voter_key: Option<Uuid>,
    pub source: BallotSource,
    pub box_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
