//! Logging: human-readable in development, JSON lines in production. Every line inside a
//! request carries its `request_id` (from the request span).

use tracing_subscriber::EnvFilter;

use crate::platform::config::Environment;

pub fn init(env: Environment) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match env {
        Environment::Prod => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        Environment::Dev => builder.try_init(),
    };
    // Already initialised (tests build several apps in one process): keep the first.
    let _ = result;
}
