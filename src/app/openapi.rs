//! The OpenAPI document: generated from the handlers (registered through utoipa-actix-web, so
//! none is missed), then completed with what every operation shares: the bearer scheme and the
//! problem+json error responses each kind of operation can return; and with the rules the
//! handlers enforce that the derive cannot spell: text patterns, page parameters, combinations
//! of fields. Whatever the document admits the server accepts, and the contract fuzzer
//! (`.ci/fuzz`) holds it to that.

use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, AnyOfBuilder, ArrayItems, ObjectBuilder, OneOfBuilder,
    Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::Required;
use utoipa::openapi::{Components, ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};
use utoipa::OpenApi as _;

use crate::access::policy::{Role, ScopeType};
use crate::platform::error::{FieldError, Problem};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "linli API",
        description = "Backend of the linli (邻里) community-governance mini-program. \
            Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`. \
            Lists are keyset-paginated: pass `next_cursor` back as `cursor`. \
            No string, in a body or a query, may contain NUL (U+0000). \
            Times are RFC 3339 in UTC with exactly three fractional digits \
            (`2026-11-30T12:05:00.000Z`). \
            `wx.request` cannot send PATCH: every PATCH operation is also reached by POST to the \
            same path with the header `X-HTTP-Method-Override: PATCH` (the only override honoured, \
            and only on POST; any other value, or the header on another method, is a 400 \
            `method_override_invalid`). Photos carry signed URLs that need no token (see \
            `AttachmentResponse`).",
        license(name = "MIT", identifier = "MIT"),
    ),
    // Relative: the document is served by the API it describes, wherever that is deployed.
    servers((url = "/", description = "The server this document is served from")),
    // Path parameters' schemas are not collected on their own; this one is a named enum.
    components(schemas(
        Problem,
        FieldError,
        crate::platform::signed_urls::Variant,
        crate::residents::http::transfers::TransferDirection
    )),
    tags(
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "auth", description = "Sign-in, tokens and the caller"),
        (name = "staff", description = "Staff accounts and role assignments"),
        (name = "territory", description = "Streets, communities, compounds, grids, buildings, households, property companies"),
        (name = "me", description = "Resident self-service: binding, own household, own data"),
        (name = "residents", description = "The roster, personal data (masked; revealed only with a purpose, audited) and the audit log"),
        (name = "tickets", description = "Residents' requests (诉求): filing, triage by colour, dispatch, the workflow verbs, timeline, photos, stats and the ledger"),
        (name = "notices", description = "Notices (公告) addressed to a place of the territory: drafting, the content check and moderation, publishing (now or scheduled), reading and confirming (回执), receipts by building and household coverage"),
        (name = "polls", description = "Polls (投票表决) addressed to a place: questions, eligibility and integer quorum/pass rules, the voter roll frozen at opening with its hash, casting exactly once (secret ballots keep no voter, time or order), paper boxes with two tellers, results after close"),
        (name = "offices", description = "Offices and terms: who holds which office (居委会, 楼组长, 街面长, 议事员, 邻里大管家, 队长, 值班长) where and when, and the roles terms grant"),
        (name = "funds", description = "Self-governance funds (自治金, 协商资金): accounts on a community or compound, income and transfers, expense requests approved by two people of different roles and paid against invoices, reversals, the public hash-chained ledger, its verification and the 自治金台账 export"),
        (name = "proposals", description = "The six-step consultation (提议决筹办评): proposals for a building, compound or community, household supports (附议), triage and referral, deliberation, the decision poll on a frozen revision, raising, implementation by a lead with progress and milestones, completion, acceptance (验收), the evaluation poll, close with the 回头看 review; each verb with its guards (409 `wrong_step`, `guard_failed` naming each unmet guard); consultation policies, stats and the 协商台账 export"),
        (name = "pledges", description = "Pledges (民筹) to a proposal while it raises or is implemented: money (recorded when received, as a contribution of a fund account), labour minutes and materials (with a receipt photo) confirmed by the lead; lapsing once when the proposal ends; public lists with masked or anonymous names as each pledger chose"),
        (name = "elections", description = "Elections (选举, 推选) of 居委会, 楼组长, 街面长, 议事会 and 邻里大管家: positions and seats, officers, the voter roll and its objections, nominations, the verbs of the state machine with their guards (409 `guard_failed` naming each unmet guard), results that start office terms"),
        (name = "deliberation", description = "Deliberation (民事民议): comments with an alignment (for, against, neutral) and one level of replies on proposals and notices, through the content check and an hourly limit; reports (privacy first), automatic hiding at the community's report count, and moderators' hide, unhide and approve, each audited. Authors show as building and masked surname (`3栋 王**`), `物业` or a staff tag"),
        (name = "notifications", description = "The notification outbox: WeChat subscribe messages and their delivery state; the templates the mini-program asks consent for"),
        (name = "moderation", description = "The content check: each street's keyword list, and checking a text as publishing would (WeChat msgSecCheck for WeChat accounts, the street's list for the others)"),
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

