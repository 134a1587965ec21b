//! Who sees and who moves which fund accounts.
//!
//! - Reading ([`Action::FundRead`]): staff and leaders down their reach; residents, and leaders
//!   for the places above them, through the audience reach (`access::policy::reads_upward`):
//!   the accounts of their compound and community. Only a caller reading down their reach (a
//!   *staff view*) sees counterparty names and who recorded what; the audience sees public names.
//! - Writing ([`Action::FundRecord`], [`Action::FundApprove`]): down the reach only. Outside the
//!   read reach is 404, readable but not writable 403.
//! - Everything about an expense or an entry is decided on its account: an expense or an entry is
//!   visible exactly when its account is.

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::access::policy::{self, scoped, Action, Level, Role, Scoped};
use crate::access::Actor;
use crate::platform::error::AppResult;
use crate::territory::query::place_lookup::node_names;
use entity::fund_account;

scoped!(fund_account::Entity,
    Street => StreetId, Community => CommunityId, Compound => CompoundId, Audience => ScopeId);

/// Beyond this many scope terms a page is one query over their OR rather than one index walk per
/// term.
const MAX_BRANCHES: usize = 32;

/// The account `id` if the caller may read it (404 otherwise).
pub async fn readable<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<fund_account::Model> {
    policy::find_visible::<fund_account::Entity, _>(db, actor, Action::FundRead, id).await
}

/// The account `id` if the caller may do `action` on it: 404 unless they may read it, 403
/// unless `action` reaches it.
pub async fn authorized<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    action: Action,
) -> AppResult<fund_account::Model> {
    policy::authorize_object::<fund_account::Entity, _>(db, actor, Action::FundRead, action, id)
        .await
}

/// The places an account lies at (its street, community and compound).
pub fn places_of(a: &fund_account::Model) -> Vec<(Level, Uuid)> {
    let mut at = vec![
        (Level::Street, a.street_id),
        (Level::Community, a.community_id),
    ];
    at.extend(a.compound_id.map(|c| (Level::Compound, c)));
    at
}

/// Whether the caller reads `a` down their reach (staff and leaders of its place): they see
/// counterparty names and who recorded what. The audience reach alone sees public names.
pub async fn staff_view<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    a: &fund_account::Model,
) -> AppResult<bool> {
    let s = policy::scope(db, actor, Action::FundRead).await?;
    Ok(s.contains(&places_of(a)))
}

/// Whether the caller reads account `id` as staff ([`staff_view`]); 404 unless they may read
/// it at all.
pub async fn reader<C: ConnectionTrait>(db: &C, actor: &Actor, id: Uuid) -> AppResult<bool> {
    let a = readable(db, actor, id).await?;
    staff_view(db, actor, &a).await
}

/// The roles in which the caller may approve on `a`: those of their assignments that allow
/// [`Action::FundApprove`] and whose reach covers the account (a superadmin: admin).
pub async fn approver_roles<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    a: &fund_account::Model,
) -> AppResult<Vec<Role>> {
    if actor.is_superadmin {
        return Ok(vec![Role::Admin]);
    }
    let at = places_of(a);
    let mut out = Vec::new();
    for asg in actor
        .roles
        .iter()
        .filter(|r| policy::allowed(r.role, Action::FundApprove))
    {
        if out.contains(&asg.role) {
            continue;
        }
        let alone = Actor::new(actor.id, vec![asg.clone()]);
        if policy::scope(db, &alone, Action::FundApprove)
            .await?
            .contains(&at)
        {
            out.push(asg.role);
        }
    }
    out.sort();
    Ok(out)
}

/// The accounts the caller may read, as conditions whose union it is: one per term of their
/// reach (`community_id = …`; `scope_id = …` for each community and compound above them), each
/// walked along its own `(column, id)` index; `None` is everything (a superadmin).
pub async fn readable_branches<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
) -> AppResult<Option<Vec<Condition>>> {
    let s = policy::scope(db, actor, Action::FundRead).await?;
    let Some(terms) = s.leveled_terms::<fund_account::Entity>() else {
        return Ok(None);
    };
    // Accounts lie on communities and compounds only: the buildings and streets of the audience
    // reach would be branches that never find a row (two primary-key lookups find which ids are
    // communities or compounds).
    let above: Vec<(Level, Uuid)> = s
        .audience()
        .into_iter()
        .flat_map(|id| [(Level::Community, id), (Level::Compound, id)])
        .collect();
    let holders = node_names(db, &above).await?;
    let terms: Vec<_> = terms
        .into_iter()
        .filter(|(level, _, id)| *level != Level::Audience || holders.contains_key(id))
        .collect();
    Ok(Some(if terms.len() <= MAX_BRANCHES {
        terms
            .into_iter()
            .map(|(_, col, id)| Condition::all().add(col.eq(id)))
            .collect()
    } else {
        vec![s.condition::<fund_account::Entity>()]
    }))
}

/// The level of the place an account belongs to.
pub fn level_of(p: fund_account::Place) -> Level {
    match p {
        fund_account::Place::Community => Level::Community,
        fund_account::Place::Compound => Level::Compound,
    }
}
