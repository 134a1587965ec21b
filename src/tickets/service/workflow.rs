//! The ticket (诉求) state machine: filing, the verbs that move a ticket, and the system's own
//! moves (escalation, auto-close). Every move happens in one transaction that also appends the
//! timeline entry and queues the notifications.
//!
//! ```text
//! submitted --triage--> triaged --assign--> assigned --accept--> accepted --resolve--> resolved --confirm--> closed
//!     |                  ^   |                 |  |                 |  ^                  |
//!     |                  |   +--reject         |  +-----return------+  |                  +--reopen--> accepted
//!     +--reject          +------return---------+                       |                  +--(auto-close)--> closed
//!     +--cancel (requester, before acceptance: submitted, triaged, assigned)
//! progress (handler or follow-up staff) and urge (requester) keep the status.
//! ```
//!
//! Who may do what is decided per ticket from the caller's relation to it: the requester, the
//! handler (the assigned user, or staff of the assigned property company), or staff whose scope
//! reaches the ticket with the triage, dispatch or follow-up permission.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::actor::load_assignments;
use crate::access::policy::{self, Action, Role, ScopeType};
use crate::access::Actor;
use crate::platform::error::{AppError, AppResult};
use crate::platform::error::{FieldCode, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::notifications::{Event, Payload};
use crate::territory::query::place_lookup;
use crate::tickets::service::attachments;
use crate::tickets::service::settings as ticket_settings;
use entity::{
    building, compound, grid_area, property_company, resident, role_assignment, ticket,
    ticket_category, ticket_event, user,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Submitted,
    Triaged,
    Assigned,
    Accepted,
    Resolved,
    Closed,
    Cancelled,
    Rejected,
    /// Merged into another ticket as its duplicate (`merged_into_id`); terminal.
    Merged,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Submitted,
        Status::Triaged,
        Status::Assigned,
        Status::Accepted,
        Status::Resolved,
        Status::Closed,
        Status::Cancelled,
        Status::Rejected,
        Status::Merged,
    ];
    /// Not finished with: what may be merged, and what a merge may be merged into. Resolved
    /// counts, as its requester has not confirmed it yet.
    pub const LIVE: [Status; 5] = [
        Status::Submitted,
        Status::Triaged,
        Status::Assigned,
        Status::Accepted,
        Status::Resolved,
    ];
    /// Still being worked on: deadlines run, escalation applies.
    pub const OPEN: [Status; 4] = [
        Status::Submitted,
        Status::Triaged,
        Status::Assigned,
        Status::Accepted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Triaged => "triaged",
            Status::Assigned => "assigned",
            Status::Accepted => "accepted",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
            Status::Cancelled => "cancelled",
            Status::Rejected => "rejected",
            Status::Merged => "merged",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// How the status reads to people: the API's `status_label`, the stats, the ledger export
    /// and WeChat messages (at most 5 characters) all take it from here.
    pub fn label_zh(self) -> &'static str {
        match self {
            Status::Submitted => "已提交",
            Status::Triaged => "已受理",
            Status::Assigned => "已派单",
            Status::Accepted => "处理中",
            Status::Resolved => "已办结",
            Status::Closed => "已关闭",
            Status::Cancelled => "已撤销",
            Status::Rejected => "不予受理",
            Status::Merged => "已合并",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Simple: resolved within the green deadline (default 7 days).
    Green,
    /// Harder: within the orange deadline (default 30 days).
    Orange,
    /// Hard: no fixed deadline, a follow-up every N days (default 7) until resolved.
    Red,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Green => "green",
            Priority::Orange => "orange",
            Priority::Red => "red",
        }
    }
    pub fn parse(s: &str) -> Option<Priority> {
        [Priority::Green, Priority::Orange, Priority::Red]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// How a ticket reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    MiniProgram,
    Phone,
    Visit,
    Patrol,
    DutyRoom,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::MiniProgram => "mini_program",
            Channel::Phone => "phone",
            Channel::Visit => "visit",
            Channel::Patrol => "patrol",
            Channel::DutyRoom => "duty_room",
        }
    }
}

/// The highest escalation level: 0 handler, 1 grid manager, 2 community staff, 3 street admin.
pub const MAX_ESCALATION: i32 = 3;
/// A requester may urge a ticket once per this period.
pub const URGE_EVERY: Duration = Duration::hours(24);

/// [`escalation_target`] as staff read it.
pub fn escalation_label_zh(level: i32) -> &'static str {
    match level {
        0 => "处理人",
        1 => "网格员",
        2 => "社区工作人员",
        _ => "街道管理员",
    }
}

pub fn escalation_target(level: i32) -> &'static str {
    match level {
        0 => "handler",
        1 => "grid_manager",
        2 => "community_staff",
        _ => "street_admin",
    }
}

/// Whether the ticket is past its deadline (due date, or a red ticket's follow-up) while open.
pub fn is_overdue(t: &ticket::Model, now: DateTime<Utc>) -> bool {
    t.deadline_at.is_some_and(|d| d < now) && is_open(t)
}

/// The ticket's status; a value this version does not know is an error (logged with the ticket),
/// never read as some other status.
pub fn status_of(t: &ticket::Model) -> AppResult<Status> {
    Status::parse(&t.status).ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "ticket {} has the unknown status {:?}",
            t.id,
            t.status
        ))
    })
}

