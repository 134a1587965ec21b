//! WeChat's platform rules: the PATCH override for `wx.request`, empty bodies on verbs whose
//! fields are all optional, signed photo URLs and thumbnails for `<image src>`, the
//! subscribe-message templates in `GET /api/v1/client-config`, and times with milliseconds.

use std::io::Cursor;

use linli::platform::clock::Clock;
use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::operations::METRICS_TOKEN;
use crate::ticket_world::*;

const OVERRIDE: &str = "x-http-method-override";

// ---------------------------------------------------------------------------------------------
// X-HTTP-Method-Override

async fn street(app: &TestApp, admin: &str, name: &str) -> String {
    app.create(admin, "streets", json!({ "name": name }))
        .await
        .to_string()
}

async fn street_name(app: &TestApp, admin: &str, id: &str) -> String {
    let res = app.get(&format!("/api/v1/streets/{id}"), admin).await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["name"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_post_with_the_patch_override_is_handled_as_that_patch() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let id = street(&app, &admin, "覆盖街道").await;
    let res = app
        .request(Method::POST, &format!("/api/v1/streets/{id}"), Some(&admin))
        .header(OVERRIDE, "PATCH")
        .json(&json!({ "name": "改名街道" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["name"], "改名街道");
    assert_eq!(street_name(&app, &admin, &id).await, "改名街道");
}

#[tokio::test]
async fn the_override_is_refused_on_other_methods_and_for_other_verbs() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let id = street(&app, &admin, "只认PATCH街道").await;
    let path = format!("/api/v1/streets/{id}");
    let body = json!({ "name": "不该改名" });

    // Only PATCH, spelled as the method is.
    for value in ["DELETE", "GET", "PUT", "patch", "PATCH, DELETE", ""] {
        let res = app
            .request(Method::POST, &path, Some(&admin))
            .header(OVERRIDE, value)
            .json(&body)
            .send()
            .await
            .unwrap();
        let p = assert_problem(res, 400, "method_override_invalid").await;
        assert!(p["detail"].as_str().unwrap().contains("PATCH"), "{p}");
    }
    // Only from POST: on any other method the header is refused, not ignored.
    for method in [Method::PATCH, Method::GET, Method::DELETE, Method::PUT] {
        let res = app
            .request(method.clone(), &path, Some(&admin))
            .header(OVERRIDE, "PATCH")
            .json(&body)
            .send()
            .await
            .unwrap();
        let p = assert_problem(res, 400, "method_override_invalid").await;
        assert!(
            p["detail"].as_str().unwrap().contains("POST"),
            "{method}: {p}"
        );
    }
    // Twice is refused too.
    let res = app
        .request(Method::POST, &path, Some(&admin))
        .header(OVERRIDE, "PATCH")
        .header(OVERRIDE, "PATCH")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "method_override_invalid").await;
    // Only that header: the other spellings some frameworks honour are not overrides here.
    for header in ["x-http-method", "x-method-override"] {
        let res = app
            .request(Method::POST, &path, Some(&admin))
            .header(header, "PATCH")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_problem(res, 405, "method_not_allowed").await;
    }
    let res = app
        .request(Method::POST, &format!("{path}?_method=PATCH"), Some(&admin))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_problem(res, 405, "method_not_allowed").await;
    // Nothing of the above changed or deleted the street.
    assert_eq!(street_name(&app, &admin, &id).await, "只认PATCH街道");

    // On a path without a PATCH, the overridden request is a PATCH like any other: 405.
    let res = app
        .request(Method::POST, "/api/v1/streets", Some(&admin))
        .header(OVERRIDE, "PATCH")
        .json(&json!({ "name": "新街道" }))
        .send()
        .await
        .unwrap();
    let allow = res.headers()["allow"].to_str().unwrap().to_string();
    assert_problem(res, 405, "method_not_allowed").await;
    assert!(!allow.contains("PATCH"), "{allow}");
}

#[tokio::test]
async fn the_idempotency_store_and_the_metrics_see_the_overridden_method() {
    let app = spawn_app_with(|v| {
        v.insert("LINLI_METRICS_TOKEN".into(), METRICS_TOKEN.into());
    })
    .await;
    let admin = app.admin_token().await;
    let id = street(&app, &admin, "幂等街道").await;
    let path = format!("/api/v1/streets/{id}");
    // The idempotency store keeps POSTs. Were the override seen as a POST, the second request
    // with the same key would be a replay of the first answer instead of running.
    for name in ["第一次改名", "第二次改名"] {
        let res = app
            .request(Method::POST, &path, Some(&admin))
            .header(OVERRIDE, "PATCH")
            .header("idempotency-key", "same-key-for-both")
            .json(&json!({ "name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("idempotent-replayed").is_none());
        assert_eq!(res.json::<Value>().await.unwrap()["name"], name);
    }
    let text = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            r#"linli_http_requests_total{method="PATCH",route="/api/v1/streets/{id}",status="200"} 2"#
        ),
        "{text}"
    );
    assert!(
        !text.contains(r#"method="POST",route="/api/v1/streets/{id}""#),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// Empty bodies

/// `POST` as `wx.request` sends it without `data`: no body at all, or an empty JSON body.
async fn post_empty(app: &TestApp, token: &str, path: &str, json_type: bool) -> Response {
    let mut rb = app.request(Method::POST, path, Some(token));
    if json_type {
        rb = rb.header("content-type", "application/json");
    }
    rb.send().await.unwrap()
}

#[tokio::test]
async fn verbs_whose_fields_are_all_optional_accept_an_empty_body() {
    let app = spawn_app().await;
    let w = world(&app, "空体").await;

    // accept: nothing but an optional note.
    let t = file(&app, &w.resident, &ticket_body(&w, "空请求体受理")).await;
    let id = t["id"].as_str().unwrap().to_string();
    triage(&app, &w.staff, &t["id"], "green").await;
    act_ok(
        &app,
        &w.staff,
        &t["id"],
        "assign",
        json!({ "property_company_id": w.company }),
    )
    .await;
    let res = post_empty(
        &app,
        &w.property,
        &format!("/api/v1/tickets/{id}/accept"),
        false,
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "accepted");

    // urge: an optional note.
    let res = post_empty(
        &app,
        &w.resident,
        &format!("/api/v1/tickets/{id}/urge"),
        true,
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["urge_count"], 1);

    // cancel: an optional reason.
    let t = file(&app, &w.resident, &ticket_body(&w, "空请求体撤回")).await;
    let id = t["id"].as_str().unwrap();
    let res = post_empty(
        &app,
        &w.resident,
        &format!("/api/v1/tickets/{id}/cancel"),
        true,
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "cancelled");

    // A body is still parsed strictly when there is one.
    let t = file(&app, &w.resident, &ticket_body(&w, "错误请求体")).await;
    let res = act(
        &app,
        &w.resident,
        &t["id"],
        "cancel",
        json!({ "status": "closed" }),
    )
    .await;
    assert_problem(res, 400, "invalid_body").await;

    // The spec says so.
    let spec: Value = serde_json::from_str(&linli::openapi_json()).unwrap();
    for verb in ["accept", "urge", "cancel"] {
        let body = &spec["paths"][format!("/api/v1/tickets/{{id}}/{verb}")]["post"]["requestBody"];
        assert_ne!(body["required"], true, "{verb}: {body}");
    }
}

// ---------------------------------------------------------------------------------------------
// Photos: signed URLs and thumbnails

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len() + 2).unwrap();
    [&[0xFF, marker][..], &len.to_be_bytes(), payload].concat()
}

const CAMERA: &str = "LinliTestCam";

/// A little-endian Exif block (TIFF) with Make, Orientation and a GPS position
/// (31°14'N 121°28'E).
fn exif_with_gps(orientation: u16) -> Vec<u8> {
    let mut t = b"II*\0\x08\0\0\0".to_vec();
    let entries = 3u16;
    let ifd0_end = 8 + 2 + 12 * u32::from(entries) + 4;
    let make_at = ifd0_end;
    let gps_at = make_at + CAMERA.len() as u32 + 1;
    let gps_entries = 4u16;
    let rationals_at = gps_at + 2 + 12 * u32::from(gps_entries) + 4;
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value);
    };
    t.extend_from_slice(&entries.to_le_bytes());
    entry(
        &mut t,
        0x010F,
        2,
        CAMERA.len() as u32 + 1,
        make_at.to_le_bytes(),
    );
    let o = orientation.to_le_bytes();
    entry(&mut t, 0x0112, 3, 1, [o[0], o[1], 0, 0]);
    entry(&mut t, 0x8825, 4, 1, gps_at.to_le_bytes());
    t.extend_from_slice(&[0; 4]);
    t.extend_from_slice(CAMERA.as_bytes());
    t.push(0);
    t.extend_from_slice(&gps_entries.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, rationals_at.to_le_bytes());
    entry(&mut t, 0x0003, 2, 2, *b"E\0\0\0");
    entry(&mut t, 0x0004, 5, 3, (rationals_at + 24).to_le_bytes());
    t.extend_from_slice(&[0; 4]);
    t.extend_from_slice(&gps_position());
    t
}

/// The GPS rationals of [`exif_with_gps`], as they sit in the file.
fn gps_position() -> Vec<u8> {
    [31u32, 1, 14, 1, 0, 1, 121, 1, 28, 1, 0, 1]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect()
}

/// A real 600×400 JPEG (wider than high as stored) whose Exif says "rotate 90° clockwise to
/// display" and carries a camera name and a GPS position.
fn phone_photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(600, 400, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .unwrap();
    let exif = segment(0xE1, &[&b"Exif\0\0"[..], &exif_with_gps(6)].concat());
    [&jpeg[..2], &exif, &jpeg[2..]].concat()
}

/// A real 300×300 PNG.
fn screenshot() -> Vec<u8> {
    let img =
        image::RgbaImage::from_fn(300, 300, |x, _| image::Rgba([200, (x % 256) as u8, 0, 255]));
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(img)
        .write_to(Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn upload(app: &TestApp, token: &str, content_type: &str, bytes: &[u8]) -> Value {
    let boundary = "----linli-miniprogram-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
         filename=\"photo\"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let res = app
        .request(Method::POST, "/api/v1/attachments", Some(token))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, 201, "upload: {text}");
    serde_json::from_str(&text).unwrap()
}

/// GET without any token.
async fn fetch(app: &TestApp, url: &str) -> Response {
    app.client.get(app.url(url)).send().await.unwrap()
}

fn max_age(res: &Response) -> i64 {
    let cc = res.headers()["cache-control"].to_str().unwrap();
    assert!(cc.starts_with("private, max-age="), "{cc}");
    cc.trim_start_matches("private, max-age=").parse().unwrap()
}

fn expires_at(a: &Value) -> chrono::DateTime<chrono::Utc> {
    a["url_expires_at"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn signed_photo_urls_work_without_a_token_until_they_expire() {
    let app = spawn_app().await;
    let w = world(&app, "签名").await;
    let a = upload(&app, &w.resident, "image/jpeg", &phone_photo()).await;
    let url = a["url"].as_str().unwrap();
    assert!(url.starts_with(&format!(
        "/api/v1/attachments/{}/original?",
        a["id"].as_str().unwrap()
    )));

    // No token: the photo, metadata stripped (no camera, no position) with its orientation.
    let left = (expires_at(&a) - app.clock.now()).num_seconds();
    let res = fetch(&app, url).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let age = max_age(&res);
    assert!(
        age > 0 && age <= left && age <= 600,
        "max-age {age}, {left} s left"
    );
    let photo = res.bytes().await.unwrap();
    assert!(!contains(&photo, CAMERA.as_bytes()));
    assert!(!contains(&photo, &gps_position()));
    // The same bytes as the authenticated download, which keeps working.
    let authed = app
        .get(
            &format!("/api/v1/attachments/{}", a["id"].as_str().unwrap()),
            &w.resident,
        )
        .await;
    assert_eq!(authed.status(), 200);
    assert_eq!(authed.bytes().await.unwrap(), photo);

    // Valid for half to all of the ten minutes, then refused with a code of its own.
    let left = (expires_at(&a) - app.clock.now()).num_seconds();
    assert!(left > 290 && left <= 600, "{left}");
    app.clock.advance(chrono::Duration::seconds(left + 1));
    assert_problem(fetch(&app, url).await, 403, "url_expired").await;
    assert_problem(
        fetch(&app, a["thumbnail_url"].as_str().unwrap()).await,
        403,
        "url_expired",
    )
    .await;
    // A fresh read hands out fresh URLs that work.
    let mut body = ticket_body(&w, "过期后重新获取");
    body["attachment_ids"] = json!([a["id"]]);
    let t = file(&app, &w.resident, &body).await;
    let fresh = t["attachments"][0]["url"].as_str().unwrap();
    assert_ne!(fresh, url);
    assert!(expires_at(&t["attachments"][0]) > app.clock.now());
    assert_eq!(fetch(&app, fresh).await.status(), 200);
}

#[tokio::test]
async fn a_signed_url_cannot_be_reused_for_another_attachment_variant_or_expiry() {
    let app = spawn_app().await;
    let w = world(&app, "串用").await;
    let a = upload(&app, &w.resident, "image/jpeg", &phone_photo()).await;
    let b = upload(&app, &w.resident, "image/png", &screenshot()).await;
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let url = a["url"].as_str().unwrap();
    assert_eq!(fetch(&app, url).await.status(), 200);

    // A's signature on B's path.
    let swapped = url.replace(a_id, b_id);
    assert_problem(fetch(&app, &swapped).await, 403, "url_signature_invalid").await;
    // The original's signature for the thumbnail.
    let other_variant = url.replace("/original?", "/thumbnail?");
    assert_problem(
        fetch(&app, &other_variant).await,
        403,
        "url_signature_invalid",
    )
    .await;
    // A later expiry with the same signature.
    let (_, query) = url.split_once('?').unwrap();
    let expires: i64 = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("expires="))
        .unwrap()
        .parse()
        .unwrap();
    let extended = url.replace(
        &format!("expires={expires}"),
        &format!("expires={}", expires + 3600),
    );
    assert_problem(fetch(&app, &extended).await, 403, "url_signature_invalid").await;
    // A forged or missing signature.
    let sig = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("signature="))
        .unwrap();
    let forged = url.replace(sig, &"A".repeat(sig.len()));
    assert_problem(fetch(&app, &forged).await, 403, "url_signature_invalid").await;
    let unsigned = format!("/api/v1/attachments/{a_id}/original?expires={expires}");
    assert_problem(fetch(&app, &unsigned).await, 400, "invalid_query").await;
    let unknown_variant = url.replace("/original?", "/full?");
    assert_problem(fetch(&app, &unknown_variant).await, 400, "invalid_path").await;
    // The authenticated route still wants its token.
    assert_problem(
        fetch(&app, &format!("/api/v1/attachments/{a_id}")).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn thumbnails_are_small_upright_images_without_gps_or_any_exif() {
    let app = spawn_app().await;
    let w = world(&app, "缩略").await;
    let a = upload(&app, &w.resident, "image/jpeg", &phone_photo()).await;
    let res = fetch(&app, a["thumbnail_url"].as_str().unwrap()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert!(max_age(&res) <= 600);
    let thumb = res.bytes().await.unwrap();
    // An image, the orientation applied to the pixels: 600×400 turned upright is 400×600,
    // scaled to fit 480.
    let img = image::load_from_memory_with_format(&thumb, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((img.width(), img.height()), (320, 480));
    // No Exif at all (so neither position nor orientation), no camera name.
    assert!(!contains(&thumb, b"Exif"));
    assert!(!contains(&thumb, &[0xFF, 0xE1]));
    assert!(!contains(&thumb, CAMERA.as_bytes()));
    assert!(!contains(&thumb, &gps_position()));

    // A PNG gives a PNG thumbnail.
    let p = upload(&app, &w.resident, "image/png", &screenshot()).await;
    let res = fetch(&app, p["thumbnail_url"].as_str().unwrap()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    let img = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
    assert_eq!((img.width(), img.height()), (300, 300));
}

#[tokio::test]
async fn ticket_lists_carry_the_first_photos_thumbnail_as_a_cover() {
    let app = spawn_app().await;
    let w = world(&app, "封面").await;
    let first = upload(&app, &w.resident, "image/jpeg", &phone_photo()).await;
    let second = upload(&app, &w.resident, "image/png", &screenshot()).await;
    let mut body = ticket_body(&w, "带照片的诉求");
    body["attachment_ids"] = json!([first["id"], second["id"]]);
    let with_photos = file(&app, &w.resident, &body).await;
    let without = file(&app, &w.resident, &ticket_body(&w, "没有照片的诉求")).await;

    let res = app.get("/api/v1/tickets?mine=true", &w.resident).await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    let item = |id: &Value| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| &t["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(item(&without["id"])["cover_thumbnail_url"], Value::Null);
    let cover = item(&with_photos["id"])["cover_thumbnail_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        cover.starts_with(&format!(
            "/api/v1/attachments/{}/thumbnail?",
            first["id"].as_str().unwrap()
        )),
        "{cover}"
    );
    let res = fetch(&app, &cover).await;
    assert_eq!(res.status(), 200);
    image::load_from_memory(&res.bytes().await.unwrap()).unwrap();

    // The ticket's own view agrees, and its photos carry their URLs.
    let detail = app
        .get(
            &format!("/api/v1/tickets/{}", with_photos["id"].as_str().unwrap()),
            &w.staff,
        )
        .await;
    let detail: Value = detail.json().await.unwrap();
    assert_eq!(detail["cover_thumbnail_url"], cover.as_str());
    assert_eq!(detail["attachments"].as_array().unwrap().len(), 2);
    for a in detail["attachments"].as_array().unwrap() {
        assert_eq!(fetch(&app, a["url"].as_str().unwrap()).await.status(), 200);
        assert_eq!(
            fetch(&app, a["thumbnail_url"].as_str().unwrap())
                .await
                .status(),
            200
        );
    }
}

// ---------------------------------------------------------------------------------------------
// client-config

#[tokio::test]
async fn client_config_lists_exactly_the_templates_the_server_sends_without_a_token() {
    let app = spawn_app_with(|v| {
        v.insert(
            "LINLI_WECHAT_TEMPLATES".into(),
            "ticket_urged=tmplUrge,ticket_status_changed=tmplStatus".into(),
        );
        v.insert("LINLI_WECHAT_PAGE".into(), "pages/ticket/show".into());
    })
    .await;
    let res = fetch(&app, "/api/v1/client-config").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "subscribe_templates": [
            { "event": "ticket_status_changed", "audience": "requester",
              "template_id": "tmplStatus", "page": "pages/ticket/show" },
            { "event": "ticket_urged", "audience": "staff",
              "template_id": "tmplUrge", "page": "pages/ticket/show" },
        ]})
    );

    let bare = spawn_app().await;
    let res = fetch(&bare, "/api/v1/client-config").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({ "subscribe_templates": [] })
    );
}

// ---------------------------------------------------------------------------------------------
// Times

/// Every string in `v` that starts like a timestamp, with where it was found.
fn timestamps(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) if is_time_like(s) => out.push((at.to_string(), s.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                timestamps(item, &format!("{at}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                timestamps(item, &format!("{at}.{k}"), out);
            }
        }
        _ => {}
    }
}

fn is_time_like(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 19 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[10] == b'T'
}

fn millisecond_rfc3339(s: &str) -> bool {
    let re = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$").unwrap();
    re.is_match(s)
}

#[tokio::test]
async fn every_time_in_responses_has_exactly_milliseconds() {
    let app = spawn_app().await;
    let w = world(&app, "毫秒").await;
    let photo = upload(&app, &w.resident, "image/png", &screenshot()).await;
    let mut body = ticket_body(&w, "时间格式");
    body["attachment_ids"] = json!([photo["id"]]);
    let t = file(&app, &w.resident, &body).await;
    let id = t["id"].as_str().unwrap().to_string();
    triage(&app, &w.staff, &t["id"], "red").await;

    let mut seen = Vec::new();
    let mut scan = |what: &str, v: &Value| {
        let mut found = Vec::new();
        timestamps(v, what, &mut found);
        for (at, s) in &found {
            assert!(millisecond_rfc3339(s), "{at} = {s:?}");
        }
        seen.extend(found);
    };
    scan("upload", &photo);
    scan("ticket", &t);
    for (token, path) in [
        (&w.resident, format!("/api/v1/tickets/{id}")),
        (&w.staff, "/api/v1/tickets".to_string()),
        (&w.admin, "/api/v1/streets".to_string()),
        (
            &w.admin,
            format!("/api/v1/households?building_id={}", w.t.building),
        ),
        (&w.admin, "/api/v1/users".to_string()),
        (&w.admin, "/api/v1/role-assignments".to_string()),
        (&w.resident, "/api/v1/me/export".to_string()),
        (&w.admin, "/api/v1/notifications".to_string()),
    ] {
        let res = app.get(&path, token).await;
        assert_eq!(res.status(), 200, "{path}");
        scan(&path, &res.json().await.unwrap());
    }
    // The scan did look at times of every kind: creation, deadlines, expiries, exports.
    for field in [
        "created_at",
        "updated_at",
        "next_follow_up_at",
        "url_expires_at",
        "exported_at",
    ] {
        assert!(
            seen.iter()
                .any(|(at, _)| at.ends_with(&format!(".{field}"))),
            "no {field} among {seen:?}"
        );
    }
}
