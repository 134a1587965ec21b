//! Notices as screens read them: lists for staff and leaders, a resident's own list (unread
//! first) with its unread count, one notice, its receipts by building, the households not yet
//! reached, and the moderation queue.

use std::collections::HashMap;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, RelationDef,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Actor;
use crate::notices::model::{self, Category, Place, Priority, Reach, Status};
use crate::notices::policy;
use crate::notices::service::{self, audience};
use crate::platform::attachments::{self, AttachmentResponse, SubjectType};
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError};
use crate::platform::lang::Text;
use crate::platform::paging::{cut_page, Page, PageParams};
use crate::platform::signed_urls::Signer;
use entity::{notice, notice_household_reach as reach, notice_recipient as recipient};

/// A notice as every screen shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeResponse {
    pub id: Uuid,
    /// The level of the place it is addressed to.
    pub scope_type: Place,
    pub scope_id: Uuid,
    /// The name of that place (街道, 社区, 小区 or 楼栋).
    pub scope_name: String,
    pub street_id: Uuid,
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    /// Addressed to residents carrying any of these tags; empty: everyone in the place.
    pub audience_tags: Vec<String>,
    /// Whether shops (商铺) of the place are addressed too.
    pub include_shops: bool,
    pub category: Category,
    /// `通知`, `公示`, `活动`, `安全提示`, `政策`, `资金公开`.
    pub category_label: String,
    pub title: String,
    pub body: String,
    pub priority: Priority,
    /// Whether recipients are asked to confirm (回执).
    pub requires_confirmation: bool,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub publish_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub pinned_until: Option<DateTime<Utc>>,
    /// Pinned now (`pinned_until` lies ahead).
    pub pinned: bool,
    /// Expired now (`expires_at` has passed): still readable, no longer counted unread.
    pub expired: bool,
    pub status: Status,
    /// `草稿`, `待审核`, `待发布`, `已发布`, `已撤回`.
    pub status_label: String,
    /// Why the content check held it (only while `pending_review`, for its writers).
    pub review_label: Option<String>,
    /// What a moderator said when sending it back to draft.
    pub review_note: Option<String>,
    pub recipients_count: i32,
    pub read_count: i32,
    pub confirmed_count: i32,
    /// Households the notice is addressed to, counted at publication.
    pub households_total: i32,
    /// Households a member's read or an offline record reached, each once.
    pub households_reached: i32,
    pub created_by_name: String,
    pub published_by_name: Option<String>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub published_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_reason: Option<String>,
    /// Its photos, oldest first, with signed URLs (`<image src>` needs no token).
    pub photos: Vec<AttachmentResponse>,
    /// The caller's own receipt: null when the caller is no recipient.
    pub my_receipt: Option<MyReceipt>,
    /// The `ETag` of the notice, for `If-Match`.
    pub version: i32,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

/// The caller's receipt of a notice.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyReceipt {
    pub read: bool,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub read_at: Option<DateTime<Utc>>,
    pub confirmed: bool,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl From<service::Receipt> for MyReceipt {
    fn from(r: service::Receipt) -> Self {
        MyReceipt {
            read: r.read_at.is_some(),
            read_at: r.read_at,
            confirmed: r.confirmed_at.is_some(),
            confirmed_at: r.confirmed_at,
        }
    }
}

