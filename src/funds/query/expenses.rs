//! Expense requests as screens read them: a page of an account's requests and one request with
//! its decisions and invoices. Residents see the payee's public name and the roles that
//! decided; staff of the account's place also the names.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::{Actor, Role};
use crate::funds::model::{self, CounterpartyKind, Decision, ExpenseStatus};
use crate::funds::policy;
use crate::platform::attachments::{self, AttachmentResponse, SubjectType};
use crate::platform::error::{AppError, AppResult};
use crate::platform::paging::{cut_page, Page, PageParams};
use crate::platform::signed_urls::Signer;
use entity::{fund_expense, fund_expense_approval as approval};

/// One decision on a request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalResponse {
    /// The role they decided in.
    pub role: Role,
    /// `社区工作人员`, `议事会成员`, `街道管理员`.
    pub role_label: String,
    /// Staff of the account's place only.
    pub user_name: Option<String>,
    pub decision: Decision,
    pub note: Option<String>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

/// An expense request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExpenseResponse {
    pub id: Uuid,
    pub account_id: Uuid,
    pub amount_fen: i64,
    pub payee_kind: CounterpartyKind,
    /// What everyone sees of the payee: organisations by name, people masked or `匿名居民`.
    pub public_name: String,
    /// Staff of the account's place only.
    pub payee_name: Option<String>,
    pub purpose: String,
    pub status: ExpenseStatus,
    /// `待审批`, `已批准`, `已支付`, `已驳回`, `已撤销`.
    pub status_label: String,
    /// Staff of the account's place only.
    pub requested_by_name: Option<String>,
    /// Oldest first; two approvals of different roles approve a request.
    pub approvals: Vec<ApprovalResponse>,
    /// Quotes and invoices (发票), signed URLs.
    pub invoices: Vec<AttachmentResponse>,
    /// The `expense` entry that paid it.
    pub paid_entry_id: Option<Uuid>,
    pub paid_on: Option<NaiveDate>,
    /// Why it was rejected.
    pub reason: Option<String>,
    pub proposal_id: Option<Uuid>,
    /// The allocation it spends.
    pub allocation_id: Option<Uuid>,
    /// The `ETag` of the request, for `If-Match`.
    pub version: i32,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

async fn respond_all<C: ConnectionTrait>(
    db: &C,
    rows: Vec<fund_expense::Model>,
    staff: bool,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<Vec<ExpenseResponse>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|e| e.id).collect();
    let mut decisions: HashMap<Uuid, Vec<approval::Model>> = HashMap::new();
    for d in approval::Entity::find()
        .filter(approval::Column::ExpenseId.is_in(ids.clone()))
        .order_by_asc(approval::Column::CreatedAt)
        .all(db)
        .await?
    {
        decisions.entry(d.expense_id).or_default().push(d);
    }
    let mut invoices = attachments::of_subjects(db, SubjectType::FundExpense, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|e| ExpenseResponse {
            id: e.id,
            account_id: e.account_id,
            amount_fen: e.amount_fen,
            payee_kind: e.payee_kind,
            public_name: e.public_name,
            payee_name: staff.then_some(e.payee_name),
            purpose: e.purpose,
            status: e.status,
            status_label: model::expense_status_label(e.status).to_string(),
            requested_by_name: staff.then_some(e.requested_by_name),
            approvals: decisions
                .remove(&e.id)
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
            invoices: invoices
                .remove(&e.id)
                .unwrap_or_default()
                .into_iter()
                .map(|a| AttachmentResponse::new(a, urls, now))
                .collect(),
            paid_entry_id: e.paid_entry_id,
            paid_on: e.paid_on,
            reason: e.reason,
            proposal_id: e.proposal_id,
            allocation_id: e.allocation_id,
            version: e.version,
            created_at: e.created_at,
            updated_at: e.updated_at,
        })
        .collect())
}

/// One request as `actor` may see it.
pub async fn expense_response<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    e: fund_expense::Model,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<ExpenseResponse> {
    let staff = policy::reader(db, actor, e.account_id).await?;
    respond_all(db, vec![e], staff, urls, now)
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// The request `id`, if the caller may read its account (404 otherwise).
pub async fn expense<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<ExpenseResponse> {
    let e = fund_expense::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    expense_response(db, actor, e, urls, now).await
}

/// The requests on account `account_id`, newest first: none when the caller may not read it.
pub async fn expenses<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    account_id: Uuid,
    status: Option<ExpenseStatus>,
    p: PageParams,
    urls: &Signer,
    now: DateTime<Utc>,
) -> AppResult<Page<ExpenseResponse>> {
    use fund_expense::Column as X;
    // An account the caller cannot read lists nothing, as any filter outside their reach.
    let staff = match policy::reader(db, actor, account_id).await {
        Ok(staff) => staff,
        Err(AppError::NotFound) => {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            })
        }
        Err(e) => return Err(e),
    };
    let mut q = fund_expense::Entity::find().filter(X::AccountId.eq(account_id));
    if let Some(s) = status {
        q = q.filter(X::Status.eq(s));
    }
    if let Some(after) = p.after {
        q = q.filter(X::Id.lt(after));
    }
    let rows = q.order_by_desc(X::Id).limit(p.limit + 1).all(db).await?;
    let (rows, next_cursor) = cut_page(rows, p.limit, |e| e.id);
    Ok(Page {
        items: respond_all(db, rows, staff, urls, now).await?,
        next_cursor,
    })
}
