//! Who sees and who writes which notices.
//!
//! - Reading ([`Action::NoticeRead`]): staff and leaders see every notice down their reach, in
//!   any status; through the audience reach (`access::policy::reads_upward`) residents and
//!   leaders see what is addressed to the places above them, once published (or withdrawn:
//!   receipts point at it), and a notice addressed to some tags only when it reached them.
//! - Writing ([`Action::NoticePublish`]): the place a notice is addressed to must lie in the
//!   writer's downward reach; building and street leaders publish `normal` notices only, council
//!   members publicity (公示) only.

use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::access::policy::{self, scoped, Action, Level, Role, Scoped};
use crate::access::Actor;
use crate::notices::model::{Category, Place, Priority, Status};
use crate::platform::error::{AppError, AppResult, ProblemCode};
use crate::platform::lang::Text;
use crate::territory::query::place_lookup as places;
use entity::{notice, notice_recipient};

scoped!(notice::Entity,
    Street => StreetId, Community => CommunityId, Compound => CompoundId, Building => BuildingId);

/// Beyond this many scope terms a page is one query over their OR rather than one index walk per
/// term.
const MAX_BRANCHES: usize = 32;

/// One branch of what a caller reads: a condition a page walks along one `(column, id)` index.
#[derive(Debug, Clone)]
pub struct Branch {
    pub condition: Condition,
    /// Reached through the audience reach: a notice addressed to some tags is the caller's
    /// only if it reached them ([`addressed_to`]), which the page checks for its own rows.
    pub audience: bool,
}

/// The notices `actor` may read, as branches whose union it is: one per term of their
/// downward reach (`community_id = …`, …), any status; one per place of their audience reach
/// (`scope_id = …`), published or withdrawn (and, for a notice addressed to tags, only if it
/// reached them: [`Branch::audience`]). A page walks each along its own `(column, id)` index
/// and merges; `None` is everything (a superadmin).
pub async fn readable_branches<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
) -> AppResult<Option<Vec<Branch>>> {
    let s = policy::scope(db, actor, Action::NoticeRead).await?;
    if s.is_everything() {
        return Ok(None);
    }
    let down = |condition| Branch {
        condition,
        audience: false,
    };
    let mut out: Vec<Branch> = match s.terms::<notice::Entity>() {
        Some(terms) if terms.len() <= MAX_BRANCHES => terms
            .into_iter()
            .map(|(col, id)| down(Condition::all().add(col.eq(id))))
            .collect(),
        _ => vec![down(s.condition::<notice::Entity>())],
    };
    let above = s.audience();
    let published = || notice::Column::Status.is_in([Status::Published, Status::Withdrawn]);
    if above.len() <= MAX_BRANCHES {
        out.extend(above.into_iter().map(|p| {
            Branch {
                condition: Condition::all()
                    .add(notice::Column::ScopeId.eq(p))
                    .add(published()),
                audience: true,
            }
        }));
    } else {
        out.push(Branch {
            condition: Condition::all()
                .add(notice::Column::ScopeId.is_in(above))
                .add(published()),
            audience: true,
        });
    }
    Ok(Some(out))
}

/// The condition "untagged, or addressed to `user`" (a recipient row of theirs).
pub fn addressed_to(user: Uuid) -> Condition {
    Condition::any()
        .add(notice::Column::AudienceTags.eq("[]"))
        .add(Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(notice_recipient::Entity)
                .and_where(
                    Expr::col((notice_recipient::Entity, notice_recipient::Column::NoticeId))
                        .equals((notice::Entity, notice::Column::Id)),
                )
                .and_where(
                    Expr::col((notice_recipient::Entity, notice_recipient::Column::UserId))
                        .eq(user),
                )
                .to_owned(),
        ))
}

/// The notices `actor` may read, as one condition (the union of [`readable_branches`], with the
/// audience branches' tag rule): for single reads and verbs.
pub async fn readable<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<Condition> {
    let Some(branches) = readable_branches(db, actor).await? else {
        return Ok(Condition::all());
    };
    if branches.is_empty() {
        // An empty OR would vanish from the statement: nothing is readable.
        return Ok(Condition::all().add(Expr::val(1).eq(0)));
    }
    Ok(branches.into_iter().fold(Condition::any(), |any, b| {
        any.add(if b.audience {
            b.condition.add(addressed_to(actor.id))
        } else {
            b.condition
        })
    }))
}

/// The place a notice is addressed to, with the places above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub place: Place,
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
}