/// Responses for `rows`, with their places' names and the caller's receipts, in a few
/// statements for the whole page.
pub async fn respond_all<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    rows: Vec<notice::Model>,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<Vec<NoticeResponse>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let places: Vec<(crate::access::policy::Level, Uuid)> = rows
        .iter()
        .map(|n| (policy::level_of(n.scope_type), n.scope_id))
        .collect();
    let names = crate::territory::query::place_lookup::node_names(db, &places).await?;
    let ids: Vec<Uuid> = rows.iter().map(|n| n.id).collect();
    let mut photos = attachments::of_subjects(db, SubjectType::Notice, &ids).await?;
    let receipts: HashMap<Uuid, recipient::Model> = recipient::Entity::find()
        .filter(recipient::Column::UserId.eq(actor.id))
        .filter(recipient::Column::NoticeId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.notice_id, r))
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for n in rows {
        let tags = service::tags_of(&n)?;
        let my_receipt = receipts.get(&n.id).map(|r| {
            MyReceipt::from(service::Receipt {
                read_at: r.read_at,
                confirmed_at: r.confirmed_at,
            })
        });
        let held = n.status == Status::PendingReview;
        out.push(NoticeResponse {
            id: n.id,
            scope_type: n.scope_type,
            scope_id: n.scope_id,
            scope_name: names.get(&n.scope_id).cloned().unwrap_or_default(),
            street_id: n.street_id,
            community_id: n.community_id,
            compound_id: n.compound_id,
            building_id: n.building_id,
            audience_tags: tags,
            include_shops: n.include_shops,
            category: n.category,
            category_label: model::category_label(n.category).to_string(),
            title: n.title,
            body: n.body,
            priority: n.priority,
            requires_confirmation: n.requires_confirmation,
            publish_at: n.publish_at,
            expires_at: n.expires_at,
            pinned_until: n.pinned_until,
            pinned: n.pinned_until.is_some_and(|p| p > now),
            expired: n.expires_at.is_some_and(|e| e <= now),
            status: n.status,
            status_label: model::status_label(n.status).to_string(),
            review_label: if held { n.review_label } else { None },
            review_note: n.review_note,
            recipients_count: n.recipients_count,
            read_count: n.read_count,
            confirmed_count: n.confirmed_count,
            households_total: n.households_total,
            households_reached: n.households_reached,
            created_by_name: n.created_by_name,
            published_by_name: n.published_by_name,
            published_at: n.published_at,
            withdrawn_at: n.withdrawn_at,
            withdrawn_reason: n.withdrawn_reason,
            photos: photos
                .remove(&n.id)
                .unwrap_or_default()
                .into_iter()
                .map(|a| AttachmentResponse::new(a, urls, now))
                .collect(),
            my_receipt,
            version: n.version,
            created_at: n.created_at,
            updated_at: n.updated_at,
        });
    }
    Ok(out)
}

/// One response.
pub async fn respond<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    n: notice::Model,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<NoticeResponse> {
    respond_all(db, actor, vec![n], urls, now)
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// A notice the caller may read.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<NoticeResponse> {
    let n = service::readable_notice(db, actor, id).await?;
    respond(db, actor, n, urls, now).await
}

/// Filters of the notice list.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub scope_id: Option<Uuid>,
    pub status: Option<Status>,
    pub category: Option<Category>,
    pub pinned: Option<bool>,
}

/// The notices the caller may read, newest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    f: Filters,
    p: PageParams,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<Page<NoticeResponse>> {
    let mut filter = Condition::all();
    if let Some(v) = f.community_id {
        filter = filter.add(notice::Column::CommunityId.eq(v));
    }
    if let Some(v) = f.compound_id {
        filter = filter.add(notice::Column::CompoundId.eq(v));
    }
    if let Some(v) = f.building_id {
        filter = filter.add(notice::Column::BuildingId.eq(v));
    }
    if let Some(v) = f.scope_id {
        filter = filter.add(notice::Column::ScopeId.eq(v));
    }
    if let Some(v) = f.status {
        filter = filter.add(notice::Column::Status.eq(v));
    }
    if let Some(v) = f.category {
        filter = filter.add(notice::Column::Category.eq(v));
    }
    match f.pinned {
        Some(true) => filter = filter.add(notice::Column::PinnedUntil.gt(now)),
        Some(false) => {
            filter = filter.add(
                Condition::any()
                    .add(notice::Column::PinnedUntil.is_null())
                    .add(notice::Column::PinnedUntil.lte(now)),
            )
        }
        None => {}
    }
    if let Some(after) = p.after {
        filter = filter.add(notice::Column::Id.lt(after));
    }
    // One walk of `(column, id)` backwards per branch of the caller's reach, at most a page
    // each, merged: a page costs a page per branch, not the caller's whole reach.
    let branches = policy::readable_branches(db, actor)
        .await?
        .unwrap_or_else(|| {
            vec![policy::Branch {
                condition: Condition::all(),
                audience: false,
            }]
        });
    // Each row with whether a downward branch reached it (else only the audience reach did).
    let mut rows: Vec<(notice::Model, bool)> = Vec::new();
    for b in branches {
        let found = notice::Entity::find()
            .filter(filter.clone())
            .filter(b.condition)
            .order_by_desc(notice::Column::Id)
            .limit(p.limit + 1)
            .all(db)
            .await?;
        rows.extend(found.into_iter().map(|n| (n, !b.audience)));
    }
    rows.sort_by(|(a, da), (b, db_)| b.id.cmp(&a.id).then(db_.cmp(da)));
    rows.dedup_by_key(|(n, _)| n.id);
    let (rows, next_cursor) = cut_page(rows, p.limit, |(n, _)| n.id);
    // A notice addressed to some tags that only the audience reach found is the caller's only
    // if it reached them: checked for the page's rows (the page may come out short; the cursor
    // still moves past what was examined).
    let tagged: Vec<Uuid> = rows
        .iter()
        .filter(|(n, down)| !down && n.audience_tags != "[]")
        .map(|(n, _)| n.id)
        .collect();
    let mine: std::collections::HashSet<Uuid> = if tagged.is_empty() {
        Default::default()
    } else {
        recipient::Entity::find()
            .select_only()
            .column(recipient::Column::NoticeId)
            .filter(recipient::Column::UserId.eq(actor.id))
            .filter(recipient::Column::NoticeId.is_in(tagged))
            .into_tuple::<Uuid>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    let rows: Vec<notice::Model> = rows
        .into_iter()
        .filter(|(n, down)| *down || n.audience_tags == "[]" || mine.contains(&n.id))
        .map(|(n, _)| n)
        .collect();
    Ok(Page {
        items: respond_all(db, actor, rows, urls, now).await?,
        next_cursor,
    })
}

/// A resident's notices: unread first, then read, each newest publication first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyNotices {
    pub items: Vec<NoticeResponse>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// Published, unexpired notices the caller has not read (the badge).
    pub unread_count: u64,
}

