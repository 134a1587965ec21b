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

async fn proposal<C: ConnectionTrait>(
    _db: &C,
    _actor: &Actor,
    _id: Uuid,
    _now: DateTime<Utc>,
) -> AppResult<Subject> {
    // Wired to `proposals::service::subject::readable` when the proposals base is merged.
    Err(crate::platform::error::AppError::NotFound)
}

/// The limits that apply to comments on `s`: its community's consultation policy.
pub async fn limits<C: ConnectionTrait>(_db: &C, s: &Subject) -> AppResult<Limits> {
    match s.community_id {
        Some(_) => Ok(DEFAULT_LIMITS),
        None => Ok(DEFAULT_LIMITS),
    }
}