/// The place `(place, id)` if `actor` may address notices to it: 404 unless they can see it, 403
/// unless [`Action::NoticePublish`] reaches it.
pub async fn writable_target<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    place: Place,
    id: Uuid,
) -> AppResult<Target> {
    let p = places::authorize_place(db, actor, level_of(place), id, Action::NoticePublish).await?;
    Ok(Target {
        place,
        id,
        street_id: p.street_id,
        community_id: p.community_id,
        compound_id: p.compound_id,
        building_id: p.building_id,
    })
}

/// Whether `actor` may address a notice of this category and priority to `target` (which
/// [`writable_target`] let them address): any role of theirs that publishes there without
/// narrowing allows it; otherwise council members publish publicity (公示) only, and building
/// and street leaders `normal` notices only. 403 `notice_restricted` when none allows it.
pub async fn may_publish_kind<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    target: &Target,
    category: Category,
    priority: Priority,
) -> AppResult<()> {
    if actor.is_superadmin {
        return Ok(());
    }
    let mut allowed_here = false;
    for a in actor
        .roles
        .iter()
        .filter(|a| policy::allowed(a.role, Action::NoticePublish))
    {
        let alone = Actor::new(actor.id, vec![a.clone()]);
        if !reaches_target(db, &alone, target).await? {
            continue;
        }
        let ok = match a.role {
            Role::CouncilMember => category == Category::Publicity,
            Role::BuildingLeader | Role::StreetLeader => priority == Priority::Normal,
            _ => true,
        };
        if ok {
            allowed_here = true;
            break;
        }
    }
    if allowed_here {
        Ok(())
    } else {
        Err(AppError::forbidden(
            ProblemCode::NoticeRestricted,
            Text::new(
                "您的角色在此只能发布普通公告（楼组长、街面长）或公示（议事会成员）",
                "your role may publish only normal notices (building and street leaders) or \
                 publicity (council members) here",
            ),
        ))
    }
}

async fn reaches_target<C: ConnectionTrait>(db: &C, who: &Actor, t: &Target) -> AppResult<bool> {
    places::place_reached(db, who, level_of(t.place), t.id, Action::NoticePublish).await
}

/// Whether `actor`'s [`Action::NoticePublish`] reaches the notice (its place lies in their
/// downward reach): the condition that writes, receipts and follow-up go through.
pub async fn writable<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<Condition> {
    Ok(policy::scope(db, actor, Action::NoticePublish)
        .await?
        .condition::<notice::Entity>())
}

/// Whether `actor` moderates notices where `n` lies ([`Action::NoticeModerate`]).
pub async fn moderatable<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<Condition> {
    Ok(policy::scope(db, actor, Action::NoticeModerate)
        .await?
        .condition::<notice::Entity>())
}

/// Where `actor` follows a published notice up (receipts, unreached households, offline
/// records): everywhere when their publishing reach covers the notice's place; else the
/// buildings under it that reach covers (a building leader, on a notice to the whole
/// community: their building).
#[derive(Debug, Clone)]
pub struct FollowUp {
    whole: bool,
    scope: policy::Scope,
}

impl FollowUp {
    /// Whether the building `building` (of compound `compound`) is followed up by the caller.
    pub fn covers(&self, compound: Uuid, building: Uuid) -> bool {
        self.whole
            || self
                .scope
                .contains(&[(Level::Compound, compound), (Level::Building, building)])
    }
}

/// The follow-up reach of `actor` on `n` (which they may read): 403 when it covers no building
/// under the notice's place.
pub async fn follow_up<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    n: &notice::Model,
) -> AppResult<FollowUp> {
    let scope = policy::scope(db, actor, Action::NoticePublish).await?;
    let mut at = vec![(Level::Street, n.street_id)];
    at.extend(n.community_id.map(|c| (Level::Community, c)));
    at.extend(n.compound_id.map(|c| (Level::Compound, c)));
    at.extend(n.building_id.map(|b| (Level::Building, b)));
    if scope.contains(&at) {
        return Ok(FollowUp { whole: true, scope });
    }
    let part = places::any_under(
        db,
        level_of(n.scope_type),
        n.scope_id,
        scope.ids(Level::Building),
        scope.ids(Level::Compound),
    )
    .await?;
    if part {
        Ok(FollowUp {
            whole: false,
            scope,
        })
    } else {
        Err(AppError::Forbidden)
    }
}

/// The level of the territory a notice's place lies at.
pub fn level_of(p: Place) -> Level {
    match p {
        Place::Street => Level::Street,
        Place::Community => Level::Community,
        Place::Compound => Level::Compound,
        Place::Building => Level::Building,
    }
}
