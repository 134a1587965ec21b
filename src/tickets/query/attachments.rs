//! Photos as a ticket's screens show them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::attachments::Attachment;
use crate::platform::signed_urls::{Signer, Variant};

/// An uploaded photo, as listed on a ticket and returned by the upload.
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
