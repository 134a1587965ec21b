//! Writing notices: list, draft, edit, publish, withdraw.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::with_etag;
use crate::access::AuthUser;
use crate::notices::model::{self, Category, Place, Priority, Status};
use crate::notices::query::{self, NoticeResponse};
use crate::notices::service::{self as svc, Changes, Checked, Draft};
use crate::platform::error::{AppError, AppResult, FieldError};
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::{clean_line, clean_text, double_option, if_match, Page, PageParams};
use crate::platform::signed_urls::Signer;
use crate::platform::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNoticeRequest {
    /// The level of the place the notice is addressed to.
    pub scope_type: Place,
    /// The street, community, compound or building (ids from `/api/v1/directory/...`).
    pub scope_id: Uuid,
    /// Only residents carrying any of these tags (党员, 独居老人, …); at most 10, each 1–20
    /// characters. Absent or empty: everyone in the place.
    #[serde(default)]
    #[schema(max_items = 10, max_length = 20, format = "text-line")]
    pub audience_tags: Vec<String>,
    /// Whether the place's shops (商铺) are addressed too. Default false.
    #[serde(default)]
    pub include_shops: bool,
    pub category: Category,
    /// 1 to 50 characters, one line.
    #[schema(max_length = 50, format = "text-line")]
    pub title: String,
    /// 1 to 10,000 characters; line breaks allowed.
    #[schema(max_length = 10000, format = "text")]
    pub body: String,
    /// Default `normal`. Building and street leaders publish `normal` only.
    pub priority: Option<Priority>,
    /// Ask recipients to confirm (回执). Default false.
    #[serde(default)]
    pub requires_confirmation: bool,
    /// Publish at this time instead of at once (the job publishes it); at most 366 days ahead.
    pub publish_at: Option<DateTime<Utc>>,
    /// After this time the notice no longer counts as unread; after `publish_at`.
    pub expires_at: Option<DateTime<Utc>>,
    /// Shown first (`pinned`) until this time.
    pub pinned_until: Option<DateTime<Utc>>,
    /// The author's own uploads (`POST /api/v1/attachments`) to show with it, at most 9. A
    /// notice with photos by an author signed in with WeChat (a leader) waits for a moderator
    /// when published, whatever the text check says.
    #[serde(default)]
    pub photo_ids: Vec<Uuid>,
}

