//! A proposal's timeline: its events and its updates, merged, newest first, one keyset page
//! (the cursor is the id of the last entry: both tables have time-ordered v7 ids). People are
//! shown as staff name them; residents (authors, supporters, leads) masked.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::policy::Role;
use crate::access::Actor;
use crate::platform::error::AppResult;
use crate::platform::paging::{cut_page, Page, PageParams};
use crate::platform::pii::mask_name;
use crate::proposals::model::UpdateKind;
use crate::proposals::policy;
use entity::{proposal_event, proposal_update};

/// One entry of a proposal's timeline.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ProposalTimelineEntry)]
pub struct TimelineEntry {
    pub id: Uuid,
    /// `event` (a verb, a move, what a job or the money did) or `update` (a progress report).
    pub entry: String,
    /// The event's kind (`accepted`, `decided`, `pledge_fulfilled` …) or the update's kind.
    pub kind: String,
    pub from_step: Option<String>,
    pub to_step: Option<String>,
    pub note: Option<String>,
    /// Who: staff by name, residents masked ("王*"), null for the system.
    pub actor_name: Option<String>,
    #[schema(value_type = Option<i32>)]
    pub progress_pct: Option<i16>,
    pub photos: i32,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

/// Whether the account `user` acts as a resident only (to mask their name in what others see).
fn masked(actor_name: Option<String>, resident_only: bool) -> Option<String> {
    actor_name.map(|n| if resident_only { mask_name(&n) } else { n })
}

/// A page of the timeline of proposal `id` the caller may read.
pub async fn timeline<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    p: PageParams,
) -> AppResult<Page<TimelineEntry>> {
    policy::readable_proposal(db, actor, id).await?;
    let mut ev = proposal_event::Entity::find()
        .filter(proposal_event::Column::ProposalId.eq(id))
        .order_by_desc(proposal_event::Column::Id)
        .limit(p.limit + 1);
    let mut up = proposal_update::Entity::find()
        .filter(proposal_update::Column::ProposalId.eq(id))
        .order_by_desc(proposal_update::Column::Id)
        .limit(p.limit + 1);
    if let Some(after) = p.after {
        ev = ev.filter(proposal_event::Column::Id.lt(after));
        up = up.filter(proposal_update::Column::Id.lt(after));
    }
    let events = ev.all(db).await?;
    let staff: std::collections::HashSet<Uuid> =
        staff_among(db, events.iter().filter_map(|e| e.actor_user_id).collect()).await?;
    let mut rows: Vec<TimelineEntry> = events
        .into_iter()
        .map(|e| TimelineEntry {
            id: e.id,
            entry: "event".into(),
            kind: e.kind,
            from_step: e.from_step,
            to_step: e.to_step,
            note: e.note,
            actor_name: masked(
                e.actor_name,
                e.actor_user_id.is_some_and(|u| !staff.contains(&u)),
            ),
            progress_pct: None,
            photos: 0,
            created_at: e.created_at,
        })
        .collect();
    rows.extend(up.all(db).await?.into_iter().map(|u| TimelineEntry {
        id: u.id,
        entry: "update".into(),
        kind: kind_name(u.kind),
        from_step: None,
        to_step: None,
        note: Some(u.note),
        actor_name: Some(u.author_name),
        progress_pct: u.progress_pct,
        photos: u.photos,
        created_at: u.created_at,
    }));
    rows.sort_by_key(|r| std::cmp::Reverse(r.id));
    let (items, next_cursor) = cut_page(rows, p.limit, |r| r.id);
    Ok(Page { items, next_cursor })
}

fn kind_name(k: UpdateKind) -> String {
    use sea_orm::ActiveEnum;
    k.to_value()
}

/// Those of `users` who hold any role other than resident (their names are shown).
async fn staff_among<C: ConnectionTrait>(
    db: &C,
    mut users: Vec<Uuid>,
) -> AppResult<std::collections::HashSet<Uuid>> {
    users.sort_unstable();
    users.dedup();
    let found =
        crate::identity::query::role_holders::users_with_other_roles(db, Role::Resident, &users)
            .await?;
    Ok(found.into_iter().collect())
}
