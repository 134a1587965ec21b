//! The tags of a community its residents may see on their own household's members.

use actix_web::{get, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::AuthUser;
use crate::platform::error::AppResult;
use crate::platform::http::extract::Json;
use crate::platform::state::AppState;
use crate::residents::service::public_tags as svc;

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
    Ok(HttpResponse::Ok().json(PublicTags {
        tags: svc::of_community_for(&state.db, &user, *id).await?,
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
    let tags = svc::replace_for(&state.db, &user, *id, &body.tags, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(PublicTags { tags }))
}
