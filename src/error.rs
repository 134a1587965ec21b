//! One error type for the whole API, rendered as RFC 9457 problem details.
//!
//! Every variant maps to exactly one status and one stable `code` in [`AppError::parts`]; clients
//! switch on `code`. Server-side failures are logged once here, with their cause, and answered
//! with a body that reveals nothing about the internals.

use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use sea_orm::DbErr;
use serde::Serialize;
use utoipa::ToSchema;

use crate::middleware::current_request_id;

pub type AppResult<T> = Result<T, AppError>;

/// One field-level problem inside a 400.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The field (dotted path for nested fields; the parameter name for query and path).
    pub field: String,
    /// Stable snake_case code, e.g. `required`, `too_long`, `unknown_field`, `invalid`.
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// RFC 9457 problem details, as every error of this API is answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:linli:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable snake_case code that clients switch on.
    pub code: String,
    /// The request id, also sent as `X-Request-Id`.
    pub request_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("request body does not match the expected shape")]
    InvalidBody(Vec<FieldError>),
    #[error("invalid query parameter")]
    InvalidQuery(Vec<FieldError>),
    #[error("invalid path parameter")]
    InvalidPath(Vec<FieldError>),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthorized,
    #[error("the access token is invalid or expired")]
    InvalidToken,
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("the refresh token is invalid, expired or already used")]
    InvalidRefreshToken,
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed(Vec<String>),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    HasChildren(String),
    #[error("the resource has changed since it was read")]
    PreconditionFailed,
    #[error("{}", match .0 { Some(n) => format!("request body is larger than {n} bytes"), None => "request body is too large".to_string() })]
    PayloadTooLarge(Option<usize>),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("the idempotency key was used with a different request")]
    IdempotencyKeyReused,
    #[error("too many requests")]
    RateLimited { retry_after: Duration },
    #[error("a dependency is unavailable")]
    Unavailable {
        retry_after: Duration,
        #[source]
        source: Option<anyhow::Error>,
    },
    #[error("the WeChat login code is invalid or expired")]
    WeChatCodeInvalid,
    #[error("WeChat flags this account as high-risk")]
    WeChatUserBlocked,
    #[error("{0}")]
    MethodOverrideInvalid(&'static str),
    #[error("链接无效：签名与该附件不符，请重新获取")]
    UrlSignatureInvalid,
    #[error("链接已过期，请重新获取")]
    UrlExpired,
    #[error("an upstream service answered with something unusable")]
    BadGateway(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// The one table from variant to status, code and title.
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        use AppError::*;
        match self {
            MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json", "Malformed JSON"),
            InvalidBody(_) => (
                StatusCode::BAD_REQUEST,
                "invalid_body",
                "Invalid request body",
            ),
            InvalidQuery(_) => (
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "Invalid query parameter",
            ),
            InvalidPath(_) => (
                StatusCode::BAD_REQUEST,
                "invalid_path",
                "Invalid path parameter",
            ),
            Validation(_) => (
                StatusCode::BAD_REQUEST,
                "validation_failed",
                "Validation failed",
            ),
            BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request", "Bad request"),
            Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            InvalidToken => (StatusCode::UNAUTHORIZED, "invalid_token", "Invalid token"),
            InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "Invalid credentials",
            ),
            InvalidRefreshToken => (
                StatusCode::UNAUTHORIZED,
                "invalid_refresh_token",
                "Invalid refresh token",
            ),
            Forbidden => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found"),
            MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed",
            ),
            Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            HasChildren(_) => (StatusCode::CONFLICT, "has_children", "Conflict"),
            PreconditionFailed => (
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                "Precondition failed",
            ),
            PayloadTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload too large",
            ),
            UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
            ),
            IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "Idempotency key reused",
            ),
            RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests",
            ),
            Unavailable { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "Service unavailable",
            ),
            WeChatCodeInvalid => (
                StatusCode::UNAUTHORIZED,
                "wechat_code_invalid",
                "Invalid WeChat code",
            ),
            WeChatUserBlocked => (StatusCode::FORBIDDEN, "wechat_user_blocked", "Forbidden"),
            MethodOverrideInvalid(_) => (
                StatusCode::BAD_REQUEST,
                "method_override_invalid",
                "Invalid method override",
            ),
            UrlSignatureInvalid => (
                StatusCode::FORBIDDEN,
                "url_signature_invalid",
                "Invalid signed URL",
            ),
            UrlExpired => (StatusCode::FORBIDDEN, "url_expired", "Signed URL expired"),
            BadGateway(_) => (StatusCode::BAD_GATEWAY, "bad_gateway", "Bad gateway"),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Internal server error",
            ),
        }
    }

    pub fn validation(field: &str, code: &str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(err.into())
    }

    pub fn unavailable(err: impl Into<anyhow::Error>) -> Self {
        AppError::Unavailable {
            retry_after: Duration::from_secs(5),
            source: Some(err.into()),
        }
    }

    fn detail(&self) -> String {
        match self {
            // Never echo internals for 5xx.
            AppError::Internal(_) => "The server could not complete the request.".into(),
            AppError::BadGateway(_) => {
                "An upstream service gave an unusable answer; retry later.".into()
            }
            AppError::Unavailable { .. } => {
                "A service the API depends on is unavailable; retry later.".into()
            }
            other => other.to_string(),
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            AppError::InvalidBody(e)
            | AppError::InvalidQuery(e)
            | AppError::InvalidPath(e)
            | AppError::Validation(e) => e.clone(),
            _ => Vec::new(),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code, title) = self.parts();
        if status.is_server_error() {
            // Logged once, here, where the error is turned into a response.
            let cause = match self {
                AppError::Internal(e) | AppError::BadGateway(e) => Some(format!("{e:#}")),
                AppError::Unavailable {
                    source: Some(e), ..
                } => Some(format!("{e:#}")),
                _ => None,
            };
            tracing::error!(
                code,
                cause = cause.as_deref().unwrap_or(""),
                "request failed"
            );
        }
        let problem = Problem {
            type_: format!("urn:linli:problem:{code}"),
            title: title.into(),
            status: status.as_u16(),
            detail: self.detail(),
            code: code.into(),
            request_id: current_request_id().unwrap_or_default(),
            errors: self.field_errors(),
        };
        let mut builder = HttpResponse::build(status);
        builder.content_type("application/problem+json");
        match self {
            AppError::RateLimited { retry_after } | AppError::Unavailable { retry_after, .. } => {
                builder.insert_header((
                    header::RETRY_AFTER,
                    retry_after.as_secs().max(1).to_string(),
                ));
            }
            AppError::MethodNotAllowed(allowed) => {
                builder.insert_header((header::ALLOW, allowed.join(", ")));
            }
            AppError::Unauthorized | AppError::InvalidToken => {
                builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            _ => {}
        }
        builder.json(problem)
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        if is_transient(&err) {
            AppError::unavailable(err)
        } else {
            AppError::Internal(err.into())
        }
    }
}