pub fn is_open(t: &ticket::Model) -> bool {
    Status::parse(&t.status).is_some_and(|s| Status::OPEN.contains(&s))
}

// ---------------------------------------------------------------------------------------------
// Filing
// ---------------------------------------------------------------------------------------------

/// A point on the map in GCJ-02 (the coordinates WeChat's map and `wx.chooseLocation` use in
/// mainland China), in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
}

pub struct NewTicket {
    pub category_id: Uuid,
    pub title: String,
    pub description: String,
    pub compound_id: Uuid,
    pub building_id: Option<Uuid>,
    /// The address text.
    pub location: Option<String>,
    /// Where, as `wx.chooseLocation` gives it (GCJ-02).
    pub coordinates: Option<GeoPoint>,
    pub anonymous: bool,
    pub attachment_ids: Vec<Uuid>,
    /// Set when staff file on a resident's behalf; a resident files through the mini-program.
    pub channel: Option<Channel>,
    /// Staff: the roster resident the ticket is for.
    pub resident_id: Option<Uuid>,
    /// Staff: the requester's name when they are not on the roster.
    pub requester_name: Option<String>,
    /// The request's `Idempotency-Key`: a second filing with it returns the first ticket.
    pub idempotency_key: Option<String>,
}

/// The ticket `user` already filed with `key`, if any.
async fn filed_with<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    key: Option<&str>,
) -> AppResult<Option<ticket::Model>> {
    let Some(key) = key else {
        return Ok(None);
    };
    Ok(ticket::Entity::find()
        .filter(ticket::Column::CreatedBy.eq(user.id))
        .filter(ticket::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

/// Files a ticket. A resident files for their own household's compound (and any of its
/// buildings); staff file anywhere their `TicketFile` scope reaches, with the channel recorded.
/// With an idempotency key already used by this filer, returns that ticket instead (the HTTP
/// layer's replay normally answers first; this holds even when its stored response was lost).
pub async fn file<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    input: NewTicket,
    now: DateTime<Utc>,
) -> AppResult<ticket::Model> {
    if let Some(t) = filed_with(db, user, input.idempotency_key.as_deref()).await? {
        return Ok(t);
    }
    let (cmp, household_id, requester_user_id, requester_name, requester_resident_id, channel) =
        match input.channel {
            None | Some(Channel::MiniProgram) => {
                let hh_id = user
                    .roles
                    .iter()
                    .find(|a| a.role == Role::Resident && a.scope_type == ScopeType::Household)
                    .map(|a| a.scope_id)
                    .ok_or_else(|| {
                        if policy::can_anywhere(user, Action::TicketFile) {
                            AppError::invalid(
                                "channel",
                                FieldCode::Required,
                                Text::new(
                                    "工作人员代居民登记时须注明来源渠道",
                                    "staff filing on a resident's behalf give the channel",
                                ),
                            )
                        } else {
                            AppError::Forbidden
                        }
                    })?;
                if input.resident_id.is_some() || input.requester_name.is_some() {
                    return Err(AppError::invalid(
                        "resident_id",
                        FieldCode::NotAllowed,
                        Text::new(
                            "只有工作人员代居民登记时才填写居民",
                            "only staff filing on a resident's behalf name the resident",
                        ),
                    ));
                }
                limit_filings(db, user, now).await?;
                let hh_compound = place_lookup::household_compound(db, hh_id)
                    .await?
                    .ok_or(AppError::Forbidden)?;
                if hh_compound != input.compound_id {
                    return Err(AppError::invalid(
                        "compound_id",
                        FieldCode::NotYours,
                        Text::new(
                            "居民只能为自己所在的小区提交诉求",
                            "residents file tickets for their own compound",
                        ),
                    ));
                }
                let cmp = compound::Entity::find_by_id(hh_compound)
                    .one(db)
                    .await?
                    .ok_or(AppError::NotFound)?;
                let me = resident::Entity::find()
                    .filter(resident::Column::UserId.eq(user.id))
                    .one(db)
                    .await?;
                let name = me
                    .as_ref()
                    .map(|r| r.name.clone())
                    .unwrap_or_else(|| user.display_name.clone());
                (
                    cmp,
                    Some(hh_id),
                    Some(user.id),
                    Some(name),
                    me.map(|r| r.id),
                    Channel::MiniProgram,
                )
            }
            Some(channel) => {
                if !policy::can_anywhere(user, Action::TicketFile) {
                    return Err(AppError::Forbidden);
                }
                let cmp = policy::authorize_parent::<compound::Entity, _>(
                    db,
                    user,
                    Action::CompoundRead,
                    Action::TicketFile,
                    input.compound_id,
                )
                .await?;
                match (input.resident_id, input.requester_name) {
                    (Some(rid), None) => {
                        let r = resident::Entity::find_by_id(rid)
                            .filter(resident::Column::CompoundId.eq(cmp.id))
                            .one(db)
                            .await?
                            .ok_or_else(|| {
                                AppError::invalid(
                                    "resident_id",
                                    FieldCode::NotFound,
                                    Text::new(
                                        "这个小区没有这位居民",
                                        "no such resident in this compound",
                                    ),
                                )
                            })?;
                        // A resident with an account follows and confirms it themselves;
                        // otherwise the staff member who took it confirms on their behalf.
                        (
                            cmp,
                            Some(r.household_id),
                            Some(r.user_id.unwrap_or(user.id)),
                            Some(r.name),
                            Some(r.id),
                            channel,
                        )
                    }
                    (None, Some(name)) => (cmp, None, Some(user.id), Some(name), None, channel),
                    _ => {
                        return Err(AppError::invalid(
                            "resident_id",
                            FieldCode::Required,
                            Text::new(
                                "请选择居民或填写诉求人姓名",
                                "give either resident_id or requester_name",
                            ),
                        ))
                    }
                }
            }
        };
    if let Some(b) = input.building_id {
        building::Entity::find_by_id(b)
            .filter(building::Column::CompoundId.eq(cmp.id))
            .one(db)
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    "building_id",
                    FieldCode::NotFound,
                    Text::new("这个小区没有这栋楼", "no such building in the compound"),
                )
            })?;
    }
    let comm = place_lookup::community(db, cmp.community_id)
        .await?
        .ok_or(AppError::NotFound)?;
    ticket_settings::ensure_default_categories(db, &comm).await?;
    category_of(db, comm.id, input.category_id).await?;

    let id = Uuid::now_v7();
    let t = ticket::ActiveModel {
        id: Set(id),
        street_id: Set(cmp.street_id),
        community_id: Set(cmp.community_id),
        compound_id: Set(cmp.id),
        building_id: Set(input.building_id),
        household_id: Set(household_id),
        category_id: Set(input.category_id),
        title: Set(input.title),
        description: Set(input.description),
        location: Set(input.location),
        latitude: Set(input.coordinates.map(|p| p.latitude)),
        longitude: Set(input.coordinates.map(|p| p.longitude)),
        merged_into_id: Set(None),
        channel: Set(channel.as_str().into()),
        anonymous: Set(input.anonymous),
        requester_user_id: Set(requester_user_id),
        requester_name: Set(requester_name),
        requester_resident_id: Set(requester_resident_id),
        created_by: Set(user.id),
        idempotency_key: Set(input.idempotency_key.clone()),
        status: Set(Status::Submitted.as_str().into()),
        priority: Set(None),
        triaged_at: Set(None),
        due_at: Set(None),
        next_follow_up_at: Set(None),
        deadline_at: Set(None),
        escalate_at: Set(None),
        escalation_level: Set(0),
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
    }
    .insert(db)
    .await
    .map_err(crate::territory::service::tree::conflict_on_duplicate(
        &Text::new(
            "使用这个 Idempotency-Key 的诉求正在提交，请重试以取得结果",
            "a ticket with this Idempotency-Key is being filed; retry to get it",
        ),
    ))?;
    // The channel is the ticket's own field; the step's note is for words people write.
    let note = None;
    let ev = timeline(
        db,
        &t,
        Some(user),
        "filed",
        None,
        Some(Status::Submitted),
        note,
        now,
    )
    .await?;
    attachments::link(db, user.id, &input.attachment_ids, t.id, ev).await?;
    Ok(t)
}