fn header(schema: ObjectBuilder, description: &str) -> Header {
    HeaderBuilder::new()
        .schema(schema)
        .description(Some(description))
        .build()
}

/// The headers the middleware and the error type send, declared on every response they may be
/// on, so a generated client can read them without a cast.
fn declare_headers(r: &mut Response, status: &str, is_error: bool, creates: bool) {
    let string = || ObjectBuilder::new().schema_type(Type::String);
    r.headers.entry("X-Request-Id".into()).or_insert_with(|| {
        header(
            string(),
            "The request's id (the client's own `X-Request-Id` when it sent a valid one); \
             also `request_id` in a problem body. Quote it when reporting a problem.",
        )
    });
    if status == "429" || status == "503" {
        r.headers.entry("Retry-After".into()).or_insert_with(|| {
            header(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1)),
                "Seconds to wait before retrying.",
            )
        });
    }
    if is_error {
        r.headers
            .entry("Content-Language".into())
            .or_insert_with(|| {
                header(
                    string().enum_values(Some(["zh-CN", "en"])),
                    "The language of `title`, `detail` and field `message`s: Simplified Chinese \
                 unless the request's `Accept-Language` prefers English.",
                )
            });
    }
    if status == "401" {
        r.headers
            .entry("WWW-Authenticate".into())
            .or_insert_with(|| header(string(), "`Bearer` when a token is missing or invalid."));
    }
    if creates && status == "201" {
        r.headers
            .entry("Idempotent-Replayed".into())
            .or_insert_with(|| {
                header(
                    string().enum_values(Some(["true"])),
                    "Present (`true`) when this is the stored response of an earlier request with \
                 the same `Idempotency-Key`; nothing was created this time.",
                )
            });
    }
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

/// What one query parser (`extract::parse_query`, `routes::PageParams`) enforces for every
/// list, declared once, here.
fn query_param(param: &mut Parameter) {
    if param.parameter_in != ParameterIn::Query {
        return;
    }
    let Some(RefOr::T(Schema::Object(o))) = param.schema.as_mut() else {
        return;
    };
    match param.name.as_str() {
        // Below 1 is a 400; above 100 is clamped.
        "limit" => o.minimum = Some(1.into()),
        // A list whose cursor is not the plain one declares its own.
        "cursor" if o.pattern.is_none() => {
            o.pattern = Some(crate::platform::http::CURSOR_PATTERN.to_string());
        }
        _ => {}
    }
    // No query value may hold a control or invisible character; free text says so here.
    let string = match &o.schema_type {
        SchemaType::Type(t) => *t == Type::String,
        SchemaType::Array(ts) => ts.contains(&Type::String),
        _ => false,
    };
    let free_text = string && o.pattern.is_none() && o.format.is_none() && o.enum_values.is_none();
    if free_text {
        o.pattern = rule_pattern("single-line", None);
    }
}

fn add(op: &mut Operation, status: &str, description: &str) {
    op.responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| RefOr::T(problem_response(description)));
}

// Value rules the handlers enforce, as JSON Schema patterns. A DTO names its rule with
// `#[schema(format = "...")]` (an attribute takes only a literal, and these are long and shared);
// `expand_rules` replaces the name with the pattern, so the document states the rule and carries
// no private format.
//
// The handlers trim before they count, so a `max_length` next to a rule becomes part of the
// pattern (at most that many characters between the trimmed ends) rather than `maxLength`,
// which would also count the surrounding blanks the server ignores.

