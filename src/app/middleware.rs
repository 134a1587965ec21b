//! Request context: request id, tracing span, access log, metrics, and the guarantee that every
//! error response is problem+json.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, ResponseError};
use tracing::Instrument;

use crate::platform::error::{AppError, FieldCode, ProblemCode};
use crate::platform::lang::{Lang, Text};

pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

pub use crate::platform::context::current_request_id;

fn acceptable_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then(|| s.to_string())
}

pub static METHOD_OVERRIDE_HEADER: HeaderName = HeaderName::from_static("x-http-method-override");

/// `wx.request` cannot send PATCH. A POST carrying `X-HTTP-Method-Override: PATCH` is turned
/// into a PATCH here, before routing, so the route, the idempotency store (which handles POSTs
/// only), the logs and the metrics all see the method that is in effect. Nothing else is
/// honoured: another value, the header twice, or the header on any other method is a 400
/// (a client that sends it expects an override, and running the request as sent would do
/// something it did not mean). Other override headers (`X-HTTP-Method`, `X-Method-Override`)
/// and `_method` parameters are ignored.
fn method_override(req: &mut ServiceRequest) -> Result<(), AppError> {
    let mut values = req.headers().get_all(&METHOD_OVERRIDE_HEADER);
    let Some(value) = values.next() else {
        return Ok(());
    };
    if values.next().is_some() {
        return Err(AppError::MethodOverrideInvalid(Text::new(
            "X-HTTP-Method-Override 只能出现一次",
            "X-HTTP-Method-Override may be sent once",
        )));
    }
    if req.method() != actix_web::http::Method::POST {
        return Err(AppError::MethodOverrideInvalid(Text::new(
            "X-HTTP-Method-Override 只能用于 POST 请求",
            "X-HTTP-Method-Override is honoured on POST only",
        )));
    }
    if value.as_bytes() != b"PATCH" {
        return Err(AppError::MethodOverrideInvalid(Text::new(
            "X-HTTP-Method-Override 只能取值 PATCH",
            "X-HTTP-Method-Override may only be PATCH",
        )));
    }
    req.head_mut().method = actix_web::http::Method::PATCH;
    Ok(())
}

pub async fn request_context(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let request_id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(acceptable_request_id)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let overridden = method_override(&mut req);
    let method = req.method().clone();
    let is_api = req.path().starts_with("/api/");
    let is_docs = req.path().starts_with("/docs");
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        path = %req.path(),
    );
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let start = Instant::now();

    let id = request_id.clone();
    let lang = Lang::from_accept_language(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let res = crate::platform::context::with_request_id(
        id,
        crate::platform::lang::scope(lang, async move {
            if let Err(e) = overridden {
                return Ok(req.error_response(e));
            }
            // Handlers and extractors turn their errors into responses themselves (inside
            // this scope); an `Err` here could only come from a middleware further in.
            next.call(req)
                .await
                .map(|res| ensure_problem_body(res.map_into_boxed_body()))
        })
        .instrument(span.clone()),
    )
    .await;

    let mut res = res?;
    let elapsed = start.elapsed();
    let status = res.status();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            route = %route,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request finished"
        )
    });
    if let Some(m) = metrics {
        m.observe(
            method.as_str(),
            route,
            status.as_u16(),
            elapsed.as_secs_f64(),
        );
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID_HEADER.clone(), v);
    }
    security_headers(res.headers_mut(), is_api, is_docs);
    Ok(res)
}

