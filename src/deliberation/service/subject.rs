//! What a comment is about, as this domain sees it: where it lies, whether it still takes
//! comments, and the limits its community's policy sets. The one place that asks the
//! subject's own domain (its service decides who may read it).

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::access::policy::Level;
use crate::access::Actor;
use crate::deliberation::model::SubjectKind;
use crate::platform::error::AppResult;

/// A subject the caller may read.
#[derive(Debug, Clone)]
pub struct Subject {
    pub kind: SubjectKind,
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    /// Its title, for a notification.
    pub title: String,
    /// Whether it takes new comments (a proposal in a non-terminal step, a published notice).
    pub open: bool,
    /// Who wrote it (told of new comments).
    pub author_user_id: Option<Uuid>,
}

impl Subject {
    /// The places it lies at, for reach checks (its comments lie at the same places).
    pub fn places(&self) -> Vec<(Level, Uuid)> {
        let mut at = vec![(Level::Street, self.street_id)];
        at.extend(self.community_id.map(|v| (Level::Community, v)));
        at.extend(self.compound_id.map(|v| (Level::Compound, v)));
        at.extend(self.building_id.map(|v| (Level::Building, v)));
        at
    }
}

/// The limits of the community's consultation policy that deliberation follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub comments_per_hour: u32,
    pub reports_to_hide: u32,
}

/// The policy's defaults (§A1.3), for a subject outside any community (a street's notice).
pub const DEFAULT_LIMITS: Limits = Limits {
    comments_per_hour: 20,
    reports_to_hide: 3,
};

/// The subject `(kind, id)` if `actor` may read it; 404 otherwise (the subject's own rules).
pub async fn readable<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    kind: SubjectKind,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Subject> {
    match kind {
        SubjectKind::Notice => notice(db, actor, id).await,
        SubjectKind::Proposal => proposal(db, actor, id, now).await,
    }
}

async fn notice<C: ConnectionTrait>(db: &C, actor: &Actor, id: Uuid) -> AppResult<Subject> {
    use crate::notices::model::Status;
    let n = crate::notices::service::readable_notice(db, actor, id).await?;
    Ok(Subject {
        kind: SubjectKind::Notice,
        id: n.id,
        street_id: n.street_id,
        community_id: n.community_id,
        compound_id: n.compound_id,
        building_id: n.building_id,
        title: n.title,
        open: n.status == Status::Published,
        author_user_id: Some(n.created_by),
    })
}

/// A proposal takes comments in every step but the terminal ones; in `deciding` too (its text
/// is frozen in the poll's revision, so what is said then cannot change what is voted on).
async fn proposal<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Subject> {
    let p = crate::proposals::service::subject::readable(db, actor, id, now).await?;
    Ok(Subject {
        kind: SubjectKind::Proposal,
        id: p.id,
        street_id: p.street_id,
        community_id: Some(p.community_id),
        compound_id: p.compound_id,
        building_id: p.building_id,
        title: p.title,
        open: !p.step.is_terminal(),
        author_user_id: p.author_user_id,
    })
}

/// The limits that apply to comments on `s`: its community's consultation policy (its
/// defaults when the community has none), whatever the subject; the defaults outside any
/// community.
pub async fn limits<C: ConnectionTrait>(db: &C, s: &Subject) -> AppResult<Limits> {
    let Some(community) = s.community_id else {
        return Ok(DEFAULT_LIMITS);
    };
    let p = crate::proposals::service::policy::policy_in(db, community).await?;
    let count = |v: i32, default: u32| u32::try_from(v).unwrap_or(default);
    Ok(Limits {
        comments_per_hour: count(p.comments_per_hour, DEFAULT_LIMITS.comments_per_hour),
        reports_to_hide: count(p.reports_to_hide, DEFAULT_LIMITS.reports_to_hide).max(1),
    })
}
