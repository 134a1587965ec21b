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
use actix_web::{web, Error, ResponseError};
use tracing::Instrument;

use crate::error::AppError;

pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled on this task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

fn acceptable_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then(|| s.to_string())
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let request_id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(acceptable_request_id)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = req.method().clone();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        path = %req.path(),
    );
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let start = Instant::now();

    let id = request_id.clone();
    let res = REQUEST_ID
        .scope(
            id,
            async move {
                // Handlers and extractors turn their errors into responses themselves (inside
                // this scope); an `Err` here could only come from a middleware further in.
                next.call(req)
                    .await
                    .map(|res| ensure_problem_body(res.map_into_boxed_body()))
            }
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
    if let Some(m) = metrics {
        m.observe(
            method.as_str(),
            &route,
            status.as_u16(),
            elapsed.as_secs_f64(),
        );
    }
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            route = %route,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request finished"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID_HEADER.clone(), v);
    }
    Ok(res)
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
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge(0),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType("".into()),
        StatusCode::UNAUTHORIZED => AppError::Unauthorized,
        StatusCode::FORBIDDEN => AppError::Forbidden,
        StatusCode::SERVICE_UNAVAILABLE => AppError::Unavailable {
            retry_after: std::time::Duration::from_secs(5),
            source: None,
        },
        s if s.is_server_error() => AppError::Internal(anyhow::anyhow!("{s} from the framework")),
        _ => AppError::BadRequest("The request could not be processed.".into()),
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
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        let Ok(mut map) = self.series.lock() else {
            return;
        };
        let s = map
            .entry((method.to_string(), route.to_string(), status))
            .or_default();
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