/// The pattern of a cursor of `/me/notices`: `u` (unread part) or `r` (read part) and a key.
pub const MY_CURSOR_PATTERN: &str = "^[ur][A-Za-z0-9_-]{21}[AQgw]$";

fn my_cursor(read: bool, key: Uuid) -> String {
    format!(
        "{}{}",
        if read { 'r' } else { 'u' },
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.as_bytes())
    )
}

fn bad_cursor() -> AppError {
    AppError::InvalidQuery(vec![FieldError::of(
        "cursor",
        FieldCode::Invalid,
        Text::new("cursor 无效", "not a cursor of this list"),
    )])
}

/// Parses a `/me/notices` cursor: which part, and the last key seen in it.
pub fn parse_my_cursor(s: &str) -> AppResult<(bool, Uuid)> {
    let read = match s.chars().next() {
        Some('u') => false,
        Some('r') => true,
        _ => return Err(bad_cursor()),
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&s[1..])
        .map_err(|_| bad_cursor())?;
    let key = Uuid::from_slice(&bytes).map_err(|_| bad_cursor())?;
    Ok((read, key))
}

fn to_notice() -> RelationDef {
    recipient::Entity::belongs_to(notice::Entity)
        .from(recipient::Column::NoticeId)
        .to(notice::Column::Id)
        .into()
}

/// One part of the caller's list (unread or read), after `after`, as notices.
async fn my_part<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    read: bool,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<Vec<(Uuid, notice::Model)>> {
    let mut q = recipient::Entity::find()
        .filter(recipient::Column::UserId.eq(user))
        .filter(recipient::Column::IsRead.eq(read))
        .join(JoinType::InnerJoin, to_notice())
        .filter(notice::Column::Status.eq(Status::Published));
    if let Some(after) = after {
        q = q.filter(recipient::Column::SortKey.lt(after));
    }
    let rows: Vec<(recipient::Model, Option<notice::Model>)> = q
        // A notice's sort key is drawn once at its publication: unique per notice, so it orders
        // a recipient's rows alone, as the `(user_id, is_read, sort_key)` index holds them.
        .order_by_desc(recipient::Column::SortKey)
        .limit(limit)
        .select_also(notice::Entity)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(r, n)| n.map(|n| (r.sort_key, n)))
        .collect())
}

