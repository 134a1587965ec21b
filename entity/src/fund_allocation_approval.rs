use sea_orm::entity::prelude::*;

pub use crate::fund_expense_approval::Decision;
pub use crate::role_assignment::Role;

/// One person's decision on an allocation request (at most one each).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_allocation_approvals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub allocation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub user_name: String,
    /// The role they decided in.
    pub role: Role,
    pub decision: Decision,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
