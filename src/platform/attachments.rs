//! Photos attached to a subject (a ticket today; notices, proposals and receipts later): an
//! upload is its uploader's alone until it is attached to a subject (`link`), and from then on
//! whoever may see the subject may see it, which the subject's own domain decides.
//!
//! Uploads are judged by their content (JPEG, PNG or WebP), stored without metadata with a
//! thumbnail, limited per uploader while unattached, and purged when never attached.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::error::{AppError, AppResult};
use crate::platform::error::{FieldCode, FieldError, ProblemCode};
use crate::platform::image_meta;
use crate::platform::lang::Text;
use crate::platform::signed_urls::{Signer, Variant};
use crate::platform::storage::{self, Storage};
use entity::attachment;

pub use entity::subject::SubjectType;

/// A stored upload.
pub type Attachment = attachment::Model;

/// At most this many photos per timeline entry (the mini-program's picker allows nine).
pub const MAX_PER_ENTRY: usize = 9;

/// Attaches the uploader's own unattached uploads `ids` to the subject (`subject_type`,
/// `subject_id`) and, when there is one, its timeline entry `event_id`. Anything else (unknown,
/// someone else's, already attached, too many, repeated) is a 400 on `attachment_ids`, and
/// nothing is attached (the caller's transaction is rolled back by the error).
pub async fn link<C: ConnectionTrait>(
    db: &C,
    uploader: Uuid,
    ids: &[Uuid],
    subject: (SubjectType, Uuid),
    event_id: Option<Uuid>,
) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    if ids.len() > MAX_PER_ENTRY {
        return Err(AppError::Validation(vec![FieldError::too_many(
            "attachment_ids",
            MAX_PER_ENTRY,
        )]));
    }
    let mut unique = ids.to_vec();
    unique.sort();
    unique.dedup();
    if unique.len() != ids.len() {
        return Err(AppError::invalid(
            "attachment_ids",
            FieldCode::Duplicate,
            Text::new("同一张照片不能重复添加", "an attachment is listed twice"),
        ));
    }
    let (subject_type, subject_id) = subject;
    let done = attachment::Entity::update_many()
        .col_expr(
            attachment::Column::SubjectType,
            Expr::value(Some(subject_type)),
        )
        .col_expr(attachment::Column::SubjectId, Expr::value(Some(subject_id)))
        .col_expr(attachment::Column::EventId, Expr::value(event_id))
        .filter(attachment::Column::Id.is_in(unique.iter().copied()))
        .filter(attachment::Column::UploaderUserId.eq(uploader))
        .filter(attachment::Column::SubjectId.is_null())
        .exec(db)
        .await?;
    if done.rows_affected != unique.len() as u64 {
        return Err(AppError::invalid(
            "attachment_ids",
            FieldCode::NotFound,
            Text::new(
                "照片须是您本人上传、尚未使用的照片",
                "every attachment must be an unattached upload of yours",
            ),
        ));
    }
    Ok(())
}

/// The photos attached to a subject, oldest first.
pub async fn of_subject<C: ConnectionTrait>(
    db: &C,
    subject_type: SubjectType,
    subject_id: Uuid,
) -> AppResult<Vec<Attachment>> {
    Ok(attachment::Entity::find()
        .filter(attachment::Column::SubjectType.eq(subject_type))
        .filter(attachment::Column::SubjectId.eq(subject_id))
        .order_by_asc(attachment::Column::Id)
        .all(db)
        .await?)
}

