//! A ticket as its screens show it: the list item, the detail with photos and timeline, and
//! what the caller may see of an anonymous requester.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::policy::{self, Action};
use crate::access::Actor;
use crate::platform::error::AppResult;
use crate::platform::signed_urls::{Signer, Variant};
use crate::tickets::model::{
    status_label, Channel, EscalationTarget, Priority, Status, TimelineKind,
};
use crate::tickets::query::attachments::AttachmentResponse;
use crate::tickets::query::names::{self as ticket_names, Names, Wanted};
use crate::tickets::query::views::{self as ticket_views, After, Filter, Sort};
use crate::tickets::service::duplicates as ticket_duplicates;
use crate::tickets::service::workflow as svc;
use entity::ticket;

/// Where a ticket is: the map point from `wx.chooseLocation` and the address text. Latitude and
/// longitude are GCJ-02 (the coordinates WeChat's map uses in mainland China, as
/// `wx.chooseLocation` and `wx.getLocation({type: 'gcj02'})` give them), in degrees, and come
/// together or not at all. Either the point or the address may be given alone.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketLocation {
    /// -90 to 90.
    #[schema(minimum = -90, maximum = 90, example = 30.2741)]
    pub latitude: Option<f64>,
    /// -180 to 180.
    #[schema(minimum = -180, maximum = 180, example = 120.1551)]
    pub longitude: Option<f64>,
    /// At most 200 characters, e.g. the `address` (or `name`) `wx.chooseLocation` returns.
    #[schema(
        max_length = 200,
        format = "text-or-blank",
        example = "杭州市上城区紫阳街道1幢1单元"
    )]
    pub address: Option<String>,
}

/// Another ticket, as far as a merge shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketSummary {
    pub id: Uuid,
    pub title: String,
    pub status: Status,
    /// The status in Chinese (已提交, 处理中, 已办结, 已合并, …).
    pub status_label: String,
}

impl TicketSummary {
    fn new(id: Uuid, title: String, status: Status) -> Self {
        TicketSummary {
            id,
            title,
            status,
            status_label: status_label(status).to_string(),
        }
    }
}

/// A ticket as lists show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketResponse {
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Uuid,
    pub building_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
    pub category_id: Uuid,
    pub category_name: String,
    pub community_name: String,
    pub compound_name: String,
    /// The ticket's building, or else the requester's household's; null with `building_id`
    /// (anonymous tickets, for those who may not see the requester).
    pub building_name: Option<String>,
    /// The requester's household's unit and room; null when there is none on record, or with
    /// `household_id`.
    pub unit: Option<String>,
    pub room: Option<String>,
    pub title: String,
    pub description: String,
    /// Null when the filer gave none.
    pub location: Option<TicketLocation>,
    pub channel: Channel,
    /// The requester asked that their name be hidden; then only they and the community's
    /// triaging staff see `requester_name`, `requester_user_id`, `building_id` and
    /// `household_id` (others get null).
    pub anonymous: bool,
    pub requester_user_id: Option<Uuid>,
    pub requester_name: Option<String>,
    pub status: Status,
    /// The status in Chinese (已提交, 已受理, 已派单, 处理中, 已办结, 已关闭, 已撤销, 不予受理,
    /// 已合并): the same words as the stats and the ledger export.
    pub status_label: String,
    /// Status `merged`: the ticket it was merged into as a duplicate.
    pub merged_into_id: Option<Uuid>,
    /// Set by triage.
    pub priority: Option<Priority>,
    /// Green and orange tickets: when it must be resolved.
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub due_at: Option<DateTime<Utc>>,
    /// Red tickets: when the next follow-up is due (each progress entry moves it on).
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub next_follow_up_at: Option<DateTime<Utc>>,
    /// Open and past `due_at` or `next_follow_up_at`.
    pub overdue: bool,
    /// 0 with the handler; 1 grid manager, 2 community staff, 3 street admin.
    pub escalation_level: i32,
    pub assigned_company_id: Option<Uuid>,
    pub assigned_company_name: Option<String>,
    /// The property company's public contact number (a business line, not personal data).
    pub assigned_company_contact_phone: Option<String>,
    pub handler_user_id: Option<Uuid>,
    /// The handler's display name, when the ticket is dispatched to a person.
    pub handler_name: Option<String>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub triaged_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub assigned_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub accepted_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// A resolved ticket closes on its own then unless the requester confirms or reopens it.
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub auto_close_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub closed_at: Option<DateTime<Utc>>,
    /// Closed by the system because the requester did not confirm in time.
    pub auto_closed: bool,
    /// The requester's rating, 1–5, given on confirmation.
    pub rating: Option<i32>,
    pub feedback: Option<String>,
    /// The latest reason given to reject, return, reopen or cancel it.
    pub reason: Option<String>,
    pub urge_count: i32,
    pub reopen_count: i32,
    /// Also sent as the `ETag` header; send it back as `If-Match` to guard a transition.
    pub version: i32,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
    /// The thumbnail of the ticket's first photo that has one, as a signed URL that needs no
    /// token (see `AttachmentResponse.thumbnail_url`); null when there is none.
    pub cover_thumbnail_url: Option<String>,
}

