//! Binding requests as the requester and the staff who review them see them.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveEnum, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::policy::{Action, Level};
use crate::access::Actor;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http::{Page, PageParams};
use crate::residents::service::linked_accounts as linked;
use crate::residents::service::roster::ResidentWithTags;
use crate::territory::service::tree as territory;
use entity::binding_request;
pub use entity::binding_request::BindingStatus;

#[derive(Serialize, ToSchema)]
pub struct BindingRequestResponse {
    pub id: Uuid,
    pub user_id: Uuid,
    pub household_id: Uuid,
    pub building_id: Uuid,
    pub compound_id: Uuid,
    pub community_id: Uuid,
    pub name: String,
    pub relation: String,
    pub status: BindingStatus,
    /// Why it was rejected.
    pub reason: Option<String>,
    pub decided_by: Option<Uuid>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub decided_at: Option<DateTime<Utc>>,
    /// The resident the account was linked to on approval.
    pub resident_id: Option<Uuid>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    /// While pending: the unlinked residents of the household an approval could attach, with
    /// what each would hand the account (its own data in `/me/export`). Approving without
    /// `resident_id` attaches `phone_verified_match` if there is one, else registers a new entry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<BindingCandidate>,
    /// The candidate whose phone is the one WeChat verified for the requester, if exactly one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_verified_match: Option<Uuid>,
}

/// An existing roster entry an approval could attach, as staff see it before choosing.
#[derive(Serialize, ToSchema)]
pub struct BindingCandidate {
    pub resident_id: Uuid,
    pub name: String,
    pub relation: Option<String>,
    /// Whether it has the name the request gave.
    pub same_name: bool,
    /// `138******34`: attaching hands the account the full number.
    pub phone_masked: Option<String>,
    /// Attaching hands the account the full ID number.
    pub id_number_masked: Option<String>,
    pub has_birth_date: bool,
    pub tags: Vec<String>,
}

impl From<binding_request::Model> for BindingRequestResponse {
    fn from(m: binding_request::Model) -> Self {
        Self {
            candidates: Vec::new(),
            phone_verified_match: None,
            id: m.id,
            user_id: m.user_id,
            household_id: m.household_id,
            building_id: m.building_id,
            compound_id: m.compound_id,
            community_id: m.community_id,
            name: m.name,
            relation: m.relation,
            status: m.status,
            reason: m.reason,
            decided_by: m.decided_by,
            decided_at: m.decided_at,
            resident_id: m.resident_id,
            created_at: m.created_at,
        }
    }
}

/// One page of the binding requests for households in `user`'s scope, optionally of one
/// `status` (`pending`, `approved` or `rejected`), community or household.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    status: Option<&str>,
    community_id: Option<Uuid>,
    household_id: Option<Uuid>,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> AppResult<Page<BindingRequestResponse>> {
    let p = PageParams::new(limit, cursor)?;
    let mut filter = Condition::all();
    let mut within = Vec::new();
    if let Some(s) = status {
        let Ok(s) = BindingStatus::try_from_value(&s.to_string()) else {
            return Err(AppError::InvalidQuery(vec![
                crate::platform::error::FieldError::of(
                    "status",
                    crate::platform::error::FieldCode::Invalid,
                    crate::platform::lang::Text::new(
                        "取值不对，应为：pending、approved 或 rejected",
                        "pending, approved or rejected",
                    ),
                ),
            ]));
        };
        filter = filter.add(binding_request::Column::Status.eq(s));
    }
    if let Some(v) = community_id {
        within.push((Level::Community, v));
    }
    if let Some(v) = household_id {
        within.push((Level::Household, v));
    }
    // The requester's verified phone (its lookup hash) comes with each request.
    let requester_phone = sea_orm::sea_query::Expr::cust(
        r#"(SELECT "phone_hash" FROM "users" WHERE "users"."id" = "binding_requests"."user_id")"#,
    );
    let (rows, next_cursor) = territory::list_page_as::<binding_request::Entity, RequestRow, _>(
        db,
        user,
        Action::BindingReview,
        &within,
        filter,
        p,
        None,
        &[(requester_phone, "requester_phone_hash")],
        |r: &RequestRow| Some(r.request.id),
    )
    .await?;
    let items = with_candidates(db, rows).await?;
    Ok(Page { items, next_cursor })
}

