//! Short-lived signed URLs for photos.
//!
//! The mini-program shows photos with `<image src>` and `wx.previewImage`, which send no
//! `Authorization` header. A response that may show a photo therefore carries a URL that is its
//! own permission: `…/attachments/{id}/{variant}?expires=<unix seconds>&signature=<mac>`, where
//! the MAC is HMAC-SHA256 over the attachment id, the variant and the expiry. The key is derived
//! from `LINLI_JWT_SECRET` under a label of its own, so a token signature can never pass for a
//! URL signature or the other way round, and every replica that shares the JWT secret accepts
//! the URLs of the others. A URL names one attachment and one variant until it expires; it
//! grants nothing else.
//!
//! The expiry is rounded up to the next half of the lifetime: for a while every response hands
//! out the same URL, so the app's image cache works, and each URL handed out stays valid for
//! between half and all of `LINLI_ATTACHMENT_URL_TTL_SECS`.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::config::Settings;

type HmacSha256 = Hmac<Sha256>;

/// What is downloaded: the stored photo or its smaller copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = AttachmentVariant)]
pub enum Variant {
    Original,
    Thumbnail,
}

impl Variant {
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Original => "original",
            Variant::Thumbnail => "thumbnail",
        }
    }

    fn tag(self) -> u8 {
        match self {
            Variant::Original => b'o',
            Variant::Thumbnail => b't',
        }
    }
}

/// A signed URL and when it stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedUrl {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// Why a signed URL is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The signature is not ours for this attachment, variant and expiry.
    BadSignature,
    /// Genuine, but past its expiry.
    Expired,
}

/// Signs and checks attachment URLs.
pub struct Signer {
    /// HMAC-SHA256 keyed with the derived key, ready to be cloned per URL.
    mac: HmacSha256,
    ttl_secs: i64,
}

/// The longest signature accepted in a query (ours are 43 characters).
pub const MAX_SIGNATURE_LEN: usize = 64;

impl Signer {
    pub fn new(jwt_secret: &[u8], ttl: std::time::Duration) -> Self {
        // The key is the MAC of a fixed label under the JWT secret: domain-separated from the
        // token signatures made with that secret itself.
        let mut derive = hmac_with(jwt_secret);
        derive.update(b"linli/attachment-url-signing/v1");
        Self {
            mac: hmac_with(&derive.finalize().into_bytes()),
            ttl_secs: i64::try_from(ttl.as_secs()).unwrap_or(600).max(2),
        }
    }

    pub fn from_settings(settings: &Settings) -> Self {
        Self::new(settings.jwt_secret.expose(), settings.attachment_url_ttl)
    }

    fn mac(&self, id: Uuid, variant: Variant, expires: i64) -> HmacSha256 {
        let mut mac = self.mac.clone();
        mac.update(id.as_bytes());
        mac.update(&[variant.tag()]);
        mac.update(&expires.to_be_bytes());
        mac
    }

    /// When a URL signed at `now` expires: the end of the window after the current one, so
    /// that it is valid for more than half and at most all of the lifetime.
    fn expiry(&self, now: DateTime<Utc>) -> i64 {
        let window = self.ttl_secs / 2;
        (now.timestamp().div_euclid(window) + 2) * window
    }

    /// The URL of `variant` of attachment `id`, signed at `now`.
    pub fn sign(&self, id: Uuid, variant: Variant, now: DateTime<Utc>) -> SignedUrl {
        let expires = self.expiry(now);
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(self.mac(id, variant, expires).finalize().into_bytes());
        SignedUrl {
            url: format!(
                "/api/v1/attachments/{id}/{}?expires={expires}&signature={sig}",
                variant.as_str()
            ),
            expires_at: DateTime::<Utc>::from_timestamp(expires, 0).unwrap_or(now),
        }
    }

    /// Checks a URL's `expires` and `signature` for `variant` of `id` at `now`; on success the
    /// whole seconds it stays valid. The signature is compared in constant time, and before the
    /// expiry, so that `Expired` is only ever said of a URL we made.
    pub fn verify(
        &self,
        id: Uuid,
        variant: Variant,
        expires: i64,
        signature: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, Refused> {
        if signature.len() > MAX_SIGNATURE_LEN {
            return Err(Refused::BadSignature);
        }
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| Refused::BadSignature)?;
        self.mac(id, variant, expires)
            .verify_slice(&sig)
            .map_err(|_| Refused::BadSignature)?;
        let expires_at = DateTime::<Utc>::from_timestamp(expires, 0).ok_or(Refused::Expired)?;
        if now >= expires_at {
            return Err(Refused::Expired);
        }
        // Whole seconds, rounded down: a cache told to keep it this long never outlives it.
        Ok((expires_at - now).num_seconds())
    }
}

fn hmac_with(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so the fallback is never taken; it only spares a panic.
    HmacSha256::new_from_slice(key)
        .unwrap_or_else(|_| <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(secs, 0).unwrap()
    }

    fn parts(url: &str) -> (i64, String) {
        let q = url.split_once('?').unwrap().1;
        let mut expires = 0;
        let mut sig = String::new();
        for kv in q.split('&') {
            match kv.split_once('=').unwrap() {
                ("expires", v) => expires = v.parse().unwrap(),
                ("signature", v) => sig = v.to_string(),
                _ => panic!("unexpected parameter"),
            }
        }
        (expires, sig)
    }

    #[test]
    fn a_url_is_valid_for_half_to_all_of_its_lifetime_and_stable_meanwhile() {
        let s = Signer::new(
            b"0123456789abcdef0123456789abcdef",
            Duration::from_secs(600),
        );
        let id = Uuid::now_v7();
        for now in [1_790_000_000, 1_790_000_299, 1_790_000_300, 1_790_000_301] {
            let u = s.sign(id, Variant::Original, at(now));
            let (expires, _) = parts(&u.url);
            assert!(
                expires - now > 300 && expires - now <= 600,
                "{now}: {expires}"
            );
            assert_eq!(u.expires_at.timestamp(), expires);
        }
        assert_eq!(
            s.sign(id, Variant::Original, at(1_790_000_101)),
            s.sign(id, Variant::Original, at(1_790_000_102))
        );
    }

    #[test]
    fn a_signature_holds_for_its_attachment_variant_and_expiry_only() {
        let s = Signer::new(
            b"0123456789abcdef0123456789abcdef",
            Duration::from_secs(600),
        );
        let (id, other) = (Uuid::now_v7(), Uuid::now_v7());
        let now = at(1_790_000_000);
        let (expires, sig) = parts(&s.sign(id, Variant::Thumbnail, now).url);
        assert!(s.verify(id, Variant::Thumbnail, expires, &sig, now).is_ok());
        let bad = Err(Refused::BadSignature);
        assert_eq!(s.verify(other, Variant::Thumbnail, expires, &sig, now), bad);
        assert_eq!(s.verify(id, Variant::Original, expires, &sig, now), bad);
        assert_eq!(
            s.verify(id, Variant::Thumbnail, expires + 600, &sig, now),
            bad
        );
        assert_eq!(s.verify(id, Variant::Thumbnail, expires, "", now), bad);
        assert_eq!(s.verify(id, Variant::Thumbnail, expires, "%%", now), bad);
        let other_key = Signer::new(
            b"another-secret-another-secret-00",
            Duration::from_secs(600),
        );
        assert_eq!(
            other_key.verify(id, Variant::Thumbnail, expires, &sig, now),
            bad
        );
        assert_eq!(
            s.verify(id, Variant::Thumbnail, expires, &sig, at(expires)),
            Err(Refused::Expired)
        );
    }
}
