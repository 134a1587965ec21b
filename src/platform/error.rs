//! One error type for the whole API, rendered as RFC 9457 problem details.
//!
//! Every variant maps to exactly one status and one stable `code` in [`AppError::parts`]; clients
//! switch on `code`. Server-side failures are logged once here, with their cause, and answered
//! with a body that reveals nothing about the internals.

use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use sea_orm::DbErr;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::platform::context::current_request_id;
use crate::platform::lang::Text;

pub type AppResult<T> = Result<T, AppError>;

/// Every code a field error may carry: the spec lists exactly these, and the suite checks that
/// nothing else is ever answered. Clients switch on them; `message` is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldCode {
    /// The field is missing or empty.
    Required,
    /// Not acceptable as written (wrong type, format or value).
    Invalid,
    /// Longer than `limit` characters.
    TooLong,
    /// Shorter than `limit` characters.
    TooShort,
    /// More than `limit` items.
    TooMany,
    /// Outside the allowed range.
    OutOfRange,
    /// The body has a field this operation does not accept.
    UnknownField,
    /// The value names something that does not exist or that the caller cannot see.
    NotFound,
    /// The value names something that belongs to someone else.
    NotYours,
    /// The value is given twice.
    Duplicate,
    /// Two values that must agree do not.
    Mismatch,
    /// Exactly one of several fields must be given.
    ExactlyOne,
    /// Not allowed for the caller or in this state.
    NotAllowed,
    /// Not eligible for this use.
    NotEligible,
    /// Not a mainland mobile number (11 digits starting with 1).
    PhoneInvalid,
    /// Not a valid 18-digit resident ID number (length, date or check digit).
    IdNumberInvalid,
    /// A tag staff may not make public (低保, 残疾 and the like are never shown to residents).
    SensitiveTag,
    /// The current password is wrong.
    WrongPassword,
    /// An uploaded file or import is empty.
    Empty,
    /// An import column is not known.
    UnknownColumn,
    /// An import column is given twice.
    DuplicateColumn,
    /// A required import column is missing.
    MissingColumn,
    /// An import has more than `limit` rows.
    TooManyRows,
    /// A multipart body could not be read.
    MalformedMultipart,
    /// A roster file exported with masked values was fed back for import.
    MaskedValue,
    /// An uploaded file cannot be read as any accepted format.
    Unreadable,
    /// An uploaded file is of a format that is not accepted (e.g. legacy .xls).
    UnsupportedFormat,
    /// An uploaded file unpacks to more than is accepted.
    TooLarge,
    /// An uploaded table has values beyond the template's columns.
    TooWide,
    /// An import row names a building the compound does not have.
    UnknownBuilding,
    /// The value matches more than one existing record and nothing tells them apart.
    AmbiguousMatch,
    /// The text did not pass the content check (`content_rejected`); `label` says why.
    ContentRisky,
    /// A guard of `guard_failed`: the object is driven by its subject (an election's poll is
    /// opened and closed by the election, not by the poll's own verbs).
    ManagedBySubject,
    /// A guard: the deadline for this step has passed.
    TooLate,
    /// A guard: fewer than needed (candidates, officers, nominators).
    TooFew,
    /// A guard: something is still undecided or unconfirmed (objections, paper boxes).
    Pending,
    /// A guard: a rule is not met (validity, reconciliation, women elected).
    NotMet,
    /// A guard: a tie at the cut-off or an unfilled seat needs a runoff (另行选举).
    RunoffRequired,
    /// A guard: the poll is not closed yet.
    NotClosed,
    /// A guard: it is too early (deliberation still runs).
    TooEarly,
    /// A guard: the poll did not pass.
    NotPassed,
    /// A guard: something needed is not set (a proposal's tier, its lead).
    NotSet,
}

impl FieldCode {
    /// The snake_case name, as answered.
    pub fn as_str(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => s,
            _ => "invalid".to_string(),
        }
    }
}

