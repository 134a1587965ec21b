use sea_orm::entity::prelude::*;

/// What a proposal needs (§A6): money in fen, labour in minutes, or an item and its quantity.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "proposal_targets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub proposal_id: Uuid,
    pub position: i32,
    pub kind: TargetKind,
    pub item: Option<String>,
    pub quantity: Option<i32>,
    pub unit: Option<String>,
    pub amount_fen: Option<i64>,
    pub minutes: Option<i32>,
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
#[schema(as = ProposalTargetKind)]
pub enum TargetKind {
    #[sea_orm(string_value = "money")]
    Money,
    #[sea_orm(string_value = "labour")]
    Labour,
    #[sea_orm(string_value = "material")]
    Material,
}
