//! The spec states what the server enforces. Each test takes a kind of rule the contract fuzzer
//! (`.ci/fuzz`) found the server enforcing unstated, and checks both directions: what the
//! document admits the server accepts, and what it rules out the server refuses.

use linli::app::openapi::rule_pattern;
use linli::platform::http::clean_name;
use linli::residents::service::roster::{normalize_phone, parse_id_number};
use linli::tickets::http::clean_optional;
use linli::tickets::http::clean_text;
use regex::Regex;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

fn spec() -> Value {
    serde_json::from_str(&linli::openapi_json()).unwrap()
}

fn operations(spec: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((format!("{method} {path}"), op.clone()));
        }
    }
    out
}

fn query_param<'a>(op: &'a Value, name: &str) -> Option<&'a Value> {
    op["parameters"]
        .as_array()?
        .iter()
        .find(|p| p["in"] == "query" && p["name"] == name)
}

fn regex(pattern: &Value) -> Regex {
    Regex::new(pattern.as_str().expect("a pattern")).expect("the pattern compiles")
}

/// Values around every edge the text rules have: each control and blank character alone, inside
/// and at the ends; lengths around the limits, with and without blanks around them.
fn samples() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        "a",
        "ab",
        "紫阳街道",
        " a ",
        "\ta\n",
        "a\tb",
        "a\nb",
        "a\r\nb",
        "🙂",
        "a\u{200b}b",
    ]
    .map(String::from)
    .to_vec();
    // Controls, blanks, and the invisible format characters (`text::is_invisible_format`) with
    // their neighbours.
    let specials = (0u32..=0x20).chain(0x7f..=0xa0).chain([
        0xac, 0xad, 0xae, 0x61c, 0x180e, 0x1680, 0x2000, 0x200a, 0x200b, 0x200f, 0x2010, 0x2027,
        0x2028, 0x2029, 0x202e, 0x202f, 0x205f, 0x2060, 0x2064, 0x2065, 0x2066, 0x206f, 0x3000,
        0xfeff, 0xfff9, 0xfffb, 0xfffc, 0xe0000, 0xe0001, 0xe0020, 0xe007f, 0xe0080, 0x1f642,
    ]);
    for c in specials.filter_map(char::from_u32) {
        v.push(c.to_string());
        v.push(format!("a{c}b"));
        v.push(format!("{c}ab{c}"));
    }
    for n in [1, 2, 19, 20, 21, 29, 30, 31, 49, 50, 51, 99, 100, 101] {
        v.push("字".repeat(n));
        v.push(format!(" \u{3000}{}\t\n", "x".repeat(n)));
        v.push(format!("x{}x", " ".repeat(n.saturating_sub(2))));
    }
    v
}

fn agree(format: &str, max: Option<usize>, server_accepts: impl Fn(&str) -> bool) {
    let pattern = rule_pattern(format, max).expect("a known format");
    let re = Regex::new(&pattern).unwrap();
    for s in samples() {
        assert_eq!(
            re.is_match(&s),
            server_accepts(&s),
            "{format} (max {max:?}) and the server disagree on {s:?}"
        );
    }
}

#[test]
fn text_rules_in_the_spec_are_the_rules_the_handlers_apply() {
    for max in [20, 30, 50, 100] {
        agree("text-line", Some(max), |s| clean_name("f", s, max).is_ok());
        // `clean_unit`, `clean_address`: blank is absent, anything else a name.
        agree("text-line-or-blank", Some(max), |s| {
            s.trim().is_empty() || clean_name("f", s, max).is_ok()
        });
        agree("text", Some(max), |s| clean_text("f", s, max).is_ok());
        agree("text-or-blank", Some(max), |s| {
            clean_optional("f", &Some(s.to_string()), max).is_ok()
        });
    }
}