/// The photos of the subjects `ids` of one type, oldest first per subject: one query for a page.
pub async fn of_subjects<C: ConnectionTrait>(
    db: &C,
    subject_type: SubjectType,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<Attachment>>> {
    let mut out: HashMap<Uuid, Vec<Attachment>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for a in attachment::Entity::find()
        .filter(attachment::Column::SubjectType.eq(subject_type))
        .filter(attachment::Column::SubjectId.is_in(ids.iter().copied()))
        .order_by_asc(attachment::Column::Id)
        .all(db)
        .await?
    {
        if let Some(s) = a.subject_id {
            out.entry(s).or_default().push(a);
        }
    }
    Ok(out)
}

/// Detaches from the subject every photo not in `keep`: they become unattached uploads of their
/// uploader again (and are purged with the others after a day unless attached anew).
pub async fn detach_except<C: ConnectionTrait>(
    db: &C,
    subject: (SubjectType, Uuid),
    keep: &[Uuid],
) -> AppResult<()> {
    attachment::Entity::update_many()
        .col_expr(
            attachment::Column::SubjectType,
            Expr::value(Option::<SubjectType>::None),
        )
        .col_expr(
            attachment::Column::SubjectId,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(
            attachment::Column::EventId,
            Expr::value(Option::<Uuid>::None),
        )
        .filter(attachment::Column::SubjectType.eq(subject.0))
        .filter(attachment::Column::SubjectId.eq(subject.1))
        .filter(attachment::Column::Id.is_not_in(keep.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// Of the subjects `ids` of one type, the first photo (lowest id) that has a thumbnail, per
/// subject: one query for a whole page of subjects (a list's cover pictures).
pub async fn first_thumbnails<C: ConnectionTrait>(
    db: &C,
    subject_type: SubjectType,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Uuid>> {
    use attachment::{Column as A, Entity as Attachment};
    use sea_orm::sea_query::{Alias, Order, Query};
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let (a, b) = (Alias::new("a"), Alias::new("b"));
    let first = Query::select()
        .column((b.clone(), A::Id))
        .from_as(Attachment, b.clone())
        .and_where(Expr::col((b.clone(), A::SubjectType)).equals((a.clone(), A::SubjectType)))
        .and_where(Expr::col((b.clone(), A::SubjectId)).equals((a.clone(), A::SubjectId)))
        .and_where(Expr::col((b.clone(), A::ThumbnailKey)).is_not_null())
        .order_by((b.clone(), A::Id), Order::Asc)
        .limit(1)
        .to_owned();
    let q = Query::select()
        .column((a.clone(), A::SubjectId))
        .column((a.clone(), A::Id))
        .from_as(Attachment, a.clone())
        .and_where(Expr::col((a.clone(), A::SubjectType)).eq(subject_type))
        .and_where(Expr::col((a.clone(), A::SubjectId)).is_in(ids.iter().copied()))
        .and_where(Expr::col((a.clone(), A::Id)).in_subquery(first))
        .to_owned();
    let rows = db.query_all(db.get_database_backend().build(&q)).await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        out.insert(
            r.try_get::<Uuid>("", "subject_id")?,
            r.try_get::<Uuid>("", "id")?,
        );
    }
    Ok(out)
}

/// The upload `id`, whoever asks (its subject's domain decides who may see it). 404 when there
/// is none.
pub async fn find<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<Attachment> {
    attachment::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// What an upload is attached to; None while it waits.
pub fn subject_of(a: &Attachment) -> Option<(SubjectType, Uuid)> {
    a.subject_type.zip(a.subject_id)
}

/// Where a stored photo and its thumbnail are, and what they are: what serving one needs.
#[derive(Debug, Clone)]
pub struct StoredPhoto {
    pub id: Uuid,
    pub storage_key: String,
    pub content_type: String,
    pub sha256: String,
    pub thumbnail_key: Option<String>,
    pub thumbnail_content_type: Option<String>,
}

impl From<attachment::Model> for StoredPhoto {
    fn from(a: attachment::Model) -> Self {
        StoredPhoto {
            id: a.id,
            storage_key: a.storage_key,
            content_type: a.content_type,
            sha256: a.sha256,
            thumbnail_key: a.thumbnail_key,
            thumbnail_content_type: a.thumbnail_content_type,
        }
    }
}

/// The photo `id`, whoever asks (a signed URL was checked). 404 when there is none.
pub async fn photo<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<StoredPhoto> {
    Ok(find(db, id).await?.into())
}

/// The largest photo accepted, in bytes (5 MiB).
pub const MAX_BYTES: usize = 5 * 1024 * 1024;

/// At most this many uploads of one user may wait, unattached, for a subject.
pub const MAX_UNATTACHED_PER_USER: u64 = 20;

/// Uploads not attached within this long are purged.
pub fn unattached_lifetime() -> Duration {
    Duration::hours(24)
}

/// The image type of `bytes`, judged by their first bytes alone (never by a name or a declared
/// type): JPEG, PNG or WebP. Anything else, GIF included, is not a photo we keep.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(PNG) {
        Some("image/png")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The photo without its Exif, XMP, IPTC and text metadata (where and with what it was taken,
/// by whom), which staff and neighbours who see the ticket have no business reading. A file
/// whose structure does not hold together is refused like any other non-photo (415).
pub fn without_metadata(content_type: &str, bytes: &[u8]) -> AppResult<Vec<u8>> {
    image_meta::strip(content_type, bytes).map_err(|e| {
        AppError::UnsupportedMediaType(format!(
            "the file is not a well-formed JPEG, PNG or WebP image ({})",
            e.0
        ))
    })
}

fn storage_failed(e: storage::StorageError) -> AppError {
    AppError::internal(anyhow::anyhow!(e))
}

async fn unattached_count<C: ConnectionTrait>(db: &C, uploader: Uuid) -> AppResult<u64> {
    Ok(attachment::Entity::find()
        .filter(attachment::Column::UploaderUserId.eq(uploader))
        .filter(attachment::Column::SubjectId.is_null())
        .count(db)
        .await?)
}

fn too_many_unattached() -> AppError {
    AppError::conflict(
        ProblemCode::TooManyUnattachedPhotos,
        crate::text!(
            "您已有 {MAX_UNATTACHED_PER_USER} 张照片上传后尚未使用；请先使用它们（或等一天后自动清理）再上传",
            "you already have {MAX_UNATTACHED_PER_USER} uploaded photos not yet attached; \
             attach them (or wait a day for them to expire) before uploading more"
        ),
    )
}

/// Keeps an upload of `uploader`: checks it is a well-formed photo (415) of at most
/// [`MAX_BYTES`] (413) and that the uploader has room for one more unattached upload (409),
/// writes the file without its metadata and its thumbnail (when one can be made), then its row
/// (size and hash of what is stored). The files are removed again when the row cannot be
/// written, so no file is left without a row.
#[tracing::instrument(skip_all, fields(uploader = %uploader, bytes = bytes.len()))]
pub async fn store<C: ConnectionTrait>(
    db: &C,
    storage: &dyn Storage,
    uploader: Uuid,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> AppResult<attachment::Model> {
    if bytes.len() > MAX_BYTES {
        return Err(AppError::PayloadTooLarge(Some(MAX_BYTES)));
    }
    let content_type = sniff(bytes).ok_or_else(|| {
        AppError::UnsupportedMediaType("the file is not a JPEG, PNG or WebP image".into())
    })?;
    let bytes = &without_metadata(content_type, bytes)?;
    if unattached_count(db, uploader).await? >= MAX_UNATTACHED_PER_USER {
        return Err(too_many_unattached());
    }
    let thumbnail = thumbnail_of(content_type, bytes).await;
    let key = storage::new_key(now);
    storage.put(&key, bytes).await.map_err(storage_failed)?;
    let thumbnail = match thumbnail {
        Some((thumb, thumb_type)) => {
            let thumb_key = storage::new_key(now);
            if let Err(e) = storage.put(&thumb_key, &thumb).await {
                discard_file(storage, &key).await;
                return Err(storage_failed(e));
            }
            Some((thumb_key, thumb_type))
        }
        None => None,
    };
    let row = attachment::ActiveModel {
        id: Set(Uuid::now_v7()),
        uploader_user_id: Set(uploader),
        content_type: Set(content_type.to_string()),
        size_bytes: Set(bytes.len() as i64),
        sha256: Set(hex::encode(Sha256::digest(bytes))),
        storage_key: Set(key.clone()),
        ticket_id: Set(None),
        event_id: Set(None),
        subject_type: Set(None),
        subject_id: Set(None),
        created_at: Set(now),
        thumbnail_key: Set(thumbnail.as_ref().map(|(k, _)| k.clone())),
        thumbnail_content_type: Set(thumbnail.as_ref().map(|(_, t)| t.to_string())),
    };
    let model = match row.insert(db).await {
        Ok(m) => m,
        Err(e) => {
            discard_files(storage, &key, thumbnail.as_ref().map(|(k, _)| k.as_str())).await;
            return Err(e.into());
        }
    };
    // Counted again after the insert: of two uploads racing for the last free place, neither
    // can slip past the limit (at worst both are refused).
    if unattached_count(db, uploader).await? > MAX_UNATTACHED_PER_USER {
        attachment::Entity::delete_by_id(model.id).exec(db).await?;
        discard_files(storage, &key, model.thumbnail_key.as_deref()).await;
        return Err(too_many_unattached());
    }
    Ok(model)
}

/// Thumbnails decoded at once in this process: decoding takes a core and up to
/// `thumbnail::MAX_ALLOC` of memory, so a burst of uploads waits its turn here.
static THUMBNAIL_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The smaller copy of a photo (see `thumbnail`), made off the async threads; None when none
/// can be made (WebP, a picture too large to decode, one the decoder does not understand).
/// The photo is kept either way: it was judged well-formed already.
async fn thumbnail_of(content_type: &'static str, bytes: &[u8]) -> Option<(Vec<u8>, &'static str)> {
    let _slot = THUMBNAIL_SLOTS.acquire().await.ok()?;
    let owned = bytes.to_vec();
    match tokio::task::spawn_blocking(move || {
        crate::platform::thumbnail::make(content_type, &owned)
    })
    .await
    {
        Ok(Ok(t)) => Some(t),
        Ok(Err(e)) => {
            tracing::info!(reason = %e, "no thumbnail for this photo");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "making a thumbnail failed");
            None
        }
    }
}

async fn discard_files(storage: &dyn Storage, key: &str, thumbnail_key: Option<&str>) {
    discard_file(storage, key).await;
    if let Some(t) = thumbnail_key {
        discard_file(storage, t).await;
    }
}

async fn discard_file(storage: &dyn Storage, key: &str) {
    if let Err(e) = storage.delete(key).await {
        tracing::warn!(error = %e, key, "could not remove an orphaned upload file");
    }
}

/// Deletes uploads made before `older_than` that were never attached: first the
/// row (only while it is still unattached, so one attached meanwhile is kept), then the file.
/// Returns how many were deleted. Call it with `now - unattached_lifetime()`.
#[tracing::instrument(skip_all)]
pub async fn purge_unattached<C: ConnectionTrait>(
    db: &C,
    storage: &dyn Storage,
    older_than: DateTime<Utc>,
) -> AppResult<u64> {
    const BATCH: u64 = 200;
    let mut purged = 0u64;
    let mut after: Option<Uuid> = None;
    loop {
        let mut q = attachment::Entity::find()
            .filter(attachment::Column::SubjectId.is_null())
            .filter(attachment::Column::CreatedAt.lt(older_than))
            .order_by_asc(attachment::Column::Id)
            .limit(BATCH);
        if let Some(a) = after {
            q = q.filter(attachment::Column::Id.gt(a));
        }
        let stale = q.all(db).await?;
        let Some(last) = stale.last() else {
            break;
        };
        after = Some(last.id);
        for a in &stale {
            let gone = attachment::Entity::delete_many()
                .filter(attachment::Column::Id.eq(a.id))
                .filter(attachment::Column::SubjectId.is_null())
                .exec(db)
                .await?;
            if gone.rows_affected == 1 {
                discard_files(storage, &a.storage_key, a.thumbnail_key.as_deref()).await;
                purged += 1;
            }
        }
        if (stale.len() as u64) < BATCH {
            break;
        }
    }
    if purged > 0 {
        tracing::info!(purged, "unattached uploads purged");
    }
    Ok(purged)
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn photos_are_recognised_by_their_first_bytes_only() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), None);
        assert_eq!(sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), None);
        assert_eq!(sniff(b"just some text named photo.jpg"), None);
        assert_eq!(sniff(b""), None);
    }
}

/// An uploaded photo, as listed on a ticket or a notice and returned by the upload.
///
/// `url` and `thumbnail_url` work without a token (for `<image src>` and `wx.previewImage`):
/// each is signed for this photo alone and stops working at `url_expires_at` (403
/// `url_expired`); fetch the ticket again for fresh ones. They are relative: prefix the API's
/// origin. With a token, `GET /api/v1/attachments/{id}` serves the photo too.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachmentResponse {
    pub id: Uuid,
    /// The image type detected from the content: `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: String,
    pub size_bytes: i64,
    /// The photo, signed: needs no token until `url_expires_at`.
    pub url: String,
    /// A copy at most 480 pixels a side, upright, without any metadata, signed like `url`.
    /// Null when none could be made (WebP photos, photos uploaded before thumbnails existed,
    /// pictures too large to decode): show `url` instead.
    pub thumbnail_url: Option<String>,
    /// When `url` and `thumbnail_url` stop working (between half and all of
    /// `LINLI_ATTACHMENT_URL_TTL_SECS`, 10 minutes by default, after this response).
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub url_expires_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

impl AttachmentResponse {
    /// The response for `m`, its URLs signed at `now`.
    pub fn new(m: Attachment, urls: &Signer, now: DateTime<Utc>) -> Self {
        let original = urls.sign(m.id, Variant::Original, now);
        Self {
            id: m.id,
            thumbnail_url: m
                .thumbnail_key
                .is_some()
                .then(|| urls.sign(m.id, Variant::Thumbnail, now).url),
            url: original.url,
            url_expires_at: original.expires_at,
            content_type: m.content_type,
            size_bytes: m.size_bytes,
            created_at: m.created_at,
        }
    }
}
