//! Keyset pagination, one shape for every list: `{items, next_cursor}` with `limit` and `cursor`.
//! Services page their queries with it; routes declare it in the spec.

use base64::Engine as _;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::error::{AppError, AppResult, FieldCode, FieldError};
use crate::platform::lang::Text;

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

/// The rows of a page read as `limit` + 1 (the extra row only says there is more), and the
/// cursor of the next page: the `id` of the last row kept, when there is more.
pub fn cut_page<M>(
    mut rows: Vec<M>,
    limit: u64,
    id: impl Fn(&M) -> Uuid,
) -> (Vec<M>, Option<String>) {
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|m| encode_cursor(id(m)))
    } else {
        None
    };
    (rows, next_cursor)
}

/// [`cut_page`] with each row mapped with `map`.
pub fn page_of<M, T: ToSchema>(
    rows: Vec<M>,
    limit: u64,
    id: impl Fn(&M) -> Uuid,
    map: impl FnMut(M) -> T,
) -> Page<T> {
    let (rows, next_cursor) = cut_page(rows, limit, id);
    Page {
        items: rows.into_iter().map(map).collect(),
        next_cursor,
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
