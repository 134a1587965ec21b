//! Photo attachments: `POST /api/v1/attachments` and `GET /api/v1/attachments/{id}`.

use linli::clock::Clock;
use linli::services::attachments::{purge_unattached, unattached_lifetime, MAX_BYTES};
use reqwest::{Method, Response};
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::ticket_world::*;

/// The first bytes of a PNG (a 1×1 pixel), enough for any sniffer.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0xDA, 0x63, 0x64, 0x60, 0xF8, 0x5F,
    0x0F, 0x00, 0x02, 0x87, 0x01, 0x80, 0xEB, 0x47, 0xBA, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// A JPEG header (SOI + APP0 JFIF) followed by filler.
fn jpeg(len: usize) -> Vec<u8> {
    let mut b = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01,
    ];
    b.resize(len, 0x5A);
    b
}

/// A multipart/form-data body with one part; returns the Content-Type and the body.
fn multipart(part: &str, filename: &str, content_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----linli-attachment-boundary-7d3f9a";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{part}\"; \
         filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload_as(
    app: &TestApp,
    token: &str,
    filename: &str,
    content_type: &str,
    bytes: &[u8],
) -> Response {
    let (ct, body) = multipart("file", filename, content_type, bytes);
    app.request(Method::POST, "/api/v1/attachments", Some(token))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .expect("request")
}

/// Uploads a PNG as `token`, asserts 201 and returns the body.
async fn upload_png(app: &TestApp, token: &str) -> Value {
    let res = upload_as(app, token, "photo.png", "image/png", PNG).await;
    let status = res.status();
    let text = res.text().await.expect("body");
    assert_eq!(status, 201, "upload: {text}");
    serde_json::from_str(&text).expect("json")
}

async fn download(app: &TestApp, token: &str, id: &Value) -> Response {
    let id = id.as_str().expect("attachment id");
    app.request(
        Method::GET,
        &format!("/api/v1/attachments/{id}"),
        Some(token),
    )
    .send()
    .await
    .expect("request")
}

async fn download_status(app: &TestApp, token: &str, id: &Value) -> u16 {
    download(app, token, id).await.status().as_u16()
}

/// A territory with a resident of its household and the community's staff, without tickets.
async fn resident_and_staff(app: &TestApp, tag: &str) -> (String, String, Territory, String) {
    let admin = app.admin_token().await;
    let t = small_territory(app, &admin, tag).await;
    let resident = app
        .user_with_role(
            &admin,
            &format!("{tag}-r"),
            "resident",
            "household",
            t.household,
        )
        .await;
    let staff = app
        .user_with_role(
            &admin,
            &format!("{tag}-cs"),
            "community_staff",
            "community",
            t.community,
        )
        .await;
    (resident, staff, t, admin)
}

#[tokio::test]
async fn png_and_jpeg_uploads_come_back_byte_for_byte_with_their_type() {
    let app = spawn_app().await;
    let (resident, _, _, _) = resident_and_staff(&app, "att1").await;

    let res = upload_as(&app, &resident, "photo.png", "image/png", PNG).await;
    assert_eq!(res.status(), 201);
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("Location")
        .to_string();
    let body: Value = res.json().await.expect("json");
    assert_eq!(
        location,
        format!("/api/v1/attachments/{}", body["id"].as_str().unwrap())
    );
    assert_eq!(body["url"], location.as_str());
    assert_eq!(body["content_type"], "image/png");
    assert_eq!(body["size_bytes"], PNG.len());
    assert!(body["created_at"].is_string());

    let res = download(&app, &resident, &body["id"]).await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "private, max-age=86400");
    assert_eq!(h["content-disposition"], "inline");
    let etag = h["etag"].to_str().unwrap().to_string();
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);

    // A revalidation with the ETag costs no body.
    let res = app
        .request(
            Method::GET,
            &format!("/api/v1/attachments/{}", body["id"].as_str().unwrap()),
            Some(&resident),
        )
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);

    // The declared type is ignored: a JPEG sent as application/octet-stream named .bin is a JPEG.
    let photo = jpeg(64 * 1024);
    let res = upload_as(&app, &resident, "x.bin", "application/octet-stream", &photo).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["content_type"], "image/jpeg");
    let res = download(&app, &resident, &body["id"]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.bytes().await.unwrap().as_ref(), photo.as_slice());
}

