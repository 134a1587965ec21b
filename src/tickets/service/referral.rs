//! A ticket born of another domain's referral: a 大事 of the consultation (participation design
//! §A1.1, `refer`) becomes a red ticket (诉求) of the same place, already triaged, so the street
//! sees it at once. The caller has authorized the referral (the proposals service checks its
//! own action); this files the ticket, its timeline and, for the street, its notification.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::error::{AppError, AppResult};
use crate::platform::notifications::{Event, Payload};
use crate::territory::query::place_lookup;
use crate::tickets::model::{
    escalation_label_zh, escalation_target, Channel, Priority, Status, TimelineKind, MAX_ESCALATION,
};
use crate::tickets::service::escalation::escalation_recipients;
use crate::tickets::service::settings::{self as ticket_settings, DEFAULT_CATEGORIES};
use crate::tickets::service::timeline::{self, step, Facts};
use crate::tickets::service::verbs::set_deadline;
use entity::{ticket, ticket_category};

/// Characters of a ticket's title and description.
const TITLE_MAX: usize = 50;
const DESCRIPTION_MAX: usize = 2_000;

/// What a referral files.
pub struct Referral {
    pub compound_id: Uuid,
    pub building_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    /// The category's name in the referring domain: the community's ticket category of that
    /// name when there is one, 其他 (or the first category) otherwise.
    pub category: String,
    pub channel: Channel,
    /// Who raised it, as everyone may read it ("3栋 王**").
    pub requester_display: String,
    /// The street answers (街道兜底): filed at the street administrator's escalation level.
    pub to_street: bool,
    /// The timeline note of the filing (where it came from).
    pub note: String,
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The community's category named `name`, else 其他, else its first.
async fn category_for<C: ConnectionTrait>(
    db: &C,
    community_id: Uuid,
    name: &str,
) -> AppResult<Uuid> {
    let all = ticket_category::Entity::find()
        .filter(ticket_category::Column::CommunityId.eq(community_id))
        .order_by_asc(ticket_category::Column::SortOrder)
        .all(db)
        .await?;
    let other = DEFAULT_CATEGORIES[DEFAULT_CATEGORIES.len() - 1];
    all.iter()
        .find(|c| c.name == name)
        .or_else(|| all.iter().find(|c| c.name == other))
        .or_else(|| all.first())
        .map(|c| c.id)
        .ok_or(AppError::NotFound)
}

/// Files the red ticket of `r`, triaged by `actor` now: its first follow-up falls after the
/// community's red days; with `to_street` it stands at the street administrator's level (no
/// further escalation) and the street's administrators are told. Timeline: filed, triaged red
/// (and escalated to the street).
pub async fn file_red<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    r: Referral,
    now: DateTime<Utc>,
) -> AppResult<ticket::Model> {
    let cmp = place_lookup::compound(db, r.compound_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let comm = place_lookup::community(db, cmp.community_id)
        .await?
        .ok_or(AppError::NotFound)?;
    ticket_settings::ensure_default_categories(db, &comm, now).await?;
    let category_id = category_for(db, comm.id, &r.category).await?;
    let (policy, _) = ticket_settings::policy_of(db, comm.id).await?;
    let follow_up = now + Duration::days(policy.red_follow_up_days.into());
    let level = if r.to_street { MAX_ESCALATION } else { 0 };
    let mut am = ticket::ActiveModel {
        id: Set(Uuid::now_v7()),
        street_id: Set(cmp.street_id),
        community_id: Set(cmp.community_id),
        compound_id: Set(cmp.id),
        building_id: Set(r.building_id),
        household_id: Set(None),
        category_id: Set(category_id),
        title: Set(cut(&r.title, TITLE_MAX)),
        description: Set(cut(&r.description, DESCRIPTION_MAX)),
        location: Set(None),
        latitude: Set(None),
        longitude: Set(None),
        merged_into_id: Set(None),
        channel: Set(r.channel),
        anonymous: Set(false),
        requester_user_id: Set(None),
        requester_name: Set(Some(r.requester_display)),
        requester_resident_id: Set(None),
        created_by: Set(actor.id),
        idempotency_key: Set(None),
        status: Set(Status::Triaged),
        priority: Set(Some(Priority::Red)),
        triaged_at: Set(Some(now)),
        due_at: Set(None),
        next_follow_up_at: Set(Some(follow_up)),
        deadline_at: Set(None),
        escalate_at: Set(None),
        escalation_level: Set(level),
        assigned_company_id: Set(None),
        handler_user_id: Set(None),
        assigned_at: Set(None),
        accepted_at: Set(None),
        resolved_at: Set(None),
        auto_close_at: Set(None),
        closed_at: Set(None),
        auto_closed: Set(false),
        rating: Set(None),
        feedback: Set(None),
        reason: Set(None),
        last_urged_at: Set(None),
        urge_count: Set(0),
        reopen_count: Set(0),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    set_deadline(&mut am, Some(follow_up), level);
    let t = am.insert(db).await?;
    let filed = step(TimelineKind::Filed)
        .moves(None, Some(Status::Submitted))
        .note(Some(r.note));
    timeline::record(db, &t, Some(actor), filed, now).await?;
    let triaged = step(TimelineKind::Triage)
        .moves(Some(Status::Submitted), Some(Status::Triaged))
        .facts(Facts {
            priority: Some(Priority::Red),
            ..Facts::default()
        });
    timeline::record(db, &t, Some(actor), triaged, now).await?;
    if r.to_street {
        let escalated = step(TimelineKind::Escalated).facts(Facts {
            escalated_to: Some(escalation_target(level)),
            ..Facts::default()
        });
        timeline::record(db, &t, Some(actor), escalated, now).await?;
        let to = escalation_recipients(db, &t, level).await?;
        let payload = Payload {
            title: t.title.clone(),
            status: "已升级".into(),
            note: Some(format!("议题转交，由{}办理", escalation_label_zh(level))),
            at: now,
        };
        crate::tickets::service::notify::enqueue(
            db,
            Event::TicketEscalated,
            &t,
            &to,
            &payload,
            now,
        )
        .await?;
    }
    Ok(t)
}

/// The community of ticket `id` if `actor` may read it (a proposal born of a ticket names one
/// its author can see); None when there is no such ticket or it is beyond the caller's reach.
pub async fn readable_community<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<Option<Uuid>> {
    use crate::access::policy::{self, Action};
    match policy::find_visible::<ticket::Entity, _>(db, actor, Action::TicketRead, id).await {
        Ok(t) => Ok(Some(t.community_id)),
        Err(AppError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}
