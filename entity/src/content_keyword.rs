use sea_orm::entity::prelude::*;

/// A word of a street's local content-check list. `word` is stored normalised (lowercase,
/// trimmed, inner whitespace collapsed to one space).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "content_keywords")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub street_id: Uuid,
    pub word: String,
    pub verdict: KeywordVerdict,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// What a text containing the word gets: `review` keeps it for a moderator, `risky` refuses it.
// Stored as its snake_case name. (No doc comment: the API's schema of the same name has none.)
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
pub enum KeywordVerdict {
    #[sea_orm(string_value = "review")]
    Review,
    #[sea_orm(string_value = "risky")]
    Risky,
}
