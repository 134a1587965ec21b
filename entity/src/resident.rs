use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "residents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Uuid,
    pub building_id: Uuid,
    pub household_id: Uuid,
    pub name: String,
    pub gender: Option<String>,
    pub birth_date: Option<Date>,
    pub relation: Option<String>,
    pub moved_in_on: Option<Date>,
    pub moved_out_on: Option<Date>,
    pub user_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub phone_cipher: Option<String>,
    pub phone_key_id: Option<String>,
    pub phone_hash: Option<String>,
    pub phone_masked: Option<String>,
    pub id_number_cipher: Option<String>,
    pub id_number_key_id: Option<String>,
    pub id_number_hash: Option<String>,
    pub id_number_masked: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