/// Errors that mean "the database is unavailable right now, try again" rather than "this request
/// is wrong": no connection in time, connection lost or refused, server shutting down, statement
/// timeout, lock contention.
fn is_transient(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::RuntimeErr;
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed
        | Sqlx::Protocol(_) => true,
        Sqlx::Database(db) => {
            let code = db.code().unwrap_or_default();
            // PostgreSQL: 08xxx connection exception, 57P01-57P03 shutdown / cannot connect now,
            // 57014 statement timeout, 40001 serialization failure, 40P01 deadlock, 53xxx
            // insufficient resources. SQLite (numeric codes, never five characters like PostgreSQL's):
            // 5 SQLITE_BUSY, 6 SQLITE_LOCKED and their extended codes.
            code.starts_with("08")
                || code.starts_with("57P")
                || code.starts_with("53")
                || matches!(code.as_ref(), "57014" | "40001" | "40P01")
                || (code.len() < 5
                    && code
                        .parse::<i32>()
                        .is_ok_and(|c| c & 0xff == 5 || c & 0xff == 6))
        }
        _ => false,
    }
}

/// Whether `err` is a unique-constraint violation (on either backend).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Whether `err` is a foreign-key violation (on either backend).
pub fn is_fk_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
    )
}

impl From<crate::cache::CacheError> for AppError {
    fn from(err: crate::cache::CacheError) -> Self {
        AppError::unavailable(err)
    }
}

/// Turns a serde error from a JSON body into our problem shape, naming the field when serde does.
pub fn json_error(err: &serde_json::Error) -> AppError {
    use serde_json::error::Category;
    let msg = err.to_string();
    match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => AppError::MalformedJson(msg),
        Category::Data => {
            let field = if let Some(rest) = msg.strip_prefix("unknown field `") {
                let name = rest.split('`').next().unwrap_or_default().to_string();
                return AppError::InvalidBody(vec![FieldError::new(
                    name,
                    "unknown_field",
                    "this field is not accepted",
                )]);
            } else if let Some(rest) = msg.strip_prefix("missing field `") {
                let name = rest.split('`').next().unwrap_or_default().to_string();
                return AppError::InvalidBody(vec![FieldError::new(
                    name,
                    "required",
                    "this field is required",
                )]);
            } else {
                String::new()
            };
            AppError::InvalidBody(vec![FieldError::new(
                field,
                "invalid",
                strip_position(&msg),
            )])
        }
    }
}

fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}
