use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub street_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub actor_id: Uuid,
    /// Who acted, as they were named when they acted (kept when the account is erased).
    pub actor_name: Option<String>,
    pub actor_username: Option<String>,
    pub action: String,
    pub resident_id: Option<Uuid>,
    pub field: Option<String>,
    pub purpose: String,
    pub detail: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
