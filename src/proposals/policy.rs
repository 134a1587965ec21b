//! Who sees and who moves which proposals (participation design §A8).
//!
//! - Reading ([`Action::ProposalRead`]): staff and leaders down their reach, property staff the
//!   compounds they serve; residents, and every role that reads upward, the proposals addressed
//!   to the places at and above them (`scope_id`): a building's proposal reaches that building
//!   only, never the neighbour's. Lists and single reads use the same condition.
//! - Moving ([`Action::ProposalAdvance`]): down the reach; building and street leaders only for
//!   `small` proposals (checked here, on the object).
//! - Reporting ([`Action::ProposalLead`]): community staff down their reach, and the proposal's
//!   lead whoever they are (an object-level grant).

use sea_orm::{Condition, ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::access::policy::{self, scoped, Action, Level, Role, Scoped};
use crate::access::Actor;
use crate::platform::error::{AppError, AppResult};
use crate::proposals::model::Tier;
use entity::proposal;

scoped!(proposal::Entity,
    Street => StreetId, Community => CommunityId, Compound => CompoundId,
    Building => BuildingId, Audience => ScopeId);

/// The proposals `actor` may read, as one condition.
pub async fn readable<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<Condition> {
    Ok(policy::scope(db, actor, Action::ProposalRead)
        .await?
        .condition::<proposal::Entity>())
}

/// Beyond this many scope terms a page is one query over their OR rather than one index walk per
/// term.
const MAX_BRANCHES: usize = 32;

/// The proposals `actor` may read, as conditions whose union it is (one per term of their reach,
/// each walked along its own `(column, id)` index); `None` is everything.
pub async fn readable_branches<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
) -> AppResult<Option<Vec<Condition>>> {
    use sea_orm::ColumnTrait;
    let s = policy::scope(db, actor, Action::ProposalRead).await?;
    let Some(terms) = s.terms::<proposal::Entity>() else {
        return Ok(None);
    };
    Ok(Some(if terms.len() <= MAX_BRANCHES {
        terms
            .into_iter()
            .map(|(col, id)| Condition::all().add(col.eq(id)))
            .collect()
    } else {
        vec![s.condition::<proposal::Entity>()]
    }))
}

/// The proposal `id` if `actor` may read it (404 otherwise).
pub async fn readable_proposal<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<proposal::Model> {
    policy::find_visible::<proposal::Entity, _>(db, actor, Action::ProposalRead, id).await
}

/// The places a proposal lies at.
pub fn places_of(p: &proposal::Model) -> Vec<(Level, Uuid)> {
    let mut at = vec![
        (Level::Street, p.street_id),
        (Level::Community, p.community_id),
    ];
    at.extend(p.compound_id.map(|c| (Level::Compound, c)));
    at.extend(p.building_id.map(|b| (Level::Building, b)));
    at
}

/// Whether `action` reaches `p` for `actor` down their reach, through an assignment that may do
/// it; leaders (building, street) only for `small` proposals when `action` is
/// [`Action::ProposalAdvance`].
pub async fn may<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    action: Action,
    p: &proposal::Model,
) -> AppResult<bool> {
    if actor.is_superadmin {
        return Ok(true);
    }
    let leaders_small = action == Action::ProposalAdvance && p.tier != Some(Tier::Small);
    let mut narrowed = actor.clone();
    if leaders_small {
        narrowed
            .roles
            .retain(|a| !matches!(a.role, Role::BuildingLeader | Role::StreetLeader));
    }
    let s = policy::scope(db, &narrowed, action).await?;
    Ok(s.contains(&places_of(p)))
}

/// 403 unless [`may`].
pub async fn require<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    action: Action,
    p: &proposal::Model,
) -> AppResult<()> {
    if may(db, actor, action, p).await? {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Whether the caller reports on `p`: its lead, or [`Action::ProposalLead`] down the reach.
pub async fn may_lead<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    p: &proposal::Model,
) -> AppResult<bool> {
    if p.lead_user_id == Some(actor.id) {
        return Ok(true);
    }
    may(db, actor, Action::ProposalLead, p).await
}

/// The column at a level (`Scoped` needs the trait in scope elsewhere).
pub fn column_of(level: Level) -> Option<proposal::Column> {
    <proposal::Entity as Scoped>::column(level)
}
