//! The roll as staff see it, and paper boxes as tellers see them.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::error::AppResult;
use crate::platform::paging::{cut_page, Page, PageParams};
use crate::polls::model::{BoxStatus, Channel, RollStatus, Secrecy, VoterUnit};
use crate::polls::policy;
use crate::polls::service::{roster, tally};
use entity::{poll_box, poll_roll};

/// A paper box as its tellers see it.
#[derive(Serialize, ToSchema)]
pub struct PollBoxResponse {
    pub id: Uuid,
    pub poll_id: Uuid,
    pub label: String,
    /// Where the box stands, or the route it walks.
    pub location: Option<String>,
    /// When it is there.
    pub schedule: Option<String>,
    /// Blank paper ballots given to the box.
    pub issued_count: i32,
    /// Voters marked as handed one.
    pub marked_count: i32,
    pub returned_count: Option<i32>,
    pub status: BoxStatus,
    /// The counts entered (once counted).
    pub counts: Vec<tally::PaperCount>,
}

impl From<poll_box::Model> for PollBoxResponse {
    fn from(b: poll_box::Model) -> Self {
        PollBoxResponse {
            counts: tally::box_counts(&b),
            id: b.id,
            poll_id: b.poll_id,
            label: b.label,
            location: b.location,
            schedule: b.schedule,
            issued_count: b.issued_count,
            marked_count: b.marked_count,
            returned_count: b.returned_count,
            status: b.status,
        }
    }
}

/// Where and when a paper box is, as the voters it serves see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BoxPlaceView {
    /// 中心会场, 流动票箱1, …
    pub label: String,
    pub location: Option<String>,
    pub schedule: Option<String>,
    /// `open` while it takes ballots; then `sealed`, `counted`, `confirmed`.
    pub status: BoxStatus,
}

/// The paper boxes of poll `poll_id`, in the order they were opened.
pub async fn box_places<C: ConnectionTrait>(db: &C, poll_id: Uuid) -> AppResult<Vec<BoxPlaceView>> {
    Ok(poll_box::Entity::find()
        .filter(poll_box::Column::PollId.eq(poll_id))
        .order_by_asc(poll_box::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|b| BoxPlaceView {
            label: b.label,
            location: b.location,
            schedule: b.schedule,
            status: b.status,
        })
        .collect())
}

/// A roll entry as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RollEntry {
    pub voter_key: Uuid,
    pub unit: VoterUnit,
    pub household_id: Uuid,
    pub resident_id: Option<Uuid>,
    pub building_id: Uuid,
    /// The resident's name masked (`张*`), or the household's residents' names masked.
    pub name: String,
    /// The household's unit and room (`1单元 301`).
    pub address: String,
    pub status: RollStatus,
    /// Added while open (counted separately).
    pub late: bool,
    pub added_reason: Option<String>,
    pub struck_reason: Option<String>,
    /// Open polls only: how the entry voted. Never for a secret poll.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// Open polls only: when. Never for a secret poll.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::platform::rfc3339::ms_opt"
    )]
    pub voted_at: Option<DateTime<Utc>>,
}

/// A page of the roll of a poll the caller manages or keeps boxes of, by voter key.
pub async fn roll<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    poll_id: Uuid,
    status: Option<RollStatus>,
    p: PageParams,
) -> AppResult<Page<RollEntry>> {
    let pl = policy::readable_poll(db, actor, poll_id).await?;
    if crate::polls::service::boxes::may_tally(db, actor, &pl)
        .await
        .is_err()
    {
        policy::managed_poll(db, actor, poll_id).await?;
    }
    roll_page(db, poll_id, status, p).await
}

/// A page of a poll's roll, by voter key, for a caller the calling domain authorized (an
/// election's staff): names masked, never how or when an entry of a secret poll voted.
pub async fn roll_page<C: ConnectionTrait>(
    db: &C,
    poll_id: Uuid,
    status: Option<RollStatus>,
    p: PageParams,
) -> AppResult<Page<RollEntry>> {
    let pl = crate::polls::service::engine::load(db, poll_id).await?;
    let mut q = poll_roll::Entity::find()
        .filter(poll_roll::Column::PollId.eq(poll_id))
        .order_by_asc(poll_roll::Column::VoterKey)
        .limit(p.limit + 1);
    if let Some(s) = status {
        q = q.filter(poll_roll::Column::Status.eq(s));
    }
    if let Some(after) = p.after {
        q = q.filter(poll_roll::Column::VoterKey.gt(after));
    }
    let (rows, next_cursor) = cut_page(q.all(db).await?, p.limit, |r| r.voter_key);
    let residents: Vec<Uuid> = rows.iter().filter_map(|r| r.resident_id).collect();
    let households: Vec<Uuid> = rows.iter().map(|r| r.household_id).collect();
    let (names, labels) = roster::labels(db, &residents, &households).await?;
    let open = pl.secrecy == Secrecy::Open;
    let items = rows
        .into_iter()
        .map(|r| {
            let label = labels.get(&r.household_id).cloned().unwrap_or_default();
            let name = match r.resident_id.and_then(|id| names.get(&id)) {
                Some(n) => crate::platform::pii::mask_name(n),
                None => label
                    .names
                    .iter()
                    .map(|n| crate::platform::pii::mask_name(n))
                    .collect::<Vec<_>>()
                    .join("、"),
            };
            RollEntry {
                voter_key: r.voter_key,
                unit: r.unit,
                household_id: r.household_id,
                resident_id: r.resident_id,
                building_id: r.building_id,
                name,
                address: format!("{} {}", label.unit, label.room).trim().to_string(),
                status: r.status,
                late: r.late,
                added_reason: r.added_reason,
                struck_reason: r.struck_reason,
                channel: if open { r.channel } else { None },
                voted_at: if open { r.voted_at } else { None },
            }
        })
        .collect();
    Ok(Page { items, next_cursor })
}
