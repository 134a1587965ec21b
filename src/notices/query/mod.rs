//! Notices as screens read them: lists for staff and leaders, a resident's own list (unread
//! first) with its unread count, one notice, its receipts by building, the households not yet
//! reached, and the moderation queue.

mod follow_up;
mod mine;

pub use follow_up::{receipts, unreached, BuildingReceipts, NoticeReceipts, UnreachedHousehold};
pub use mine::{mine, parse_my_cursor, MyNotices, MyReceipt, MY_CURSOR_PATTERN};

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Actor;
use crate::notices::model::{self, Category, Place, Priority, Reach, Status};
use crate::notices::policy;
use crate::notices::service::{self};
use crate::platform::attachments::{self, AttachmentResponse, SubjectType};
use crate::platform::error::{AppError, AppResult};
use crate::platform::paging::{cut_page, Page, PageParams};
use crate::platform::signed_urls::Signer;
use entity::{notice, notice_recipient as recipient};

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