/// Cleans and checks the tags a notice is addressed to.
fn clean_tags(tags: &[String]) -> AppResult<Vec<String>> {
    if tags.len() > model::TAGS_MAX {
        return Err(AppError::Validation(vec![FieldError::too_many(
            "audience_tags",
            model::TAGS_MAX,
        )]));
    }
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for (i, t) in tags.iter().enumerate() {
        let t = clean_line(&format!("audience_tags[{i}]"), t, model::TAG_MAX)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// Creates a draft notice addressed to a place in the caller's reach. It reaches nobody until
/// `publish`.
#[utoipa::path(tag = "notices", security(("bearer" = [])),
    request_body = CreateNoticeRequest,
    responses(
        (status = 201, body = NoticeResponse, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Invalid fields (`errors[]` names each)"),
        (status = 403, description = "The caller sees the place but may not publish there (`forbidden`), or not this kind of notice (`notice_restricted`: leaders publish `normal` notices, council members publicity)"),
        (status = 404, description = "The place is not found or outside the caller's scope"),
    ))]
#[post("/notices")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn create_notice(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateNoticeRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let d = Draft {
        place: b.scope_type,
        place_id: b.scope_id,
        audience_tags: clean_tags(&b.audience_tags)?,
        include_shops: b.include_shops,
        category: b.category,
        title: clean_line("title", &b.title, model::TITLE_MAX)?,
        body: clean_text("body", &b.body, model::BODY_MAX)?,
        priority: b.priority.unwrap_or(Priority::Normal),
        requires_confirmation: b.requires_confirmation,
        publish_at: b.publish_at,
        expires_at: b.expires_at,
        pinned_until: b.pinned_until,
        photo_ids: b.photo_ids,
    };
    let now = state.clock.now();
    let n = svc::create(&state.db, &user, d, now).await?;
    tracing::info!(notice = %n.id, "notice drafted");
    let location = format!("/api/v1/notices/{}", n.id);
    let r = query::respond(
        &state.db,
        &user,
        n,
        &Signer::from_settings(&state.settings),
        now,
    )
    .await?;
    Ok(with_etag(
        HttpResponse::Created()
            .insert_header((actix_web::http::header::LOCATION, location))
            .take(),
        &r,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListNoticesQuery {
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    /// Only notices addressed to exactly this place.
    pub scope_id: Option<Uuid>,
    pub status: Option<Status>,
    pub category: Option<Category>,
    /// Only pinned (`true`) or only unpinned (`false`) notices.
    pub pinned: Option<bool>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The notices the caller may read, newest first: staff and leaders every notice down their
/// reach (drafts included); residents, and leaders for the places above them, the published
/// notices addressed to their building, compound, community and street.
#[utoipa::path(tag = "notices", security(("bearer" = [])), params(ListNoticesQuery),
    responses((status = 200, body = Page<NoticeResponse>)))]
#[get("/notices")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn list_notices(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListNoticesQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let f = query::Filters {
        community_id: q.community_id,
        compound_id: q.compound_id,
        building_id: q.building_id,
        scope_id: q.scope_id,
        status: q.status,
        category: q.category,
        pinned: q.pinned,
    };
    let page = query::list(
        &state.db,
        &user,
        f,
        p,
        &Signer::from_settings(&state.settings),
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One notice. Reading it here marks nothing read (mini-programs prefetch): `POST .../read` does.
#[utoipa::path(tag = "notices", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = NoticeResponse, headers(("ETag" = String))),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/notices/{id}")]
pub async fn get_notice(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let r = query::get(
        &state.db,
        &user,
        *id,
        &Signer::from_settings(&state.settings),
        state.clock.now(),
    )
    .await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateNoticeRequest {
    /// Replaces the tags; at most 10 of at most 20 characters.
    #[schema(max_items = 10, max_length = 20, format = "text-line")]
    pub audience_tags: Option<Vec<String>>,
    pub include_shops: Option<bool>,
    pub category: Option<Category>,
    #[schema(max_length = 50, format = "text-line")]
    pub title: Option<String>,
    #[schema(max_length = 10000, format = "text")]
    pub body: Option<String>,
    pub priority: Option<Priority>,
    pub requires_confirmation: Option<bool>,
    /// null clears it (publish at once).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub publish_at: Option<Option<DateTime<Utc>>>,
    /// null clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
    /// null clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub pinned_until: Option<Option<DateTime<Utc>>>,
    /// The photos from now on (at most 9): those kept stay, new ones (the editor's own uploads)
    /// are attached, the others detached.
    pub photo_ids: Option<Vec<Uuid>>,
}

/// Edits a draft (also one a moderator sent back). A notice published, scheduled or held for
/// review is never edited: 409 `wrong_status`; withdraw it and write a new one, so a receipt
/// always refers to the text that was read. From the mini-program: `POST` with
/// `X-HTTP-Method-Override: PATCH`.
#[utoipa::path(tag = "notices", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The notice's ETag; a stale one answers 412")),
    request_body = UpdateNoticeRequest,
    responses(
        (status = 200, body = NoticeResponse, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields"),
        (status = 403, description = "The caller may read the notice but not write it, or not make it this kind (`notice_restricted`)"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not a draft (`wrong_status`)"),
        (status = 412, description = "If-Match does not match the notice's current ETag"),
    ))]
#[patch("/notices/{id}")]
#[tracing::instrument(skip_all, fields(user = %user.id, notice = %id))]
pub async fn update_notice(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<UpdateNoticeRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let c = Changes {
        audience_tags: b.audience_tags.as_deref().map(clean_tags).transpose()?,
        include_shops: b.include_shops,
        category: b.category,
        title: b
            .title
            .as_deref()
            .map(|t| clean_line("title", t, model::TITLE_MAX))
            .transpose()?,
        body: b
            .body
            .as_deref()
            .map(|t| clean_text("body", t, model::BODY_MAX))
            .transpose()?,
        priority: b.priority,
        requires_confirmation: b.requires_confirmation,
        publish_at: b.publish_at,
        expires_at: b.expires_at,
        pinned_until: b.pinned_until,
        photo_ids: b.photo_ids,
    };
    let now = state.clock.now();
    let n = svc::update(&state.db, &user, *id, if_match(&req)?, c, now).await?;
    let r = query::respond(
        &state.db,
        &user,
        n,
        &Signer::from_settings(&state.settings),
        now,
    )
    .await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}

/// The review label of a notice held because its author's photos wait for a moderator.
pub const IMAGES_LABEL: &str = "images";

/// What the content check says about the text of notice `id`, written under the caller's name:
/// through WeChat's check for an account with a WeChat identity (when WeChat is configured),
/// else the street's keyword list. `risky` refuses (400 `content_rejected`); an outage holds it
/// for review.
async fn check(state: &AppState, user: &AuthUser, id: Uuid) -> AppResult<Checked> {
    use crate::access::author_of;
    use crate::platform::content::{self, Scene, Verdict};
    let n = svc::readable_notice(&state.db, user, id).await?;
    let author = author_of(&state.db, user.id, n.street_id).await?;
    let verdict =
        content::check_text(state, &author, Scene::Forum, Some(&n.title), &n.body).await?;
    Ok(match content::reject_risky(verdict)? {
        // Photos by an author with a WeChat identity wait for a moderator (§0.3: images are
        // not sent to WeChat's asynchronous check yet).
        Verdict::Pass
            if author.openid.is_some() && !svc::photos(&state.db, id).await?.is_empty() =>
        {
            Checked::Review(IMAGES_LABEL.to_string())
        }
        Verdict::Pass => Checked::Pass,
        Verdict::Review { label, .. } => Checked::Review(label),
        Verdict::Risky { label, .. } => Checked::Review(label),
    })
}

/// Publishes a draft. Its text goes through the content check first: `pass` publishes at once
/// (or schedules it, when `publish_at` lies ahead: the job publishes it then); `review` holds it
/// as `pending_review` for a moderator; `risky` refuses it. Publishing writes the recipients
/// (residents bound to households of the place, with the tags) and queues one WeChat subscribe
/// message each. No body.
#[utoipa::path(tag = "notices", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The notice's ETag; a stale one answers 412")),
    responses(
        (status = 200, body = NoticeResponse, headers(("ETag" = String))),
        (status = 400, description = "The content check refused the text (`content_rejected`, the label in `errors[]`), or the notice expired before it could be published"),
        (status = 403, description = "The caller may read the notice but not publish it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not a draft (`wrong_status`)"),
        (status = 412, description = "If-Match does not match the notice's current ETag"),
    ))]
