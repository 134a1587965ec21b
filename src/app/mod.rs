//! The composition root: the shared state, the route table, the OpenAPI document, the
//! background jobs and the demo seed. The only place that knows every domain.

pub mod client_config;
pub mod health;
pub mod jobs;
pub mod middleware;
pub mod openapi;
pub mod seed;
