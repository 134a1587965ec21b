//! A street's content-check keyword list (admins of the street, community staff of its
//! communities).

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AuthUser;
use crate::moderation::service;
use crate::platform::content::{ContentKeyword, KeywordVerdict};
use crate::platform::error::AppResult;
use crate::platform::http::created;
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::Page;
use crate::platform::paging::PageParams;
use crate::platform::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ContentKeywordResponse {
    pub id: Uuid,
    pub street_id: Uuid,
    /// As stored and matched: lowercase, full-width letters folded, spaces collapsed.
    #[schema(example = "敏感词")]
    pub word: String,
    pub verdict: KeywordVerdict,
    pub created_by: Uuid,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

impl From<ContentKeyword> for ContentKeywordResponse {
    fn from(m: ContentKeyword) -> Self {
        Self {
            id: m.id,
            street_id: m.street_id,
            word: m.word,
            verdict: m.verdict,
            created_by: m.created_by,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListContentKeywordsQuery {
    pub street_id: Uuid,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A street's content-check keywords, oldest first.
#[utoipa::path(tag = "moderation", security(("bearer" = [])), params(ListContentKeywordsQuery),
    responses(
        (status = 200, body = Page<ContentKeywordResponse>),
        (status = 403, description = "The caller belongs to the street but may not keep its list"),
        (status = 404, description = "Not a street the caller belongs to"),
    ))]
#[get("/content-keywords")]
#[tracing::instrument(skip_all, fields(user = %user.id, street = %q.street_id))]
pub async fn list_content_keywords(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListContentKeywordsQuery>,
) -> AppResult<HttpResponse> {
    let page = PageParams::new(q.limit, q.cursor.as_deref())?;
    let (rows, next_cursor) = service::list_keywords(&state.db, &user, q.street_id, page).await?;
    Ok(HttpResponse::Ok().json(Page::<ContentKeywordResponse> {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContentKeywordRequest {
    pub street_id: Uuid,
    /// 1–20 characters after normalising (lowercase, full-width letters folded, spaces
    /// collapsed), not only punctuation or spaces; unique in the street. Matched in titles and
    /// bodies whatever the case and whatever spaces or punctuation stand between its characters.
    #[schema(
        example = "敏感词",
        min_length = 1,
        max_length = 20,
        format = "text-line"
    )]
    pub word: String,
    /// `review` keeps a text containing it for a moderator; `risky` refuses it.
    pub verdict: KeywordVerdict,
}

/// Add a word to a street's content-check list (admins of the street, community staff).
#[utoipa::path(tag = "moderation", security(("bearer" = [])), request_body = CreateContentKeywordRequest,
    responses(
        (status = 201, body = ContentKeywordResponse, headers(("Location" = String))),
        (status = 403, description = "The caller belongs to the street but may not keep its list"),
        (status = 404, description = "Not a street the caller belongs to"),
        (status = 409, description = "The street has this word already (`already_exists`), or 2,000 words (`too_many_keywords`)"),
    ))]
#[post("/content-keywords")]
#[tracing::instrument(skip_all, fields(user = %user.id, street = %body.street_id))]
pub async fn create_content_keyword(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateContentKeywordRequest>,
) -> AppResult<HttpResponse> {
    let m = service::add_keyword(
        &state.db,
        &user,
        body.street_id,
        &body.word,
        body.verdict,
        state.clock.now(),
    )
    .await?;
    Ok(created(
        format!("/api/v1/content-keywords?street_id={}", m.street_id),
        &ContentKeywordResponse::from(m),
    ))
}

/// Remove a word from its street's content-check list.
#[utoipa::path(tag = "moderation", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "The caller belongs to the street but may not keep its list"),
        (status = 404, description = "Not found, or of a street the caller does not belong to"),
    ))]
#[delete("/content-keywords/{id}")]
#[tracing::instrument(skip_all, fields(user = %user.id, keyword = %id))]
pub async fn delete_content_keyword(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    service::remove_keyword(&state.db, &user, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