/// What `str::trim` strips: Unicode White_Space.
const WS: &str = r"[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// What `str::trim` strips that may stand in a query value: neither control nor invisible.
const QUERY_WS: &str = r"[ \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]";
/// `text::is_invisible_format`, for inside a character class. The tag characters beyond the
/// BMP are written as themselves, one by one: Python's `re` (schemathesis) knows no `\u{...}`
/// escape, and a range of them is out of order to an engine that reads UTF-16 code units.
fn invisible() -> String {
    let mut s = String::from(
        r"\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb",
    );
    s.extend(
        [0xe0001]
            .into_iter()
            .chain(0xe0020..=0xe007f)
            .filter_map(char::from_u32),
    );
    s
}
/// The end of a trimmed one-line value: neither blank, nor control, nor invisible.
fn edge() -> String {
    format!(
        r"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000{}]",
        invisible()
    )
}
/// Inside a one-line value: `text::single_line_ok`, neither control nor invisible.
fn line() -> String {
    format!(r"[^\u0000-\u001f\u007f-\u009f{}]", invisible())
}
/// Inside free text: `text::multi_line_ok`, the same plus tab and line breaks.
fn text() -> String {
    format!(
        r"[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f{}]",
        invisible()
    )
}

/// The pattern a `format` name stands for, with the value at most `max` characters once
/// trimmed (`max` ≥ 2). None for a format that names no rule.
pub fn rule_pattern(format: &str, max: Option<usize>) -> Option<String> {
    let between = |inner: &str| match max {
        Some(n) => format!("{inner}{{0,{}}}", n.saturating_sub(2)),
        None => format!("{inner}*"),
    };
    let (edge, line, text) = (edge(), line(), text());
    let trimmed = |inner: &str| format!("{edge}({}{edge})?", between(inner));
    let value = match format {
        // `routes::clean_name`: one line, not blank, no control characters.
        "text-line" => trimmed(&line),
        // The same where a blank value counts as absent.
        "text-line-or-blank" => format!("({})?", trimmed(&line)),
        // `tickets::clean_text`: tabs and line breaks allowed inside.
        "text" => trimmed(&text),
        // `tickets::clean_optional`: the same where a blank value counts as absent.
        "text-or-blank" => format!("({})?", trimmed(&text)),
        // `text::purpose_of`: one line of at least 2 characters (two of them letters or digits,
        // which the spec's text says and a portable pattern cannot).
        "purpose" => format!("{edge}{}{edge}", between(&line)),
        // The same where a blank value counts as absent (a query value: an export's purpose).
        "purpose-or-blank" => format!("({edge}{}{edge})?", between(&line)),
        // A filter or search term: any one-line text, taken as it is (`extract::parse_query`).
        "single-line" => format!("{line}*"),
        // Property companies' `clean_phone`: digits, spaces, `+` and `-`, at most 32.
        "contact-phone-or-blank" => r"([0-9+-]([0-9 +-]{0,30}[0-9+-])?)?".into(),
        // `residents::normalize_phone`: a mainland mobile number, 11 digits starting 13–19,
        // with an optional `+86`/`86` prefix and spaces or dashes anywhere.
        "mobile-or-blank" => {
            r"(([ -]*\+?[ -]*8[ -]*6)?[ -]*1[ -]*[3-9]([ -]*[0-9]){9}[ -]*)?".into()
        }
        // `residents::parse_id_number`, as far as a pattern goes: 17 digits and a check
        // character (the check digit and the birth date it encodes are verified too).
        "id-number-or-blank" => "([0-9]{17}[0-9Xx])?".into(),
        _ => return None,
    };
    Some(match format {
        "single-line" => format!("^{value}$"),
        // A query value is one line throughout (`extract::parse_query`): of the blanks trimmed
        // around it, only those that are no control characters.
        "purpose-or-blank" => format!("^{QUERY_WS}*{value}{QUERY_WS}*$"),
        _ => format!("^{WS}*{value}{WS}*$"),
    })
}

fn expand_rules(schema: &mut Schema) {
    match schema {
        Schema::Object(o) => {
            if let Some(SchemaFormat::Custom(name)) = &o.format {
                if let Some(pattern) = rule_pattern(name, o.max_length) {
                    if let Some(n) = o.max_length.take() {
                        let note = format!("At most {n} characters once trimmed.");
                        o.description = Some(match o.description.take() {
                            Some(d) => format!("{d}\n\n{note}"),
                            None => note,
                        });
                    }
                    o.pattern = Some(pattern);
                    o.format = None;
                }
            }
            for p in o.properties.values_mut() {
                expand_ref_or(p);
            }
        }
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                expand_ref_or(items);
            }
        }
        Schema::OneOf(x) => x.items.iter_mut().for_each(expand_ref_or),
        Schema::AllOf(x) => x.items.iter_mut().for_each(expand_ref_or),
        Schema::AnyOf(x) => x.items.iter_mut().for_each(expand_ref_or),
        _ => {}
    }
}

fn expand_ref_or(schema: &mut RefOr<Schema>) {
    if let RefOr::T(s) = schema {
        expand_rules(s);
    }
}