/// How many tickets a resident may file in [`FILING_WINDOW`] (staff filing on residents' behalf
/// are not limited).
pub const MAX_FILINGS_PER_WINDOW: u64 = 10;
pub const FILING_WINDOW: Duration = Duration::hours(24);

/// 429 when the resident already filed [`MAX_FILINGS_PER_WINDOW`] tickets in the window, with the
/// time until the oldest of them leaves it.
async fn limit_filings<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let recent: Vec<DateTime<Utc>> = ticket::Entity::find()
        .select_only()
        .column(ticket::Column::CreatedAt)
        .filter(ticket::Column::CreatedBy.eq(user.id))
        .filter(ticket::Column::CreatedAt.gt(now - FILING_WINDOW))
        .order_by_desc(ticket::Column::CreatedAt)
        .limit(MAX_FILINGS_PER_WINDOW)
        .into_tuple()
        .all(db)
        .await?;
    if (recent.len() as u64) < MAX_FILINGS_PER_WINDOW {
        return Ok(());
    }
    let oldest = recent.last().copied().unwrap_or(now);
    let wait = (oldest + FILING_WINDOW - now).to_std().unwrap_or_default();
    Err(AppError::limited(
        wait,
        ProblemCode::DailyFilingLimit,
        crate::text!(
            "24 小时内最多提交 {MAX_FILINGS_PER_WINDOW} 件诉求，请稍后再提交",
            "at most {MAX_FILINGS_PER_WINDOW} tickets in 24 hours; file again later"
        ),
    ))
}

async fn category_of<C: ConnectionTrait>(
    db: &C,
    community_id: Uuid,
    id: Uuid,
) -> AppResult<ticket_category::Model> {
    ticket_category::Entity::find_by_id(id)
        .filter(ticket_category::Column::CommunityId.eq(community_id))
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "category_id",
                FieldCode::NotFound,
                Text::new(
                    "不是本社区的诉求类别",
                    "not a ticket category of this community",
                ),
            )
        })
}

/// What a timeline step decided, kept as fields rather than written into its note.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts {
    pub priority: Option<Priority>,
    pub rating: Option<i32>,
    pub escalated_to: Option<&'static str>,
}

