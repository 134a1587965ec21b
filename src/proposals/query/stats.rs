//! Figures over the proposals a caller may read (the list's reach, `GET /proposals/stats`): by
//! step, tier, category and compound (named), the 回头看 reviews, satisfaction, and the visible
//! comments (hidden, deleted and held ones never count, §A2 rule 4). A handful of grouped
//! statements, whatever the number of proposals; counts only, no person.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::policy::Level;
use crate::access::Actor;
use crate::deliberation::model::SubjectKind;
use crate::deliberation::query::counts::visible_totals_in;
use crate::platform::error::AppResult;
use crate::proposals::model::{step_label, tier_label, Step, Tier};
use crate::proposals::policy;
use crate::territory::query::place_lookup::node_names;
use entity::proposal;

/// Proposals in one step.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProposalStepCount {
    pub step: Step,
    /// 提议, 协商, … 已转交.
    pub label: String,
    pub count: i64,
}

/// Proposals of one tier.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProposalTierCount {
    /// Null: not tiered yet.
    pub tier: Option<Tier>,
    /// 小事, 普通事, 大事 or 未分级.
    pub label: String,
    pub count: i64,
}

/// Proposals of one category.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProposalCategoryCount {
    pub category: String,
    pub count: i64,
}

/// Proposals of one compound (community-wide ones have none and are not listed).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProposalCompoundCount {
    pub compound_id: Uuid,
    pub name: String,
    pub count: i64,
}

/// Figures over the proposals the caller may read.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProposalStatsResponse {
    pub total: i64,
    /// Every step, zeros included, in the order of the six steps then the ends.
    pub by_step: Vec<ProposalStepCount>,
    /// Small, ordinary, major, then untiered (`tier` null), zeros included.
    pub by_tier: Vec<ProposalTierCount>,
    /// Categories with at least one proposal, most first.
    pub by_category: Vec<ProposalCategoryCount>,
    /// Compounds with at least one proposal, most first.
    pub by_compound: Vec<ProposalCompoundCount>,
    /// Closed proposals whose 回头看 review date has not come yet.
    pub reviews_upcoming: i64,
    /// Closed proposals whose review date has come (the reminder goes out then).
    pub reviews_due: i64,
    /// Of those, the ones whose reminder has been sent.
    pub reviews_reminded: i64,
    /// Closed proposals with an evaluation result.
    pub evaluated: i64,
    /// Mean satisfaction (满意 + 基本满意, percent) of the evaluated closed proposals; null when
    /// none is.
    pub average_satisfaction_pct: Option<f64>,
    /// Mean 1–5 rating of the evaluated closed proposals that have one; null when none has.
    pub average_rating: Option<f64>,
    /// Visible comments on these proposals (published only).
    pub comments_visible: i64,
}

/// The proposals the caller may read, within `community_id` when given.
pub(crate) async fn reach<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    community_id: Option<Uuid>,
) -> AppResult<Condition> {
    let mut c = Condition::all().add(policy::readable(db, actor).await?);
    if let Some(id) = community_id {
        c = c.add(proposal::Column::CommunityId.eq(id));
    }
    Ok(c)
}

fn mean(sum: Option<i64>, n: i64, scale: f64) -> Option<f64> {
    match (sum, n) {
        (Some(s), n) if n > 0 => Some((s as f64 / n as f64 / scale * 100.0).round() / 100.0),
        _ => None,
    }
}

