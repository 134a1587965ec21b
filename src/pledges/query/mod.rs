//! Pledges as screens read them: a proposal's public list (names as each pledger chose, never a
//! full person's name, never a phone; staff of the proposal's place also see who pledged), with
//! the totals; one pledge; the caller's own pledges.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::policy::{self, Action, Level};
use crate::access::Actor;
use crate::platform::attachments::{self, AttachmentResponse, SubjectType};
use crate::platform::error::{AppError, AppResult};
use crate::platform::paging::{cut_page, PageParams};
use crate::platform::signed_urls::Signer;
use crate::pledges::model::{self, Kind, PledgerKind, PublicDisplay, Status};
use crate::proposals::service::subject::{self, ProposalRef};
use entity::pledge;

/// A pledge.
#[derive(Debug, Serialize, ToSchema)]
pub struct PledgeResponse {
    pub id: Uuid,
    pub proposal_id: Uuid,
    pub kind: Kind,
    /// `出钱`, `出力`, `出物`.
    pub kind_label: String,
    pub pledger_kind: PledgerKind,
    pub public_display: PublicDisplay,
    /// What everyone sees: an organisation by name when it chose so, a person masked (王*),
    /// or `匿名居民`.
    pub public_name: String,
    /// The name as given: staff of the proposal's place and the pledger only.
    pub pledger_name: Option<String>,
    /// Whether it is the caller's own pledge.
    pub mine: bool,
    pub amount_fen: Option<i64>,
    pub minutes: Option<i32>,
    pub skill: Option<String>,
    pub item: Option<String>,
    pub quantity: Option<i32>,
    pub unit: Option<String>,
    pub est_value_fen: Option<i64>,
    pub note: Option<String>,
    pub status: Status,
    /// `已认筹`, `已兑现`, `部分兑现`, `已取消`, `已失效`.
    pub status_label: String,
    pub fulfilled_amount_fen: Option<i64>,
    pub fulfilled_minutes: Option<i32>,
    pub fulfilled_quantity: Option<i32>,
    /// The `contribution` entry the money was received with.
    pub fund_entry_id: Option<Uuid>,
    /// Receipt photos of materials, signed URLs.
    pub receipts: Vec<AttachmentResponse>,
    /// The `ETag` of the pledge, for `If-Match`.
    pub version: i32,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

/// A proposal's pledges with its totals.
#[derive(Debug, Serialize, ToSchema)]
pub struct PledgePage {
    pub items: Vec<PledgeResponse>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// Over all of the proposal's pledges, not only this page.
    pub totals: PledgeTotals,
}

/// What a proposal has been pledged and received, besides the fund ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct PledgeTotals {
    /// Money pledged and not yet received (the proposal's `pledged_money_fen`).
    pub pledged_money_fen: i64,
    /// Estimated value of the materials received (the in-kind total, not money of the ledger).
    pub in_kind_fen: i64,
    /// Minutes of labour confirmed.
    pub labour_done_minutes: i64,
    /// Pledges neither cancelled nor lapsed.
    pub live: i64,
}

async fn respond_all<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    rows: Vec<pledge::Model>,
    staff: bool,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<Vec<PledgeResponse>> {
    let ids: Vec<Uuid> = rows.iter().map(|x| x.id).collect();
    let mut photos = attachments::of_subjects(db, SubjectType::Pledge, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|x| {
            let mine = x.pledger_user_id == Some(actor.id);
            PledgeResponse {
                id: x.id,
                proposal_id: x.proposal_id,
                kind: x.kind,
                kind_label: model::kind_label(x.kind).to_string(),
                pledger_kind: x.pledger_kind,
                public_display: x.public_display,
                public_name: model::public_name(x.pledger_kind, x.public_display, &x.pledger_name),
                pledger_name: (staff || mine).then_some(x.pledger_name),
                mine,
                amount_fen: x.amount_fen,
                minutes: x.minutes,
                skill: x.skill,
                item: x.item,
                quantity: x.quantity,
                unit: x.unit,
                est_value_fen: x.est_value_fen,
                note: x.note,
                status: x.status,
                status_label: model::status_label(x.status).to_string(),
                fulfilled_amount_fen: x.fulfilled_amount_fen,
                fulfilled_minutes: x.fulfilled_minutes,
                fulfilled_quantity: x.fulfilled_quantity,
                fund_entry_id: x.fund_entry_id,
                receipts: photos
                    .remove(&x.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| AttachmentResponse::new(a, urls, now))
                    .collect(),
                version: x.version,
                created_at: x.created_at,
                updated_at: x.updated_at,
            }
        })
        .collect())
}