#[allow(clippy::too_many_arguments)]
async fn timeline<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
    actor: Option<&Actor>,
    kind: &str,
    from: Option<Status>,
    to: Option<Status>,
    note: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    timeline_with(db, t, actor, kind, from, to, note, Facts::default(), now).await
}

#[allow(clippy::too_many_arguments)]
async fn timeline_with<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
    actor: Option<&Actor>,
    kind: &str,
    from: Option<Status>,
    to: Option<Status>,
    note: Option<String>,
    facts: Facts,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let step = Step {
        kind,
        from,
        to,
        note,
        facts,
        related_ticket_id: None,
    };
    record_step(db, t, actor, step, now).await
}

/// One entry of a ticket's timeline.
pub(crate) struct Step<'a> {
    pub kind: &'a str,
    pub from: Option<Status>,
    pub to: Option<Status>,
    pub note: Option<String>,
    /// What the step decided, as fields.
    pub facts: Facts,
    /// The other ticket a step concerns (the two sides of a merge).
    pub related_ticket_id: Option<Uuid>,
}

/// Appends `step` to ticket `t`'s timeline; returns the entry's id.
pub(crate) async fn record_step<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
    actor: Option<&Actor>,
    step: Step<'_>,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let Step {
        kind,
        from,
        to,
        note,
        facts,
        related_ticket_id,
    } = step;
    let id = Uuid::now_v7();
    ticket_event::ActiveModel {
        id: Set(id),
        ticket_id: Set(t.id),
        street_id: Set(t.street_id),
        community_id: Set(t.community_id),
        actor_user_id: Set(actor.map(|a| a.id)),
        actor_name: Set(actor.map(|a| a.display_name.clone())),
        kind: Set(kind.into()),
        from_status: Set(from.map(|s| s.as_str().to_string())),
        to_status: Set(to.map(|s| s.as_str().to_string())),
        note: Set(note),
        priority: Set(facts.priority.map(|p| p.as_str().to_string())),
        rating: Set(facts.rating),
        escalated_to: Set(facts.escalated_to.map(str::to_string)),
        related_ticket_id: Set(related_ticket_id),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(id)
}

// ---------------------------------------------------------------------------------------------
// Verbs
// ---------------------------------------------------------------------------------------------

/// Whom a ticket is dispatched to.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Company(Uuid),
    User(Uuid),
}

#[derive(Debug, Clone)]
pub enum Command {
    Triage {
        priority: Priority,
        category_id: Option<Uuid>,
        note: Option<String>,
    },
    Assign {
        target: Target,
        note: Option<String>,
    },
    Accept {
        note: Option<String>,
    },
    Return {
        reason: String,
    },
    Progress {
        note: String,
        attachment_ids: Vec<Uuid>,
    },
    Resolve {
        note: String,
        attachment_ids: Vec<Uuid>,
    },
    Confirm {
        rating: i32,
        comment: Option<String>,
    },
    Reopen {
        reason: String,
    },
    Cancel {
        reason: Option<String>,
    },
    Reject {
        reason: String,
    },
    Urge {
        note: Option<String>,
    },
}

/// The caller's relations to one ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Requester,
    Handler,
    Triager,
    Dispatcher,
    FollowUp,
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Triage { .. } => "triage",
            Command::Assign { .. } => "assign",
            Command::Accept { .. } => "accept",
            Command::Return { .. } => "return",
            Command::Progress { .. } => "progress",
            Command::Resolve { .. } => "resolve",
            Command::Confirm { .. } => "confirm",
            Command::Reopen { .. } => "reopen",
            Command::Cancel { .. } => "cancel",
            Command::Reject { .. } => "reject",
            Command::Urge { .. } => "urge",
        }
    }

    /// The states a verb may start from. Anything else is 409.
    pub fn from_states(&self) -> &'static [Status] {
        use Status::*;
        match self {
            Command::Triage { .. } => &[Submitted],
            Command::Assign { .. } => &[Triaged, Assigned],
            Command::Accept { .. } => &[Assigned],
            Command::Return { .. } => &[Assigned, Accepted],
            Command::Progress { .. } => &[Triaged, Assigned, Accepted],
            Command::Resolve { .. } => &[Accepted],
            Command::Confirm { .. } | Command::Reopen { .. } => &[Resolved],
            Command::Cancel { .. } => &[Submitted, Triaged, Assigned],
            Command::Reject { .. } => &[Submitted, Triaged],
            Command::Urge { .. } => &[Submitted, Triaged, Assigned, Accepted],
        }
    }

    /// Who may perform a verb. Anyone else who can see the ticket gets 403.
    pub fn parties(&self) -> &'static [Party] {
        use Party::*;
        match self {
            Command::Triage { .. } | Command::Reject { .. } => &[Triager],
            Command::Assign { .. } => &[Dispatcher],
            Command::Accept { .. } | Command::Return { .. } | Command::Resolve { .. } => &[Handler],
            Command::Progress { .. } => &[Handler, FollowUp],
            Command::Confirm { .. }
            | Command::Reopen { .. }
            | Command::Cancel { .. }
            | Command::Urge { .. } => &[Requester],
        }
    }
}