#[test]
fn purpose_and_query_text_rules_in_the_spec_are_the_rules_the_handlers_apply() {
    // Every query value: one line, nothing invisible (`extract::parse_query`).
    agree("single-line", None, |s| {
        s.chars().all(linli::platform::text::single_line_ok)
    });
    // A purpose also needs two letters or digits, which the pattern leaves to the text: what
    // the server takes the pattern admits, and what the pattern refuses the server does.
    let purpose = Regex::new(&rule_pattern("purpose", Some(500)).unwrap()).unwrap();
    let mut samples = samples();
    samples.extend(["..", "核对", " a1 ", "a.", "——"].map(String::from));
    // An export's purpose is a query value: one line throughout, blank or a purpose.
    let query = Regex::new(&rule_pattern("purpose-or-blank", Some(500)).unwrap()).unwrap();
    for s in samples {
        let meaningful = s.trim().chars().filter(|c| c.is_alphanumeric()).count() >= 2;
        let server = linli::platform::text::purpose_of(&s).is_ok();
        if server {
            assert!(
                purpose.is_match(&s),
                "the pattern refuses the purpose {s:?}"
            );
        } else if meaningful {
            assert!(!purpose.is_match(&s), "the pattern admits {s:?}");
        }
        let in_query = s.chars().all(linli::platform::text::single_line_ok)
            && (s.trim().is_empty() || linli::platform::text::purpose_of(&s).is_ok());
        if in_query {
            assert!(query.is_match(&s), "the query pattern refuses {s:?}");
        } else if meaningful || s.trim().is_empty() {
            assert!(!query.is_match(&s), "the query pattern admits {s:?}");
        }
    }
}

#[test]
fn phone_and_id_number_rules_in_the_spec_are_the_rules_the_handlers_apply() {
    let phone = Regex::new(&rule_pattern("mobile-or-blank", None).unwrap()).unwrap();
    let mut phones = samples();
    phones.extend(
        [
            "13812345678",
            " 138 1234 5678 ",
            "138-1234-5678",
            "+86 138 1234 5678",
            "+8613812345678",
            "8613812345678",
            "86 13812345678",
            "+13812345678",
            "12812345678",
            "1381234567",
            "138123456789",
            "868613812345678",
            "+86+8613812345678",
            "１３８１２３４５６７８",
        ]
        .map(String::from),
    );
    for s in phones {
        let server = s.trim().is_empty() || normalize_phone(s.trim()).is_some();
        assert_eq!(phone.is_match(&s), server, "mobile-or-blank on {s:?}");
    }
    // An ID number's check digit and the birth date it encodes are beyond a pattern: the
    // pattern admits every valid one and refuses only invalid ones.
    let id = Regex::new(&rule_pattern("id-number-or-blank", None).unwrap()).unwrap();
    for s in [
        "11010519491231002X",
        "11010519491231002x",
        " 110105194912310021 ",
        "110105194912310020",
        "11010519491231002",
        "1101051949123100211",
        "11010519491231002Y",
        "",
    ] {
        let valid = s.trim().is_empty() || parse_id_number(s, chrono::Utc::now()).is_ok();
        if valid {
            assert!(id.is_match(s), "the pattern refuses the valid {s:?}");
        }
        if !id.is_match(s) {
            assert!(!valid, "the server takes {s:?}, which the pattern refuses");
        }
    }
}

#[tokio::test]
async fn what_the_served_spec_admits_as_a_street_name_the_server_accepts() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let doc: Value = app
        .client
        .get(app.url("/api-docs/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let re = regex(
        &doc["components"]["schemas"]["CreateStreetRequest"]["properties"]["name"]["pattern"],
    );
    for s in samples() {
        let res = app
            .post("/api/v1/streets", &token, &json!({"name": s}))
            .await;
        // 409: a sample equal to an earlier one once trimmed.
        let accepted = matches!(res.status().as_u16(), 201 | 409);
        assert_eq!(re.is_match(&s), accepted, "{s:?}: {}", res.status());
    }
}

#[tokio::test]
async fn what_the_spec_admits_as_a_contact_phone_the_server_accepts() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let street = app
        .create(&token, "streets", json!({"name": "电话街道"}))
        .await;
    let re = Regex::new(&rule_pattern("contact-phone-or-blank", None).unwrap()).unwrap();
    let mut phones = samples();
    phones.extend(
        [
            "0571-87000000",
            "+86 571 8700 0000",
            " 110 ",
            "1-",
            "- 1",
            "12345678901234567890123456789012",
            "123456789012345678901234567890123",
            "0571 8700 0000 转 123",
        ]
        .map(String::from),
    );
    for (i, s) in phones.iter().enumerate() {
        let res = app
            .post(
                "/api/v1/property-companies",
                &token,
                &json!({"street_id": street, "name": format!("物业{i}"), "contact_phone": s}),
            )
            .await;
        let accepted = res.status() == StatusCode::CREATED;
        assert_eq!(re.is_match(s), accepted, "{s:?}: {}", res.status());
    }
}

