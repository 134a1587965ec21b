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
    pub gender: Option<Gender>,
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
    /// The resident's tags joined by U+001F (null when none), kept with the row so a page reads
    /// them without an aggregate; `resident_tags` is the truth, and every writer of it refreshes
    /// this (`residents::service::roster::refresh_tags_joined`).
    pub tags_joined: Option<String>,
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
pub enum Gender {
    #[sea_orm(string_value = "male")]
    Male,
    #[sea_orm(string_value = "female")]
    Female,
}

impl Gender {
    /// What a person types or a file says: the codes, or 男 and 女.
    pub fn parse(s: &str) -> Option<Gender> {
        match s {
            "male" | "男" => Some(Gender::Male),
            "female" | "女" => Some(Gender::Female),
            _ => None,
        }
    }
}
