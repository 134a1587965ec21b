//! The one parser of the `Authorization` header, used by the caller extractor and the idempotency
//! middleware alike, so both always agree on who calls; and the cache keys of revoked tokens.

use actix_web::http::header;
use uuid::Uuid;

/// The token of an `Authorization: Bearer <token>` header. The scheme is case-insensitive
/// (RFC 9110 §11.1): `bearer`, `Bearer` and `BEARER` are one scheme. This is the only place that
/// parses the header; the idempotency middleware uses it too, so both always agree on who calls.
pub fn bearer(headers: &header::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

pub fn revoked_jti_key(jti: Uuid) -> String {
    format!("revoked:jti:{jti}")
}

pub fn revoked_family_key(family: Uuid) -> String {
    format!("revoked:fam:{family}")
}