/// One field-level problem inside a 400.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The field (dotted path for nested fields; the parameter name for query and path).
    pub field: String,
    pub code: FieldCode,
    /// For people, in the request's language (Simplified Chinese unless `Accept-Language: en`).
    #[schema(value_type = String)]
    pub message: Text,
    /// The limit that was crossed, for `too_long`, `too_short`, `too_many` and `too_many_rows`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// For `content_risky`: the content check's label (`politics`, `porn`, `abuse`, `ad`,
    /// `crime`, `fraud`, `vulgar`, `copyright`, `other`, or `keyword` for the street's own list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl FieldError {
    pub fn of(field: impl Into<String>, code: FieldCode, message: Text) -> Self {
        Self {
            field: field.into(),
            code,
            message,
            limit: None,
            label: None,
        }
    }

    pub fn with_limit(mut self, limit: impl TryInto<u64>) -> Self {
        self.limit = limit.try_into().ok();
        self
    }

    pub fn required(field: impl Into<String>) -> Self {
        Self::of(field, FieldCode::Required, Text::new("必填", "required"))
    }

    pub fn too_long(field: impl Into<String>, max_chars: usize) -> Self {
        Self::of(
            field,
            FieldCode::TooLong,
            crate::text!(
                "不能超过 {max_chars} 个字",
                "at most {max_chars} characters"
            ),
        )
        .with_limit(max_chars)
    }

    pub fn too_many(field: impl Into<String>, max: usize) -> Self {
        Self::of(
            field,
            FieldCode::TooMany,
            crate::text!("最多 {max} 项", "at most {max} items"),
        )
        .with_limit(max)
    }
}

/// Every code a problem may carry: the spec lists exactly these, and the suite checks that
/// nothing else is ever answered. The generic ones (`conflict`, `bad_request`, `rate_limited`)
/// are for failures with no more specific code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    MalformedJson,
    InvalidBody,
    InvalidQuery,
    InvalidPath,
    ValidationFailed,
    BadRequest,
    Unauthorized,
    InvalidToken,
    InvalidCredentials,
    InvalidRefreshToken,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    HasChildren,
    AlreadyExists,
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    IdempotencyKeyReused,
    IdempotencyKeyInProgress,
    RateLimited,
    ServiceUnavailable,
    WechatCodeInvalid,
    WechatUserBlocked,
    MethodOverrideInvalid,
    UrlSignatureInvalid,
    UrlExpired,
    BadGateway,
    InternalError,
    // Specific refusals, one per thing a client may want to explain differently.
    /// Sign-in is refused for a while after too many wrong passwords.
    LoginLocked,
    UsernameTaken,
    CannotDeactivateSelf,
    AccountHasNoPassword,
    AccountIsWechat,
    WechatAlreadyBound,
    WechatInUse,
    RoleAlreadyAssigned,
    /// A street leader (街面长) leads a `street_front` or `mixed` compound, not a residential one.
    CompoundNotStreetFront,
    /// A compound its street leaders lead cannot become residential while they hold the role.
    CompoundHasStreetLeaders,
    CannotEraseAdministrator,
    BindingRequestPending,
    BindingRequestDecided,
    ResidentBoundToWechat,
    IdNumberRegistered,
    InvitationUsedUp,
    RosterChanged,
    TooManyCategories,
    TooManyUnattachedPhotos,
    NotificationNotRetryable,
    /// The verb is not possible in the object's current status (a ticket's, a notice's).
    WrongStatus,
    /// Someone else changed the same thing at the same moment; reload and retry.
    ConcurrentChange,
    AlreadyUrgedToday,
    DailyFilingLimit,
    LookupLimit,
    /// The ticket was already merged into another; a merged ticket takes no further step.
    TicketAlreadyMerged,
    /// A ticket is merged only into one still being worked on (not closed, cancelled, rejected
    /// or merged itself).
    MergeTargetNotOpen,
    /// Duplicates are merged only within one category (and so one community).
    MergeCategoryMismatch,
    /// The ticket has no map location, so nothing can be near it.
    TicketHasNoLocation,
    /// The resident already has a pending transfer; it must be decided or cancelled first.
    TransferPending,
    /// The transfer was already accepted, refused or cancelled (also when two decisions race).
    TransferDecided,
    /// The ticket is closed, cancelled or rejected: its conversation takes no more messages.
    TicketConversationClosed,
    /// Too many messages on one ticket in the last hour (see Retry-After).
    TicketMessageLimit,
    /// The caller's role may publish here, but not this kind of notice (building and street
    /// leaders: `normal` priority only; council members: publicity only).
    NoticeRestricted,
    /// The content check found the text risky (违规); `errors[]` carries its label.
    ContentRejected,
    /// A street's content-check keyword list is full.
    TooManyKeywords,
    /// The office term was already ended (by staff, by handover, or by the expiry of its role).
    TermAlreadyEnded,
    /// A second ballot from the same voter, or from the same household in household mode.
    AlreadyVoted,
    /// The poll is visible to the caller, but the caller is not on its roll (or not eligible
    /// there: struck, waiting for review, not an adult member of the household).
    NotOnRoll,
    /// The poll does not take ballots now: before `opens_at`, after close, or cancelled.
    PollNotOpen,
    /// The object is in the right status, but one or more guards are unmet: `errors[]` names
    /// each (`{"field": <the guard>, "code": <why>}`).
    GuardFailed,
    /// A fund movement would make an account's balance, or the money not yet reserved,
    /// negative.
    InsufficientFunds,
    /// A second approval of an expense by the first approver, by the requester, or by someone
    /// approving in the first approver's role.
    SameApprover,
    /// The fund entry has been reversed already (each entry is reversed at most once).
    AlreadyReversed,
    /// The fund entry cannot be reversed: it is a reversal itself, or one leg of a transfer
    /// (undo a transfer by a transfer back).
    EntryNotReversible,
    /// A fund account is closed only when nothing is left in it.
    FundAccountNotEmpty,
    /// A proposal's verb from a step that does not have it (a decision opened on a proposal
    /// still `proposed`); tickets keep `conflict`.
    WrongStep,
    /// The subject takes no more comments (a proposal that ended, a notice not or no longer
    /// published), or the comment replied to is itself a reply or not shown.
    CommentsClosed,
    /// The caller has reported this comment already (once per user).
    AlreadyReported,
    /// Too many comments by the caller in the last hour (the community's policy; see
    /// Retry-After).
    CommentLimit,
}

