use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, AppResult};
use crate::middleware::Metrics;
use crate::state::AppState;

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
    responses((status = 200, body = HealthResponse), (status = 503, description = "A dependency does not answer"))
)]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> AppResult<HttpResponse> {
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

/// Prometheus metrics: request counts and latencies by route and status.
#[utoipa::path(
    tag = "operations",
    security(()),
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String))
)]
#[get("/metrics")]
pub async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render())
}
