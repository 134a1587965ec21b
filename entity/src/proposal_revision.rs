use sea_orm::entity::prelude::*;

/// One text of a proposal; the decision poll carries the sha256 of the frozen one.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "proposal_revisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub proposal_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub n: i32,
    pub title: String,
    pub body: String,
    pub budget_fen: i64,
    /// JSON array of the targets at this revision.
    pub targets: Option<String>,
    pub sha256: String,
    pub created_by: Uuid,
    pub created_by_name: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
