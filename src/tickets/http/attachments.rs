//! Photo attachments: `POST /api/v1/attachments` (multipart image upload) and
//! `GET /api/v1/attachments/{id}` (the bytes, for callers who may see them).

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::policy::{self, Action};
use crate::access::AuthUser;
use crate::platform::attachments::{self as store, StoredPhoto, MAX_BYTES};
use crate::platform::error::{AppError, AppResult, FieldError};
use crate::platform::http::created;
use crate::platform::http::extract::Query;
use crate::platform::signed_urls::{Refused, Signer, Variant};
use crate::platform::state::AppState;
pub use crate::tickets::query::attachments::AttachmentResponse;
use crate::tickets::service::attachments as svc;

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
        (status = 403, description = "The caller's roles neither file nor work tickets, nor publish notices"),
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
        Action::NoticePublish,
    ]
    .into_iter()
    .any(|a| policy::can_anywhere(&user, a));
    if !may_upload {
        return Err(AppError::Forbidden);
    }
    let bytes =
        crate::platform::http::upload::read_file_part(&req, payload, MAX_BYTES, "photo").await?;
    let model = store::store(
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
    let location = format!("/api/v1/attachments/{}", model.id);
    let now = state.clock.now();
    let body = AttachmentResponse::new(model, &Signer::from_settings(&state.settings), now);
    Ok(created(location, &body))
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
    let a = svc::visible_photo(&state.db, &user, id, state.clock.now()).await?;
    serve(&state, a, Variant::Original, &req, ONE_DAY).await
}

/// A day: what a private cache may keep a photo fetched with a token.
const ONE_DAY: i64 = 86_400;

/// The `expires` and `signature` of a signed photo URL, as the API wrote them.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SignedUrlQuery {
    /// When the URL stops working, in seconds since 1970 (UTC).
    pub expires: i64,
    /// The URL's signature.
    #[param(max_length = 64, pattern = "^[A-Za-z0-9_-]+$")]
    pub signature: String,
}

/// Download a photo or its thumbnail through a signed URL, without a token.
///
/// These are the `url` and `thumbnail_url` of an attachment, what `<image src>` and
/// `wx.previewImage` load. The URL names one photo and one variant until it expires, and grants nothing else. Served
/// like the authenticated download, with `Cache-Control: private, max-age` no longer than the
/// URL stays valid.
#[utoipa::path(tag = "tickets", security(()),
    params(
        ("id" = Uuid, Path, description = "Attachment id"),
        ("variant" = Variant, Path, description = "`original` or `thumbnail`"),
        SignedUrlQuery,
    ),
    responses(
        (status = 200, description = "The photo or its thumbnail",
            content((ImageFile = "image/jpeg"), (ImageFile = "image/png"), (ImageFile = "image/webp")),
            headers(
                ("ETag" = String, description = "The SHA-256 of the content, quoted"),
                ("Cache-Control" = String, description = "`private, max-age=N`, N at most the seconds the URL stays valid"),
            )),
        (status = 304, description = "`If-None-Match` names the current ETag"),
        (status = 400, description = "`expires` or `signature` missing or malformed, or an unknown variant"),
        (status = 403, description = "The signature is not this URL's (`url_signature_invalid`: \
            another attachment, variant or expiry), or the URL has expired (`url_expired`)"),
        (status = 404, description = "The photo (or its thumbnail) is gone"),
    ))]
#[get("/attachments/{id}/{variant}")]
#[tracing::instrument(skip_all, fields(attachment = %path.0))]
pub async fn get_signed_attachment(
    state: web::Data<AppState>,
    path: web::Path<(Uuid, String)>,
    q: Query<SignedUrlQuery>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let (id, variant) = path.into_inner();
    let variant = match variant.as_str() {
        "original" => Variant::Original,
        "thumbnail" => Variant::Thumbnail,
        _ => {
            return Err(AppError::InvalidPath(vec![FieldError::of(
                "variant",
                crate::platform::error::FieldCode::Invalid,
                crate::platform::lang::Text::new(
                    "取值不对，应为：original 或 thumbnail",
                    "original or thumbnail",
                ),
            )]))
        }
    };
    let signer = Signer::from_settings(&state.settings);
    let left = signer
        .verify(id, variant, q.expires, &q.signature, state.clock.now())
        .map_err(|e| match e {
            Refused::BadSignature => AppError::UrlSignatureInvalid,
            Refused::Expired => AppError::UrlExpired,
        })?;
    let a = store::photo(&state.db, id).await?;
    let ttl = i64::try_from(state.settings.attachment_url_ttl.as_secs()).unwrap_or(ONE_DAY);
    serve(&state, a, variant, &req, left.min(ttl)).await
}

/// `variant` of photo `a`, cacheable privately for `max_age` seconds, with an `ETag`.
async fn serve(
    state: &AppState,
    a: StoredPhoto,
    variant: Variant,
    req: &HttpRequest,
    max_age: i64,
) -> AppResult<HttpResponse> {
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
    let private = || (header::CACHE_CONTROL, format!("private, max-age={max_age}"));
    let not_modified = |etag: String| {
        HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header(private())
            .finish()
    };
    let (key, content_type, etag) = match variant {
        Variant::Original => (
            a.storage_key.clone(),
            a.content_type.clone(),
            Some(format!("\"{}\"", a.sha256)),
        ),
        Variant::Thumbnail => match (a.thumbnail_key.clone(), a.thumbnail_content_type.clone()) {
            (Some(k), Some(t)) => (k, t, None),
            _ => return Err(AppError::NotFound),
        },
    };
    if let Some(etag) = etag.as_ref().filter(|e| cached(e)) {
        return Ok(not_modified(etag.clone()));
    }
    let Some(stored) = state
        .storage
        .get(&key)
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!(e)))?
    else {
        // The row outlived its file (lost disk, restore from an older backup). Nothing the
        // client can do about it and retrying will not help, so it is a 404, not a 5xx; the
        // operators learn of it here.
        tracing::error!(attachment_id = %a.id, key = %key, "attachment file missing from storage");
        return Err(AppError::NotFound);
    };
    // The ETag names the bytes served: for an old file cleaned here, those of the clean copy;
    // for a thumbnail (small), its digest.
    let (bytes, etag) = match (variant, etag) {
        // Made by our encoder, which writes no metadata.
        (Variant::Thumbnail, _) | (_, None) => {
            let etag = format!("\"{}\"", hex::encode(Sha256::digest(&stored)));
            (stored, etag)
        }
        // Uploads are stored without metadata; files stored before that was done are cleaned
        // here. One that cannot be parsed is not served as it is (it may hold what it should
        // not).
        (Variant::Original, Some(etag)) => {
            let content_type = content_type.clone();
            let cleaned = web::block(move || {
                store::without_metadata(&content_type, &stored).map(|b| (b == stored, b))
            })
            .await
            .map_err(|e| {
                AppError::internal(anyhow::anyhow!("cleaning the photo was cancelled: {e}"))
            })?;
            match cleaned {
                Ok((true, b)) => (b, etag),
                Ok((false, b)) => {
                    let etag = format!("\"{}\"", hex::encode(Sha256::digest(&b)));
                    (b, etag)
                }
                Err(e) => {
                    tracing::error!(attachment_id = %a.id, error = %e, "stored attachment is not a well-formed image; not served");
                    return Err(AppError::NotFound);
                }
            }
        }
    };
    if cached(&etag) {
        return Ok(not_modified(etag));
    }
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header(private())
        .insert_header((header::CONTENT_DISPOSITION, "inline"))
        .insert_header((header::ETAG, etag))
        .body(bytes))
}