/// The caller's notices (those published to them), unread first; `unread` only the unread.
pub async fn mine<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    unread_only: bool,
    limit: u64,
    cursor: Option<&str>,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<MyNotices> {
    let (mut in_read, after) = match cursor {
        Some(c) => {
            let (r, k) = parse_my_cursor(c)?;
            (r, Some(k))
        }
        None => (false, None),
    };
    // A cursor into the read part, asked for unread ones only: the unread part is behind it.
    if in_read && unread_only {
        return Ok(MyNotices {
            items: Vec::new(),
            next_cursor: None,
            unread_count: unread_count(db, actor.id, now).await?,
        });
    }
    let mut got: Vec<(bool, Uuid, notice::Model)> = Vec::new();
    if !in_read {
        for (k, n) in my_part(db, actor.id, false, after, limit + 1).await? {
            got.push((false, k, n));
        }
    }
    if (got.len() as u64) <= limit && !unread_only {
        let after_read = if in_read { after } else { None };
        let want = limit + 1 - got.len() as u64;
        for (k, n) in my_part(db, actor.id, true, after_read, want).await? {
            got.push((true, k, n));
        }
        in_read = true;
    }
    let _ = in_read;
    let more = got.len() as u64 > limit;
    got.truncate(limit as usize);
    let next_cursor = if more {
        got.last().map(|(r, k, _)| my_cursor(*r, *k))
    } else {
        None
    };
    let unread_count = unread_count(db, actor.id, now).await?;
    let rows = got.into_iter().map(|(_, _, n)| n).collect();
    Ok(MyNotices {
        items: respond_all(db, actor, rows, urls, now).await?,
        next_cursor,
        unread_count,
    })
}

/// Published, unexpired notices `user` has not read (the badge).
async fn unread_count<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    Ok(recipient::Entity::find()
        .filter(recipient::Column::UserId.eq(user))
        .filter(recipient::Column::IsRead.eq(false))
        .join(JoinType::InnerJoin, to_notice())
        .filter(notice::Column::Status.eq(Status::Published))
        .filter(
            Condition::any()
                .add(notice::Column::ExpiresAt.is_null())
                .add(notice::Column::ExpiresAt.gt(now)),
        )
        .count(db)
        .await?)
}

/// A notice's receipts in one building.
#[derive(Debug, Serialize, ToSchema)]
pub struct BuildingReceipts {
    pub building_id: Uuid,
    pub building_name: String,
    pub recipients: i64,
    pub read: i64,
    pub confirmed: i64,
    pub households_total: i64,
    pub households_reached: i64,
}

/// A notice's receipts: the totals and, per building of its place, who read, confirmed and
/// which households were reached.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeReceipts {
    pub notice_id: Uuid,
    pub recipients_count: i32,
    pub read_count: i32,
    pub confirmed_count: i32,
    pub households_total: i32,
    pub households_reached: i32,
    /// Per building the caller may follow up, by building name.
    pub buildings: Vec<BuildingReceipts>,
}

/// The receipts of a notice, for who follows it up: its writers and staff down their reach see
/// every building; a building leader their own building.
pub async fn receipts<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<NoticeReceipts> {
    let n = service::readable_notice(db, actor, id).await?;
    let follow = policy::follow_up(db, actor, &n).await?;
    let a = service::audience_of(&n)?;
    let mut per: HashMap<Uuid, (Uuid, BuildingReceipts)> = HashMap::new();
    for t in audience::households_per_building(db, &a).await? {
        let mut e = empty_building(t.building_id);
        e.households_total = t.households;
        per.insert(t.building_id, (t.compound_id, e));
    }
    let counts: Vec<(Option<Uuid>, i64, i64, i64)> = recipient::Entity::find()
        .select_only()
        .column(recipient::Column::BuildingId)
        .column_as(Expr::col(recipient::Column::UserId).count(), "n")
        .column_as(Expr::col(recipient::Column::ReadAt).count(), "r")
        .column_as(Expr::col(recipient::Column::ConfirmedAt).count(), "c")
        .filter(recipient::Column::NoticeId.eq(id))
        .group_by(recipient::Column::BuildingId)
        .into_tuple()
        .all(db)
        .await?;
    for (b, count, read, confirmed) in counts {
        if let Some((_, e)) = b.and_then(|b| per.get_mut(&b)) {
            e.recipients = count;
            e.read = read;
            e.confirmed = confirmed;
        }
    }
    let reached: Vec<(Uuid, i64)> = reach::Entity::find()
        .select_only()
        .column(reach::Column::BuildingId)
        .column_as(Expr::col(reach::Column::HouseholdId).count(), "n")
        .filter(reach::Column::NoticeId.eq(id))
        .group_by(reach::Column::BuildingId)
        .into_tuple()
        .all(db)
        .await?;
    for (b, count) in reached {
        if let Some((_, e)) = per.get_mut(&b) {
            e.households_reached = count;
        }
    }
    per.retain(|b, (compound, _)| follow.covers(*compound, *b));
    let names =
        crate::territory::query::place_lookup::building_names(db, per.keys().copied()).await?;
    let mut buildings: Vec<BuildingReceipts> = per
        .into_values()
        .map(|(_, mut e)| {
            e.building_name = names.get(&e.building_id).cloned().unwrap_or_default();
            e
        })
        .collect();
    buildings.sort_by(|x, y| {
        x.building_name
            .cmp(&y.building_name)
            .then(x.building_id.cmp(&y.building_id))
    });
    Ok(NoticeReceipts {
        notice_id: n.id,
        recipients_count: n.recipients_count,
        read_count: n.read_count,
        confirmed_count: n.confirmed_count,
        households_total: n.households_total,
        households_reached: n.households_reached,
        buildings,
    })
}

