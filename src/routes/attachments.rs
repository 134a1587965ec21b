//! Photo attachments: `POST /api/v1/attachments` (multipart image upload) and
//! `GET /api/v1/attachments/{id}` (the bytes, for callers who may see them).

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::policy::{self, Action};
use crate::auth::AuthUser;
use crate::error::{AppError, AppResult};
use crate::routes::created;
use crate::services::attachments::{self as svc, MAX_BYTES};
use crate::state::AppState;
use entity::{attachment, ticket};

/// An uploaded photo, as listed on a ticket and returned by the upload.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachmentResponse {
    pub id: Uuid,
    /// The image type detected from the content: `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: String,
    pub size_bytes: i64,
    /// Where to download it (same authorisation as the ticket).
    pub url: String,
    #[serde(serialize_with = "crate::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

impl From<attachment::Model> for AttachmentResponse {
    fn from(m: attachment::Model) -> Self {
        Self {
            id: m.id,
            url: format!("/api/v1/attachments/{}", m.id),
            content_type: m.content_type,
            size_bytes: m.size_bytes,
            created_at: m.created_at,
        }
    }
}

/// The upload: one part named `file`.
#[derive(ToSchema)]
pub struct UploadAttachmentForm {
    /// The photo: JPEG, PNG or WebP (judged by its content, not its name or declared type), at
    /// most 5 MiB.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// The photo's bytes.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct ImageFile(Vec<u8>);

/// Upload a photo (JPEG, PNG or WebP, at most 5 MiB) to attach to a ticket later.
///
/// The type is judged by the file's content alone; its name and declared type are ignored. The
/// photo is stored without its metadata (Exif with GPS position and device, XMP, IPTC, PNG text
/// chunks; a JPEG keeps only its orientation), so `size_bytes` may be less than what was sent.
/// The upload is visible to its uploader only until it is attached (`attachment_ids` when filing or
/// updating a ticket); from then on to whoever may see the ticket. Uploads not attached within
/// 24 hours are deleted, and a user may hold at most 20 unattached uploads at a time. Residents
/// and staff who work tickets may upload.
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    request_body(
        content((UploadAttachmentForm = "multipart/form-data",
            encoding(("file" = (content_type = "image/jpeg, image/png, image/webp"))))),
        description = "One part named `file`: the photo, at most 5 MiB (5,242,880 bytes)"),
    responses(
        (status = 201, description = "The photo is stored, waiting to be attached to a ticket", body = AttachmentResponse,
            headers(("Location" = String, description = "`/api/v1/attachments/{id}`"))),
        (status = 400, description = "No `file` part, an empty file, another part, or a \
            malformed multipart body"),
        (status = 403, description = "The caller's roles neither file nor work tickets"),
        (status = 409, description = "The caller already holds 20 uploads not yet attached to a \
            ticket"),
        (status = 413, description = "The photo is larger than 5 MiB (5,242,880 bytes)"),
        (status = 415, description = "The body is not multipart/form-data, or the file is not a \
            well-formed JPEG, PNG or WebP image"),
    ))]
#[post("/attachments")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn upload_attachment(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let may_upload = [
        Action::TicketFileOwn,
        Action::TicketFile,
        Action::TicketFollowUp,
        Action::TicketHandle,
    ]
    .into_iter()
    .any(|a| policy::can_anywhere(&user, a));
    if !may_upload {
        return Err(AppError::Forbidden);
    }
    let bytes = crate::routes::upload::read_file_part(&req, payload, MAX_BYTES, "photo").await?;
    let model = svc::store(
        &state.db,
        state.storage.as_ref(),
        user.id,
        &bytes,
        state.clock.now(),
    )
    .await?;
    tracing::info!(
        attachment_id = %model.id,
        by = %user.id,
        bytes = model.size_bytes,
        content_type = %model.content_type,
        "attachment uploaded"
    );
    let body = AttachmentResponse::from(model);
    Ok(created(body.url.clone(), &body))
}

/// Download a photo (its uploader before it is attached; afterwards whoever may see its ticket).
///
/// Served without metadata, with the type detected at upload, `X-Content-Type-Options: nosniff`,
/// a private one-day cache and an `ETag` (`If-None-Match` answers 304). An upload the caller may
/// not see is a 404, as is one whose file has gone from storage.
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The photo",
            content((ImageFile = "image/jpeg"), (ImageFile = "image/png"), (ImageFile = "image/webp")),
            headers(("ETag" = String, description = "The SHA-256 of the content, quoted"))),
        (status = 304, description = "`If-None-Match` names the current ETag"),
        (status = 404, description = "Unknown, not visible to the caller (an unattached upload \
            of someone else, or a ticket outside the caller's scope), or gone"),
    ))]
#[get("/attachments/{id}")]
#[tracing::instrument(skip_all, fields(user = %user.id, attachment = %id))]
pub async fn get_attachment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let a = attachment::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    match a.ticket_id {
        None if a.uploader_user_id != user.id => return Err(AppError::NotFound),
        None => {}
        Some(ticket_id) => {
            policy::find_visible::<ticket::Entity, _>(
                &state.db,
                &user,
                Action::TicketRead,
                ticket_id,
            )
            .await?;
        }
    }
    let etag = format!("\"{}\"", a.sha256);
    let cached = |etag: &str| {
        req.headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .map(|t| t.trim().trim_start_matches("W/"))
                    .any(|t| t == etag || t == "*")
            })
    };
    let private = || (header::CACHE_CONTROL, "private, max-age=86400");
    let not_modified = |etag: String| {
        HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header(private())
            .finish()
    };
    if cached(&etag) {
        return Ok(not_modified(etag));
    }
    let Some(stored) = state
        .storage
        .get(&a.storage_key)
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!(e)))?
    else {
        // The row outlived its file (lost disk, restore from an older backup). Nothing the
        // client can do about it and retrying will not help, so it is a 404, not a 5xx; the
        // operators learn of it here.
        tracing::error!(attachment_id = %a.id, key = %a.storage_key, "attachment file missing from storage");
        return Err(AppError::NotFound);
    };
    // Uploads are stored without metadata; files stored before that was done are cleaned here.
    // One that cannot be parsed is not served as it is (it may hold what it should not).
    let content_type = a.content_type.clone();
    let cleaned =
        web::block(move || svc::without_metadata(&content_type, &stored).map(|b| (b == stored, b)))
            .await
            .map_err(|e| {
                AppError::internal(anyhow::anyhow!("cleaning the photo was cancelled: {e}"))
            })?;
    let (unchanged, bytes) = match cleaned {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(attachment_id = %a.id, error = %e, "stored attachment is not a well-formed image; not served");
            return Err(AppError::NotFound);
        }
    };
    // The ETag names the bytes served: for an old file cleaned here, those of the clean copy.
    let etag = if unchanged {
        etag
    } else {
        let etag = format!("\"{}\"", hex::encode(Sha256::digest(&bytes)));
        if cached(&etag) {
            return Ok(not_modified(etag));
        }
        etag
    };
    Ok(HttpResponse::Ok()
        .content_type(a.content_type)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header(private())
        .insert_header((header::CONTENT_DISPOSITION, "inline"))
        .insert_header((header::ETAG, etag))
        .body(bytes))
}
