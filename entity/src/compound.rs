use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "compounds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub property_company_id: Option<Uuid>,
    pub name: String,
    pub address: Option<String>,
    pub kind: CompoundKind,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What a compound is: homes (小区), a street-front shopping area (沿街商铺/商圈, led by 街面长),
/// or both.
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
pub enum CompoundKind {
    /// 住宅小区.
    #[sea_orm(string_value = "residential")]
    Residential,
    /// 沿街商铺/商圈: its "households" are shops; street leaders (街面长) lead it.
    #[sea_orm(string_value = "street_front")]
    StreetFront,
    /// Homes and street-front shops together.
    #[sea_orm(string_value = "mixed")]
    Mixed,
}
