//! Who sees and who manages which polls.
//!
//! - Reading ([`Action::PollRead`]): staff and leaders see every poll down their reach, drafts
//!   included; through the audience reach (`access::policy::reads_upward`) residents and
//!   leaders see the polls addressed to the places above them once scheduled (never a draft or
//!   a cancelled draft).
//! - Managing ([`Action::PollManage`]): the place a poll is addressed to must lie in the
//!   manager's downward reach (building leaders: their building; street leaders: their
//!   compound).
//! - Voting is decided by the roll, not by a role; paper boxes by the poll's officers when it
//!   has any ([`Action::PollTally`] otherwise).

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::access::policy::{self, scoped, Action, Level, Scoped};
use crate::access::Actor;
use crate::platform::error::{AppError, AppResult};
use crate::polls::model::{PollScope, Status};
use crate::territory::query::place_lookup as places;
use entity::poll;

scoped!(poll::Entity,
    Street => StreetId, Community => CommunityId, Compound => CompoundId, Building => BuildingId);

/// Beyond this many scope terms a page is one query over their OR rather than one index walk per
/// term.
const MAX_BRANCHES: usize = 32;

/// The statuses the audience reach sees.
pub const PUBLIC_STATUSES: [Status; 3] = [Status::Scheduled, Status::Open, Status::Closed];

/// The polls `actor` may read, as conditions whose union it is: one per term of their downward
/// reach (any status), one per place of their audience reach (scheduled, open or closed). A
/// page walks each along its own `(column, id)` index and merges; `None` is everything.
pub async fn readable_branches<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
) -> AppResult<Option<Vec<Condition>>> {
    let s = policy::scope(db, actor, Action::PollRead).await?;
    if s.is_everything() {
        return Ok(None);
    }
    let mut out: Vec<Condition> = match s.terms::<poll::Entity>() {
        Some(terms) if terms.len() <= MAX_BRANCHES => terms
            .into_iter()
            .map(|(col, id)| Condition::all().add(col.eq(id)))
            .collect(),
        _ => vec![s.condition::<poll::Entity>()],
    };
    let above = s.audience();
    let public = || poll::Column::Status.is_in(PUBLIC_STATUSES);
    if above.len() <= MAX_BRANCHES {
        out.extend(above.into_iter().map(|p| {
            Condition::all()
                .add(poll::Column::ScopeId.eq(p))
                .add(public())
        }));
    } else {
        out.push(
            Condition::all()
                .add(poll::Column::ScopeId.is_in(above))
                .add(public()),
        );
    }
    Ok(Some(out))
}

/// The polls `actor` may read, as one condition (for single reads and verbs).
pub async fn readable<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<Condition> {
    let Some(branches) = readable_branches(db, actor).await? else {
        return Ok(Condition::all());
    };
    if branches.is_empty() {
        return Ok(Condition::all().add(sea_orm::sea_query::Expr::val(1).eq(0)));
    }
    Ok(branches
        .into_iter()
        .fold(Condition::any(), |any, b| any.add(b)))
}

/// The polls `actor` manages ([`Action::PollManage`] down their reach).
pub async fn manageable<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<Condition> {
    Ok(policy::scope(db, actor, Action::PollManage)
        .await?
        .condition::<poll::Entity>())
}

/// The polls `actor` keeps paper boxes of ([`Action::PollTally`] down their reach).
pub async fn tallyable<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<Condition> {
    Ok(policy::scope(db, actor, Action::PollTally)
        .await?
        .condition::<poll::Entity>())
}

/// The poll `id` if `actor` may read it (404 otherwise).
pub async fn readable_poll<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<poll::Model> {
    let cond = readable(db, actor).await?;
    poll::Entity::find_by_id(id)
        .filter(cond)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// Whether `cond` selects the poll `id`.
pub async fn selects<C: ConnectionTrait>(db: &C, cond: Condition, id: Uuid) -> AppResult<bool> {
    Ok(poll::Entity::find_by_id(id)
        .filter(cond)
        .one(db)
        .await?
        .is_some())
}

/// The poll `id` if `actor` manages it: 404 unless they may read it, 403 unless they manage it.
pub async fn managed_poll<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<poll::Model> {
    let p = readable_poll(db, actor, id).await?;
    if !selects(db, manageable(db, actor).await?, id).await? {
        return Err(AppError::Forbidden);
    }
    Ok(p)
}

/// The place a poll is addressed to, with the places above it: 404 unless `actor` sees it, 403
/// unless they manage polls there.
pub async fn writable_place<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    scope: PollScope,
    id: Uuid,
) -> AppResult<places::PlaceRef> {
    places::authorize_place(db, actor, level_of(scope), id, Action::PollManage).await
}

/// The level of the territory a poll's place lies at.
pub fn level_of(p: PollScope) -> Level {
    match p {
        PollScope::Street => Level::Street,
        PollScope::Community => Level::Community,
        PollScope::Compound => Level::Compound,
        PollScope::Building => Level::Building,
    }
}

/// The place for a stored poll (`Scoped` needs the trait in scope elsewhere).
pub fn column_of(level: Level) -> Option<poll::Column> {
    <poll::Entity as Scoped>::column(level)
}
