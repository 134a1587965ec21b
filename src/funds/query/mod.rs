//! Fund accounts, their ledgers and expense requests as screens read them. What a caller sees
//! of names depends on how they reach the account (`funds::policy::staff_view`): staff see
//! counterparty names and who recorded what, the audience public names only.

mod entries;
mod expenses;

pub use entries::{
    entries, entry_response, export_rows, verify, EntryFilters, EntryResponse, ExportRow,
    Verification,
};
pub use expenses::{expense, expense_response, expenses, ApprovalResponse, ExpenseResponse};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::policy::Level;
use crate::access::Actor;
use crate::funds::model::{self, AccountKind, AccountStatus, Place};
use crate::funds::policy;
use crate::platform::error::{AppError, AppResult};
use crate::platform::paging::{cut_page, Page, PageParams};
use crate::territory::query::place_lookup::node_names;
use entity::fund_account;

/// A fund account as every screen shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FundAccountResponse {
    pub id: Uuid,
    /// The level of the place it belongs to.
    pub scope_type: Place,
    pub scope_id: Uuid,
    /// The name of that place.
    pub scope_name: String,
    pub street_id: Uuid,
    pub street_name: String,
    pub community_id: Uuid,
    pub community_name: String,
    pub compound_id: Option<Uuid>,
    pub compound_name: Option<String>,
    pub name: String,
    pub kind: AccountKind,
    /// `自治金`, `协商资金`, `众筹资金`, `专项补助`.
    pub kind_label: String,
    pub fiscal_year: Option<i32>,
    /// The sum of the account's entries, in fen; never negative.
    pub balance_fen: i64,
    /// Held for approved expenses not yet paid, in fen.
    pub reserved_fen: i64,
    /// `balance_fen - reserved_fen`: what new approvals and transfers may use.
    pub available_fen: i64,
    /// How many entries the ledger holds (the seq of the newest).
    pub entries: i64,
    /// The hash of the newest entry (64 zeros before the first): publish it, and a later
    /// rewrite of the ledger shows.
    pub head_hash: String,
    pub status: AccountStatus,
    /// `使用中`, `已冻结`, `已关闭`.
    pub status_label: String,
    /// The `ETag` of the account, for `If-Match`.
    pub version: i32,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

/// Responses for `rows` with the names of their places, in one lookup for the page.
pub async fn respond_all<C: ConnectionTrait>(
    db: &C,
    rows: Vec<fund_account::Model>,
) -> AppResult<Vec<FundAccountResponse>> {
    let mut places: Vec<(Level, Uuid)> = Vec::new();
    for a in &rows {
        places.extend(policy::places_of(a));
    }
    places.sort();
    places.dedup();
    let names = node_names(db, &places).await?;
    let name = |id: Uuid| names.get(&id).cloned().unwrap_or_default();
    Ok(rows
        .into_iter()
        .map(|a| FundAccountResponse {
            id: a.id,
            scope_type: a.scope_type,
            scope_id: a.scope_id,
            scope_name: name(a.scope_id),
            street_id: a.street_id,
            street_name: name(a.street_id),
            community_id: a.community_id,
            community_name: name(a.community_id),
            compound_id: a.compound_id,
            compound_name: a.compound_id.map(name),
            name: a.name,
            kind: a.kind,
            kind_label: model::account_kind_label(a.kind).to_string(),
            fiscal_year: a.fiscal_year,
            balance_fen: a.balance_fen,
            reserved_fen: a.reserved_fen,
            available_fen: a.balance_fen - a.reserved_fen,
            entries: a.last_seq,
            head_hash: a.last_hash,
            status: a.status,
            status_label: model::account_status_label(a.status).to_string(),
            version: a.version,
            created_at: a.created_at,
            updated_at: a.updated_at,
        })
        .collect())
}

/// One response.
pub async fn respond<C: ConnectionTrait>(
    db: &C,
    a: fund_account::Model,
) -> AppResult<FundAccountResponse> {
    respond_all(db, vec![a])
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// The account `id` as stored.
pub async fn account_row<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<fund_account::Model> {
    fund_account::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The account `id` if the caller may read it.
pub async fn account<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<FundAccountResponse> {
    respond(db, policy::readable(db, actor, id).await?).await
}

/// Filters of the account list.
#[derive(Debug, Clone, Default)]
pub struct AccountFilters {
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub status: Option<AccountStatus>,
}

/// The accounts the caller may read, newest first: one walk of `(column, id)` backwards per
/// term of their reach, at most a page each, merged.
pub async fn accounts<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    f: AccountFilters,
    p: PageParams,
) -> AppResult<Page<FundAccountResponse>> {
    use fund_account::Column as A;
    let mut filter = Condition::all();
    if let Some(v) = f.community_id {
        filter = filter.add(A::CommunityId.eq(v));
    }
    if let Some(v) = f.compound_id {
        filter = filter.add(A::CompoundId.eq(v));
    }
    if let Some(v) = f.status {
        filter = filter.add(A::Status.eq(v));
    }
    if let Some(after) = p.after {
        filter = filter.add(A::Id.lt(after));
    }
    let branches = policy::readable_branches(db, actor)
        .await?
        .unwrap_or_else(|| vec![Condition::all()]);
    let mut rows: Vec<fund_account::Model> = Vec::new();
    for b in branches {
        rows.extend(
            fund_account::Entity::find()
                .filter(filter.clone())
                .filter(b)
                .order_by_desc(A::Id)
                .limit(p.limit + 1)
                .all(db)
                .await?,
        );
    }
    rows.sort_by_key(|a| std::cmp::Reverse(a.id));
    rows.dedup_by_key(|a| a.id);
    let (rows, next_cursor) = cut_page(rows, p.limit, |a| a.id);
    Ok(Page {
        items: respond_all(db, rows).await?,
        next_cursor,
    })
}

/// Whether the caller may see entry `id` (they may read its account): 404 otherwise.
pub async fn entry_visible<C: ConnectionTrait>(db: &C, actor: &Actor, id: Uuid) -> AppResult<()> {
    let account: Option<Uuid> = entity::fund_entry::Entity::find_by_id(id)
        .select_only()
        .column(entity::fund_entry::Column::AccountId)
        .into_tuple()
        .one(db)
        .await?;
    policy::readable(db, actor, account.ok_or(AppError::NotFound)?).await?;
    Ok(())
}

/// Whether the caller may see expense request `id` (they may read its account): 404 otherwise.
pub async fn expense_visible<C: ConnectionTrait>(db: &C, actor: &Actor, id: Uuid) -> AppResult<()> {
    let account: Option<Uuid> = entity::fund_expense::Entity::find_by_id(id)
        .select_only()
        .column(entity::fund_expense::Column::AccountId)
        .into_tuple()
        .one(db)
        .await?;
    policy::readable(db, actor, account.ok_or(AppError::NotFound)?).await?;
    Ok(())
}

/// How many expense requests tied to proposal `proposal_id` are submitted or approved and not
/// paid yet (a proposal completes only when none is: pay or cancel them first).
pub async fn unpaid_expenses_of_proposal<C: ConnectionTrait>(
    db: &C,
    proposal_id: Uuid,
) -> AppResult<u64> {
    use entity::fund_expense::{Column, Entity, Status};
    use sea_orm::PaginatorTrait;
    Ok(Entity::find()
        .filter(Column::ProposalId.eq(proposal_id))
        .filter(Column::Status.is_in([Status::Submitted, Status::Approved]))
        .count(db)
        .await?)
}
