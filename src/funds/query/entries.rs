//! An account's ledger: a page of entries newest first, the chain's verification, and the rows
//! of the export.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Actor;
use crate::funds::model::{self, CounterpartyKind, EntryKind, BOOK};
use crate::funds::policy;
use crate::platform::attachments::{self, AttachmentResponse, SubjectType};
use crate::platform::error::{AppError, AppResult};
use crate::platform::ledger;
use crate::platform::paging::{cut_page, Page, PageParams};
use crate::platform::signed_urls::Signer;
use entity::fund_entry;

/// One entry of a fund ledger. Residents see `public_name`; `counterparty_name` and
/// `recorded_by_name` are null for them (staff of the account's place see them).
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryResponse {
    pub id: Uuid,
    pub account_id: Uuid,
    /// 1, 2, 3, … in the order the entries were written.
    pub seq: i64,
    pub kind: EntryKind,
    /// `上级拨付`, `捐赠`, `转入`, `转出`, `支出`, `退款`, `释放预留`, `冲正`.
    pub kind_label: String,
    /// + in, − out, in fen; 0 for a `release` (释放预留), which moves no money.
    pub amount_fen: i64,
    /// A `release`: the reserved fen it freed for other use (null on every other kind).
    pub released_fen: Option<i64>,
    /// The balance once this entry is counted.
    pub balance_after_fen: i64,
    /// The entry this one reverses.
    pub reverses_entry_id: Option<Uuid>,
    /// The entry that reversed this one, if any.
    pub reversed_by_entry_id: Option<Uuid>,
    pub counterparty_kind: Option<CounterpartyKind>,
    /// What everyone sees: organisations by name, people masked (`王*`) or `匿名居民`.
    pub public_name: Option<String>,
    /// The counterparty's full name: staff of the account's place only.
    pub counterparty_name: Option<String>,
    pub memo: Option<String>,
    pub occurred_on: Option<NaiveDate>,
    pub expense_id: Option<Uuid>,
    pub proposal_id: Option<Uuid>,
    /// The pledge (民筹) a contribution fulfilled.
    pub pledge_id: Option<Uuid>,
    /// The allocation an expense spent.
    pub allocation_id: Option<Uuid>,
    /// The other account of a transfer.
    pub counter_account_id: Option<Uuid>,
    /// Staff of the account's place only.
    pub recorded_by_name: Option<String>,
    /// The previous entry's hash (64 zeros for the first).
    pub prev_hash: String,
    /// `sha256(prev_hash ‖ canonical bytes)`, hex: see the README's 自治金 section.
    pub hash: String,
    /// Receipts of income, invoices of the expense it paid: signed URLs.
    pub attachments: Vec<AttachmentResponse>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

/// Responses for `rows` (of one account), as `staff` or not may see them: their reversals and
/// photos in one statement each.
pub async fn respond_all<C: ConnectionTrait>(
    db: &C,
    rows: Vec<fund_entry::Model>,
    staff: bool,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<Vec<EntryResponse>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|e| e.id).collect();
    let reversed: HashMap<Uuid, Uuid> = fund_entry::Entity::find()
        .select_only()
        .column(fund_entry::Column::ReversesEntryId)
        .column(fund_entry::Column::Id)
        .filter(fund_entry::Column::ReversesEntryId.is_in(ids.clone()))
        .into_tuple::<(Uuid, Uuid)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut receipts = attachments::of_subjects(db, SubjectType::FundEntry, &ids).await?;
    let expenses: Vec<Uuid> = rows
        .iter()
        .filter(|e| e.kind == EntryKind::Expense)
        .filter_map(|e| e.expense_id)
        .collect();
    let invoices = attachments::of_subjects(db, SubjectType::FundExpense, &expenses).await?;
    Ok(rows
        .into_iter()
        .map(|e| {
            let mut photos = receipts.remove(&e.id).unwrap_or_default();
            if e.kind == EntryKind::Expense {
                if let Some(x) = e.expense_id.and_then(|x| invoices.get(&x)) {
                    photos.extend(x.iter().cloned());
                }
            }
            EntryResponse {
                id: e.id,
                account_id: e.account_id,
                seq: e.seq,
                kind: e.kind,
                kind_label: model::entry_kind_label(e.kind).to_string(),
                amount_fen: e.amount_fen,
                released_fen: e.released_fen,
                balance_after_fen: e.balance_after_fen,
                reverses_entry_id: e.reverses_entry_id,
                reversed_by_entry_id: reversed.get(&e.id).copied(),
                counterparty_kind: e.counterparty_kind,
                public_name: e.public_name,
                counterparty_name: e.counterparty_name.filter(|_| staff),
                memo: e.memo,
                occurred_on: e.occurred_on,
                expense_id: e.expense_id,
                proposal_id: e.proposal_id,
                pledge_id: e.pledge_id,
                allocation_id: e.allocation_id,
                counter_account_id: e.counter_account_id,
                recorded_by_name: staff.then_some(e.recorded_by_name),
                prev_hash: e.prev_hash,
                hash: e.hash,
                attachments: photos
                    .into_iter()
                    .map(|a| AttachmentResponse::new(a, urls, now))
                    .collect(),
                created_at: e.created_at,
            }
        })
        .collect())
}

