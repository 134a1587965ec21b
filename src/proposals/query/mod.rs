//! Proposals as screens read them: the list (议事厅), the detail with its step tracker, poll
//! cards, funding figures, lead and latest updates, and the revisions. Names, never ids alone;
//! people as "3栋 王*".

mod detail;
pub mod stats;
pub mod timeline;

pub use detail::{
    detail, update_response, DecisionCard, ProposalResponse, TrackerStep, UpdateResponse,
};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::policy::Level;
use crate::access::Actor;
use crate::platform::error::{AppError, AppResult};
use crate::platform::paging::{cut_page, Page, PageParams};
use crate::proposals::model::{step_label, Channel, ScopeType, Step, Tier};
use crate::proposals::policy;
use crate::territory::query::place_lookup::node_names;
use entity::{proposal, proposal_update};

/// A proposal in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProposalSummary {
    pub id: Uuid,
    pub title: String,
    pub category: String,
    pub tier: Option<Tier>,
    pub step: Step,
    /// `提议`, `协商`, `表决`, `筹集`, `实施`, `评议`, `已办结` …
    pub step_label: String,
    pub on_hold: bool,
    pub scope_type: ScopeType,
    pub scope_id: Uuid,
    /// The name of the place it is addressed to.
    pub scope_name: String,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub community_name: String,
    pub compound_id: Option<Uuid>,
    pub compound_name: Option<String>,
    pub building_id: Option<Uuid>,
    pub building_name: Option<String>,
    pub channel: Channel,
    /// "3栋 王*".
    pub author_display: String,
    pub lead_display: Option<String>,
    pub supporters_count: i32,
    pub budget_fen: i64,
    #[schema(value_type = i32)]
    pub progress_pct: i16,
    pub golden: bool,
    pub version: i32,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub activity_at: DateTime<Utc>,
}

/// The places of `rows`, named in one lookup.
pub(crate) async fn names_of<C: ConnectionTrait>(
    db: &C,
    rows: &[&proposal::Model],
) -> AppResult<std::collections::HashMap<Uuid, String>> {
    let mut places: Vec<(Level, Uuid)> = Vec::new();
    for p in rows {
        places.extend(policy::places_of(p));
    }
    places.sort();
    places.dedup();
    node_names(db, &places).await
}

/// A summary of `p` with the names `names` holds.
pub(crate) fn summary(
    p: &proposal::Model,
    names: &std::collections::HashMap<Uuid, String>,
) -> ProposalSummary {
    let name = |id: Uuid| names.get(&id).cloned().unwrap_or_default();
    ProposalSummary {
        id: p.id,
        title: p.title.clone(),
        category: p.category.clone(),
        tier: p.tier,
        step: p.step,
        step_label: step_label(p.step).to_string(),
        on_hold: p.on_hold,
        scope_type: p.scope_type,
        scope_id: p.scope_id,
        scope_name: name(p.scope_id),
        street_id: p.street_id,
        community_id: p.community_id,
        community_name: name(p.community_id),
        compound_id: p.compound_id,
        compound_name: p.compound_id.map(name),
        building_id: p.building_id,
        building_name: p.building_id.map(name),
        channel: p.channel,
        author_display: p.author_display.clone(),
        lead_display: p.lead_display.clone(),
        supporters_count: p.supporters_count,
        budget_fen: p.budget_fen,
        progress_pct: p.progress_pct,
        golden: p.golden,
        version: p.version,
        created_at: p.created_at,
        activity_at: p.activity_at,
    }
}

/// Filters of the list.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub step: Option<Step>,
    pub tier: Option<Tier>,
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub category: Option<String>,
    /// Only the caller's own proposals.
    pub mine: bool,
    /// Only those the caller leads.
    pub lead_me: bool,
    pub golden: Option<bool>,
}

/// The proposals the caller may read, newest first: one walk of `(column, id)` backwards per
/// term of their reach, at most a page each, merged.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    f: Filters,
    p: PageParams,
) -> AppResult<Page<ProposalSummary>> {
    use proposal::Column as P;
    let mut filter = Condition::all();
    if let Some(v) = f.step {
        filter = filter.add(P::Step.eq(v));
    }
    if let Some(v) = f.tier {
        filter = filter.add(P::Tier.eq(v));
    }
    if let Some(v) = f.community_id {
        filter = filter.add(P::CommunityId.eq(v));
    }
    if let Some(v) = f.compound_id {
        filter = filter.add(P::CompoundId.eq(v));
    }
    if let Some(v) = f.building_id {
        filter = filter.add(P::BuildingId.eq(v));
    }
    if let Some(v) = f.category {
        filter = filter.add(P::Category.eq(v));
    }
    if f.mine {
        filter = filter.add(P::AuthorUserId.eq(actor.id));
    }
    if f.lead_me {
        filter = filter.add(P::LeadUserId.eq(actor.id));
    }
    if let Some(v) = f.golden {
        filter = filter.add(P::Golden.eq(v));
    }
    if let Some(after) = p.after {
        filter = filter.add(P::Id.lt(after));
    }
    let branches = policy::readable_branches(db, actor)
        .await?
        .unwrap_or_else(|| vec![Condition::all()]);
    let mut rows: Vec<proposal::Model> = Vec::new();
    for b in branches {
        rows.extend(
            proposal::Entity::find()
                .filter(filter.clone())
                .filter(b)
                .order_by_desc(P::Id)
                .limit(p.limit + 1)
                .all(db)
                .await?,
        );
    }
    rows.sort_by_key(|a| std::cmp::Reverse(a.id));
    rows.dedup_by_key(|a| a.id);
    let (rows, next_cursor) = cut_page(rows, p.limit, |a| a.id);
    let names = names_of(db, &rows.iter().collect::<Vec<_>>()).await?;
    Ok(Page {
        items: rows.iter().map(|r| summary(r, &names)).collect(),
        next_cursor,
    })
}

/// Whether the caller may see update `id` (they may read its proposal): 404 otherwise.
pub async fn update_visible<C: ConnectionTrait>(db: &C, actor: &Actor, id: Uuid) -> AppResult<()> {
    let proposal_id: Option<Uuid> = proposal_update::Entity::find_by_id(id)
        .select_only()
        .column(proposal_update::Column::ProposalId)
        .into_tuple()
        .one(db)
        .await?;
    policy::readable_proposal(db, actor, proposal_id.ok_or(AppError::NotFound)?).await?;
    Ok(())
}
