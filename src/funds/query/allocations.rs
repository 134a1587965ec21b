//! Allocations as screens read them: a page of an account's or a proposal's allocations and one
//! allocation with its decisions. Residents see amounts, status and the roles that decided;
//! staff of the account's place also the names.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ApprovalResponse;
use crate::access::Actor;
use crate::funds::model::{self, AllocationStatus};
use crate::funds::policy;
use crate::platform::error::{AppError, AppResult};
use crate::platform::paging::{cut_page, Page, PageParams};
use entity::{fund_allocation, fund_allocation_approval as approval};

/// Money of a fund account earmarked for a proposal.
#[derive(Debug, Serialize, ToSchema)]
pub struct AllocationResponse {
    pub id: Uuid,
    pub account_id: Uuid,
    pub proposal_id: Uuid,
    pub amount_fen: i64,
    /// Paid by expenses under it.
    pub spent_fen: i64,
    /// Given back to the account by a release.
    pub released_fen: i64,
    /// What expenses may still spend under it (`approved` only; else 0).
    pub left_fen: i64,
    pub status: AllocationStatus,
    /// `待审批`, `已拨付`, `已释放`, `已驳回`.
    pub status_label: String,
    /// Staff of the account's place only.
    pub requested_by_name: Option<String>,
    /// Oldest first; two approvals of different roles approve it.
    pub approvals: Vec<ApprovalResponse>,
    /// The passed poll that allowed an amount above the policy's threshold.
    pub poll_id: Option<Uuid>,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The `ETag` of the allocation, for `If-Match`.
    pub version: i32,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

async fn respond_all<C: ConnectionTrait>(
    db: &C,
    rows: Vec<(fund_allocation::Model, bool)>,
) -> AppResult<Vec<AllocationResponse>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|(x, _)| x.id).collect();
    let mut decisions: HashMap<Uuid, Vec<approval::Model>> = HashMap::new();
    for d in approval::Entity::find()
        .filter(approval::Column::AllocationId.is_in(ids))
        .order_by_asc(approval::Column::CreatedAt)
        .all(db)
        .await?
    {
        decisions.entry(d.allocation_id).or_default().push(d);
    }
    Ok(rows
        .into_iter()
        .map(|(x, staff)| AllocationResponse {
            id: x.id,
            account_id: x.account_id,
            proposal_id: x.proposal_id,
            amount_fen: x.amount_fen,
            spent_fen: x.spent_fen,
            released_fen: x.released_fen,
            left_fen: if x.status == AllocationStatus::Approved {
                x.amount_fen - x.spent_fen - x.released_fen
            } else {
                0
            },
            status: x.status,
            status_label: model::allocation_status_label(x.status).to_string(),
            requested_by_name: staff.then_some(x.requested_by_name),
            approvals: decisions
                .remove(&x.id)
                .unwrap_or_default()
                .into_iter()
                .map(|d| ApprovalResponse {
                    role: d.role,
                    role_label: model::role_label(d.role).to_string(),
                    user_name: staff.then_some(d.user_name),
                    decision: d.decision,
                    note: d.note,
                    created_at: d.created_at,
                })
                .collect(),
            poll_id: x.poll_id,
            reason: x.reason,
            version: x.version,
            created_at: x.created_at,
            updated_at: x.updated_at,
        })
        .collect())
}

/// One allocation as `actor` may see it (404 unless they may read its account).
pub async fn allocation_response<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    x: fund_allocation::Model,
) -> AppResult<AllocationResponse> {
    let staff = policy::reader(db, actor, x.account_id).await?;
    respond_all(db, vec![(x, staff)])
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// The allocation `id`, if the caller may read its account.
pub async fn allocation<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<AllocationResponse> {
    let x = fund_allocation::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    allocation_response(db, actor, x).await
}

/// Which allocations to list: those of an account, or those for a proposal.
#[derive(Debug, Clone, Copy)]
pub enum AllocationsOf {
    Account(Uuid),
    Proposal(Uuid),
}

/// The allocations of an account or for a proposal, newest first, of the accounts the caller
/// may read (an account they may not read lists nothing).
pub async fn allocations<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    of: AllocationsOf,
    status: Option<AllocationStatus>,
    p: PageParams,
) -> AppResult<Page<AllocationResponse>> {
    use fund_allocation::Column as X;
    let mut q = fund_allocation::Entity::find();
    q = match of {
        AllocationsOf::Account(id) => q.filter(X::AccountId.eq(id)),
        AllocationsOf::Proposal(id) => q.filter(X::ProposalId.eq(id)),
    };
    if let Some(s) = status {
        q = q.filter(X::Status.eq(s));
    }
    if let Some(after) = p.after {
        q = q.filter(X::Id.lt(after));
    }
    let rows = q.order_by_desc(X::Id).limit(p.limit + 1).all(db).await?;
    // Whether the caller reads each account, and how: one check per account of the page.
    let mut reach: HashMap<Uuid, Option<bool>> = HashMap::new();
    for x in &rows {
        if reach.contains_key(&x.account_id) {
            continue;
        }
        let r = match policy::reader(db, actor, x.account_id).await {
            Ok(staff) => Some(staff),
            Err(AppError::NotFound) => None,
            Err(e) => return Err(e),
        };
        reach.insert(x.account_id, r);
    }
    let (rows, next_cursor) = cut_page(rows, p.limit, |x| x.id);
    let visible: Vec<(fund_allocation::Model, bool)> = rows
        .into_iter()
        .filter_map(|x| {
            let staff = reach.get(&x.account_id).copied().flatten()?;
            Some((x, staff))
        })
        .collect();
    Ok(Page {
        items: respond_all(db, visible).await?,
        next_cursor,
    })
}