#[test]
fn every_format_in_the_spec_is_a_standard_one() {
    // A rule named in a DTO but not known to `rule_pattern` would stay a private format, and
    // the document would state nothing.
    let known = [
        "uuid",
        "date",
        "date-time",
        "int32",
        "int64",
        "u-int16",
        "u-int64",
        "double",
        "float",
        "binary",
        "password",
    ];
    fn walk(v: &Value, known: &[&str], at: &str) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(f)) = m.get("format") {
                    assert!(known.contains(&f.as_str()), "format {f:?} at {at}");
                }
                for (k, x) in m {
                    walk(x, known, &format!("{at}/{k}"));
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, known, at)),
            _ => {}
        }
    }
    walk(&spec(), &known, "");
}

#[tokio::test]
async fn page_parameters_state_the_bounds_the_server_enforces() {
    let s = spec();
    let plain_cursor = regex(&Value::from(linli::platform::http::CURSOR_PATTERN));
    let mut lists = Vec::new();
    for (what, op) in operations(&s) {
        if let Some(limit) = query_param(&op, "limit") {
            assert_eq!(limit["schema"]["minimum"], 1, "{what}: limit minimum");
        }
        if let Some(cursor) = query_param(&op, "cursor") {
            let pattern = &cursor["schema"]["pattern"];
            assert!(pattern.is_string(), "{what}: cursor pattern");
            // A list under an object in the path (a ticket's conversation) needs that object:
            // its own tests check its bounds (`messages::a_conversation_page_...`).
            if pattern == linli::platform::http::CURSOR_PATTERN && !what.contains('{') {
                // A list under a required parent (the household picker) gets an id of the
                // declared shape: no such parent, so an empty page.
                let required: String = op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|p| p["in"] == "query" && p["required"] == true)
                    .map(|p| {
                        assert_eq!(p["schema"]["format"], "uuid", "{what}: {}", p["name"]);
                        format!("{}={}&", p["name"].as_str().unwrap(), uuid::Uuid::nil())
                    })
                    .collect();
                lists.push((what.trim_start_matches("get ").to_string(), required));
            }
        }
    }
    assert!(lists.len() >= 10, "{lists:?}");
    let app = spawn_app().await;
    let token = app.admin_token().await;
    for (path, required) in &lists {
        // `path?` or `path?parent=…&`: ready for one more parameter.
        let path = &format!("{path}?{required}");
        let res = app.get(&format!("{path}limit=0"), &token).await;
        assert_problem(res, 400, "invalid_query").await;
        let res = app.get(&format!("{path}limit=1"), &token).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}limit=1");
        // Any cursor of the declared shape is one the server can read.
        for cursor in [
            "AAAAAAAAAAAAAAAAAAAAAA",
            "zzzzzzzzzzzzzzzzzzzzzw",
            "_-_-_-_-_-_-_-_-_-_-_Q",
        ] {
            assert!(plain_cursor.is_match(cursor));
            let res = app.get(&format!("{path}cursor={cursor}"), &token).await;
            assert_eq!(res.status(), StatusCode::OK, "{path}cursor={cursor}");
        }
        for cursor in ["", "AAAAAAAAAAAAAAAAAAAAAB", "AAAA"] {
            assert!(!plain_cursor.is_match(cursor));
            let res = app.get(&format!("{path}cursor={cursor}"), &token).await;
            assert_problem(res, 400, "invalid_query").await;
        }
    }
}