#[tokio::test]
async fn a_text_file_named_and_declared_as_a_jpeg_is_refused_with_415() {
    let app = spawn_app().await;
    let (resident, _, _, _) = resident_and_staff(&app, "att2").await;
    let res = upload_as(
        &app,
        &resident,
        "photo.jpg",
        "image/jpeg",
        b"<html><script>alert(1)</script></html>",
    )
    .await;
    assert_problem(res, 415, "unsupported_media_type").await;
    // GIF is not among the accepted types either.
    let res = upload_as(
        &app,
        &resident,
        "a.gif",
        "image/gif",
        b"GIF89a\x01\0\x01\0\0\0\0;",
    )
    .await;
    assert_problem(res, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn a_photo_one_byte_over_5_mib_is_refused_with_413() {
    let app = spawn_app().await;
    let (resident, _, _, _) = resident_and_staff(&app, "att3").await;
    assert_eq!(MAX_BYTES, 5 * 1024 * 1024);
    let res = upload_as(
        &app,
        &resident,
        "big.jpg",
        "image/jpeg",
        &jpeg(MAX_BYTES + 1),
    )
    .await;
    let body = assert_problem(res, 413, "payload_too_large").await;
    assert!(
        body["detail"].as_str().unwrap().contains("5242880"),
        "{body}"
    );
    // Exactly 5 MiB is fine.
    let res = upload_as(&app, &resident, "max.jpg", "image/jpeg", &jpeg(MAX_BYTES)).await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn a_missing_file_part_is_400_and_a_non_multipart_body_is_415() {
    let app = spawn_app().await;
    let (resident, _, _, _) = resident_and_staff(&app, "att4").await;
    let (ct, body) = multipart("photo", "a.png", "image/png", PNG);
    let res = app
        .request(Method::POST, "/api/v1/attachments", Some(&resident))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "validation_failed").await;
    let boundary = "----empty";
    let res = app
        .request(Method::POST, "/api/v1/attachments", Some(&resident))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(format!("--{boundary}--\r\n"))
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "file", "{body}");
    let res = app
        .request(Method::POST, "/api/v1/attachments", Some(&resident))
        .header("content-type", "image/png")
        .body(PNG.to_vec())
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn users_whose_roles_neither_file_nor_work_tickets_may_not_upload() {
    let app = spawn_app().await;
    let (_, _, t, admin) = resident_and_staff(&app, "att5").await;
    let council = app
        .user_with_role(
            &admin,
            "att5-cm",
            "council_member",
            "community",
            t.community,
        )
        .await;
    let res = upload_as(&app, &council, "photo.png", "image/png", PNG).await;
    assert_problem(res, 403, "forbidden").await;
    let id = app
        .create_user(&admin, "att5-none", "a-long-password-1")
        .await;
    assert!(!id.is_nil());
    let nobody = token_of(&app.login("att5-none", "a-long-password-1").await);
    let res = upload_as(&app, &nobody, "photo.png", "image/png", PNG).await;
    assert_problem(res, 403, "forbidden").await;
    let res = app
        .request(Method::POST, "/api/v1/attachments", None)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn an_unattached_upload_is_visible_to_its_uploader_only() {
    let app = spawn_app().await;
    let (resident, staff, _, admin) = resident_and_staff(&app, "att6").await;
    let a = upload_png(&app, &resident).await;
    assert_eq!(download_status(&app, &resident, &a["id"]).await, 200);
    assert_problem(download(&app, &staff, &a["id"]).await, 404, "not_found").await;
    // Not even the deployment administrator: nobody but the uploader has a use for it yet.
    assert_eq!(download_status(&app, &admin, &a["id"]).await, 404);
    let unknown = json!(Uuid::now_v7().to_string());
    assert_eq!(download_status(&app, &resident, &unknown).await, 404);
    let res = app
        .request(
            Method::GET,
            "/api/v1/attachments/not-a-uuid",
            Some(&resident),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn a_user_may_hold_at_most_20_unattached_uploads() {
    let app = spawn_app().await;
    let (resident, staff, _, _) = resident_and_staff(&app, "att7").await;
    for _ in 0..20 {
        upload_png(&app, &resident).await;
    }
    let res = upload_as(&app, &resident, "photo.png", "image/png", PNG).await;
    let body = assert_problem(res, 409, "conflict").await;
    assert!(body["detail"].as_str().unwrap().contains("20"), "{body}");
    // The limit is per user.
    upload_png(&app, &staff).await;
}

#[tokio::test]
async fn uploads_never_attached_are_purged_after_a_day_with_their_files() {
    let app = spawn_app().await;
    let (resident, _, _, _) = resident_and_staff(&app, "att8").await;
    let old = upload_png(&app, &resident).await;
    app.clock.advance(chrono::Duration::hours(25));
    let fresh = upload_png(&app, &resident).await;

    let id: Uuid = old["id"].as_str().unwrap().parse().unwrap();
    let row = entity::attachment::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("row");
    let file = std::path::Path::new(&app.vars["LINLI_UPLOAD_DIR"]).join(&row.storage_key);
    assert!(file.is_file(), "{} exists", file.display());

    let cutoff = app.clock.now() - unattached_lifetime();
    let purged = purge_unattached(&app.state.db, app.state.storage.as_ref(), cutoff)
        .await
        .unwrap();
    assert_eq!(purged, 1);
    assert!(!file.exists(), "{} removed", file.display());
    assert!(app
        .state
        .storage
        .get(&row.storage_key)
        .await
        .unwrap()
        .is_none());
    assert_eq!(download_status(&app, &resident, &old["id"]).await, 404);
    assert_eq!(download_status(&app, &resident, &fresh["id"]).await, 200);
    // Running it again finds nothing more.
    let purged = purge_unattached(&app.state.db, app.state.storage.as_ref(), cutoff)
        .await
        .unwrap();
    assert_eq!(purged, 0);
}

/// The ticket of `body` with the world's resident, as seen by GET.
async fn get_ticket(app: &TestApp, token: &str, id: &Value) -> Value {
    let res = app
        .get(&format!("/api/v1/tickets/{}", id.as_str().unwrap()), token)
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn an_attached_photo_is_visible_to_whoever_may_see_its_ticket() {
    let app = spawn_app().await;
    let w = world(&app, "att9").await;
    let other = world(&app, "att9b").await;
    let neighbour_household = app
        .create(
            &w.admin,
            "households",
            json!({"building_id": w.t.building, "unit": "1单元", "room": "102"}),
        )
        .await;
    let (neighbour, _) = member(
        &app,
        &w.admin,
        "att9-n",
        "resident",
        "household",
        neighbour_household,
    )
    .await;

    let a = upload_png(&app, &w.resident).await;
    let mut body = ticket_body(&w, "楼道灯坏了");
    body["attachment_ids"] = json!([a["id"]]);
    let t = file(&app, &w.resident, &body).await;
    let shown = get_ticket(&app, &w.resident, &t["id"]).await;
    assert_eq!(shown["attachments"][0]["id"], a["id"], "{shown}");
    assert_eq!(shown["attachments"][0]["url"], a["url"], "{shown}");

    assert_eq!(download_status(&app, &w.resident, &a["id"]).await, 200);
    assert_eq!(download_status(&app, &w.staff, &a["id"]).await, 200);
    assert_eq!(download_status(&app, &w.grid_manager, &a["id"]).await, 200);
    assert_eq!(download_status(&app, &neighbour, &a["id"]).await, 404);
    assert_eq!(download_status(&app, &other.staff, &a["id"]).await, 404);
    assert_eq!(download_status(&app, &other.resident, &a["id"]).await, 404);
    // The property company serving the compound sees tickets by assignment only.
    assert_eq!(download_status(&app, &w.property, &a["id"]).await, 404);
    triage(&app, &w.staff, &t["id"], "green").await;
    act_ok(
        &app,
        &w.staff,
        &t["id"],
        "assign",
        json!({"property_company_id": w.company}),
    )
    .await;
    let res = download(&app, &w.property, &a["id"]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
    assert_eq!(download_status(&app, &other.property, &a["id"]).await, 404);

    // Once attached, it no longer counts as waiting and is never purged.
    app.clock.advance(chrono::Duration::hours(48));
    let cutoff = app.clock.now() - unattached_lifetime();
    let purged = purge_unattached(&app.state.db, app.state.storage.as_ref(), cutoff)
        .await
        .unwrap();
    assert_eq!(purged, 0);
    assert_eq!(download_status(&app, &w.staff, &a["id"]).await, 200);
}

#[tokio::test]
async fn only_ones_own_unattached_uploads_can_be_attached_and_only_once() {
    let app = spawn_app().await;
    let w = world(&app, "att10").await;
    let staffs = upload_png(&app, &w.staff).await;
    let mut body = ticket_body(&w, "别人的照片");
    body["attachment_ids"] = json!([staffs["id"]]);
    let res = app.post("/api/v1/tickets", &w.resident, &body).await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "attachment_ids", "{problem}");
    // Still the staff member's alone.
    assert_eq!(download_status(&app, &w.resident, &staffs["id"]).await, 404);
    assert_eq!(download_status(&app, &w.staff, &staffs["id"]).await, 200);

    let mine = upload_png(&app, &w.resident).await;
    body["attachment_ids"] = json!([mine["id"]]);
    file(&app, &w.resident, &body).await;
    let res = app.post("/api/v1/tickets", &w.resident, &body).await;
    let problem = assert_problem(res, 400, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "attachment_ids", "{problem}");
}