/// The figures; `now` decides which reviews are due.
pub async fn stats<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    community_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<ProposalStatsResponse> {
    use proposal::Column as P;
    let within = reach(db, actor, community_id).await?;
    let count = || Expr::col(P::Id).count();
    let grouped = |col: P| {
        proposal::Entity::find()
            .select_only()
            .column(col)
            .column_as(count(), "n")
            .filter(within.clone())
            .group_by(col)
    };
    let steps: Vec<(Step, i64)> = grouped(P::Step).into_tuple().all(db).await?;
    let tiers: Vec<(Option<Tier>, i64)> = grouped(P::Tier).into_tuple().all(db).await?;
    let mut categories: Vec<(String, i64)> = grouped(P::Category).into_tuple().all(db).await?;
    let compounds: Vec<(Option<Uuid>, i64)> = grouped(P::CompoundId).into_tuple().all(db).await?;
    let closed = || {
        proposal::Entity::find()
            .filter(within.clone())
            .filter(P::Step.eq(Step::Closed))
    };
    let n = |q: sea_orm::Select<proposal::Entity>| {
        q.select_only()
            .column_as(count(), "n")
            .into_tuple::<i64>()
            .one(db)
    };
    let reviews_upcoming = n(closed().filter(P::ReviewDueAt.gt(now)))
        .await?
        .unwrap_or(0);
    let reviews_due = n(closed().filter(P::ReviewDueAt.lte(now)))
        .await?
        .unwrap_or(0);
    let reviews_reminded = n(closed()
        .filter(P::ReviewDueAt.lte(now))
        .filter(P::ReviewNotifiedAt.is_not_null()))
    .await?
    .unwrap_or(0);
    // Sums, not AVG: PostgreSQL's AVG of an integer is a numeric no driver reads as f64.
    let (sat_sum, sat_n, rating_sum, rating_n): (Option<i64>, i64, Option<i64>, i64) = closed()
        .select_only()
        .column_as(Expr::col(P::SatisfactionPct).sum().cast_as(big()), "s")
        .column_as(Expr::col(P::SatisfactionPct).count(), "sn")
        .column_as(Expr::col(P::RatingAvgX100).sum().cast_as(big()), "r")
        .column_as(Expr::col(P::RatingAvgX100).count(), "rn")
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((None, 0, None, 0));
    let ids: Vec<Uuid> = proposal::Entity::find()
        .select_only()
        .column(P::Id)
        .filter(within.clone())
        .into_tuple()
        .all(db)
        .await?;
    let comments_visible = visible_totals_in(db, SubjectKind::Proposal, &ids)
        .await?
        .values()
        .sum();
    let places: Vec<(Level, Uuid)> = compounds
        .iter()
        .filter_map(|(c, _)| c.map(|c| (Level::Compound, c)))
        .collect();
    let names = node_names(db, &places).await?;
    let mut by_compound: Vec<ProposalCompoundCount> = compounds
        .into_iter()
        .filter_map(|(c, count)| {
            c.map(|compound_id| ProposalCompoundCount {
                compound_id,
                name: names.get(&compound_id).cloned().unwrap_or_default(),
                count,
            })
        })
        .collect();
    by_compound.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
    categories.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    use sea_orm::Iterable;
    let of_step = |s: Step| steps.iter().find(|(x, _)| *x == s).map_or(0, |(_, n)| *n);
    let of_tier = |t: Option<Tier>| tiers.iter().find(|(x, _)| *x == t).map_or(0, |(_, n)| *n);
    Ok(ProposalStatsResponse {
        total: steps.iter().map(|(_, n)| n).sum(),
        by_step: Step::iter()
            .map(|step| ProposalStepCount {
                step,
                label: step_label(step).to_string(),
                count: of_step(step),
            })
            .collect(),
        by_tier: Tier::iter()
            .map(Some)
            .chain([None])
            .map(|tier| ProposalTierCount {
                tier,
                label: tier_label(tier).to_string(),
                count: of_tier(tier),
            })
            .collect(),
        by_category: categories
            .into_iter()
            .map(|(category, count)| ProposalCategoryCount { category, count })
            .collect(),
        by_compound,
        reviews_upcoming,
        reviews_due,
        reviews_reminded,
        evaluated: sat_n,
        average_satisfaction_pct: mean(sat_sum, sat_n, 1.0),
        average_rating: mean(rating_sum, rating_n, 100.0),
        comments_visible,
    })
}

/// The SQL type of a 64-bit sum on both databases.
fn big() -> sea_orm::sea_query::Alias {
    sea_orm::sea_query::Alias::new("BIGINT")
}