/// Headers every response carries. API responses hold personal data: no cache (browser, proxy
/// or WeChat's) may keep them. Nothing here is meant to be framed or run as a page, except the
/// Swagger UI, which needs its own scripts.
fn security_headers(h: &mut actix_web::http::header::HeaderMap, is_api: bool, is_docs: bool) {
    use actix_web::http::header::{
        CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
        X_FRAME_OPTIONS,
    };
    if is_api && !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !is_docs {
        h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
}

/// Replaces any error response that is not already problem+json (actix's own plain-text errors)
/// with the problem for its status. Runs inside the request scope so the body carries the id.
fn ensure_problem_body(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if is_problem {
        return res;
    }
    let err = match status {
        StatusCode::NOT_FOUND => AppError::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed(Vec::new()),
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge(None),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType("".into()),
        StatusCode::UNAUTHORIZED => AppError::Unauthorized,
        StatusCode::FORBIDDEN => AppError::Forbidden,
        StatusCode::SERVICE_UNAVAILABLE => AppError::Unavailable {
            retry_after: std::time::Duration::from_secs(5),
            source: None,
        },
        s if s.is_server_error() => AppError::Internal(anyhow::anyhow!("{s} from the framework")),
        _ => AppError::bad_request(
            ProblemCode::BadRequest,
            Text::new("无法处理这个请求", "The request could not be processed."),
        ),
    };
    res.into_response(err.error_response())
}

const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Request counts and latency histograms by method, route pattern and status, in Prometheus text.
#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(&'static str, String, u16), Series>>,
}