/// One step on a ticket's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub id: Uuid,
    pub kind: TimelineKind,
    /// Null for the system, or when it is the anonymous requester and the caller may not know.
    pub actor_user_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub from_status: Option<Status>,
    /// Set when the step changed the status.
    pub to_status: Option<Status>,
    /// The ticket's status after this step, in Chinese.
    pub status_label: String,
    /// The other ticket of a `merged` or `merged_in` step.
    pub related_ticket_id: Option<Uuid>,
    /// What the person who took the step wrote (never a decision: those are the fields below).
    pub note: Option<String>,
    /// The priority a `triage` set.
    pub priority: Option<Priority>,
    /// The rating (1–5) a `confirm` gave.
    pub rating: Option<i32>,
    /// Whose level an `escalated` step raised the ticket to.
    pub escalated_to: Option<EscalationTarget>,
    /// Photos attached with this step.
    pub attachment_ids: Vec<Uuid>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

/// A ticket with its photos and timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: TicketResponse,
    pub attachments: Vec<AttachmentResponse>,
    pub timeline: Vec<TimelineEntry>,
    /// Status `merged`: the ticket it was merged into, and where that one stands.
    pub merged_into: Option<TicketSummary>,
    /// The duplicates merged into this ticket that the caller may see (at most 100).
    pub merged_duplicates: Vec<TicketSummary>,
}

