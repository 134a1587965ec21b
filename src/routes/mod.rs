//! HTTP layer: one module per resource, each with its DTOs, handlers and utoipa annotations.

pub mod accounts;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod binding_requests;
pub mod client_config;
pub mod directory;
pub mod extract;
pub mod health;
pub mod invitations;
pub mod me;
pub mod messages;
pub mod notifications;
pub mod public_tags;
pub mod residents;
pub mod residents_io;
pub mod territory;
pub mod tickets;
pub mod upload;
pub mod users;

use actix_web::http::header;
use actix_web::HttpResponse;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{AppError, AppResult, FieldCode, FieldError};
use crate::lang::Text;

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

/// One page of a keyset-paginated list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// `limit` and `cursor`, validated. `limit` above 100 is clamped to 100; below 1 is a 400.
#[derive(Debug, Clone, Copy)]
pub struct PageParams {
    pub limit: u64,
    pub after: Option<Uuid>,
}

impl PageParams {
    pub fn new(limit: Option<i64>, cursor: Option<&str>) -> AppResult<Self> {
        let limit = page_limit(limit)?;
        let after = cursor.map(decode_cursor).transpose()?;
        Ok(Self { limit, after })
    }
}

/// A list's `limit`: default 20, above 100 clamped to 100, below 1 a 400.
pub fn page_limit(limit: Option<i64>) -> AppResult<u64> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if n < 1 => Err(AppError::InvalidQuery(vec![FieldError::of(
            "limit",
            FieldCode::OutOfRange,
            Text::new("limit 至少为 1", "limit must be at least 1"),
        )])),
        Some(n) => Ok((n as u64).min(MAX_LIMIT)),
    }
}

/// What [`encode_cursor`] produces: 16 bytes in unpadded base64url, whose last character carries
/// 2 bits and 4 zero bits. Every string of this shape decodes, so the spec can promise it.
pub const CURSOR_PATTERN: &str = "^[A-Za-z0-9_-]{21}[AQgw]$";

pub fn encode_cursor(id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode_cursor(s: &str) -> AppResult<Uuid> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| Uuid::from_slice(&b).ok())
        .ok_or_else(|| {
            AppError::InvalidQuery(vec![FieldError::of(
                "cursor",
                FieldCode::Invalid,
                Text::new(
                    "cursor 不是本接口返回的翻页标记",
                    "cursor is not one this API returned",
                ),
            )])
        })
}

/// 201 with a `Location` header and the created object.
pub fn created<T: Serialize>(location: String, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(body)
}

/// Deserializes a field that may be absent (leave as is), null (clear) or a value (set).
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Deserializes an integer field from any JSON number with no fractional part: to JSON Schema,
/// and so to the spec, `3.0` is the integer 3, but serde's integer types refuse it.
pub fn integer<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    use serde::de::Error;
    let n = serde_json::Number::deserialize(d)?;
    let i = match (n.as_i64(), n.as_f64()) {
        (Some(i), _) => i,
        // Within ±2^53 every f64 is exact, so the cast neither rounds nor saturates.
        (None, Some(f)) if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 => f as i64,
        _ => {
            return Err(D::Error::custom(format!(
                "invalid value: {n}, expected an integer"
            )))
        }
    };
    T::try_from(i).map_err(|_| D::Error::custom(format!("invalid value: {n}, out of range")))
}

/// [`integer`] for an optional field (absent or null is None).
pub fn optional_integer<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    #[derive(Deserialize)]
    struct Wrap<T: TryFrom<i64>>(#[serde(deserialize_with = "integer")] T);
    Option::<Wrap<T>>::deserialize(d).map(|w| w.map(|Wrap(v)| v))
}

/// Validates a display name: trimmed, non-empty, at most `max` characters, no control characters.
pub fn clean_name(field: &str, value: &str, max: usize) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(AppError::Validation(vec![FieldError::required(field)]));
    }
    if v.chars().count() > max {
        return Err(AppError::Validation(vec![FieldError::too_long(field, max)]));
    }
    if !v.chars().all(crate::text::single_line_ok) {
        return Err(AppError::invalid(
            field,
            FieldCode::Invalid,
            crate::text::bad_character(),
        ));
    }
    Ok(v.to_string())
}
