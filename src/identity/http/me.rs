//! Resident self-service: binding a verified phone or asking to join a household, one's own
//! household, and the rights to one's data (export, erase).

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::AuthUser;
use crate::activity::http::audit::AuditEventResponse;
use crate::identity::http::binding_requests::BindingRequestResponse;
use crate::identity::service::binding;
use crate::platform::error::{AppError, AppResult};
use crate::platform::error::{FieldCode, ProblemCode};
use crate::platform::http::clean_name;
use crate::platform::http::created;
use crate::platform::http::extract::Json;
use crate::platform::http::Page;
use crate::platform::http::PageParams;
use crate::platform::lang::Text;
use crate::platform::pii::mask_phone;
use crate::platform::state::AppState;
use crate::residents::http::residents::{respond, ResidentResponse};
use crate::residents::service::roster as rsvc;
use entity::{
    audit_event, binding_request, household, refresh_token, resident, role_assignment, user,
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindPhoneRequest {
    /// The code from the mini-program's getPhoneNumber button.
    #[schema(min_length = 1, max_length = 128, pattern = "^[!-~]+$")]
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct BindPhoneResponse {
    pub phone_masked: String,
    /// True when the phone matched exactly one resident of the roster and the account is now
    /// linked to them; otherwise ask to join a household with `/me/binding-requests`.
    pub bound: bool,
    pub resident_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
}

/// Phone-binding attempts one account may make per hour.
pub const MY_PHONE_ATTEMPTS_PER_HOUR: u64 = 10;

/// Bind the phone WeChat verified; link to the roster when it matches exactly one resident.
#[utoipa::path(tag = "me", security(("bearer" = [])), request_body = BindPhoneRequest,
    responses(
        (status = 200, body = BindPhoneResponse),
        (status = 401, description = "Invalid or expired phone code (`wechat_code_invalid`)"),
        (status = 429, description = "More than 10 attempts in an hour by this account, or WeChat rate-limited the call; retry after `Retry-After` seconds"),
        (status = 502, description = "WeChat answered something unusable"),
    ))]
