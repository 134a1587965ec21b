//! Who reads, writes and moderates comments.
//!
//! - Reading: whoever may read the subject (`service::subject::readable`: 404 otherwise) reads
//!   its published comments; a comment held for review only its author and its moderators.
//! - Writing ([`Action::CommentCreate`]): every role, on a subject it may read and that still
//!   takes comments.
//! - Moderating ([`Action::CommentModerate`]): administrators, community staff and council
//!   members, down their reach (the comment's street or community).

use sea_orm::{Condition, ConnectionTrait, EntityTrait};

use crate::access::policy::{self, scoped, Action, Level, Scope, Scoped};
use crate::access::Actor;
use crate::platform::error::AppResult;
use entity::comment;

scoped!(comment::Entity,
    Street => StreetId, Community => CommunityId, Compound => CompoundId, Building => BuildingId);

/// What `actor` moderates.
pub async fn moderation<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<Scope> {
    policy::scope(db, actor, Action::CommentModerate).await
}

/// Whether `scope` (a [`moderation`] reach) covers the comment `c`.
pub fn covers(scope: &Scope, c: &comment::Model) -> bool {
    let mut at = vec![(Level::Street, c.street_id)];
    at.extend(c.community_id.map(|v| (Level::Community, v)));
    at.extend(c.compound_id.map(|v| (Level::Compound, v)));
    at.extend(c.building_id.map(|v| (Level::Building, v)));
    scope.contains(&at)
}

/// The comments `scope` covers, as a condition.
pub fn covered(scope: &Scope) -> Condition {
    scope.condition::<comment::Entity>()
}

/// Whether `actor` may comment at all.
pub fn may_comment(actor: &Actor) -> bool {
    policy::can_anywhere(actor, Action::CommentCreate)
}