fn to_response(
    t: ticket::Model,
    names: &Names,
    shows_requester: bool,
    cover_thumbnail_url: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<TicketResponse> {
    let overdue = svc::is_overdue(&t, now);
    let status = t.status;
    let name = |m: &HashMap<Uuid, String>, id: Uuid| m.get(&id).cloned().unwrap_or_default();
    // Where an anonymous requester lives would name them to whoever may not see the name
    // (the property company): it goes with the name.
    let household = t
        .household_id
        .filter(|_| shows_requester)
        .and_then(|h| names.households.get(&h));
    let building_name = match t.building_id.filter(|_| shows_requester) {
        Some(b) => names.buildings.get(&b).cloned(),
        None => household.map(|h| h.building_name.clone()),
    };
    let company = t.assigned_company_id.and_then(|c| names.companies.get(&c));
    let location = (t.location.is_some() || t.latitude.is_some()).then(|| TicketLocation {
        latitude: t.latitude,
        longitude: t.longitude,
        address: t.location.clone(),
    });
    Ok(TicketResponse {
        id: t.id,
        street_id: t.street_id,
        community_id: t.community_id,
        compound_id: t.compound_id,
        building_id: t.building_id.filter(|_| shows_requester),
        household_id: t.household_id.filter(|_| shows_requester),
        category_id: t.category_id,
        category_name: name(&names.categories, t.category_id),
        community_name: name(&names.communities, t.community_id),
        compound_name: name(&names.compounds, t.compound_id),
        building_name,
        unit: household.map(|h| h.unit.clone()),
        room: household.map(|h| h.room.clone()),
        title: t.title,
        description: t.description,
        location,
        channel: t.channel,
        anonymous: t.anonymous,
        requester_user_id: t.requester_user_id.filter(|_| shows_requester),
        requester_name: t.requester_name.filter(|_| shows_requester),
        status,
        status_label: status_label(status).to_string(),
        merged_into_id: t.merged_into_id,
        priority: t.priority,
        due_at: t.due_at,
        next_follow_up_at: t.next_follow_up_at,
        overdue,
        escalation_level: t.escalation_level,
        assigned_company_id: t.assigned_company_id,
        assigned_company_name: company.map(|c| c.name.clone()),
        assigned_company_contact_phone: company.and_then(|c| c.contact_phone.clone()),
        handler_user_id: t.handler_user_id,
        handler_name: t.handler_user_id.and_then(|u| names.users.get(&u).cloned()),
        triaged_at: t.triaged_at,
        assigned_at: t.assigned_at,
        accepted_at: t.accepted_at,
        resolved_at: t.resolved_at,
        auto_close_at: t.auto_close_at,
        closed_at: t.closed_at,
        auto_closed: t.auto_closed,
        rating: t.rating,
        feedback: t.feedback,
        reason: t.reason,
        urge_count: t.urge_count,
        reopen_count: t.reopen_count,
        version: t.version,
        created_at: t.created_at,
        updated_at: t.updated_at,
        cover_thumbnail_url,
    })
}

/// Of `ids`, the tickets the caller triages (who therefore sees anonymous requesters).
async fn triaged_by<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    ids: &[Uuid],
) -> AppResult<HashSet<Uuid>> {
    if ids.is_empty() || !policy::can_anywhere(user, Action::TicketTriage) {
        return Ok(HashSet::new());
    }
    let s = policy::scope(db, user, Action::TicketTriage).await?;
    let found: Vec<Uuid> = ticket::Entity::find()
        .select_only()
        .column(ticket::Column::Id)
        .filter(ticket::Column::Id.is_in(ids.iter().copied()))
        .filter(s.condition::<ticket::Entity>())
        .into_tuple()
        .all(db)
        .await?;
    Ok(found.into_iter().collect())
}

/// Of the tickets `ids`, the first photo (lowest id) that has a thumbnail, per ticket: one
/// query for the whole page, whatever its size.
async fn covers<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> AppResult<HashMap<Uuid, Uuid>> {
    crate::platform::attachments::first_thumbnails(
        db,
        crate::platform::attachments::SubjectType::Ticket,
        ids,
    )
    .await
}

/// Shapes a page of tickets for the caller.
pub async fn responses<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    rows: Vec<ticket::Model>,
    now: DateTime<Utc>,
    urls: &Signer,
) -> AppResult<Vec<TicketResponse>> {
    let ids: Vec<Uuid> = rows.iter().map(|t| t.id).collect();
    let triaged = triaged_by(db, user, &ids).await?;
    let mut wanted = Wanted::default();
    rows.iter().for_each(|t| wanted.add(t));
    let names = ticket_names::lookup(db, &wanted).await?;
    let covers = covers(db, &ids).await?;
    rows.into_iter()
        .map(|t| {
            let shows =
                !t.anonymous || t.requester_user_id == Some(user.id) || triaged.contains(&t.id);
            let cover = covers
                .get(&t.id)
                .map(|a| urls.sign(*a, Variant::Thumbnail, now).url);
            to_response(t, &names, shows, cover, now)
        })
        .collect()
}

