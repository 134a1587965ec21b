//! The tags of a community its residents may see on their own household's members.

use actix_web::{get, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::policy::{self, Action};
use crate::access::AuthUser;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http::extract::Json;
use crate::platform::state::AppState;
use crate::residents::service::public_tags as svc;
use entity::community;

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicTags {
    /// Tags residents see on the members of their own household (e.g. 党员, 志愿者). Tags about
    /// someone's need or past (低保, 残疾, 独居老人, …) are refused (`sensitive_tag`). At most 30,
    /// each at most 20 characters.
    #[schema(max_items = 30, example = json!(["党员", "志愿者"]))]
    pub tags: Vec<String>,
}

/// A community's public tags (staff who read its roster).
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = PublicTags),
        (status = 404, description = "Community not found or outside the caller's scope"),
    ))]
#[get("/communities/{id}/public-tags")]
pub async fn get_public_tags(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let c =
        policy::find_visible::<community::Entity, _>(&state.db, &user, Action::ResidentRead, *id)
            .await?;
    Ok(HttpResponse::Ok().json(PublicTags {
        tags: svc::of_community(&state.db, c.id).await?,
    }))
}

/// Replace a community's public tags (staff who maintain its roster).
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = PublicTags,
    responses(
        (status = 200, body = PublicTags),
        (status = 400, description = "An empty, too long, invisible-character or sensitive tag (`sensitive_tag`), or more than 30"),
        (status = 403, description = "The caller reads this roster but does not maintain it"),
        (status = 404, description = "Community not found or outside the caller's scope"),
    ))]
#[put("/communities/{id}/public-tags")]
pub async fn put_public_tags(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<PublicTags>,
) -> AppResult<HttpResponse> {
    let c =
        policy::find_visible::<community::Entity, _>(&state.db, &user, Action::ResidentRead, *id)
            .await?;
    if !policy::reaches::<community::Entity, _>(&state.db, &user, Action::ResidentWrite, c.id)
        .await?
    {
        return Err(AppError::Forbidden);
    }
    if body.tags.len() > svc::PUBLIC_TAGS_MAX {
        return Err(AppError::Validation(vec![
            crate::platform::error::FieldError::too_many("tags", 30),
        ]));
    }
    let tags = svc::replace(&state.db, c.id, &body.tags).await?;
    tracing::info!(community = %c.id, by = %user.id, n = tags.len(), "public tags changed");
    Ok(HttpResponse::Ok().json(PublicTags { tags }))
}
