//! The HTTP pieces every domain's handlers share: extractors, paging, `201 Created`, upload
//! reading and the serde helpers for request bodies. No domain here.

pub mod extract;
pub mod upload;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::platform::error::{AppError, AppResult, FieldCode, FieldError};

pub use crate::platform::paging::{
    encode_cursor, page_limit, Page, PageParams, CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT,
};
pub use crate::platform::text::clean_name;

/// The media type of an Excel workbook (`.xlsx`), for the files exports send.
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Where a domain registers its handlers (every `configure` of an `http` module takes one).
///
/// Two kinds: utoipa's config, which also collects each handler's part of the OpenAPI document
/// (`linli openapi`, the spec tests), and actix's own, which only routes. The server's workers
/// use actix's: building the document once per worker cost about 40 MB of peak memory each, for
/// a document that is committed and served as is (`openapi/openapi.json`).
pub trait Routes {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: actix_web::dev::HttpServiceFactory + utoipa_actix_web::OpenApiFactory + 'static;
}

impl Routes for utoipa_actix_web::service_config::ServiceConfig<'_> {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: actix_web::dev::HttpServiceFactory + utoipa_actix_web::OpenApiFactory + 'static,
    {
        utoipa_actix_web::service_config::ServiceConfig::service(self, factory)
    }
}

impl Routes for actix_web::web::ServiceConfig {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: actix_web::dev::HttpServiceFactory + utoipa_actix_web::OpenApiFactory + 'static,
    {
        actix_web::web::ServiceConfig::service(self, factory)
    }
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

/// [`integer`] for an optional list of integers (absent or null is None).
pub fn optional_integers<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    #[derive(Deserialize)]
    struct Wrap<T: TryFrom<i64>>(#[serde(deserialize_with = "integer")] T);
    Option::<Vec<Wrap<T>>>::deserialize(d)
        .map(|w| w.map(|v| v.into_iter().map(|Wrap(x)| x).collect()))
}

/// The body of a verb that needs a reason (reject, return, cancel, strike …). One type for every
/// domain: the spec has one `ReasonRequest`, and two types of that name would silently replace
/// each other's schema.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    /// Why, 1 to 500 characters.
    #[schema(max_length = 500, format = "text")]
    pub reason: String,
}

/// The `ETag` of a workflow object at `version`.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// The version an `If-Match` header asks for: None when absent or `*`. A value that is no
/// version of ours can never match (412).
pub fn if_match(req: &HttpRequest) -> AppResult<Option<i32>> {
    let Some(v) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let v = v.to_str().map_err(|_| AppError::PreconditionFailed)?.trim();
    if v == "*" {
        return Ok(None);
    }
    let v = v.strip_prefix("W/").unwrap_or(v);
    Ok(Some(
        v.trim_matches('"')
            .parse::<i32>()
            .map_err(|_| AppError::PreconditionFailed)?,
    ))
}

/// Validates free text: trimmed, non-empty, at most `max` characters; line breaks allowed,
/// other control characters not.
pub fn clean_text(field: &str, value: &str, max: usize) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(AppError::Validation(vec![FieldError::required(field)]));
    }
    if v.chars().count() > max {
        return Err(AppError::Validation(vec![FieldError::too_long(field, max)]));
    }
    if !v.chars().all(crate::platform::text::multi_line_ok) {
        return Err(AppError::invalid(
            field,
            FieldCode::Invalid,
            crate::platform::text::bad_character(),
        ));
    }
    Ok(v.to_string())
}

/// [`clean_text`] for one line (titles, names): no line breaks either.
pub fn clean_line(field: &str, value: &str, max: usize) -> AppResult<String> {
    let v = clean_text(field, value, max)?;
    if !v.chars().all(crate::platform::text::single_line_ok) {
        return Err(AppError::invalid(
            field,
            FieldCode::Invalid,
            crate::platform::text::bad_character(),
        ));
    }
    Ok(v)
}

/// [`clean_text`] for an optional field; blank counts as absent.
pub fn clean_optional(
    field: &str,
    value: &Option<String>,
    max: usize,
) -> AppResult<Option<String>> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => clean_text(field, v, max).map(Some),
    }
}