impl Metrics {
    /// Every label is drawn from a closed set, so no client can grow the series: the method
    /// from the standard ones (else `other`), the route from the registered patterns (else
    /// `unmatched`), the status from the three digits HTTP allows.
    pub fn observe(&self, method: &str, route: String, status: u16, secs: f64) {
        const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
        let method = METHODS
            .iter()
            .find(|m| **m == method)
            .copied()
            .unwrap_or("other");
        let Ok(mut map) = self.series.lock() else {
            return;
        };
        let s = map.entry((method, route, status.min(999))).or_default();
        s.count += 1;
        s.sum += secs;
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                s.buckets[i] += 1;
            }
        }
    }

    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let map = match self.series.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        out.push_str(
            "# HELP linli_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE linli_http_requests_total counter\n");
        for ((m, r, st), s) in map.iter() {
            let _ = writeln!(
                out,
                "linli_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{st}\"}} {}",
                escape(r),
                s.count
            );
        }
        out.push_str("# HELP linli_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE linli_http_request_duration_seconds histogram\n");
        for ((m, r, st), s) in map.iter() {
            let labels = format!("method=\"{m}\",route=\"{}\",status=\"{st}\"", escape(r));
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "linli_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "linli_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "linli_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "linli_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `Idempotency-Key` on POSTs: a retry with the same key and body gets the first response and
/// runs nothing; the same key with another body is 422. Requests without the header, or without
/// a valid access token (the handler answers those), pass straight through.
pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    use crate::platform::idempotency::{self as store, Claim, Stored};

    // Never stored: a reveal (a full personal-data value; the database holds no plaintext, and
    // every call is audited on its own), the auth routes (tokens are stored only hashed), and a
    // ballot (the stored user id and request hash would tie a voter to a choice: a ballot's body
    // has a handful of possible values; a second cast is refused with `already_voted` anyway).
    if req.method() != actix_web::http::Method::POST
        || req.path().ends_with("/reveal")
        || req.path().ends_with("/ballots")
        || req.path().starts_with("/api/v1/auth/")
    {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let Some(key) = req.headers().get("idempotency-key").cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = match key.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 => k.to_string(),
        _ => {
            let err = AppError::invalid(
                "Idempotency-Key",
                FieldCode::Invalid,
                Text::new(
                    "Idempotency-Key 应为 1 到 255 个可见 ASCII 字符",
                    "1 to 255 visible ASCII characters",
                ),
            );
            return Ok(req.error_response(err));
        }
    };
    let Some(state) = req
        .app_data::<web::Data<crate::platform::state::AppState>>()
        .cloned()
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let user = crate::access::bearer::bearer(req.headers()).and_then(|t| state.jwt.decode(t));
    // No valid token (the handler answers 401), or a revoked one: nothing to replay.
    let Some(claims) = user else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let revoked = crate::access::durable::is_revoked(&state, claims.jti, claims.fam)
        .await
        .unwrap_or(true);
    if revoked {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let user = claims.sub;

    let body = match read_body(&mut req, IDEMPOTENT_BODY_LIMIT).await {
        Ok(b) => b,
        Err(e) => return Ok(req.error_response(e)),
    };
    let path = req.path().to_string();
    // The query string is part of the request: a retry with another `compound_id` is another
    // request, not a replay.
    let hash = {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(path.as_bytes());
        h.update([0]);
        h.update(req.query_string().as_bytes());
        h.update([0]);
        h.update(&body);
        hex::encode(h.finalize())
    };
    req.set_payload(bytes_to_payload(body));

    // Wait (bounded) while a concurrent request with the same key runs.
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    let claim = loop {
        match store::claim(&state.db, user, &key, &path, &hash, state.clock.now()).await {
            Ok(Claim::InProgress) if Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Ok(c) => break c,
            Err(e) => return Ok(req.error_response(e)),
        }
    };
    let id = match claim {
        Claim::New(id) => id,
        Claim::Replay(stored) => {
            let mut res = actix_web::HttpResponse::build(
                StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
            );
            if let Some(ct) = stored.content_type {
                res.content_type(ct);
            }
            if let Some(loc) = stored.location {
                res.insert_header((header::LOCATION, loc));
            }
            res.insert_header(("idempotent-replayed", "true"));
            return Ok(req.into_response(res.body(stored.body)));
        }
        Claim::Mismatch => return Ok(req.error_response(AppError::IdempotencyKeyReused)),
        Claim::InProgress => {
            return Ok(req.error_response(AppError::conflict(
                ProblemCode::IdempotencyKeyInProgress,
                Text::new(
                    "使用这个 Idempotency-Key 的请求仍在处理中，请稍后重试",
                    "a request with this Idempotency-Key is still being processed; retry later",
                ),
            )))
        }
    };

    let res = match next.call(req).await {
        Ok(res) => res,
        Err(e) => {
            store::release(&state.db, id).await.ok();
            return Err(e);
        }
    };
    let (http_req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let bytes = match actix_web::body::to_bytes(body).await {
        Ok(b) => b,
        Err(_) => {
            store::release(&state.db, id).await.ok();
            let err = AppError::internal(anyhow::anyhow!("response body unreadable"));
            return Ok(ServiceResponse::new(http_req, err.error_response()));
        }
    };
    let text = std::str::from_utf8(&bytes).ok();
    let outcome = match (head.status().is_success(), text) {
        (true, Some(text)) => {
            let stored = Stored {
                status: head.status().as_u16(),
                body: text.to_string(),
                content_type: head
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
                location: head
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
            };
            store::complete(&state.db, id, stored).await
        }
        // Failures are not remembered: a retry runs afresh.
        _ => store::release(&state.db, id).await,
    };
    if let Err(e) = outcome {
        tracing::warn!(error = %e, "could not record the idempotent response");
    }
    let res = head.set_body(BoxBody::new(bytes));
    Ok(ServiceResponse::new(http_req, res))
}

/// The largest request body an idempotent POST may have (the roster import takes files of up to
/// 5 MiB, multipart framing included).
const IDEMPOTENT_BODY_LIMIT: usize = 6 * 1024 * 1024;

/// Reads the whole body, refusing (413) as soon as it passes `limit`.
async fn read_body(req: &mut ServiceRequest, limit: usize) -> Result<web::Bytes, AppError> {
    use futures_util::StreamExt;
    let mut payload = req.take_payload();
    let mut buf = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| AppError::MalformedJson("could not read the request body".into()))?;
        if buf.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge(Some(limit)));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

fn bytes_to_payload(buf: web::Bytes) -> actix_web::dev::Payload {
    let (_, mut pl) = actix_http::h1::Payload::create(true);
    pl.unread_data(buf);
    actix_web::dev::Payload::from(pl)
}