fn empty_building(b: Uuid) -> BuildingReceipts {
    BuildingReceipts {
        building_id: b,
        building_name: String::new(),
        recipients: 0,
        read: 0,
        confirmed: 0,
        households_total: 0,
        households_reached: 0,
    }
}

/// A household the notice has not reached yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnreachedHousehold {
    pub household_id: Uuid,
    pub unit: String,
    pub room: String,
    /// Its current residents' names, masked (`张*`).
    pub residents: Vec<String>,
}

/// The households of `building_id` the notice addresses and nothing reached yet, by household:
/// for a building leader's round of visits.
pub async fn unreached<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    building_id: Uuid,
    p: PageParams,
) -> AppResult<Page<UnreachedHousehold>> {
    let n = service::readable_notice(db, actor, id).await?;
    let follow = policy::follow_up(db, actor, &n).await?;
    let compound = crate::territory::query::place_lookup::building_compound(db, building_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let under = crate::territory::query::place_lookup::building_under(
        db,
        building_id,
        policy::level_of(n.scope_type),
        n.scope_id,
    )
    .await?;
    if !under || !follow.covers(compound, building_id) {
        return Err(AppError::NotFound);
    }
    let a = service::audience_of(&n)?;
    let rows = audience::unreached(db, id, &a, building_id, p.after, p.limit + 1).await?;
    let (rows, next_cursor) = cut_page(rows, p.limit, |u| u.household_id);
    Ok(Page {
        items: rows
            .into_iter()
            .map(|u| UnreachedHousehold {
                household_id: u.household_id,
                unit: u.unit,
                room: u.room,
                residents: u
                    .names
                    .iter()
                    .map(|n| crate::platform::pii::mask_name(n))
                    .collect(),
            })
            .collect(),
        next_cursor,
    })
}

/// What waits for a moderator in the caller's reach (optionally one community), oldest first.
pub async fn moderation_queue<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    community_id: Option<Uuid>,
    p: PageParams,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<Page<NoticeResponse>> {
    let mut q = notice::Entity::find()
        .filter(policy::moderatable(db, actor).await?)
        .filter(notice::Column::Status.eq(Status::PendingReview));
    if let Some(c) = community_id {
        q = q.filter(notice::Column::CommunityId.eq(c));
    }
    if let Some(after) = p.after {
        q = q.filter(notice::Column::Id.gt(after));
    }
    let rows = q
        .order_by_asc(notice::Column::Id)
        .limit(p.limit + 1)
        .all(db)
        .await?;
    let (rows, next_cursor) = cut_page(rows, p.limit, |n| n.id);
    Ok(Page {
        items: respond_all(db, actor, rows, urls, now).await?,
        next_cursor,
    })
}

/// How a household was reached, for the offline-reach answer.
pub fn reach_label(r: Reach) -> &'static str {
    match r {
        Reach::Read => "已读",
        Reach::Visit => "上门告知",
        Reach::Phone => "电话告知",
        Reach::Board => "张贴公告栏",
    }
}