/// One entry as `actor` may see it (they may read its account).
pub async fn entry_response<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    e: fund_entry::Model,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<EntryResponse> {
    let staff = policy::reader(db, actor, e.account_id).await?;
    respond_all(db, vec![e], staff, urls, now)
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// Filters of a ledger page.
#[derive(Debug, Clone, Copy, Default)]
pub struct EntryFilters {
    pub kind: Option<EntryKind>,
}

/// The entries of account `id` the caller may read, newest first (keyset on seq: the cursor
/// names the last entry of the previous page).
pub async fn entries<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    f: EntryFilters,
    p: PageParams,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<Page<EntryResponse>> {
    use fund_entry::Column as E;
    let staff = policy::reader(db, actor, id).await?;
    let mut q = fund_entry::Entity::find().filter(E::AccountId.eq(id));
    if let Some(k) = f.kind {
        q = q.filter(E::Kind.eq(k));
    }
    if let Some(after) = p.after {
        let seq: Option<i64> = fund_entry::Entity::find_by_id(after)
            .select_only()
            .column(E::Seq)
            .filter(E::AccountId.eq(id))
            .into_tuple()
            .one(db)
            .await?;
        q = q.filter(E::Seq.lt(seq.unwrap_or(0)));
    }
    let rows = q.order_by_desc(E::Seq).limit(p.limit + 1).all(db).await?;
    let (rows, next_cursor) = cut_page(rows, p.limit, |e| e.id);
    Ok(Page {
        items: respond_all(db, rows, staff, urls, now).await?,
        next_cursor,
    })
}

/// What recomputing an account's chain found.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    /// Every entry chains to the one before and hashes to what it says, the balances run, and
    /// the account's balance and head hash agree with its entries.
    pub ok: bool,
    /// Entries read.
    pub entries: u64,
    /// The head of the chain as recomputed.
    pub head_hash: String,
    /// The sum of the entries, in fen.
    pub sum_fen: i64,
    /// The first seq where the chain breaks (an entry altered, missing or out of place).
    pub first_broken_seq: Option<i64>,
    /// What is wrong first: `missing`, `zero_amount`, `prev_hash`, `balance_after`, `hash`,
    /// `beyond_head`, `account_head`, `account_balance`.
    pub problem: Option<String>,
}

/// Recomputes the chain of account `id` (the caller may read it), in batches.
pub async fn verify<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<Verification> {
    policy::readable(db, actor, id).await?;
    let v = ledger::verify(db, &BOOK, id)
        .await
        .map_err(crate::funds::service::ledger_error)?;
    let problem = v.problem.map(|p| {
        use ledger::Problem::*;
        match p {
            Missing => "missing",
            ZeroAmount => "zero_amount",
            PrevHash => "prev_hash",
            BalanceAfter => "balance_after",
            Hash => "hash",
            BeyondHead => "beyond_head",
            AccountHead => "account_head",
            AccountBalance => "account_balance",
        }
        .to_string()
    });
    Ok(Verification {
        ok: v.ok,
        entries: v.entries,
        head_hash: v.head_hash,
        sum_fen: v.sum,
        first_broken_seq: v.first_bad_seq,
        problem,
    })
}

/// One row of the export.
pub type ExportRow = fund_entry::Model;

/// The entries of account `id` oldest first, for its export (at most `max`; 400 beyond).
pub async fn export_rows<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    max: u64,
) -> AppResult<Vec<ExportRow>> {
    use fund_entry::Column as E;
    let rows = fund_entry::Entity::find()
        .filter(E::AccountId.eq(id))
        .order_by_asc(E::Seq)
        .limit(max + 1)
        .all(db)
        .await?;
    if rows.len() as u64 > max {
        return Err(AppError::invalid(
            "account_id",
            crate::platform::error::FieldCode::TooManyRows,
            crate::text!(
                "台账超过 {} 条，无法导出",
                "the ledger has more than {} entries",
                max
            ),
        ));
    }
    Ok(rows)
}