/// What the caller is to ticket `t`.
pub async fn parties_of<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    t: &ticket::Model,
) -> AppResult<Vec<Party>> {
    let mut out = Vec::new();
    if t.requester_user_id == Some(user.id) {
        out.push(Party::Requester);
    }
    if is_handler(user, t) {
        out.push(Party::Handler);
    }
    for (party, action) in [
        (Party::Triager, Action::TicketTriage),
        (Party::Dispatcher, Action::TicketDispatch),
        (Party::FollowUp, Action::TicketFollowUp),
    ] {
        if policy::reaches::<ticket::Entity, _>(db, user, action, t.id).await? {
            out.push(party);
        }
    }
    Ok(out)
}

fn is_handler(user: &Actor, t: &ticket::Model) -> bool {
    t.handler_user_id == Some(user.id)
        || t.assigned_company_id.is_some_and(|c| {
            user.roles.iter().any(|a| {
                a.scope_type == ScopeType::PropertyCompany
                    && a.scope_id == c
                    && policy::allowed(a.role, Action::TicketHandle)
            })
        })
}

/// Whether the caller sees the requester's name: the requester, and staff who triage tickets
/// there, always; everyone else (the property company, other residents) not when the requester
/// asked to stay anonymous.
pub fn shows_requester(parties: &[Party], t: &ticket::Model) -> bool {
    !t.anonymous || parties.contains(&Party::Requester) || parties.contains(&Party::Triager)
}