/// RFC 9457 problem details, as every error of this API is answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:linli:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    /// A short summary of the kind of problem, in the request's language.
    pub title: String,
    pub status: u16,
    /// What went wrong and what to do, for people, in the request's language (Simplified
    /// Chinese unless `Accept-Language: en`).
    pub detail: String,
    /// Stable snake_case code that clients switch on.
    pub code: ProblemCode,
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
    /// A refusal with its own code and words: the way to say "no" for a reason a client may
    /// want to explain.
    #[error("{message}")]
    Refused {
        status: StatusCode,
        code: ProblemCode,
        message: Text,
    },
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
    #[error("the resource has changed since it was read")]
    PreconditionFailed,
    #[error("{}", match .0 { Some(n) => format!("request body is larger than {n} bytes"), None => "request body is too large".to_string() })]
    PayloadTooLarge(Option<usize>),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("the idempotency key was used with a different request")]
    IdempotencyKeyReused,
    #[error("{message}")]
    RateLimited {
        retry_after: Duration,
        code: ProblemCode,
        message: Text,
    },
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
    MethodOverrideInvalid(Text),
    #[error("the signed URL does not match this attachment")]
    UrlSignatureInvalid,
    #[error("the signed URL has expired")]
    UrlExpired,
    /// The content check said `risky`; `label` names why (never the text or a keyword).
    #[error("the content check refused the text ({label})")]
    ContentRejected { label: String },
    #[error("an upstream service answered with something unusable")]
    BadGateway(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
    /// 409 `guard_failed`: the verb is right for the object's status, but the guards named in
    /// the list are unmet (one entry per guard: `field` names the guard, `code` why).
    #[error("unmet guards")]
    GuardFailed(Vec<FieldError>),
}