/// Whether the caller reads `p`'s pledges as staff (who pledged, by name): those who may record
/// money pledges there.
async fn staff_view<C: ConnectionTrait>(db: &C, actor: &Actor, p: &ProposalRef) -> AppResult<bool> {
    let mut at = vec![
        (Level::Street, p.street_id),
        (Level::Community, p.community_id),
    ];
    at.extend(p.compound_id.map(|k| (Level::Compound, k)));
    Ok(policy::scope(db, actor, Action::PledgeFulfil)
        .await?
        .contains(&at))
}

/// Kind, status, amount, minutes done and estimated value of one pledge.
type TotalsRow = (Kind, Status, Option<i64>, Option<i32>, Option<i64>);

async fn totals<C: ConnectionTrait>(db: &C, proposal_id: Uuid) -> AppResult<PledgeTotals> {
    use pledge::Column as P;
    let live = [
        Status::Pledged,
        Status::Fulfilled,
        Status::PartiallyFulfilled,
    ];
    let rows: Vec<TotalsRow> = pledge::Entity::find()
        .select_only()
        .column(P::Kind)
        .column(P::Status)
        .column(P::AmountFen)
        .column(P::FulfilledMinutes)
        .column(P::EstValueFen)
        .filter(P::ProposalId.eq(proposal_id))
        .filter(P::Status.is_in(live))
        .into_tuple()
        .all(db)
        .await?;
    let mut t = PledgeTotals {
        pledged_money_fen: 0,
        in_kind_fen: 0,
        labour_done_minutes: 0,
        live: rows.len() as i64,
    };
    for (kind, status, amount, minutes, value) in rows {
        let received = status != Status::Pledged;
        match kind {
            Kind::Money if !received => t.pledged_money_fen += amount.unwrap_or(0),
            Kind::Labour if received => t.labour_done_minutes += i64::from(minutes.unwrap_or(0)),
            Kind::Material if received => t.in_kind_fen += value.unwrap_or(0),
            _ => {}
        }
    }
    Ok(t)
}

/// The pledges of proposal `proposal_id`, newest first (404 unless the caller may read it).
pub async fn of_proposal<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    proposal_id: Uuid,
    status: Option<Status>,
    p: PageParams,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<PledgePage> {
    use pledge::Column as P;
    let prop = subject::readable(db, actor, proposal_id, now).await?;
    let staff = actor.is_superadmin || staff_view(db, actor, &prop).await?;
    let mut q = pledge::Entity::find().filter(P::ProposalId.eq(proposal_id));
    if let Some(s) = status {
        q = q.filter(P::Status.eq(s));
    }
    if let Some(after) = p.after {
        q = q.filter(P::Id.lt(after));
    }
    let rows = q.order_by_desc(P::Id).limit(p.limit + 1).all(db).await?;
    let (rows, next_cursor) = cut_page(rows, p.limit, |x| x.id);
    Ok(PledgePage {
        items: respond_all(db, actor, rows, staff, urls, now).await?,
        next_cursor,
        totals: totals(db, proposal_id).await?,
    })
}

/// One pledge as `actor` may see it (404 unless they may read its proposal).
pub async fn pledge_response<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    x: pledge::Model,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<PledgeResponse> {
    let prop = subject::readable(db, actor, x.proposal_id, now).await?;
    let staff = actor.is_superadmin || staff_view(db, actor, &prop).await?;
    respond_all(db, actor, vec![x], staff, urls, now)
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// The pledge `id` (404 unless the caller may read its proposal).
pub async fn pledge<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<PledgeResponse> {
    let x = pledge::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    pledge_response(db, actor, x, urls, now).await
}

/// Whether the caller may see pledge `id` and its receipts (they may read its proposal).
pub async fn pledge_visible<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let proposal: Option<Uuid> = pledge::Entity::find_by_id(id)
        .select_only()
        .column(pledge::Column::ProposalId)
        .into_tuple()
        .one(db)
        .await?;
    subject::readable(db, actor, proposal.ok_or(AppError::NotFound)?, now).await?;
    Ok(())
}

/// The caller's own pledges, newest first.
pub async fn mine<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    p: PageParams,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<crate::platform::paging::Page<PledgeResponse>> {
    use pledge::Column as P;
    let mut q = pledge::Entity::find().filter(P::PledgerUserId.eq(actor.id));
    if let Some(after) = p.after {
        q = q.filter(P::Id.lt(after));
    }
    let rows = q.order_by_desc(P::Id).limit(p.limit + 1).all(db).await?;
    let (rows, next_cursor) = cut_page(rows, p.limit, |x| x.id);
    Ok(crate::platform::paging::Page {
        items: respond_all(db, actor, rows, false, urls, now).await?,
        next_cursor,
    })
}