/// Applies one verb to ticket `id` for `user`: 404 if they cannot see it, 403 if they may not
/// do this to it, 412 if `if_match` is stale, 409 if the ticket is in the wrong state.
pub async fn apply(
    db: &DatabaseConnection,
    user: &Actor,
    id: Uuid,
    if_match: Option<i32>,
    cmd: Command,
    now: DateTime<Utc>,
) -> AppResult<ticket::Model> {
    let txn = db.begin().await?;
    let t = policy::find_visible::<ticket::Entity, _>(&txn, user, Action::TicketRead, id).await?;
    let parties = parties_of(&txn, user, &t).await?;
    if !cmd.parties().iter().any(|p| parties.contains(p)) {
        return Err(AppError::Forbidden);
    }
    if if_match.is_some_and(|v| v != t.version) {
        return Err(AppError::PreconditionFailed);
    }
    let from = status_of(&t)?;
    if from == Status::Merged {
        return Err(already_merged());
    }
    if !cmd.from_states().contains(&from) {
        return Err(AppError::conflict(
            ProblemCode::WrongStatus,
            Text::new(
                format!(
                    "诉求当前为“{}”，不能{}",
                    from.label_zh(),
                    verb_zh(cmd.name())
                ),
                format!(
                    "a {} ticket cannot be {}",
                    from.as_str(),
                    past_tense(cmd.name())
                ),
            ),
        ));
    }
    // Claim the version first: a concurrent move of the same ticket now waits for us, then finds
    // the version gone and fails instead of overwriting.
    claim(&txn, &t, if_match.is_some()).await?;
    let (policy, _) = ticket_settings::policy_of(&txn, t.community_id).await?;
    let mut am = t.clone().into_active_model();
    am.version = Set(t.version + 1);
    am.updated_at = Set(now);
    let mut to = from;
    let note: Option<String>;
    let mut facts = Facts::default();
    let mut photos: Vec<Uuid> = Vec::new();
    let mut notify_handlers: Option<Event> = None;
    match &cmd {
        Command::Triage {
            priority,
            category_id,
            note: n,
        } => {
            if let Some(c) = category_id {
                category_of(&txn, t.community_id, *c).await?;
                am.category_id = Set(*c);
            }
            to = Status::Triaged;
            am.priority = Set(Some(priority.as_str().into()));
            am.triaged_at = Set(Some(now));
            let (due, follow_up) = match priority {
                Priority::Green => (Some(now + Duration::days(policy.green_days.into())), None),
                Priority::Orange => (Some(now + Duration::days(policy.orange_days.into())), None),
                Priority::Red => (
                    None,
                    Some(now + Duration::days(policy.red_follow_up_days.into())),
                ),
            };
            am.due_at = Set(due);
            am.next_follow_up_at = Set(follow_up);
            set_deadline(&mut am, due.or(follow_up), t.escalation_level);
            facts.priority = Some(*priority);
            note = n.clone();
        }
        Command::Assign { target, note: n } => {
            let (company, handler) = match target {
                Target::Company(c) => {
                    property_company::Entity::find_by_id(*c)
                        .filter(property_company::Column::StreetId.eq(t.street_id))
                        .one(&txn)
                        .await?
                        .ok_or_else(|| {
                            AppError::invalid(
                                "property_company_id",
                                FieldCode::NotFound,
                                Text::new(
                                    "本街道没有这家物业公司",
                                    "no such property company in this street",
                                ),
                            )
                        })?;
                    (Some(*c), None)
                }
                Target::User(u) => {
                    let roles = load_assignments(&txn, *u).await?;
                    let them = Actor::new(*u, roles);
                    let active = user::Entity::find_by_id(*u)
                        .one(&txn)
                        .await?
                        .is_some_and(|x| x.is_active);
                    if !active
                        || !policy::reaches::<ticket::Entity, _>(
                            &txn,
                            &them,
                            Action::TicketFollowUp,
                            t.id,
                        )
                        .await?
                    {
                        return Err(AppError::invalid(
                            "handler_user_id",
                            FieldCode::NotEligible,
                            Text::new(
                                "处理人须是负责该诉求所在范围的工作人员（网格员或社区工作人员）",
                                "the handler must be staff (grid manager or community staff) whose scope covers the ticket",
                            ),
                        ));
                    }
                    (None, Some(*u))
                }
            };
            to = Status::Assigned;
            am.assigned_company_id = Set(company);
            am.handler_user_id = Set(handler);
            am.assigned_at = Set(Some(now));
            am.accepted_at = Set(None);
            note = n.clone();
            notify_handlers = Some(Event::TicketAssigned);
        }
        Command::Accept { note: n } => {
            to = Status::Accepted;
            am.accepted_at = Set(Some(now));
            note = n.clone();
        }
        Command::Return { reason } => {
            to = Status::Triaged;
            am.assigned_company_id = Set(None);
            am.handler_user_id = Set(None);
            am.assigned_at = Set(None);
            am.accepted_at = Set(None);
            am.reason = Set(Some(reason.clone()));
            note = Some(reason.clone());
        }
        Command::Progress {
            note: n,
            attachment_ids,
        } => {
            if t.priority.as_deref() == Some(Priority::Red.as_str()) {
                let next = now + Duration::days(policy.red_follow_up_days.into());
                am.next_follow_up_at = Set(Some(next));
                set_deadline(&mut am, Some(next), t.escalation_level);
            }
            note = Some(n.clone());
            photos = attachment_ids.clone();
        }
        Command::Resolve {
            note: n,
            attachment_ids,
        } => {
            to = Status::Resolved;
            am.resolved_at = Set(Some(now));
            am.auto_close_at = Set(Some(now + Duration::days(policy.auto_close_days.into())));
            set_deadline(&mut am, None, t.escalation_level);
            note = Some(n.clone());
            photos = attachment_ids.clone();
        }
        Command::Confirm { rating, comment } => {
            to = Status::Closed;
            am.closed_at = Set(Some(now));
            am.auto_close_at = Set(None);
            am.rating = Set(Some(*rating));
            am.feedback = Set(comment.clone());
            facts.rating = Some(*rating);
            note = comment.clone();
        }
        Command::Reopen { reason } => {
            to = Status::Accepted;
            am.resolved_at = Set(None);
            am.auto_close_at = Set(None);
            am.reopen_count = Set(t.reopen_count + 1);
            am.reason = Set(Some(reason.clone()));
            let deadline = if t.priority.as_deref() == Some(Priority::Red.as_str()) {
                let next = now + Duration::days(policy.red_follow_up_days.into());
                am.next_follow_up_at = Set(Some(next));
                Some(next)
            } else {
                t.due_at
            };
            set_deadline(&mut am, deadline, t.escalation_level);
            note = Some(reason.clone());
        }
        Command::Cancel { reason } => {
            to = Status::Cancelled;
            am.closed_at = Set(Some(now));
            am.reason = Set(reason.clone());
            set_deadline(&mut am, None, t.escalation_level);
            note = reason.clone();
        }
        Command::Reject { reason } => {
            to = Status::Rejected;
            am.closed_at = Set(Some(now));
            am.reason = Set(Some(reason.clone()));
            set_deadline(&mut am, None, t.escalation_level);
            note = Some(reason.clone());
        }
        Command::Urge { note: n } => {
            if let Some(last) = t.last_urged_at {
                let next = last + URGE_EVERY;
                if next > now {
                    let wait = (next - now).to_std().unwrap_or_default();
                    return Err(AppError::limited(
                        wait,
                        ProblemCode::AlreadyUrgedToday,
                        Text::new(
                            "这件诉求今天已经催办过了，明天可以再催",
                            "this ticket was already urged today; urge again tomorrow",
                        ),
                    ));
                }
            }
            am.last_urged_at = Set(Some(now));
            am.urge_count = Set(t.urge_count + 1);
            note = n.clone();
            notify_handlers = Some(Event::TicketUrged);
        }
    }
    am.status = Set(to.as_str().into());
    let updated = am.update(&txn).await?;
    let changed = to != from;
    let ev = timeline_with(
        &txn,
        &updated,
        Some(user),
        cmd.name(),
        Some(from),
        changed.then_some(to),
        note.clone(),
        facts,
        now,
    )
    .await?;
    attachments::link(&txn, user.id, &photos, updated.id, ev).await?;
    let payload = Payload {
        title: updated.title.clone(),
        status: to.label_zh().into(),
        note: note.clone(),
        at: now,
    };
    if changed {
        if let Some(r) = updated.requester_user_id.filter(|r| *r != user.id) {
            crate::tickets::service::notify::enqueue(
                &txn,
                Event::TicketStatusChanged,
                &updated,
                &[r],
                &payload,
                now,
            )
            .await?;
        }
    }
    if let Some(event) = notify_handlers {
        let to_notify = handlers_of(&txn, &updated).await?;
        let payload = Payload {
            status: if event == Event::TicketUrged {
                "催办".into()
            } else {
                payload.status.clone()
            },
            ..payload
        };
        crate::tickets::service::notify::enqueue(&txn, event, &updated, &to_notify, &payload, now)
            .await?;
    }
    txn.commit().await?;
    tracing::info!(ticket = %updated.id, verb = cmd.name(), from = from.as_str(), to = to.as_str(), by = %user.id, "ticket moved");
    Ok(updated)
}