/// The summary of each status, in both languages.
fn title(status: StatusCode) -> Text {
    let (zh, en) = match status.as_u16() {
        400 => ("请求有误", "Bad request"),
        401 => ("未登录或登录已失效", "Unauthorized"),
        403 => ("无权进行此操作", "Forbidden"),
        404 => ("未找到", "Not found"),
        405 => ("不支持此请求方法", "Method not allowed"),
        409 => ("与当前状态冲突", "Conflict"),
        412 => ("内容已被修改", "Precondition failed"),
        413 => ("内容过大", "Payload too large"),
        415 => ("不支持的内容类型", "Unsupported media type"),
        422 => ("无法处理的请求", "Unprocessable request"),
        429 => ("操作过于频繁", "Too many requests"),
        502 => ("上游服务异常", "Bad gateway"),
        503 => ("服务暂不可用", "Service unavailable"),
        _ => ("服务器内部错误", "Internal server error"),
    };
    Text::new(zh, en)
}

impl AppError {
    /// The one table from variant to status and code.
    fn parts(&self) -> (StatusCode, ProblemCode) {
        use AppError::*;
        use ProblemCode as C;
        match self {
            MalformedJson(_) => (StatusCode::BAD_REQUEST, C::MalformedJson),
            InvalidBody(_) => (StatusCode::BAD_REQUEST, C::InvalidBody),
            InvalidQuery(_) => (StatusCode::BAD_REQUEST, C::InvalidQuery),
            InvalidPath(_) => (StatusCode::BAD_REQUEST, C::InvalidPath),
            Validation(_) => (StatusCode::BAD_REQUEST, C::ValidationFailed),
            Refused { status, code, .. } => (*status, *code),
            Unauthorized => (StatusCode::UNAUTHORIZED, C::Unauthorized),
            InvalidToken => (StatusCode::UNAUTHORIZED, C::InvalidToken),
            InvalidCredentials => (StatusCode::UNAUTHORIZED, C::InvalidCredentials),
            InvalidRefreshToken => (StatusCode::UNAUTHORIZED, C::InvalidRefreshToken),
            Forbidden => (StatusCode::FORBIDDEN, C::Forbidden),
            NotFound => (StatusCode::NOT_FOUND, C::NotFound),
            MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, C::MethodNotAllowed),
            PreconditionFailed => (StatusCode::PRECONDITION_FAILED, C::PreconditionFailed),
            PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, C::PayloadTooLarge),
            UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, C::UnsupportedMediaType)
            }
            IdempotencyKeyReused => (StatusCode::UNPROCESSABLE_ENTITY, C::IdempotencyKeyReused),
            RateLimited { code, .. } => (StatusCode::TOO_MANY_REQUESTS, *code),
            Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, C::ServiceUnavailable),
            WeChatCodeInvalid => (StatusCode::UNAUTHORIZED, C::WechatCodeInvalid),
            WeChatUserBlocked => (StatusCode::FORBIDDEN, C::WechatUserBlocked),
            MethodOverrideInvalid(_) => (StatusCode::BAD_REQUEST, C::MethodOverrideInvalid),
            UrlSignatureInvalid => (StatusCode::FORBIDDEN, C::UrlSignatureInvalid),
            UrlExpired => (StatusCode::FORBIDDEN, C::UrlExpired),
            ContentRejected { .. } => (StatusCode::BAD_REQUEST, C::ContentRejected),
            BadGateway(_) => (StatusCode::BAD_GATEWAY, C::BadGateway),
            Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, C::InternalError),
            GuardFailed(_) => (StatusCode::CONFLICT, C::GuardFailed),
        }
    }

    /// A 400 with its own code.
    pub fn bad_request(code: ProblemCode, message: Text) -> Self {
        AppError::Refused {
            status: StatusCode::BAD_REQUEST,
            code,
            message,
        }
    }

    /// A 403 with its own code.
    pub fn forbidden(code: ProblemCode, message: Text) -> Self {
        AppError::Refused {
            status: StatusCode::FORBIDDEN,
            code,
            message,
        }
    }

    /// A 409 with its own code.
    pub fn conflict(code: ProblemCode, message: Text) -> Self {
        AppError::Refused {
            status: StatusCode::CONFLICT,
            code,
            message,
        }
    }

    /// A 429 without a more specific reason.
    pub fn rate_limited(retry_after: Duration) -> Self {
        AppError::RateLimited {
            retry_after,
            code: ProblemCode::RateLimited,
            message: Text::new(
                "操作过于频繁，请稍后再试",
                "Too many requests; retry later.",
            ),
        }
    }

    /// A 429 with its own code and words.
    pub fn limited(retry_after: Duration, code: ProblemCode, message: Text) -> Self {
        AppError::RateLimited {
            retry_after,
            code,
            message,
        }
    }

    /// A 400 naming one field.
    pub fn invalid(field: &str, code: FieldCode, message: Text) -> Self {
        AppError::Validation(vec![FieldError::of(field, code, message)])
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

    /// What people read, in both languages.
    fn message(&self) -> Text {
        use AppError::*;
        match self {
            // Never echo internals for 5xx.
            Internal(_) => Text::new(
                "服务器出了点问题，请稍后重试",
                "The server could not complete the request.",
            ),
            BadGateway(_) => Text::new(
                "依赖的外部服务返回了无法使用的结果，请稍后重试",
                "An upstream service gave an unusable answer; retry later.",
            ),
            Unavailable { .. } => Text::new(
                "服务暂时不可用，请稍后重试",
                "A service the API depends on is unavailable; retry later.",
            ),
            MalformedJson(e) => Text::new(
                "请求内容不是有效的 JSON",
                format!("request body is not valid JSON: {e}"),
            ),
            InvalidBody(_) => Text::new(
                "请求内容的格式不对，详见 errors",
                "request body does not match the expected shape",
            ),
            InvalidQuery(_) => Text::new("查询参数有误，详见 errors", "invalid query parameter"),
            InvalidPath(_) => Text::new("路径参数有误，详见 errors", "invalid path parameter"),
            Validation(_) => Text::new("填写的内容有误，详见 errors", "validation failed"),
            Refused { message, .. } | RateLimited { message, .. } => message.clone(),
            Unauthorized => Text::new("请先登录", "authentication required"),
            InvalidToken => Text::new(
                "登录已失效，请重新登录",
                "the access token is invalid or expired",
            ),
            InvalidCredentials => Text::new("用户名或密码错误", "wrong username or password"),
            InvalidRefreshToken => Text::new(
                "登录已过期，请重新登录",
                "the refresh token is invalid, expired or already used",
            ),
            Forbidden => Text::new("您没有进行此操作的权限", "not allowed"),
            NotFound => Text::new("没有找到，或您无权查看", "not found"),
            MethodNotAllowed(_) => Text::new("不支持此请求方法", "method not allowed"),
            PreconditionFailed => Text::new(
                "内容在您读取后已被他人修改，请刷新后重试",
                "the resource has changed since it was read",
            ),
            PayloadTooLarge(Some(n)) => crate::text!(
                "内容过大，不能超过 {n} 字节",
                "request body is larger than {n} bytes"
            ),
            PayloadTooLarge(None) => Text::new("内容过大", "request body is too large"),
            UnsupportedMediaType(t) => Text::new(
                format!("不支持的内容类型：{t}"),
                format!("unsupported media type: {t}"),
            ),
            IdempotencyKeyReused => Text::new(
                "这个 Idempotency-Key 已用于另一个不同的请求",
                "the idempotency key was used with a different request",
            ),
            WeChatCodeInvalid => Text::new(
                "微信登录凭证无效或已过期，请重新登录",
                "the WeChat login code is invalid or expired",
            ),
            WeChatUserBlocked => Text::new(
                "微信将此账号标记为高风险，暂不能登录",
                "WeChat flags this account as high-risk",
            ),
            MethodOverrideInvalid(m) => m.clone(),
            GuardFailed(_) => Text::new(
                "当前条件尚不满足，详见 errors",
                "one or more guards are unmet; see errors",
            ),
            UrlSignatureInvalid => Text::new(
                "链接无效：签名与该附件不符，请重新获取",
                "the signed URL does not match this attachment; fetch a new one",
            ),
            UrlExpired => Text::new(
                "链接已过期，请重新获取",
                "the signed URL has expired; fetch a new one",
            ),
            ContentRejected { label } => {
                let (zh, en) = content_label_words(label);
                crate::text!(
                    "内容未通过安全检测（{zh}），请修改后再提交",
                    "the text did not pass the content check ({en}); change it and submit again"
                )
            }
        }
    }

    /// The body this error is answered with, in the current request's language.
    pub fn problem(&self) -> Problem {
        let (status, code) = self.parts();
        let lang = crate::platform::lang::current();
        let code_name = match serde_json::to_value(code) {
            Ok(serde_json::Value::String(s)) => s,
            _ => "internal_error".to_string(),
        };
        let title = match self {
            AppError::ContentRejected { .. } => Text::new("内容未通过安全检测", "Content rejected"),
            _ => title(status),
        };
        Problem {
            type_: format!("urn:linli:problem:{code_name}"),
            title: title.get(lang).to_string(),
            status: status.as_u16(),
            detail: self.message().get(lang).to_string(),
            code,
            request_id: current_request_id().unwrap_or_default(),
            errors: self.field_errors(),
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            AppError::InvalidBody(e)
            | AppError::InvalidQuery(e)
            | AppError::InvalidPath(e)
            | AppError::Validation(e)
            | AppError::GuardFailed(e) => e.clone(),
            AppError::ContentRejected { label } => {
                let (zh, en) = content_label_words(label);
                let mut e = FieldError::of(
                    "content",
                    FieldCode::ContentRisky,
                    crate::text!("含有{zh}内容", "contains {en} content"),
                );
                e.label = Some(label.clone());
                vec![e]
            }
            _ => Vec::new(),
        }
    }
}

