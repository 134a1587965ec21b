use sea_orm::entity::prelude::*;

/// One entry of a proposal's timeline: a verb, a move, what a job or another domain did.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "proposal_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub proposal_id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub actor_user_id: Option<Uuid>,
    pub actor_name: Option<String>,
    /// A short snake_case word (`accepted`, `pledge_fulfilled`, …).
    pub kind: String,
    pub from_step: Option<String>,
    pub to_step: Option<String>,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
