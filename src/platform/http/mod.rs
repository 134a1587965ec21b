//! The HTTP pieces every domain's handlers share: extractors, paging, `201 Created`, upload
//! reading and the serde helpers for request bodies. No domain here.

pub mod extract;
pub mod upload;

use actix_web::http::header;
use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};

pub use crate::platform::paging::{
    encode_cursor, page_limit, Page, PageParams, CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT,
};
pub use crate::platform::text::clean_name;

/// The media type of an Excel workbook (`.xlsx`), for the files exports send.
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

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
