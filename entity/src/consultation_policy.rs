use sea_orm::entity::prelude::*;

/// A community's consultation rules (participation design §A1.3); a community without a row
/// uses the defaults.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consultation_policies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub community_id: Uuid,
    pub min_supporters: i32,
    pub support_window_days: i32,
    pub min_deliberation_days: i32,
    pub decision_preset: String,
    pub poll_days: i32,
    pub evaluation_days: i32,
    pub review_after_days: i32,
    pub max_proposals_per_day: i32,
    pub comments_per_hour: i32,
    pub reports_to_hide: i32,
    pub spending_poll_above_fen: i64,
    pub version: i32,
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
