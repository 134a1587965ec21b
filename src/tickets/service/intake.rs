//! Filing a ticket: who may file where and for whom, the idempotency key, the per-resident
//! limit, and the ticket's first timeline entry.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::access::policy::{self, Action, Role, ScopeType};
use crate::access::Actor;
use crate::platform::error::{AppError, AppResult, FieldCode, ProblemCode};
use crate::platform::lang::Text;
use crate::residents::query::resident_refs;
use crate::territory::query::place_lookup;
use crate::tickets::model::{Channel, Status, TimelineKind};
use crate::tickets::service::attachments;
use crate::tickets::service::settings::{self as ticket_settings, category_of};
use crate::tickets::service::timeline::{self, step};
use entity::ticket;

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
                let cmp = place_lookup::compound(db, hh_compound)
                    .await?
                    .ok_or(AppError::NotFound)?;
                let me = resident_refs::of_account(db, user.id).await?;
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
                let cmp = place_lookup::authorize_compound(
                    db,
                    user,
                    Action::CompoundRead,
                    Action::TicketFile,
                    input.compound_id,
                )
                .await?;
                match (input.resident_id, input.requester_name) {
                    (Some(rid), None) => {
                        let r = resident_refs::in_compound(db, rid, cmp.id)
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
        if !place_lookup::building_in_compound(db, b, cmp.id).await? {
            return Err(AppError::invalid(
                "building_id",
                FieldCode::NotFound,
                Text::new("这个小区没有这栋楼", "no such building in the compound"),
            ));
        }
    }
    let comm = place_lookup::community(db, cmp.community_id)
        .await?
        .ok_or(AppError::NotFound)?;
    ticket_settings::ensure_default_categories(db, &comm, now).await?;
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
        channel: Set(channel),
        anonymous: Set(input.anonymous),
        requester_user_id: Set(requester_user_id),
        requester_name: Set(requester_name),
        requester_resident_id: Set(requester_resident_id),
        created_by: Set(user.id),
        idempotency_key: Set(input.idempotency_key.clone()),
        status: Set(Status::Submitted),
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
    let filed = step(TimelineKind::Filed).moves(None, Some(Status::Submitted));
    let ev = timeline::record(db, &t, Some(user), filed, now).await?;
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
