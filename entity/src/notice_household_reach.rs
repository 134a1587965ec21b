use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notice_household_reach")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub notice_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub household_id: Uuid,
    pub building_id: Uuid,
    pub how: Reach,
    pub by_user_id: Option<Uuid>,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// How a household was first reached by a notice. No doc comment: it would become the schema's
// description.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
#[schema(as = NoticeReach)]
pub enum Reach {
    /// A member of the household read it in the mini-program.
    #[sea_orm(string_value = "read")]
    Read,
    /// A building leader told them at the door.
    #[sea_orm(string_value = "visit")]
    Visit,
    /// By telephone.
    #[sea_orm(string_value = "phone")]
    Phone,
    /// Posted on the building's notice board.
    #[sea_orm(string_value = "board")]
    Board,
}
