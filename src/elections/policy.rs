//! Who sees and who runs which elections.
//!
//! - Reading ([`Action::ElectionRead`]): staff and leaders see the elections down their reach
//!   once the roll is published; those who may run them there ([`Action::ElectionManage`]) also
//!   see drafts. Through the audience reach (`access::policy::reads_upward`) residents and
//!   leaders see the elections of the places above them, once the roll is published.
//! - Running ([`Action::ElectionManage`]): the election's node lies in the caller's downward
//!   reach for it (admins of the street, community staff).

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::access::policy::{self, scoped, Action, Level, Scoped};
use crate::access::Actor;
use crate::elections::model::Status;
use crate::platform::error::{AppError, AppResult};
use entity::election;

scoped!(election::Entity,
    Street => StreetId, Community => CommunityId, Compound => CompoundId, Building => BuildingId);

/// The places an election lies at (for `Scope::contains`).
pub fn places(e: &election::Model) -> Vec<(Level, Uuid)> {
    let mut at = vec![
        (Level::Street, e.street_id),
        (Level::Community, e.community_id),
    ];
    at.extend(e.compound_id.map(|c| (Level::Compound, c)));
    at.extend(e.building_id.map(|b| (Level::Building, b)));
    at
}

/// The condition selecting exactly the elections `actor` may read.
pub async fn readable<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<Condition> {
    let manage = policy::scope(db, actor, Action::ElectionManage).await?;
    let read = policy::scope(db, actor, Action::ElectionRead).await?;
    if manage.is_everything() {
        return Ok(Condition::all());
    }
    let not_draft = election::Column::Status.ne(Status::Draft);
    let mut any = Condition::any();
    if !manage.is_empty() {
        any = any.add(manage.condition::<election::Entity>());
    }
    if !read.is_empty() {
        any = any.add(
            Condition::all()
                .add(read.condition::<election::Entity>())
                .add(not_draft.clone()),
        );
    }
    let above = read.audience();
    if !above.is_empty() {
        any = any.add(
            Condition::all()
                .add(election::Column::ScopeId.is_in(above))
                .add(not_draft),
        );
    }
    if manage.is_empty() && read.is_empty() && read.audience().is_empty() {
        return Ok(Condition::all().add(election::Column::Id.is_null()));
    }
    Ok(any)
}

/// What `actor` reads, as branches whose union is [`readable`], each a condition one
/// `(column, id)` index walks: one per term of the downward reach for running elections (any
/// status), one per term of the downward reach for reading them and per place of the audience
/// reach (past the draft). `None`: everything.
pub async fn branches<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
) -> AppResult<Option<Vec<Condition>>> {
    let manage = policy::scope(db, actor, Action::ElectionManage).await?;
    let read = policy::scope(db, actor, Action::ElectionRead).await?;
    let (Some(managed), Some(reached)) = (
        manage.terms::<election::Entity>(),
        read.terms::<election::Entity>(),
    ) else {
        return Ok(None);
    };
    let past_draft = || {
        election::Column::Status
            .is_in(<Status as sea_orm::Iterable>::iter().filter(|s| *s != Status::Draft))
    };
    let mut out: Vec<Condition> = managed
        .into_iter()
        .map(|(col, id)| Condition::all().add(col.eq(id)))
        .collect();
    out.extend(
        reached
            .into_iter()
            .map(|(col, id)| Condition::all().add(col.eq(id)).add(past_draft())),
    );
    for p in read.audience() {
        // Most places above a reader hold no election (a street, a household never do): a
        // point lookup of `(scope_id, id)` skips their branches.
        let any = election::Entity::find()
            .select_only()
            .column(election::Column::Id)
            .filter(election::Column::ScopeId.eq(p))
            .into_tuple::<Uuid>()
            .one(db)
            .await?;
        if any.is_none() {
            continue;
        }
        out.push(
            Condition::all()
                .add(election::Column::ScopeId.eq(p))
                .add(past_draft()),
        );
    }
    Ok(Some(out))
}

/// The election `id` if `actor` may read it (else 404).
pub async fn find_readable<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<election::Model> {
    election::Entity::find_by_id(id)
        .filter(readable(db, actor).await?)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The election `id` if `actor` may run it: readable (else 404) and within their
/// [`Action::ElectionManage`] reach (else 403).
pub async fn find_managed<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<election::Model> {
    let e = find_readable(db, actor, id).await?;
    if may_manage(db, actor, &e).await? {
        Ok(e)
    } else {
        Err(AppError::Forbidden)
    }
}

/// Whether `actor` may run `e`.
pub async fn may_manage<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    e: &election::Model,
) -> AppResult<bool> {
    Ok(policy::scope(db, actor, Action::ElectionManage)
        .await?
        .contains(&places(e)))
}
