use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub username: Option<String>,
    pub password_hash: Option<String>,
    pub display_name: String,
    pub is_active: bool,
    pub is_superadmin: bool,
    pub wechat_openid: Option<String>,
    pub wechat_unionid: Option<String>,
    pub phone_cipher: Option<String>,
    pub phone_key_id: Option<String>,
    pub phone_hash: Option<String>,
    pub phone_masked: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