#[tokio::test]
async fn query_values_the_server_parses_are_declared() {
    let s = spec();
    let tickets = &s["paths"]["/api/v1/tickets"]["get"];
    let status = query_param(tickets, "status").unwrap();
    assert_eq!(status["schema"]["type"], "array");
    assert_eq!(status["schema"]["minItems"], 1);
    assert_eq!(
        status["schema"]["items"]["$ref"],
        "#/components/schemas/Status"
    );
    assert_eq!(
        (status["style"].as_str(), status["explode"].as_bool()),
        (Some("form"), Some(false))
    );
    let sort = regex(&query_param(tickets, "sort").unwrap()["schema"]["pattern"]);
    let stats = &s["paths"]["/api/v1/tickets/stats"]["get"];
    assert_eq!(
        query_param(stats, "from").unwrap()["schema"]["format"],
        "date-time"
    );
    let notifications = &s["paths"]["/api/v1/notifications"]["get"];
    let n_status = &query_param(notifications, "status").unwrap()["schema"];
    assert_eq!(n_status["$ref"], "#/components/schemas/DeliveryStatus");
    let deliveries: Vec<&str> = s["components"]["schemas"]["DeliveryStatus"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();

    let app = spawn_app().await;
    let token = app.admin_token().await;
    for (value, ok) in [
        ("created", true),
        ("due", true),
        ("", false),
        ("Due", false),
    ] {
        assert_eq!(sort.is_match(value), ok);
        let res = app
            .get(&format!("/api/v1/tickets?sort={value}"), &token)
            .await;
        assert_eq!(res.status() == StatusCode::OK, ok, "sort={value}");
    }
    // An empty list is `status=`, which the spec rules out (minItems) and the server refuses.
    let res = app.get("/api/v1/tickets?status=", &token).await;
    assert_problem(res, 400, "invalid_query").await;
    let res = app
        .get("/api/v1/tickets?status=submitted,triaged", &token)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    for (value, ok) in [
        ("pending", true),
        ("failed", true),
        ("", false),
        ("sent%20", false),
    ] {
        assert_eq!(deliveries.contains(&value), ok);
        let res = app
            .get(&format!("/api/v1/notifications?status={value}"), &token)
            .await;
        assert_eq!(res.status() == StatusCode::OK, ok, "status={value:?}");
    }
}

#[tokio::test]
async fn integers_written_with_a_zero_fraction_are_integers() {
    // To JSON Schema `7.0` is the integer 7, so it is schema-valid wherever an integer is.
    let s = spec();
    let policy = &s["components"]["schemas"]["UpdateTicketPolicyRequest"]["properties"];
    assert_eq!(
        (
            policy["green_days"]["minimum"].as_i64(),
            policy["green_days"]["maximum"].as_i64()
        ),
        (Some(1), Some(365))
    );
    assert_eq!(policy["escalation_interval_hours"]["maximum"], 720);
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let t = small_territory(&app, &token, "整").await;
    let path = format!("/api/v1/communities/{}/ticket-policy", t.community);
    let put = |body: Value| {
        app.request(Method::PUT, &path, Some(&token))
            .json(&body)
            .send()
    };
    let res = put(
        json!({"green_days": 3.0, "orange_days": 15, "red_follow_up_days": 2.0,
        "escalation_interval_hours": 12, "auto_close_days": 5e0}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (
            body["green_days"].as_i64(),
            body["auto_close_days"].as_i64()
        ),
        (Some(3), Some(5))
    );
    for wrong in [json!(3.5), json!("3"), json!(1e10)] {
        let res = put(
            json!({"green_days": wrong, "orange_days": 15, "red_follow_up_days": 2,
            "escalation_interval_hours": 12, "auto_close_days": 5}),
        )
        .await
        .unwrap();
        let body = assert_problem(res, 400, "invalid_body").await;
        assert_eq!(body["errors"][0]["field"], "green_days", "{body}");
    }
    // Out of the declared range: a 400 too.
    let res = put(
        json!({"green_days": 3, "orange_days": 366, "red_follow_up_days": 2,
        "escalation_interval_hours": 12, "auto_close_days": 5}),
    )
    .await
    .unwrap();
    assert_problem(res, 400, "validation_failed").await;
}

#[tokio::test]
async fn combinations_of_fields_the_server_accepts_are_declared() {
    let s = spec();
    // Role and scope type: one combination per scope type, as `Role::scope_type` has it.
    let grants = &s["components"]["schemas"]["CreateRoleAssignmentRequest"]["allOf"][1]["oneOf"];
    for role in linli::access::policy::Role::ALL {
        let branches: Vec<&Value> = grants
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| {
                b["properties"]["role"]["enum"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(role.as_str()))
            })
            .collect();
        assert_eq!(branches.len(), 1, "{}", role.as_str());
        assert_eq!(
            branches[0]["properties"]["scope_type"]["enum"],
            json!([role.scope_type().as_str()])
        );
    }
    // A ticket goes to exactly one of a company and a person.
    let targets = &s["components"]["schemas"]["AssignRequest"]["allOf"][1]["anyOf"];
    assert_eq!(targets[0]["required"], json!(["property_company_id"]));
    assert_eq!(targets[0]["properties"]["handler_user_id"]["type"], "null");
    assert_eq!(targets[1]["required"], json!(["handler_user_id"]));

    let app = spawn_app().await;
    let token = app.admin_token().await;
    let t = small_territory(&app, &token, "组").await;
    let user = app
        .create_user(&token, "grantee", "a-long-password-1")
        .await;
    // What no combination admits, the server refuses.
    let res = app
        .post(
            "/api/v1/role-assignments",
            &token,
            &json!({"user_id": user, "role": "admin", "scope_type": "community", "scope_id": t.community}),
        )
        .await;
    assert_problem(res, 400, "validation_failed").await;
    app.grant(&token, user, "community_staff", "community", t.community)
        .await;
}

#[tokio::test]
async fn uploads_declare_their_one_part_and_its_types() {
    let s = spec();
    let form = &s["components"]["schemas"]["UploadAttachmentForm"];
    assert_eq!(form["additionalProperties"], false);
    assert_eq!(
        s["components"]["schemas"]["ImportResidentsForm"]["additionalProperties"],
        false
    );
    let encoding = &s["paths"]["/api/v1/attachments"]["post"]["requestBody"]["content"]
        ["multipart/form-data"]["encoding"]["file"]["contentType"];
    let types: Vec<&str> = encoding.as_str().unwrap().split(", ").collect();
    assert_eq!(types, ["image/jpeg", "image/png", "image/webp"]);
    // The attachment tests upload each of these; a second part is refused.
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let boundary = "contract-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR");
    body.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n\
             --{boundary}--\r\n"
        )
        .as_bytes(),
    );
    let res = app
        .request(Method::POST, "/api/v1/attachments", Some(&token))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(body["errors"][0]["code"], "unknown_field");
}

