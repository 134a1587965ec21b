use sea_orm::entity::prelude::*;

/// An officer of an election (选举委员会: chair, teller, scrutineer). Never a candidate.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "election_officers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub election_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub role: OfficerRole,
    pub display_name: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

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
#[schema(as = ElectionOfficerRole)]
pub enum OfficerRole {
    /// 主持人.
    #[sea_orm(string_value = "chair")]
    Chair,
    /// 计票人 (and issues paper ballots).
    #[sea_orm(string_value = "teller")]
    Teller,
    /// 监票人.
    #[sea_orm(string_value = "scrutineer")]
    Scrutineer,
}