/// The verb as a resident reads it, after “不能”.
fn verb_zh(verb: &str) -> &'static str {
    match verb {
        "triage" => "分类研判",
        "assign" => "派单",
        "accept" => "受理",
        "return" => "退回",
        "progress" => "记录进展",
        "resolve" => "办结",
        "confirm" => "确认",
        "reopen" => "重新打开",
        "cancel" => "撤销",
        "reject" => "驳回",
        "urge" => "催办",
        _ => "变更",
    }
}

fn past_tense(verb: &str) -> &'static str {
    match verb {
        "triage" => "triaged",
        "assign" => "assigned",
        "accept" => "accepted",
        "return" => "returned",
        "progress" => "followed up",
        "resolve" => "resolved",
        "confirm" => "confirmed",
        "reopen" => "reopened",
        "cancel" => "cancelled",
        "reject" => "rejected",
        "urge" => "urged",
        _ => "changed",
    }
}

/// Sets the running deadline and when escalation next looks at the ticket.
fn set_deadline(am: &mut ticket::ActiveModel, deadline: Option<DateTime<Utc>>, level: i32) {
    am.deadline_at = Set(deadline);
    am.escalate_at = Set(deadline.filter(|_| level < MAX_ESCALATION));
}

/// Bumps the version if it is still the one read; otherwise someone else moved the ticket
/// since: 412 for a caller who sent `If-Match`, 409 for one who did not.
pub(crate) async fn claim<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
    had_if_match: bool,
) -> AppResult<()> {
    let done = ticket::Entity::update_many()
        .col_expr(ticket::Column::Version, Expr::value(t.version + 1))
        .filter(ticket::Column::Id.eq(t.id))
        .filter(ticket::Column::Version.eq(t.version))
        .exec(db)
        .await?;
    if done.rows_affected == 1 {
        Ok(())
    } else if had_if_match {
        Err(AppError::PreconditionFailed)
    } else {
        Err(AppError::conflict(
            ProblemCode::ConcurrentChange,
            Text::new(
                "诉求刚被他人修改，请刷新后重试",
                "the ticket was changed at the same time; reload and retry",
            ),
        ))
    }
}

/// The users who work ticket `t`: its handler, or every staff member of its property company.
pub async fn handlers_of<C: ConnectionTrait>(db: &C, t: &ticket::Model) -> AppResult<Vec<Uuid>> {
    if let Some(u) = t.handler_user_id {
        return Ok(vec![u]);
    }
    match t.assigned_company_id {
        Some(c) => holders(db, Role::PropertyStaff, &[c]).await,
        None => Ok(Vec::new()),
    }
}

/// The users holding `role` on any of `scopes`.
pub async fn holders<C: ConnectionTrait>(
    db: &C,
    role: Role,
    scopes: &[Uuid],
) -> AppResult<Vec<Uuid>> {
    if scopes.is_empty() {
        return Ok(Vec::new());
    }
    Ok(role_assignment::Entity::find()
        .select_only()
        .column(role_assignment::Column::UserId)
        .filter(role_assignment::Column::Role.eq(role.as_str()))
        .filter(role_assignment::Column::ScopeId.is_in(scopes.iter().copied()))
        .into_tuple()
        .all(db)
        .await?)
}

/// Who is told when a ticket reaches escalation `level`.
async fn escalation_recipients<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
    level: i32,
) -> AppResult<Vec<Uuid>> {
    match level {
        1 => {
            let mut cond =
                sea_orm::Condition::any().add(grid_area::Column::CompoundId.eq(t.compound_id));
            if let Some(b) = t.building_id {
                cond = cond.add(grid_area::Column::BuildingId.eq(b));
            }
            let grids: Vec<Uuid> = grid_area::Entity::find()
                .select_only()
                .column(grid_area::Column::GridId)
                .filter(cond)
                .into_tuple()
                .all(db)
                .await?;
            holders(db, Role::GridManager, &grids).await
        }
        2 => holders(db, Role::CommunityStaff, &[t.community_id]).await,
        _ => holders(db, Role::Admin, &[t.street_id]).await,
    }
}

// ---------------------------------------------------------------------------------------------
// The system's moves
// ---------------------------------------------------------------------------------------------

/// How many tickets one round of a job looks at; the rest wait for the next round.
const JOB_BATCH: u64 = 200;

