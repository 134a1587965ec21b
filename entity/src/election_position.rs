use sea_orm::entity::prelude::*;

/// A position of an election (主任, 副主任, 委员, 楼组长 …) and its seats.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "election_positions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub election_id: Uuid,
    pub sort: i32,
    pub position: String,
    pub title: String,
    pub seats: i32,
    pub min_candidates: i32,
    pub seats_filled: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
