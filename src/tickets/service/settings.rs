//! Per-community ticket settings: the categories residents choose from and the deadline policy
//! (the green/orange/red numbers, how often escalation climbs, when resolved tickets close).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use crate::platform::error::{AppError, AppResult};
use crate::platform::error::{FieldCode, ProblemCode};
use crate::platform::lang::Text;
use crate::territory::query::place_lookup::CommunityRef;
use crate::territory::service::tree::conflict_on_duplicate;
use entity::{ticket_category, ticket_policy};

/// The categories every community starts with.
pub const DEFAULT_CATEGORIES: [&str; 8] = [
    "环境卫生",
    "停车",
    "物业服务",
    "邻里纠纷",
    "设施维修",
    "安全隐患",
    "建议",
    "其他",
];

pub const MAX_CATEGORIES: u64 = 50;

/// Creates the default categories of `community` unless it has some. Safe to race: the unique
/// (community, name) index turns a concurrent second insert into nothing.
pub async fn ensure_default_categories<C: ConnectionTrait>(
    db: &C,
    c: &CommunityRef,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let have = ticket_category::Entity::find()
        .filter(ticket_category::Column::CommunityId.eq(c.id))
        .count(db)
        .await?;
    if have > 0 {
        return Ok(());
    }
    let rows =
        DEFAULT_CATEGORIES
            .iter()
            .enumerate()
            .map(|(i, name)| ticket_category::ActiveModel {
                id: Set(Uuid::now_v7()),
                street_id: Set(c.street_id),
                community_id: Set(c.id),
                name: Set((*name).to_string()),
                sort_order: Set(i as i32 * 10),
                created_at: Set(now),
                updated_at: Set(now),
            });
    ticket_category::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                ticket_category::Column::CommunityId,
                ticket_category::Column::Name,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn list_categories<C: ConnectionTrait>(
    db: &C,
    c: &CommunityRef,
    now: DateTime<Utc>,
) -> AppResult<Vec<ticket_category::Model>> {
    ensure_default_categories(db, c, now).await?;
    Ok(ticket_category::Entity::find()
        .filter(ticket_category::Column::CommunityId.eq(c.id))
        .order_by_asc(ticket_category::Column::SortOrder)
        .order_by_asc(ticket_category::Column::Id)
        .all(db)
        .await?)
}

pub async fn add_category<C: ConnectionTrait>(
    db: &C,
    c: &CommunityRef,
    name: String,
    sort_order: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<ticket_category::Model> {
    let existing = list_categories(db, c, now).await?;
    if existing.len() as u64 >= MAX_CATEGORIES {
        return Err(AppError::conflict(
            ProblemCode::TooManyCategories,
            crate::text!(
                "一个社区最多 {MAX_CATEGORIES} 个诉求类别",
                "a community has at most {MAX_CATEGORIES} categories"
            ),
        ));
    }
    let next = existing.iter().map(|c| c.sort_order).max().unwrap_or(0) + 10;
    ticket_category::ActiveModel {
        id: Set(Uuid::now_v7()),
        street_id: Set(c.street_id),
        community_id: Set(c.id),
        name: Set(name),
        sort_order: Set(sort_order.unwrap_or(next)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(conflict_on_duplicate(&crate::platform::lang::Text::new(
        "本社区已有同名诉求类别",
        "a category with this name already exists",
    )))
}

/// The deadline policy of a community, in days and hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub green_days: i32,
    pub orange_days: i32,
    pub red_follow_up_days: i32,
    pub escalation_interval_hours: i32,
    pub auto_close_days: i32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            green_days: 7,
            orange_days: 30,
            red_follow_up_days: 7,
            escalation_interval_hours: 24,
            auto_close_days: 7,
        }
    }
}

/// Bounds of each number, inclusive.
pub const DAYS_RANGE: (i32, i32) = (1, 365);
pub const HOURS_RANGE: (i32, i32) = (1, 24 * 30);

impl Policy {
    pub fn validate(&self) -> AppResult<()> {
        let mut errors = Vec::new();
        for (field, v, (lo, hi)) in [
            ("green_days", self.green_days, DAYS_RANGE),
            ("orange_days", self.orange_days, DAYS_RANGE),
            ("red_follow_up_days", self.red_follow_up_days, DAYS_RANGE),
            (
                "escalation_interval_hours",
                self.escalation_interval_hours,
                HOURS_RANGE,
            ),
            ("auto_close_days", self.auto_close_days, DAYS_RANGE),
        ] {
            if v < lo || v > hi {
                errors.push(crate::platform::error::FieldError::of(
                    field,
                    crate::platform::error::FieldCode::OutOfRange,
                    crate::text!("应在 {lo} 到 {hi} 之间", "must be between {lo} and {hi}"),
                ));
            }
        }
        if errors.is_empty() && self.green_days > self.orange_days {
            errors.push(crate::platform::error::FieldError::of(
                "green_days",
                crate::platform::error::FieldCode::OutOfRange,
                crate::platform::lang::Text::new(
                    "绿色（紧急）诉求的时限不能长于橙色",
                    "green (urgent) tickets cannot have a longer deadline than orange ones",
                ),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(errors))
        }
    }
}

/// The policy and when it last changed (None: the defaults, never changed).
pub async fn policy_of<C: ConnectionTrait>(
    db: &C,
    community_id: Uuid,
) -> AppResult<(Policy, Option<(DateTime<Utc>, Option<Uuid>)>)> {
    Ok(
        match ticket_policy::Entity::find_by_id(community_id)
            .one(db)
            .await?
        {
            Some(p) => (
                Policy {
                    green_days: p.green_days,
                    orange_days: p.orange_days,
                    red_follow_up_days: p.red_follow_up_days,
                    escalation_interval_hours: p.escalation_interval_hours,
                    auto_close_days: p.auto_close_days,
                },
                Some((p.updated_at, p.updated_by)),
            ),
            None => (Policy::default(), None),
        },
    )
}

/// Replaces the policy. Applies to deadlines set from now on; running deadlines stay.
pub async fn set_policy<C: ConnectionTrait>(
    db: &C,
    c: &CommunityRef,
    p: Policy,
    by: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    p.validate()?;
    let am = ticket_policy::ActiveModel {
        community_id: Set(c.id),
        street_id: Set(c.street_id),
        green_days: Set(p.green_days),
        orange_days: Set(p.orange_days),
        red_follow_up_days: Set(p.red_follow_up_days),
        escalation_interval_hours: Set(p.escalation_interval_hours),
        auto_close_days: Set(p.auto_close_days),
        updated_by: Set(Some(by)),
        updated_at: Set(now),
    };
    ticket_policy::Entity::insert(am)
        .on_conflict(
            OnConflict::column(ticket_policy::Column::CommunityId)
                .update_columns([
                    ticket_policy::Column::GreenDays,
                    ticket_policy::Column::OrangeDays,
                    ticket_policy::Column::RedFollowUpDays,
                    ticket_policy::Column::EscalationIntervalHours,
                    ticket_policy::Column::AutoCloseDays,
                    ticket_policy::Column::UpdatedBy,
                    ticket_policy::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The category `id` if it is one of the community `community_id`'s; otherwise 400 on
/// `category_id`.
pub(crate) async fn category_of<C: ConnectionTrait>(
    db: &C,
    community_id: Uuid,
    id: Uuid,
) -> AppResult<ticket_category::Model> {
    ticket_category::Entity::find_by_id(id)
        .filter(ticket_category::Column::CommunityId.eq(community_id))
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "category_id",
                FieldCode::NotFound,
                Text::new(
                    "不是本社区的诉求类别",
                    "not a ticket category of this community",
                ),
            )
        })
}
