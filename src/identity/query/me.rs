//! What a person may see of themselves: their account, roles and household, and everything the
//! system holds about them.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::policy::{Role, ScopeType};
use crate::access::Actor;
use crate::activity::query::audit::{self as audit_trail, AuditEventResponse};
use crate::activity::query::messages::InboxMessageResponse;
use crate::identity::query::binding_requests::{self, BindingRequestResponse};
use crate::platform::error::{AppError, AppResult};
use crate::platform::pii::Pii;
use crate::residents::service::linked_accounts::{self as linked, Resident};
use crate::residents::service::roster as rsvc;
use crate::territory::query::homes::{self as places, Household, PlaceNames};
use entity::{refresh_token, role_assignment, user};

#[derive(Serialize, ToSchema)]
pub struct RoleAssignmentSummary {
    pub id: Uuid,
    pub role: Role,
    pub scope_type: ScopeType,
    pub scope_id: Uuid,
    /// The role stops working at this instant (it came with an office term); null when
    /// open-ended. Expired roles are not listed.
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub valid_until: Option<DateTime<Utc>>,
    /// The office term that granted the role, if any.
    pub source_term_id: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    pub id: Uuid,
    pub display_name: String,
    pub username: Option<String>,
    /// The deployment administrator, who may act on every street.
    pub is_superadmin: bool,
    pub roles: Vec<RoleAssignmentSummary>,
    /// The verified phone of the account (WeChat), masked.
    pub phone_masked: Option<String>,
    /// The roster entry the account is bound to, if any.
    pub resident: Option<MeResident>,
}

#[derive(Serialize, ToSchema)]
pub struct MeResident {
    pub id: Uuid,
    pub name: String,
    pub household_id: Uuid,
    pub building_id: Uuid,
    pub compound_id: Uuid,
    pub community_id: Uuid,
    /// Unit and room of the household.
    pub unit: String,
    pub room: String,
    pub street_name: String,
    pub community_name: String,
    pub compound_name: String,
    pub building_name: String,
}

/// The caller: identity, role assignments, and the resident and household it is bound to.
pub async fn me<C: ConnectionTrait>(db: &C, user: &Actor) -> AppResult<MeResponse> {
    let phone_masked = user::Entity::find_by_id(user.id)
        .one(db)
        .await?
        .and_then(|u| u.phone_masked);
    let resident = match linked::of_user(db, user.id).await? {
        Some(r) => match places::household(db, r.household_id).await? {
            Some(h) => {
                let names = places::place_names(db, &h).await?;
                Some(MeResident {
                    id: r.id,
                    name: r.name,
                    household_id: h.id,
                    building_id: h.building_id,
                    compound_id: h.compound_id,
                    community_id: h.community_id,
                    unit: h.unit,
                    room: h.room,
                    street_name: names.street_name,
                    community_name: names.community_name,
                    compound_name: names.compound_name,
                    building_name: names.building_name,
                })
            }
            None => None,
        },
        None => None,
    };
    Ok(MeResponse {
        phone_masked,
        resident,
        id: user.id,
        display_name: user.display_name.clone(),
        username: user.username.clone(),
        is_superadmin: user.is_superadmin,
        roles: user
            .roles
            .iter()
            .map(|a| RoleAssignmentSummary {
                id: a.id,
                role: a.role,
                scope_type: a.scope_type,
                scope_id: a.scope_id,
                valid_until: a.valid_until,
                source_term_id: a.source_term_id,
            })
            .collect(),
    })
}

/// The caller's household, the names of the places above it, and its current members with the
/// tags the caller may see of each.
pub struct MyHousehold {
    pub household: Household,
    pub names: PlaceNames,
    /// The caller's own resident entry.
    pub own: Uuid,
    pub members: Vec<(Resident, Vec<String>)>,
}

/// The caller's household (404 until the account is bound). The caller's own tags are its own;
/// of the others only what the community made public.
pub async fn my_household<C: ConnectionTrait>(db: &C, me: &Actor) -> AppResult<MyHousehold> {
    let r = linked::of_user(db, me.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let hh = places::household(db, r.household_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let members = linked::current_members(db, hh.id).await?;
    let ids: Vec<Uuid> = members.iter().map(|m| m.id).collect();
    let mut tags = crate::residents::service::roster::tags_of(db, &ids).await?;
    let public: std::collections::HashSet<String> =
        crate::residents::service::public_tags::of_community(db, hh.community_id)
            .await?
            .into_iter()
            .collect();
    let names = places::place_names(db, &hh).await?;
    let members = members
        .into_iter()
        .map(|m| {
            let t = tags.remove(&m.id).unwrap_or_default();
            let t = if m.id == r.id {
                t
            } else {
                crate::residents::service::public_tags::visible(t, &public)
            };
            (m, t)
        })
        .collect();
    Ok(MyHousehold {
        household: hh,
        names,
        own: r.id,
        members,
    })
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
    pub gender: Option<crate::residents::service::roster::Gender>,
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
    pub role: Role,
    pub scope_type: ScopeType,
    pub scope_id: Uuid,
}

/// Everything identity holds about the caller, with the roster entry it is linked to and who
/// accessed that entry's personal data; the tickets and messages come from their domains.
pub struct OwnData {
    pub account: MyAccount,
    pub resident: Option<MyResident>,
    pub roles: Vec<MyRole>,
    pub binding_requests: Vec<BindingRequestResponse>,
    pub access_log: Vec<AuditEventResponse>,
    pub sessions: u64,
    pub messages: Vec<InboxMessageResponse>,
}

/// What the system holds about the caller, its own personal data in full.
pub async fn own_data<C: ConnectionTrait>(db: &C, pii: &Pii, me: &Actor) -> AppResult<OwnData> {
    let u = user::Entity::find_by_id(me.id)
        .one(db)
        .await?
        .ok_or(AppError::InvalidToken)?;
    let phone = match (&u.phone_cipher, &u.phone_key_id) {
        (Some(c), Some(k)) => Some(pii.open("phone", c, k)?),
        _ => None,
    };
    let (resident, access_log) = match linked::of_user(db, me.id).await? {
        Some(r) => {
            let tags = rsvc::tags_of(db, &[r.id])
                .await?
                .remove(&r.id)
                .unwrap_or_default();
            let log = audit_trail::about_resident(db, r.id).await?;
            (
                Some(MyResident {
                    id: r.id,
                    household_id: r.household_id,
                    name: r.name.clone(),
                    gender: r.gender,
                    birth_date: r.birth_date,
                    phone: rsvc::open(pii, &r, "phone")?,
                    id_number: rsvc::open(pii, &r, "id_number")?,
                    relation: r.relation.clone(),
                    tags,
                    moved_in_on: r.moved_in_on,
                    moved_out_on: r.moved_out_on,
                }),
                log,
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
    let binding_requests = binding_requests::all_mine(db, me.id).await?;
    let messages = crate::platform::inbox::all_of(db, me.id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let sessions = refresh_token::Entity::find()
        .filter(refresh_token::Column::UserId.eq(me.id))
        .count(db)
        .await?;
    Ok(OwnData {
        account: MyAccount {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            wechat_bound: u.wechat_openid.is_some(),
            phone,
            created_at: u.created_at,
        },
        resident,
        roles,
        binding_requests,
        access_log,
        sessions,
        messages,
    })
}
