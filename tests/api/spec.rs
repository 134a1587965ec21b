//! The committed OpenAPI document is what the code generates, and it is complete.

use serde_json::Value;

#[test]
fn committed_spec_equals_the_generated_one() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi/openapi.json is committed");
    let generated = linli::openapi_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json`"
    );
}

fn spec() -> Value {
    serde_json::from_str(&linli::openapi_json()).unwrap()
}

fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((path.clone(), method.clone(), op.clone()));
        }
    }
    out
}

#[test]
fn spec_is_openapi_3_1_with_a_bearer_scheme() {
    let s = spec();
    assert_eq!(s["openapi"], "3.1.0");
    assert_eq!(
        s["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(s["components"]["schemas"]["Problem"].is_object());
}

#[test]
fn every_operation_has_a_summary_an_id_and_a_declared_security_requirement() {
    let s = spec();
    for (path, method, op) in operations(&s) {
        let what = format!("{method} {path}");
        assert!(
            op["summary"].as_str().is_some_and(|x| !x.is_empty()),
            "{what}: summary"
        );
        assert!(op["operationId"].is_string(), "{what}: operationId");
        assert!(op["security"].is_array(), "{what}: security declared");
    }
}

#[test]
fn only_the_declared_public_routes_are_public() {
    let public = [
        "get /health",
        "get /ready",
        "get /metrics",
        "post /api/v1/auth/login",
        "post /api/v1/auth/refresh",
        "post /api/v1/auth/wechat/login",
        "post /api/v1/auth/wechat/bind",
        // The same for every caller and nothing secret (see `routes::client_config`).
        "get /api/v1/client-config",
        // Authorised by the URL's signature instead (see `signed_urls`).
        "get /api/v1/attachments/{id}/{variant}",
    ];
    for (path, method, op) in operations(&spec()) {
        let what = format!("{method} {path}");
        let secured = op["security"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.get("bearer").is_some());
        assert_eq!(secured, !public.contains(&what.as_str()), "{what}");
    }
}

#[test]
fn every_error_response_is_a_problem_and_the_common_ones_are_declared() {
    let s = spec();
    for (path, method, op) in operations(&s) {
        let what = format!("{method} {path}");
        let responses = op["responses"].as_object().unwrap();
        for (status, r) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    r["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{what} {status}"
                );
            }
        }
        let secured = op["security"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.get("bearer").is_some());
        if secured {
            assert!(responses.contains_key("401"), "{what}: 401");
        }
        if op.get("requestBody").is_some() {
            for st in ["400", "413", "415"] {
                assert!(responses.contains_key(st), "{what}: {st}");
            }
        }
        if path.starts_with("/api/") {
            assert!(responses.contains_key("503"), "{what}: 503");
            assert!(responses.contains_key("500"), "{what}: 500");
        }
        if path.contains('{') {
            assert!(responses.contains_key("404"), "{what}: 404");
            assert!(responses.contains_key("400"), "{what}: 400");
        }
    }
}

/// Every code a client may switch on is explained in the README's error table, so a new code
/// cannot ship without words for the teams who handle it.
#[test]
fn the_readme_explains_every_code() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find("### Errors: codes to switch on")
        .expect("the README has the error section");
    let section = &readme[start..];
    let s = spec();
    for schema in ["ProblemCode", "FieldCode"] {
        for code in s["components"]["schemas"][schema]["enum"]
            .as_array()
            .unwrap()
        {
            let code = code.as_str().unwrap();
            assert!(
                section.contains(&format!("`{code}`")),
                "the README's error table does not mention {schema} `{code}`"
            );
        }
    }
}

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r);
            }
            map.values().for_each(|x| refs(x, out));
        }
        Value::Array(items) => items.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

/// Every `$ref` names a schema the document holds: a query parameter's enum is not collected on
/// its own, and a dangling reference stops client generators (openapi-typescript refuses the
/// whole document).
#[test]
fn every_reference_resolves() {
    let s = spec();
    let mut found = Vec::new();
    refs(&s, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("an unexpected kind of reference {r}"));
        assert!(
            s["components"]["schemas"].get(name).is_some(),
            "{r} names no schema"
        );
    }
}