/// Raises every overdue ticket one escalation level, exactly once per level: the raise is a
/// conditional update on the level read, so of several replicas racing only one succeeds, and
/// only that one writes the timeline entry and the notifications.
pub async fn escalate_due(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<u64> {
    let due = ticket::Entity::find()
        .filter(ticket::Column::EscalateAt.lte(now))
        .filter(ticket::Column::EscalationLevel.lt(MAX_ESCALATION))
        .filter(ticket::Column::Status.is_in(Status::OPEN.map(Status::as_str)))
        .order_by_asc(ticket::Column::EscalateAt)
        .limit(JOB_BATCH)
        .all(db)
        .await?;
    let mut raised = 0;
    for t in due {
        let txn = db.begin().await?;
        let (policy, _) = ticket_settings::policy_of(&txn, t.community_id).await?;
        let level = t.escalation_level + 1;
        let next = (level < MAX_ESCALATION)
            .then(|| now + Duration::hours(policy.escalation_interval_hours.into()));
        let done = ticket::Entity::update_many()
            .col_expr(ticket::Column::EscalationLevel, Expr::value(level))
            .col_expr(ticket::Column::EscalateAt, Expr::value(next))
            .col_expr(
                ticket::Column::Version,
                Expr::col(ticket::Column::Version).add(1),
            )
            .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
            .filter(ticket::Column::Id.eq(t.id))
            .filter(ticket::Column::EscalationLevel.eq(t.escalation_level))
            .filter(ticket::Column::EscalateAt.lte(now))
            .filter(ticket::Column::Status.is_in(Status::OPEN.map(Status::as_str)))
            .exec(&txn)
            .await?;
        if done.rows_affected != 1 {
            txn.rollback().await?;
            continue;
        }
        let note = format!("已超期，升级至{}", escalation_label_zh(level));
        timeline_with(
            &txn,
            &t,
            None,
            "escalated",
            None,
            None,
            None,
            Facts {
                escalated_to: Some(escalation_target(level)),
                ..Facts::default()
            },
            now,
        )
        .await?;
        let to = escalation_recipients(&txn, &t, level).await?;
        let payload = Payload {
            title: t.title.clone(),
            status: "已升级".into(),
            note: Some(note),
            at: now,
        };
        crate::tickets::service::notify::enqueue(
            &txn,
            Event::TicketEscalated,
            &t,
            &to,
            &payload,
            now,
        )
        .await?;
        txn.commit().await?;
        tracing::info!(ticket = %t.id, level, "ticket escalated");
        raised += 1;
    }
    Ok(raised)
}

/// Closes resolved tickets whose requester did not confirm or reject in time, marked as such.
pub async fn auto_close_due(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<u64> {
    let due = ticket::Entity::find()
        .filter(ticket::Column::AutoCloseAt.lte(now))
        .filter(ticket::Column::Status.eq(Status::Resolved.as_str()))
        .order_by_asc(ticket::Column::AutoCloseAt)
        .limit(JOB_BATCH)
        .all(db)
        .await?;
    let mut closed = 0;
    for t in due {
        let txn = db.begin().await?;
        let done = ticket::Entity::update_many()
            .col_expr(ticket::Column::Status, Expr::value(Status::Closed.as_str()))
            .col_expr(ticket::Column::ClosedAt, Expr::value(Some(now)))
            .col_expr(ticket::Column::AutoClosed, Expr::value(true))
            .col_expr(
                ticket::Column::AutoCloseAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                ticket::Column::Version,
                Expr::col(ticket::Column::Version).add(1),
            )
            .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
            .filter(ticket::Column::Id.eq(t.id))
            .filter(ticket::Column::Version.eq(t.version))
            .filter(ticket::Column::Status.eq(Status::Resolved.as_str()))
            .exec(&txn)
            .await?;
        if done.rows_affected != 1 {
            txn.rollback().await?;
            continue;
        }
        let note = "not confirmed in time; closed automatically".to_string();
        timeline(
            &txn,
            &t,
            None,
            "auto_closed",
            Some(Status::Resolved),
            Some(Status::Closed),
            Some(note.clone()),
            now,
        )
        .await?;
        if let Some(r) = t.requester_user_id {
            let payload = Payload {
                title: t.title.clone(),
                status: Status::Closed.label_zh().into(),
                // What the requester reads (WeChat, message centre); the timeline keeps the
                // log's words.
                note: Some("超时未确认，已自动关闭".into()),
                at: now,
            };
            crate::tickets::service::notify::enqueue(
                &txn,
                Event::TicketStatusChanged,
                &t,
                &[r],
                &payload,
                now,
            )
            .await?;
        }
        txn.commit().await?;
        closed += 1;
    }
    Ok(closed)
}

/// An erased account (DELETE /me) leaves the community's ledger: its tickets stay, without the
/// requester's name or account; its name leaves the timelines; its queued messages go.
/// `as_staff`: the account acted in an official capacity (it held a staff role), and what it
/// did on tickets is the office's record: timeline entries keep the name they were written
/// with (an immutable snapshot) and lose only the link to the erased account. A resident's own
/// entries are anonymised.
pub async fn forget_user<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    as_staff: bool,
) -> AppResult<()> {
    ticket::Entity::update_many()
        .col_expr(
            ticket::Column::RequesterUserId,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(
            ticket::Column::RequesterName,
            Expr::value(Option::<String>::None),
        )
        .filter(ticket::Column::RequesterUserId.eq(user_id))
        .exec(db)
        .await?;
    let mut events = ticket_event::Entity::update_many().col_expr(
        ticket_event::Column::ActorUserId,
        Expr::value(Option::<Uuid>::None),
    );
    if !as_staff {
        events = events.col_expr(
            ticket_event::Column::ActorName,
            Expr::value(Option::<String>::None),
        );
    }
    events
        .filter(ticket_event::Column::ActorUserId.eq(user_id))
        .exec(db)
        .await?;
    crate::platform::notifications::forget_recipient(db, user_id).await
}

/// A merged ticket takes no further step.
pub fn already_merged() -> AppError {
    AppError::conflict(
        ProblemCode::TicketAlreadyMerged,
        Text::new(
            "该诉求已合并到另一诉求，不能再操作",
            "the ticket was merged into another and takes no further step",
        ),
    )
}