#[post("/notices/{id}/publish")]
#[tracing::instrument(skip_all, fields(user = %user.id, notice = %id))]
pub async fn publish_notice(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let expected = if_match(&req)?;
    let checked = check(&state, &user, *id).await?;
    let now = state.clock.now();
    let n = svc::publish(&state.db, &user, *id, expected, checked, now).await?;
    tracing::info!(status = ?n.status, recipients = n.recipients_count, "notice published");
    let r = query::respond(
        &state.db,
        &user,
        n,
        &Signer::from_settings(&state.settings),
        now,
    )
    .await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawNoticeRequest {
    /// Shown with the withdrawn notice. 1 to 500 characters.
    #[schema(max_length = 500, format = "text")]
    pub reason: String,
}

/// Withdraws a scheduled, held or published notice; its receipts stay.
#[utoipa::path(tag = "notices", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The notice's ETag; a stale one answers 412")),
    request_body = WithdrawNoticeRequest,
    responses(
        (status = 200, body = NoticeResponse, headers(("ETag" = String))),
        (status = 403, description = "The caller may read the notice but not withdraw it"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "A draft or already withdrawn (`wrong_status`)"),
        (status = 412, description = "If-Match does not match the notice's current ETag"),
    ))]
#[post("/notices/{id}/withdraw")]
#[tracing::instrument(skip_all, fields(user = %user.id, notice = %id))]
pub async fn withdraw_notice(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<WithdrawNoticeRequest>,
) -> AppResult<HttpResponse> {
    let reason = clean_text("reason", &body.reason, model::REASON_MAX)?;
    let now = state.clock.now();
    let n = svc::withdraw(&state.db, &user, *id, if_match(&req)?, reason, now).await?;
    let r = query::respond(
        &state.db,
        &user,
        n,
        &Signer::from_settings(&state.settings),
        now,
    )
    .await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}