#[post("/me/phone")]
pub async fn bind_my_phone(
    state: web::Data<AppState>,
    me: AuthUser,
    body: Json<BindPhoneRequest>,
) -> AppResult<HttpResponse> {
    let code = body.code.trim();
    if code.is_empty() || code.len() > 128 {
        return Err(AppError::invalid(
            "code",
            FieldCode::Invalid,
            Text::new("code 应为 1 到 128 个字符", "1 to 128 characters"),
        ));
    }
    // Each attempt spends the mini-program's shared WeChat quota.
    crate::residents::http::residents::limit_per_user(
        &state,
        &me,
        "me_phone",
        MY_PHONE_ATTEMPTS_PER_HOUR,
    )
    .await?;
    let raw = state.wechat.get_phone_number(code).await?;
    let phone = rsvc::normalize_phone(&raw).ok_or_else(|| {
        AppError::invalid(
            "code",
            FieldCode::PhoneInvalid,
            Text::new(
                "只能绑定中国大陆手机号",
                "only mainland mobile numbers can be bound",
            ),
        )
    })?;
    let sealed = state.pii.seal("phone", &phone, mask_phone(&phone))?;
    let txn = state.db.begin().await?;
    let u = user::Entity::find_by_id(me.id)
        .one(&txn)
        .await?
        .ok_or(AppError::InvalidToken)?;
    let mut am = u.into_active_model();
    am.phone_cipher = Set(Some(sealed.cipher));
    am.phone_key_id = Set(Some(sealed.key_id));
    am.phone_hash = Set(Some(sealed.hash));
    am.phone_masked = Set(Some(sealed.masked.clone()));
    am.updated_at = Set(Utc::now());
    am.update(&txn).await?;
    let linked = match binding::match_by_phone(&txn, &state.pii, me.id, &phone).await? {
        Some(r) => Some(binding::link(&txn, me.id, r).await?),
        None => None,
    };
    txn.commit().await?;
    tracing::info!(user_id = %me.id, bound = linked.is_some(), "phone bound");
    Ok(HttpResponse::Ok().json(BindPhoneResponse {
        phone_masked: sealed.masked,
        bound: linked.is_some(),
        resident_id: linked.as_ref().map(|r| r.id),
        household_id: linked.as_ref().map(|r| r.household_id),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBindingRequest {
    pub household_id: Uuid,
    /// The caller's name as the household knows it.
    #[schema(max_length = 50, format = "text-line")]
    pub name: String,
    /// Relation to the householder (户主, 配偶, 子女, …).
    #[schema(max_length = 20, format = "text-line")]
    pub relation: String,
}

/// Ask to join a household; staff of its community or grid approve or reject.
#[utoipa::path(tag = "me", security(("bearer" = [])), request_body = CreateBindingRequest,
    responses(
        (status = 201, body = BindingRequestResponse, headers(("Location" = String))),
        (status = 404, description = "No such household"),
        (status = 409, description = "A request of the caller is already pending"),
    ))]
#[post("/me/binding-requests")]
pub async fn create_my_binding_request(
    state: web::Data<AppState>,
    me: AuthUser,
    body: Json<CreateBindingRequest>,
) -> AppResult<HttpResponse> {
    let name = clean_name("name", &body.name, rsvc::NAME_MAX)?;
    let relation = clean_name("relation", &body.relation, rsvc::RELATION_MAX)?;
    let hh = household::Entity::find_by_id(body.household_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let pending = binding_request::Entity::find()
        .filter(binding_request::Column::UserId.eq(me.id))
        .filter(binding_request::Column::Status.eq(binding::PENDING))
        .count(&state.db)
        .await?;
    if pending > 0 {
        return Err(AppError::conflict(
            ProblemCode::BindingRequestPending,
            Text::new(
                "您已有一个待审核的绑定申请，请等待社区审核",
                "a binding request of yours is already pending",
            ),
        ));
    }
    let m = binding::new_request(&state.db, me.id, &hh, name, relation).await?;
    Ok(created(
        format!("/api/v1/binding-requests/{}", m.id),
        &BindingRequestResponse::from(m),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MyBindingRequestsQuery {
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The caller's own binding requests, newest first.
#[utoipa::path(tag = "me", security(("bearer" = [])), params(MyBindingRequestsQuery),
    responses((status = 200, body = Page<BindingRequestResponse>)))]
#[get("/me/binding-requests")]
pub async fn list_my_binding_requests(
    state: web::Data<AppState>,
    me: AuthUser,
    q: crate::platform::http::extract::Query<MyBindingRequestsQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let mut sel = binding_request::Entity::find()
        .filter(binding_request::Column::UserId.eq(me.id))
        .order_by_desc(binding_request::Column::Id)
        .limit(p.limit + 1);
    if let Some(after) = p.after {
        sel = sel.filter(binding_request::Column::Id.lt(after));
    }
    let mut rows = sel.all(&state.db).await?;
    let next_cursor = (rows.len() as u64 > p.limit).then(|| {
        rows.truncate(p.limit as usize);
        crate::platform::http::encode_cursor(rows[rows.len() - 1].id)
    });
    Ok(HttpResponse::Ok().json(Page::<BindingRequestResponse> {
        items: rows.into_iter().map(BindingRequestResponse::from).collect(),
        next_cursor,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct MyHouseholdResponse {
    pub household_id: Uuid,
    pub building_id: Uuid,
    pub compound_id: Uuid,
    pub community_id: Uuid,
    pub unit: String,
    pub room: String,
    pub street_name: String,
    pub community_name: String,
    pub compound_name: String,
    pub building_name: String,
    /// Current members, personal data masked.
    pub members: Vec<ResidentResponse>,
}

async fn my_resident(state: &AppState, me: &AuthUser) -> AppResult<resident::Model> {
    resident::Entity::find()
        .filter(resident::Column::UserId.eq(me.id))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The caller's household and its members (masked). 404 until the account is bound.
#[utoipa::path(tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, body = MyHouseholdResponse),
        (status = 404, description = "The account is not bound to a resident yet"),
    ))]
#[get("/me/household")]
pub async fn get_my_household(state: web::Data<AppState>, me: AuthUser) -> AppResult<HttpResponse> {
    let r = my_resident(&state, &me).await?;
    let hh = household::Entity::find_by_id(r.household_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let members = resident::Entity::find()
        .filter(resident::Column::HouseholdId.eq(hh.id))
        .filter(resident::Column::MovedOutOn.is_null())
        .order_by_asc(resident::Column::Id)
        .all(&state.db)
        .await?;
    let ids: Vec<Uuid> = members.iter().map(|m| m.id).collect();
    let mut tags = rsvc::tags_of(&state.db, &ids).await?;
    let public: std::collections::HashSet<String> =
        crate::residents::service::public_tags::of_community(&state.db, hh.community_id)
            .await?
            .into_iter()
            .collect();
    let view = crate::residents::http::residents::View::household_member(&me);
    let names = crate::territory::query::directory::place_names(&state, &hh).await?;
    Ok(HttpResponse::Ok().json(MyHouseholdResponse {
        street_name: names.street_name,
        community_name: names.community_name,
        compound_name: names.compound_name,
        building_name: names.building_name,
        household_id: hh.id,
        building_id: hh.building_id,
        compound_id: hh.compound_id,
        community_id: hh.community_id,
        unit: hh.unit,
        room: hh.room,
        members: members
            .into_iter()
            .map(|m| {
                let t = tags.remove(&m.id).unwrap_or_default();
                // The caller's own tags are its own; of the others only what the community
                // made public.
                let t = if m.id == r.id {
                    t
                } else {
                    crate::residents::service::public_tags::visible(t, &public)
                };
                respond(m, t, &view)
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct MyAccount {
    pub id: Uuid,
    pub username: Option<String>,
    pub display_name: String,
    pub wechat_bound: bool,
    /// The full phone the account verified (it is the caller's own).
    pub phone: Option<String>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct MyResident {
    pub id: Uuid,
    pub household_id: Uuid,
    pub name: String,
    #[schema(value_type = Option<crate::residents::service::roster::Gender>)]
    pub gender: Option<String>,
    pub birth_date: Option<chrono::NaiveDate>,
    /// Full values: the data is the caller's own.
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub relation: Option<String>,
    pub tags: Vec<String>,
    pub moved_in_on: Option<chrono::NaiveDate>,
    pub moved_out_on: Option<chrono::NaiveDate>,
}

#[derive(Serialize, ToSchema)]
pub struct MyRole {
    #[schema(value_type = crate::access::policy::Role)]
    pub role: String,
    #[schema(value_type = crate::access::policy::ScopeType)]
    pub scope_type: String,
    pub scope_id: Uuid,
}

#[derive(Serialize, ToSchema)]
pub struct MyDataExport {
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub exported_at: DateTime<Utc>,
    pub account: MyAccount,
    pub resident: Option<MyResident>,
    pub roles: Vec<MyRole>,
    pub binding_requests: Vec<BindingRequestResponse>,
    /// Who read or exported the caller's personal data, when and why.
    pub access_log: Vec<AuditEventResponse>,
    /// Sign-in sessions (refresh tokens) on record, active or not.
    pub sessions: u64,
    /// The tickets the caller filed (or that were filed for them), each with its timeline.
    pub tickets: Vec<crate::tickets::http::TicketDetail>,
    /// The caller's message centre, newest first.
    pub messages: Vec<crate::activity::http::messages::InboxMessageResponse>,
    /// What the caller wrote on tickets' conversations, oldest first.
    pub ticket_messages: Vec<crate::tickets::http::conversation::TicketMessageResponse>,
}

/// Everything the system holds about the caller, as JSON.
#[utoipa::path(tag = "me", security(("bearer" = [])),
    responses((status = 200, body = MyDataExport)))]
#[get("/me/export")]
pub async fn export_my_data(state: web::Data<AppState>, me: AuthUser) -> AppResult<HttpResponse> {
    let db = &state.db;
    let u = user::Entity::find_by_id(me.id)
        .one(db)
        .await?
        .ok_or(AppError::InvalidToken)?;
    let phone = match (&u.phone_cipher, &u.phone_key_id) {
        (Some(c), Some(k)) => Some(state.pii.open("phone", c, k)?),
        _ => None,
    };
    let r = resident::Entity::find()
        .filter(resident::Column::UserId.eq(me.id))
        .one(db)
        .await?;
    let (resident_out, access_log) = match r {
        Some(r) => {
            let tags = rsvc::tags_of(db, &[r.id])
                .await?
                .remove(&r.id)
                .unwrap_or_default();
            let log = audit_event::Entity::find()
                .filter(audit_event::Column::ResidentId.eq(r.id))
                .order_by_asc(audit_event::Column::Id)
                .all(db)
                .await?;
            (
                Some(MyResident {
                    id: r.id,
                    household_id: r.household_id,
                    name: r.name.clone(),
                    gender: r.gender.clone(),
                    birth_date: r.birth_date,
                    phone: rsvc::open(&state.pii, &r, "phone")?,
                    id_number: rsvc::open(&state.pii, &r, "id_number")?,
                    relation: r.relation.clone(),
                    tags,
                    moved_in_on: r.moved_in_on,
                    moved_out_on: r.moved_out_on,
                }),
                log.into_iter().map(AuditEventResponse::from).collect(),
            )
        }
        None => (None, Vec::new()),
    };
    let roles = role_assignment::Entity::find()
        .filter(role_assignment::Column::UserId.eq(me.id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| MyRole {
            role: a.role,
            scope_type: a.scope_type,
            scope_id: a.scope_id,
        })
        .collect();
    let requests = binding_request::Entity::find()
        .filter(binding_request::Column::UserId.eq(me.id))
        .order_by_asc(binding_request::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(BindingRequestResponse::from)
        .collect();
    let mine = entity::ticket::Entity::find()
        .filter(entity::ticket::Column::RequesterUserId.eq(me.id))
        .order_by_asc(entity::ticket::Column::Id)
        .all(db)
        .await?;
    let mut tickets = Vec::with_capacity(mine.len());
    let urls = crate::platform::signed_urls::Signer::from_settings(&state.settings);
    for t in mine {
        tickets.push(crate::tickets::http::detail(db, &me, t, state.clock.now(), &urls).await?);
    }
    let messages = crate::platform::inbox::all_of(db, me.id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let ticket_messages = crate::tickets::service::messages::written_by(db, &me)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let sessions = refresh_token::Entity::find()
        .filter(refresh_token::Column::UserId.eq(me.id))
        .count(db)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"my-data.json\"",
        ))
        .json(MyDataExport {
            exported_at: Utc::now(),
            account: MyAccount {
                id: u.id,
                username: u.username,
                display_name: u.display_name,
                wechat_bound: u.wechat_openid.is_some(),
                phone,
                created_at: u.created_at,
            },
            resident: resident_out,
            roles,
            binding_requests: requests,
            access_log,
            sessions,
            tickets,
            messages,
            ticket_messages,
        }))
}

/// Erase the caller's account and its personal data; every token of it stops working. The
/// roster entry the account was linked to stays with the community, unlinked; tickets it filed
/// stay in the community's ledger without the requester's name. A later WeChat
/// login starts a fresh, empty account.
#[utoipa::path(tag = "me", security(("bearer" = [])),
    responses(
        (status = 204, description = "Erased"),
        (status = 409, description = "The deployment administrator cannot erase itself"),
    ))]
#[delete("/me")]
pub async fn erase_me(state: web::Data<AppState>, me: AuthUser) -> AppResult<HttpResponse> {
    if me.is_superadmin {
        return Err(AppError::conflict(
            ProblemCode::CannotEraseAdministrator,
            Text::new(
                "系统管理员账号不能注销自己",
                "the deployment administrator cannot erase itself",
            ),
        ));
    }
    let families: Vec<Uuid> = refresh_token::Entity::find()
        .filter(refresh_token::Column::UserId.eq(me.id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|t| t.family_id)
        .collect();
    let txn = state.db.begin().await?;
    resident::Entity::update_many()
        .col_expr(
            resident::Column::UserId,
            sea_orm::sea_query::Expr::value(Option::<Uuid>::None),
        )
        .filter(resident::Column::UserId.eq(me.id))
        .exec(&txn)
        .await?;
    let as_staff = me
        .roles
        .iter()
        .any(|a| a.role != crate::access::Role::Resident);
    crate::tickets::service::workflow::forget_user(&txn, me.id, as_staff).await?;
    crate::tickets::service::messages::forget_user(&txn, me.id, as_staff).await?;
    crate::platform::inbox::forget_user(&txn, me.id).await?;
    // Refresh tokens, role assignments, binding requests and idempotency records go with the
    // row (ON DELETE CASCADE).
    user::Entity::delete_by_id(me.id).exec(&txn).await?;
    txn.commit().await?;
    // Access tokens still in flight: deny this one and every family of the account.
    crate::identity::service::auth::logout(&state, &me).await?;
    let mut seen = std::collections::BTreeSet::new();
    for f in families.into_iter().filter(|f| seen.insert(*f)) {
        crate::identity::service::auth::revoke_family(&state, f).await?;
    }
    tracing::info!(user_id = %me.id, "account erased at the owner's request");
    Ok(HttpResponse::NoContent().finish())
}
