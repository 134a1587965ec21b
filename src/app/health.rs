use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::middleware::Metrics;
use crate::platform::error::{AppError, AppResult};
use crate::platform::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct HealthResponse {
    /// `ok`
    pub status: String,
}

/// Liveness: the process is up.
#[utoipa::path(tag = "operations", security(()), responses((status = 200, body = HealthResponse)))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(HealthResponse {
        status: "ok".into(),
    })
}

/// Readiness: the database (and Redis, where configured) answer.
#[utoipa::path(
    tag = "operations",
    security(()),
    responses((status = 200, body = HealthResponse), (status = 503, description = "A dependency does not answer, or the replica is draining before it stops"))
)]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    if state.draining.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(AppError::unavailable(anyhow::anyhow!(
            "shutting down: draining before the listener closes"
        )));
    }
    let db = tokio::time::timeout(std::time::Duration::from_secs(3), state.db.ping()).await;
    match db {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(AppError::unavailable(e)),
        Err(_) => {
            return Err(AppError::unavailable(anyhow::anyhow!(
                "database ping timed out"
            )))
        }
    }
    state.cache.ping().await?;
    Ok(HttpResponse::Ok().json(HealthResponse {
        status: "ok".into(),
    }))
}

/// Prometheus metrics: request counts and latencies by route and status. Needs the
/// `LINLI_METRICS_TOKEN` as a bearer token; without one configured, metrics are not served.
#[utoipa::path(
    tag = "operations",
    security(("metrics_token" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String),
        (status = 401, description = "Missing or wrong metrics token"),
        (status = 404, description = "Metrics are not enabled (`LINLI_METRICS_TOKEN` is unset)"),
    )
)]
#[get("/metrics")]
pub async fn metrics(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
) -> AppResult<HttpResponse> {
    let Some(expected) = state.settings.metrics_token.as_ref() else {
        return Err(AppError::NotFound);
    };
    let given = crate::access::bearer::bearer(req.headers()).unwrap_or_default();
    if !constant_time_eq(given.as_bytes(), expected.expose().as_bytes()) {
        return Err(AppError::Unauthorized);
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render()))
}

/// Compares without an early exit, so response time says nothing about how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    // Hashing first makes the lengths equal and the comparison independent of them.
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}