/// The words for a content-check label (Chinese, English).
fn content_label_words(label: &str) -> (&'static str, &'static str) {
    match label {
        "ad" => ("广告", "advertising"),
        "politics" => ("涉政", "political"),
        "porn" => ("色情", "pornographic"),
        "abuse" => ("辱骂", "abusive"),
        "crime" => ("违法犯罪", "criminal"),
        "fraud" => ("欺诈", "fraudulent"),
        "vulgar" => ("低俗", "vulgar"),
        "copyright" => ("侵权", "infringing"),
        "keyword" => ("本街道禁止发布的", "prohibited"),
        _ => ("不适宜发布的", "unsuitable"),
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code) = self.parts();
        let lang = crate::platform::lang::current();
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
                code = ?code,
                cause = cause.as_deref().unwrap_or(""),
                "request failed"
            );
        }
        let problem = self.problem();
        let mut builder = HttpResponse::build(status);
        builder.content_type("application/problem+json");
        builder.insert_header((header::CONTENT_LANGUAGE, lang.tag()));
        builder.insert_header((header::VARY, "Accept-Language"));
        match self {
            AppError::RateLimited { retry_after, .. }
            | AppError::Unavailable { retry_after, .. } => {
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

impl From<crate::platform::cache::CacheError> for AppError {
    fn from(err: crate::platform::cache::CacheError) -> Self {
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
                return AppError::InvalidBody(vec![FieldError::of(
                    name,
                    FieldCode::UnknownField,
                    Text::new("不接受这个字段", "this field is not accepted"),
                )]);
            } else if let Some(rest) = msg.strip_prefix("missing field `") {
                let name = rest.split('`').next().unwrap_or_default().to_string();
                return AppError::InvalidBody(vec![FieldError::required(name)]);
            } else {
                String::new()
            };
            AppError::InvalidBody(vec![FieldError::of(
                field,
                FieldCode::Invalid,
                Text::new("字段的类型或取值不对", strip_position(&msg)),
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
