//! The OpenAPI document: generated from the handlers (registered through utoipa-actix-web, so
//! none is missed), then completed with what every operation shares: the bearer scheme and the
//! problem+json error responses each kind of operation can return.

use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::Required;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};
use utoipa::OpenApi as _;

use crate::error::{FieldError, Problem};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "linli API",
        description = "Backend of the linli (邻里) community-governance mini-program. \
            Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`. \
            Lists are keyset-paginated: pass `next_cursor` back as `cursor`.",
        license(name = "MIT"),
    ),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "auth", description = "Sign-in, tokens and the caller"),
        (name = "staff", description = "Staff accounts and role assignments"),
        (name = "territory", description = "Streets, communities, compounds, grids, buildings, households, property companies"),
        (name = "me", description = "Resident self-service: binding, own household, own data"),
        (name = "residents", description = "The roster, personal data (masked; revealed only with a purpose, audited) and the audit log"),
        (name = "tickets", description = "Residents' requests (诉求): filing, triage by colour, dispatch, the workflow verbs, timeline, photos, stats and the ledger"),
        (name = "notifications", description = "The notification outbox: WeChat subscribe messages and their delivery state"),
    )
)]
pub struct ApiDoc;

pub fn base() -> OpenApi {
    ApiDoc::openapi()
}

const PROBLEM: &str = "application/problem+json";

fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.head.as_mut(),
        item.options.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn add(op: &mut Operation, status: &str, description: &str) {
    op.responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| RefOr::T(problem_response(description)));
}

/// Completes the generated document.
pub fn finish(mut doc: OpenApi) -> OpenApi {
    doc.openapi = utoipa::openapi::OpenApiVersion::Version31;
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("Access token from /api/v1/auth/login"))
                .build(),
        ),
    );
    components.add_security_scheme(
        "metrics_token",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("The operator's LINLI_METRICS_TOKEN"))
                .build(),
        ),
    );
    for item in doc.paths.paths.values_mut() {
        for op in operations(item) {
            let secured = op
                .security
                .as_ref()
                .is_some_and(|s| s.iter().any(|r| r != &Default::default()));
            let has_body = op.request_body.is_some();
            let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let ops_endpoint = op
                .tags
                .as_ref()
                .is_some_and(|t| t.iter().any(|t| t == "operations"));
            let creates = op.responses.responses.contains_key("201");
            if creates {
                let param = ParameterBuilder::new()
                    .name("Idempotency-Key")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(
                        "Makes the create safe to retry: a retry with the same key and body \
                         returns the first response (with `Idempotent-Replayed: true`) and \
                         creates nothing. Keys are kept 24 hours per user.",
                    ))
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .max_length(Some(255)),
                    ))
                    .build();
                op.parameters.get_or_insert_with(Vec::new).push(param);
                add(
                    op,
                    "422",
                    "The Idempotency-Key was used with a different request",
                );
                add(
                    op,
                    "409",
                    "Conflict (including: a request with this Idempotency-Key is still running)",
                );
            }
            if has_body {
                add(
                    op,
                    "400",
                    "Malformed JSON, unknown fields or invalid values",
                );
                add(op, "413", "Request body too large");
                add(op, "415", "Content-Type is not application/json");
            } else if has_params {
                add(op, "400", "Invalid path or query parameter");
            }
            if secured {
                add(
                    op,
                    "401",
                    "Missing, invalid, expired or revoked access token",
                );
            }
            if !ops_endpoint {
                add(op, "500", "Internal error (the body reveals nothing)");
                add(
                    op,
                    "503",
                    "The database or cache is unavailable; retry after `Retry-After` seconds",
                );
            }
            // Declared error statuses without a body get the problem schema.
            for (status, resp) in op.responses.responses.iter_mut() {
                let is_error = status.starts_with('4') || status.starts_with('5');
                if let RefOr::T(r) = resp {
                    if is_error && r.content.is_empty() {
                        let description = r.description.clone();
                        *r = problem_response(&description);
                    }
                }
            }
        }
    }
    doc
}
