use sea_orm::entity::prelude::*;

pub use super::poll::QuestionKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "poll_questions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub poll_id: Uuid,
    pub position: i32,
    pub title: String,
    pub kind: QuestionKind,
    pub min_choices: i32,
    pub max_choices: i32,
    pub seats: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