/// One ticket with its photos and timeline, as the caller may see it.
pub async fn detail<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    t: ticket::Model,
    now: DateTime<Utc>,
    urls: &Signer,
) -> AppResult<TicketDetail> {
    let parties = svc::parties_of(db, user, &t).await?;
    let shows = svc::shows_requester(&parties, &t);
    let photos = crate::tickets::service::attachments::for_ticket(db, t.id).await?;
    let events = crate::tickets::service::timeline::entries(db, t.id).await?;
    let requester = t.requester_user_id;
    // The status after each step: the last one a step moved it to.
    let mut current = Status::Submitted;
    let timeline = events
        .into_iter()
        .map(|e| {
            let hidden = !shows && e.actor_user_id.is_some() && e.actor_user_id == requester;
            let s = e.step;
            let to_status = s.to;
            current = to_status.unwrap_or(current);
            TimelineEntry {
                id: e.id,
                attachment_ids: photos
                    .iter()
                    .filter(|p| p.event_id == Some(e.id))
                    .map(|p| p.id)
                    .collect(),
                kind: s.kind,
                actor_user_id: e.actor_user_id.filter(|_| !hidden),
                actor_name: e.actor_name.filter(|_| !hidden),
                from_status: s.from,
                to_status,
                status_label: status_label(current).to_string(),
                related_ticket_id: s.related_id,
                note: s.note,
                priority: s.facts.priority,
                rating: s.facts.rating,
                escalated_to: s.facts.escalated_to,
                created_at: e.created_at,
            }
        })
        .collect();
    let mut wanted = Wanted::default();
    wanted.add(&t);
    wanted.tickets.extend(t.merged_into_id);
    let names = ticket_names::lookup(db, &wanted).await?;
    let merged_into = t.merged_into_id.and_then(|m| {
        let r = names.tickets.get(&m)?;
        Some(TicketSummary::new(m, r.title.clone(), r.status))
    });
    let merged_duplicates = ticket_duplicates::duplicates_of(db, user, t.id)
        .await?
        .into_iter()
        .map(|(id, title, status)| TicketSummary::new(id, title, status))
        .collect();
    let cover = photos
        .iter()
        .find(|p| p.thumbnail_key.is_some())
        .map(|p| urls.sign(p.id, Variant::Thumbnail, now).url);
    Ok(TicketDetail {
        ticket: to_response(t, &names, shows, cover, now)?,
        attachments: photos
            .into_iter()
            .map(|p| AttachmentResponse::new(p, urls, now))
            .collect(),
        timeline,
        merged_into,
        merged_duplicates,
    })
}

/// The ticket `id` with its photos and timeline, if the caller may see it (404 otherwise).
pub async fn visible<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
    urls: &Signer,
) -> AppResult<TicketDetail> {
    let t = policy::find_visible::<ticket::Entity, _>(db, user, Action::TicketRead, id).await?;
    detail(db, user, t, now, urls).await
}

/// A page of the caller's tickets that `f` selects (see [`ticket_views::list`]), shaped for
/// them, and where the next page starts.
#[allow(clippy::too_many_arguments)]
pub async fn page<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    f: &Filter,
    sort: Sort,
    after: Option<After>,
    limit: u64,
    now: DateTime<Utc>,
    urls: &Signer,
) -> AppResult<(Vec<TicketResponse>, Option<After>)> {
    let (rows, next) = ticket_views::list(db, user, f, sort, after, limit, now).await?;
    Ok((responses(db, user, rows, now, urls).await?, next))
}

/// The tickets near ticket `id` that may be its duplicates (see [`ticket_duplicates::nearby`]),
/// shaped for the caller, each with its distance in whole metres.
pub async fn nearby<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    id: Uuid,
    radius_m: u32,
    now: DateTime<Utc>,
    urls: &Signer,
) -> AppResult<Vec<(TicketResponse, u64)>> {
    let found = ticket_duplicates::nearby(db, user, id, radius_m).await?;
    let distances: Vec<u64> = found.iter().map(|(_, d)| d.round() as u64).collect();
    let rows = found.into_iter().map(|(t, _)| t).collect();
    Ok(responses(db, user, rows, now, urls)
        .await?
        .into_iter()
        .zip(distances)
        .collect())
}