#[tokio::test]
async fn the_idempotency_key_header_states_what_the_server_takes() {
    let s = spec();
    let key = s["paths"]["/api/v1/streets"]["post"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .unwrap()["schema"]
        .clone();
    assert_eq!(
        (key["minLength"].as_u64(), key["maxLength"].as_u64()),
        (Some(1), Some(255))
    );
    let re = regex(&key["pattern"]);
    let app = spawn_app().await;
    let token = app.admin_token().await;
    for (i, (value, ok)) in [
        ("k".repeat(255), true),
        ("a b\tc".to_string(), true),
        ("k".repeat(256), false),
    ]
    .into_iter()
    .enumerate()
    {
        assert_eq!(re.is_match(&value) && value.len() <= 255, ok, "{value:?}");
        let res = app
            .request(Method::POST, "/api/v1/streets", Some(&token))
            .header("Idempotency-Key", value.as_str())
            .json(&json!({"name": format!("键{i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status() == StatusCode::CREATED,
            ok,
            "{value:?}: {}",
            res.status()
        );
    }
    // What a header value cannot carry at its ends is outside the pattern too.
    assert!(!re.is_match(" k") && !re.is_match("k ") && !re.is_match("键"));
}

#[tokio::test]
async fn an_optional_body_may_be_null_as_declared() {
    // Approving a binding request takes `null` (the spec's `oneOf: [null, object]`) like no body.
    let s = spec();
    let schema = &s["paths"]["/api/v1/binding-requests/{id}/approve"]["post"]["requestBody"]
        ["content"]["application/json"]["schema"];
    assert_eq!(schema["oneOf"][0]["type"], "null");
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let path = format!("/api/v1/binding-requests/{}/approve", uuid::Uuid::now_v7());
    for body in ["null", "", "{}"] {
        let res = app
            .request(Method::POST, &path, Some(&token))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        // Past the body: the (unknown) request is looked up.
        assert_problem(res, 404, "not_found").await;
    }
    let res = app
        .request(Method::POST, &path, Some(&token))
        .header("content-type", "application/json")
        .body("0")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_body").await;
}
