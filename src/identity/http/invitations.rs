//! Household invitation codes: issued by staff who approve binding requests for the household,
//! entered by a resident to join it at once.

use actix_web::{post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::super::service::invitations as svc;
use super::auth::sessions;
use super::binding_requests::BindingRequestResponse;
use crate::access::AuthUser;
use crate::platform::error::AppResult;
use crate::platform::http::clean_name;
use crate::platform::http::extract::Json;
use crate::platform::state::AppState;
use crate::residents::service::roster as rsvc;

#[derive(Serialize, ToSchema)]
pub struct InvitationCodeResponse {
    /// Eight characters (no 0, O, 1, I or L); give it to the household's members only.
    #[schema(example = "H4WN7KQP")]
    pub code: String,
    pub household_id: Uuid,
    /// Until then (seven days) it binds up to ten accounts.
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub expires_at: DateTime<Utc>,
}

/// A code that lets the members of a household join it from the mini-program without a
/// request to review: entering it counts as this staff member's approval.
#[utoipa::path(tag = "residents", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The household")),
    responses(
        (status = 201, body = InvitationCodeResponse),
        (status = 404, description = "No such household among those whose binding requests the caller reviews"),
    ))]
#[post("/households/{id}/invitation-codes")]
pub async fn create_invitation_code(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let (code, expires_at) = svc::issue(&sessions(&state), &user, *id, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(InvitationCodeResponse {
        code,
        household_id: *id,
        expires_at,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemInvitationRequest {
    /// The code staff gave (case, blanks and dashes do not matter).
    #[schema(min_length = 1, max_length = 32, example = "H4WN-7KQP")]
    pub code: String,
    /// The caller's name as the household knows it.
    #[schema(max_length = 50, format = "text-line")]
    pub name: String,
    /// Relation to the householder (户主, 配偶, 子女, …).
    #[schema(max_length = 20, format = "text-line")]
    pub relation: String,
}

/// Join a household with an invitation code: bound at once (the roster entry whose phone WeChat
/// verified for the caller, else a new entry with the name given). A request of the caller still
/// waiting is closed.
#[utoipa::path(tag = "me", security(("bearer" = [])),
    request_body = RedeemInvitationRequest,
    responses(
        (status = 200, body = BindingRequestResponse),
        (status = 400, description = "Unknown or expired code (`code`: `invalid`), or an empty or too long name or relation"),
        (status = 409, description = "The code has bound as many accounts as it may"),
        (status = 429, description = "Too many codes tried this hour"),
    ))]
#[post("/me/household-invitation")]
pub async fn redeem_invitation(
    state: web::Data<AppState>,
    me: AuthUser,
    body: Json<RedeemInvitationRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let name = clean_name("name", &body.name, rsvc::NAME_MAX)?;
    let relation = clean_name("relation", &body.relation, rsvc::RELATION_MAX)?;
    if body.code.chars().count() > 32 {
        return Err(crate::platform::error::AppError::Validation(vec![
            crate::platform::error::FieldError::too_long("code", 32),
        ]));
    }
    let m = svc::redeem(
        &sessions(&state),
        &state.pii,
        &me,
        &body.code,
        name,
        relation,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(BindingRequestResponse::from(m)))
}
