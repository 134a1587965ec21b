use sea_orm::entity::prelude::*;

pub use super::poll::{Channel, RollStatus, VoterUnit};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "poll_roll")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub poll_id: Uuid,
    /// The resident's id (unit resident) or the household's (unit household).
    #[sea_orm(primary_key, auto_increment = false)]
    pub voter_key: Uuid,
    pub unit: VoterUnit,
    pub household_id: Uuid,
    pub resident_id: Option<Uuid>,
    pub building_id: Uuid,
    pub status: RollStatus,
    pub channel: Option<Channel>,
    /// Open polls only.
    pub cast_by_user_id: Option<Uuid>,
    /// Open polls only.
    pub voted_at: Option<DateTimeUtc>,
    /// Added while the poll was open (counted separately).
    pub late: bool,
    pub added_reason: Option<String>,
    pub added_by: Option<Uuid>,
    pub struck_reason: Option<String>,
    pub struck_by: Option<Uuid>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