/// A binding request with the lookup hash of its requester's verified phone.
struct RequestRow {
    request: binding_request::Model,
    requester_phone_hash: Option<String>,
}

impl sea_orm::FromQueryResult for RequestRow {
    fn from_query_result(res: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(RequestRow {
            request: binding_request::Model::from_query_result(res, pre)?,
            requester_phone_hash: res.try_get(pre, "requester_phone_hash")?,
        })
    }
}

/// Responses for `rows`, the pending ones with their candidates and the candidates' tags (one
/// more statement per page).
async fn with_candidates<C: ConnectionTrait>(
    db: &C,
    rows: Vec<RequestRow>,
) -> AppResult<Vec<BindingRequestResponse>> {
    let households: Vec<Uuid> = rows
        .iter()
        .filter(|r| r.request.status == BindingStatus::Pending)
        .map(|r| r.request.household_id)
        .collect();
    let unlinked = linked::unlinked_with_tags(db, &households).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let m = row.request;
            let verified = row.requester_phone_hash;
            let pending = m.status == BindingStatus::Pending;
            let (household, name) = (m.household_id, m.name.clone());
            let mut out = BindingRequestResponse::from(m);
            if !pending {
                return out;
            }
            let here: Vec<&ResidentWithTags> = unlinked
                .iter()
                .filter(|r| r.resident.household_id == household)
                .collect();
            let matches: Vec<Uuid> = here
                .iter()
                .filter(|r| r.resident.phone_hash.is_some() && r.resident.phone_hash == verified)
                .map(|r| r.resident.id)
                .collect();
            out.phone_verified_match = (matches.len() == 1).then(|| matches[0]);
            out.candidates = here
                .into_iter()
                .map(|c| {
                    let r = &c.resident;
                    BindingCandidate {
                        resident_id: r.id,
                        name: r.name.clone(),
                        relation: r.relation.clone(),
                        same_name: r.name == name,
                        phone_masked: r
                            .phone_masked
                            .as_deref()
                            .map(crate::platform::pii::staff_phone_mask),
                        id_number_masked: r.id_number_masked.clone(),
                        has_birth_date: r.birth_date.is_some(),
                        tags: c.tags.clone(),
                    }
                })
                .collect();
            out
        })
        .collect())
}

/// One page of `user_id`'s own binding requests, newest first.
pub async fn list_mine<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> AppResult<Page<BindingRequestResponse>> {
    let p = PageParams::new(limit, cursor)?;
    let mut sel = binding_request::Entity::find()
        .filter(binding_request::Column::UserId.eq(user_id))
        .order_by_desc(binding_request::Column::Id)
        .limit(p.limit + 1);
    if let Some(after) = p.after {
        sel = sel.filter(binding_request::Column::Id.lt(after));
    }
    let mut rows = sel.all(db).await?;
    let next_cursor = (rows.len() as u64 > p.limit).then(|| {
        rows.truncate(p.limit as usize);
        crate::platform::http::encode_cursor(rows[rows.len() - 1].id)
    });
    Ok(Page {
        items: rows.into_iter().map(BindingRequestResponse::from).collect(),
        next_cursor,
    })
}

/// All of `user_id`'s binding requests, oldest first.
pub async fn all_mine<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> AppResult<Vec<BindingRequestResponse>> {
    Ok(binding_request::Entity::find()
        .filter(binding_request::Column::UserId.eq(user_id))
        .order_by_asc(binding_request::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(BindingRequestResponse::from)
        .collect())
}
