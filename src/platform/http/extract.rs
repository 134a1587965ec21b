//! Body and query extractors whose errors name the offending field (`errors[].field`), which
//! actix's own `Json`/`Query` cannot: serde's messages do not carry the path.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use serde::de::DeserializeOwned;

use crate::platform::error::{json_error, AppError, FieldCode, FieldError};
use crate::platform::lang::Text;
use crate::platform::state::AppState;

/// A JSON request body, at most `LINLI_JSON_LIMIT_BYTES`, `Content-Type: application/json`.
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

fn is_json(req: &HttpRequest) -> bool {
    let Ok(Some(mime)) = req.mime_type() else {
        return false;
    };
    mime.type_() == "application"
        && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"))
}

/// Reads a JSON body (at most the configured limit) and parses it; `empty` is what an empty body
/// means (`None`: an empty body is malformed JSON, as for any JSON body).
fn json_body<T: DeserializeOwned + 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    empty: Option<fn() -> T>,
) -> Pin<Box<dyn Future<Output = Result<T, AppError>>>> {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map_or(64 * 1024, |s| s.settings.json_limit);
    let json = is_json(req);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut stream = payload.take();
    Box::pin(async move {
        if declared.is_some_and(|n| n > limit) {
            return Err(AppError::PayloadTooLarge(Some(limit)));
        }
        use futures_util::StreamExt;
        let mut bytes = web::BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk
                .map_err(|_| AppError::MalformedJson("could not read the request body".into()))?;
            if bytes.len() + chunk.len() > limit {
                return Err(AppError::PayloadTooLarge(Some(limit)));
            }
            bytes.extend_from_slice(&chunk);
        }
        if let (Some(empty), true) = (empty, bytes.iter().all(u8::is_ascii_whitespace)) {
            return Ok(empty());
        }
        if !json {
            return Err(AppError::UnsupportedMediaType(
                "expected Content-Type: application/json".into(),
            ));
        }
        if crate::platform::text::json_has_nul_escape(&bytes) {
            // Name the fields, as their own validation would.
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                let mut fields = Vec::new();
                nul_fields(&v, String::new(), &mut fields);
                if !fields.is_empty() {
                    return Err(AppError::Validation(
                        fields
                            .into_iter()
                            .map(|f| {
                                FieldError::of(
                                    f,
                                    FieldCode::Invalid,
                                    crate::platform::text::bad_character(),
                                )
                            })
                            .collect(),
                    ));
                }
            }
        }
        // Every body of this API is an object. serde would read a struct from an array too,
        // by position (`[null, null]` as a struct of two optional fields): refuse that.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(AppError::InvalidBody(vec![FieldError::of(
                "",
                FieldCode::Invalid,
                Text::new(
                    "请求内容应是一个 JSON 对象，而不是数组",
                    "expected a JSON object, not an array",
                ),
            )]));
        }
        parse_json(&bytes)
    })
}

/// The dotted paths of the strings (and keys) in `v` that hold a NUL.
fn nul_fields(v: &serde_json::Value, path: String, out: &mut Vec<String>) {
    use serde_json::Value;
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        Value::String(s) if s.contains('\0') => out.push(path.clone()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                nul_fields(item, format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                if k.contains('\0') {
                    out.push(join(&k.replace('\0', "\\0")));
                } else {
                    nul_fields(item, join(k), out);
                }
            }
        }
        _ => {}
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = json_body::<T>(req, payload, None);
        Box::pin(async move { body.await.map(Json) })
    }
}

/// A JSON body whose fields are all optional: an empty body (what `wx.request` sends with no
/// `data`) means every field absent. Anything else is parsed as strictly as [`Json`].
pub struct JsonOrEmpty<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for JsonOrEmpty<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // A JSON `null` is no body too: the spec offers both (`Option<T>`).
        let body = json_body::<Option<T>>(req, payload, Some(Option::<T>::default));
        Box::pin(async move { body.await.map(|b| JsonOrEmpty(b.unwrap_or_default())) })
    }
}

/// Deserializes `bytes`, naming the field on a type error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            let mut mapped = json_error(&inner);
            if let AppError::InvalidBody(errors) = &mut mapped {
                for e in errors.iter_mut() {
                    if e.field.is_empty() && path != "." {
                        e.field = path.clone();
                    } else if !e.field.is_empty()
                        && path != "."
                        && e.code == crate::platform::error::FieldCode::UnknownField
                    {
                        // Nested unknown field: give its full path.
                        let parent = path.rsplit_once('.').map_or("", |(p, _)| p);
                        if !parent.is_empty() {
                            e.field = format!("{parent}.{}", e.field);
                        }
                    }
                }
            }
            Err(mapped)
        }
    }
}

/// Query-string parameters.
pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    // No filter, search or cursor has a use for control or invisible formatting characters
    // (PostgreSQL refuses NUL in text with an error, not a miss).
    let bad: Vec<FieldError> = form_urlencoded_parse(query)
        .filter(|(_, v)| !v.chars().all(crate::platform::text::single_line_ok))
        .map(|(k, _)| {
            FieldError::of(
                k,
                FieldCode::Invalid,
                crate::platform::text::bad_character(),
            )
        })
        .collect();
    if !bad.is_empty() {
        return Err(AppError::InvalidQuery(bad));
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
    serde_path_to_error::deserialize::<_, T>(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner().to_string();
        let field = if let Some(rest) = inner.strip_prefix("unknown field `") {
            rest.split('`').next().unwrap_or_default().to_string()
        } else if path == "." {
            String::new()
        } else {
            path
        };
        let error = if inner.starts_with("unknown field") {
            FieldError::of(
                field,
                FieldCode::UnknownField,
                Text::new("不支持这个查询参数", inner),
            )
        } else {
            FieldError::of(
                field,
                FieldCode::Invalid,
                Text::new("查询参数的取值不对", inner),
            )
        };
        AppError::InvalidQuery(vec![error])
    })
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}