fn string_enum(values: impl IntoIterator<Item = &'static str>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
}

/// Rules between the fields of one body, which the derive cannot state: the body's schema
/// becomes `allOf` the derived object and the combinations the handler accepts.
fn refine(components: &mut Components) {
    let mut constrain = |name: &str, combinations: Schema| {
        if let Some(base) = components.schemas.remove(name) {
            let schema = AllOfBuilder::new().item(base).item(combinations).build();
            components
                .schemas
                .insert(name.to_string(), RefOr::T(Schema::AllOf(schema)));
        }
    };
    // A role is granted on its own kind of scope (`Role::scope_type`).
    let mut scopes: Vec<ScopeType> = Vec::new();
    for role in Role::ALL {
        if !scopes.contains(&role.scope_type()) {
            scopes.push(role.scope_type());
        }
    }
    let mut grants = OneOfBuilder::new();
    for scope in scopes {
        let roles = Role::ALL
            .into_iter()
            .filter(|r| r.scope_type() == scope)
            .map(Role::as_str);
        grants = grants.item(
            ObjectBuilder::new()
                .property("role", string_enum(roles))
                .property("scope_type", string_enum([scope.as_str()]))
                .required("role")
                .required("scope_type"),
        );
    }
    constrain("CreateRoleAssignmentRequest", Schema::OneOf(grants.build()));
    // A ticket is assigned to exactly one of a company and a person. (`anyOf`, though the two
    // cannot both hold: the other may also be absent, so `required` cannot tell them apart,
    // which is how linters judge a `oneOf`.)
    let mut targets = AnyOfBuilder::new();
    for (one, other) in [
        ("property_company_id", "handler_user_id"),
        ("handler_user_id", "property_company_id"),
    ] {
        targets = targets.item(
            ObjectBuilder::new()
                .property(one, ObjectBuilder::new().schema_type(Type::String))
                .property(other, ObjectBuilder::new().schema_type(Type::Null))
                .required(one),
        );
    }
    constrain("AssignRequest", Schema::AnyOf(targets.build()));
    // A map point has both coordinates or neither (the address may stand alone).
    let number = || ObjectBuilder::new().schema_type(Type::Number);
    let null = || ObjectBuilder::new().schema_type(Type::Null);
    let point = AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .property("latitude", number())
                .property("longitude", number())
                .required("latitude")
                .required("longitude"),
        )
        .item(
            ObjectBuilder::new()
                .property("latitude", null())
                .property("longitude", null()),
        );
    constrain("TicketLocation", Schema::AnyOf(point.build()));
    // A multipart upload has exactly the parts its form names.
    for name in ["UploadAttachmentForm", "ImportResidentsForm"] {
        if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut(name) {
            o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
    // Photos are listed once each (`attachments::link`); the derive has no `uniqueItems`.
    for name in ["CreateTicketRequest", "ProgressRequest"] {
        if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut(name) {
            if let Some(RefOr::T(Schema::Array(a))) = o.properties.get_mut("attachment_ids") {
                a.unique_items = true;
            }
        }
    }
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
    refine(components);
    for schema in components.schemas.values_mut() {
        expand_ref_or(schema);
    }
    for item in doc.paths.paths.values_mut() {
        if let Some(op) = item.patch.as_mut() {
            // `wx.request` has no PATCH; `middleware::method_override` turns the POST into it.
            let note = "From the mini-program (`wx.request` has no PATCH): send POST to this \
                path with `X-HTTP-Method-Override: PATCH`; it is handled as this PATCH.";
            op.description = Some(match op.description.take() {
                Some(d) if !d.is_empty() => format!("{d}\n\n{note}"),
                _ => note.to_string(),
            });
        }
        for op in operations(item) {
            for param in op.parameters.iter_mut().flatten() {
                query_param(param);
                if let Some(schema) = param.schema.as_mut() {
                    expand_ref_or(schema);
                }
            }
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
                         creates nothing; once the object it created is deleted, a 409. Keys \
                         are kept 24 hours per user.",
                    ))
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .min_length(Some(1))
                            .max_length(Some(255))
                            // What survives as a header value: visible ASCII, inner blanks.
                            .pattern(Some(r"^[!-~]([\t -~]*[!-~])?$")),
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
                    "Conflict (including: a request with this Idempotency-Key is still running, \
                     or the object it created has since been deleted)",
                );
                add(op, "400", "Invalid Idempotency-Key header");
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
                    declare_headers(r, status, is_error, creates);
                }
            }
        }
    }
    doc
}
