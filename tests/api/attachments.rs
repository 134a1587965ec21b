//! Photo attachments: `POST /api/v1/attachments` and `GET /api/v1/attachments/{id}`.

use linli::platform::attachments::{purge_unattached, unattached_lifetime, MAX_BYTES};
use linli::platform::clock::Clock;
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

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len() + 2).unwrap();
    [&[0xFF, marker][..], &len.to_be_bytes(), payload].concat()
}

/// SOI, APP0 (JFIF), `extra` segments, then the frame and scan header of an 8×8 grey baseline
/// JPEG (one-code Huffman tables), `scan` as its entropy-coded data, and EOI.
fn jpeg_with(extra: &[Vec<u8>], scan: &[u8]) -> Vec<u8> {
    [
        &[0xFF, 0xD8][..],
        &segment(0xE0, b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
        &extra.concat(),
        &segment(0xDB, &[&[0u8][..], &[1u8; 64]].concat()),
        &segment(0xC0, &[8, 0, 8, 0, 8, 1, 1, 0x11, 0]),
        &segment(0xC4, &[&[0x00, 1][..], &[0u8; 15], &[0]].concat()),
        &segment(0xC4, &[&[0x10, 1][..], &[0u8; 15], &[0]].concat()),
        &segment(0xDA, &[1, 1, 0x00, 0, 63, 0]),
        scan,
        &[0xFF, 0xD9],
    ]
    .concat()
}

/// A well-formed JPEG of exactly `len` bytes, its scan data padded with filler.
fn jpeg(len: usize) -> Vec<u8> {
    let bare = jpeg_with(&[], &[]).len();
    jpeg_with(&[], &vec![0x5A; len - bare])
}

/// A big-endian Exif block (TIFF) whose IFD0 holds Make and Model, Orientation and a GPS IFD
/// (latitude and longitude).
fn exif_tiff(make: &str, orientation: u16) -> Vec<u8> {
    let ifd0_entries = 4u16;
    let ifd0_end = 8 + 2 + 12 * u32::from(ifd0_entries) + 4;
    let make_at = ifd0_end;
    let gps_at = make_at + make.len() as u32 + 1;
    let gps_entries = 4u16;
    let rationals_at = gps_at + 2 + 12 * u32::from(gps_entries) + 4;
    let mut t = b"MM\0*\0\0\0\x08".to_vec();
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_be_bytes());
        t.extend_from_slice(&kind.to_be_bytes());
        t.extend_from_slice(&count.to_be_bytes());
        t.extend_from_slice(&value);
    };
    t.extend_from_slice(&ifd0_entries.to_be_bytes());
    entry(
        &mut t,
        0x010F,
        2,
        make.len() as u32 + 1,
        make_at.to_be_bytes(),
    );
    entry(&mut t, 0x0110, 2, 4, *b"P30\0");
    let o = orientation.to_be_bytes();
    entry(&mut t, 0x0112, 3, 1, [o[0], o[1], 0, 0]);
    entry(&mut t, 0x8825, 4, 1, gps_at.to_be_bytes());
    t.extend_from_slice(&[0; 4]);
    t.extend_from_slice(make.as_bytes());
    t.push(0);
    t.extend_from_slice(&gps_entries.to_be_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, rationals_at.to_be_bytes());
    entry(&mut t, 0x0003, 2, 2, *b"E\0\0\0");
    entry(&mut t, 0x0004, 5, 3, (rationals_at + 24).to_be_bytes());
    t.extend_from_slice(&[0; 4]);
    // 39°54'27" N, 116°23'49" E.
    for v in [39u32, 1, 54, 1, 27, 1, 116, 1, 23, 1, 49, 1] {
        t.extend_from_slice(&v.to_be_bytes());
    }
    t
}

/// The Exif segment a cleaned photo keeps: Orientation alone.
fn orientation_only(orientation: u8) -> Vec<u8> {
    segment(
        0xE1,
        &[
            &b"Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0"[..],
            &[orientation],
            &[0; 6],
        ]
        .concat(),
    )
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
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
pub(crate) async fn upload_png(app: &TestApp, token: &str) -> Value {
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
    // `url` is the signed one (for `<image src>`); `Location` the authenticated route.
    assert!(body["url"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{location}/original?expires=")));
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
async fn users_whose_roles_neither_file_nor_work_tickets_nor_publish_notices_may_not_upload() {
    let app = spawn_app().await;
    let (_, _, t, admin) = resident_and_staff(&app, "att5").await;
    // Council members publish publicity (公示) notices, with photos.
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
    assert_eq!(res.status(), 201);
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
    let body = assert_problem(res, 409, "too_many_unattached_photos").await;
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

/// `bytes` of the photo served at `id`, with its ETag.
async fn served(app: &TestApp, token: &str, id: &Value) -> (Vec<u8>, String) {
    let res = download(app, token, id).await;
    assert_eq!(res.status(), 200);
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    (res.bytes().await.unwrap().to_vec(), etag)
}

#[tokio::test]
async fn a_jpeg_is_stored_and_served_without_its_metadata_but_with_its_orientation() {
    let app = spawn_app().await;
    let (resident, staff, _, _) = resident_and_staff(&app, "att11").await;
    let maker = "HUAWEI owned by 张三";
    let photo = jpeg_with(
        &[
            segment(
                0xE1,
                &[b"Exif\0\0".as_slice(), &exif_tiff(maker, 6)].concat(),
            ),
            segment(
                0xE1,
                b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>exif:GPSLatitude</x:xmpmeta>",
            ),
            segment(
                0xED,
                &[
                    &b"Photoshop 3.0\08BIM\x04\x04by-line "[..],
                    "张三".as_bytes(),
                ]
                .concat(),
            ),
            segment(0xFE, b"HUAWEI comment"),
        ],
        &[0x3F],
    );
    assert_eq!(count(&photo, &[0x88, 0x25]), 1, "the GPS IFD tag is there");
    let res = upload_as(&app, &resident, "IMG_0001.jpg", "image/jpeg", &photo).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    let clean = jpeg_with(&[orientation_only(6)], &[0x3F]);
    assert_eq!(body["size_bytes"], clean.len(), "what is stored is counted");

    let (bytes, _) = served(&app, &resident, &body["id"]).await;
    assert_eq!(bytes, clean);
    assert_eq!(count(&bytes, b"Exif"), 1, "only the orientation's Exif");
    assert_eq!(
        count(&bytes, &orientation_only(6)),
        1,
        "orientation 6 survives"
    );
    assert_eq!(count(&bytes, &[0x88, 0x25]), 0, "no GPS IFD");
    assert_eq!(count(&bytes, b"HUAWEI"), 0);
    assert_eq!(count(&bytes, "张三".as_bytes()), 0);
    assert_eq!(count(&bytes, b"P30"), 0);
    assert_eq!(count(&bytes, b"xmpmeta"), 0);

    // And what is stored is already clean.
    let id: Uuid = body["id"].as_str().unwrap().parse().unwrap();
    let row = entity::attachment::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("row");
    let stored = app.state.storage.get(&row.storage_key).await.unwrap();
    assert_eq!(stored.as_deref(), Some(clean.as_slice()));
    assert_eq!(download_status(&app, &staff, &body["id"]).await, 404);
}

#[tokio::test]
async fn a_png_loses_its_text_and_exif_chunks() {
    let app = spawn_app().await;
    let (resident, _, _, _) = resident_and_staff(&app, "att12").await;
    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        // The CRC is not checked by anything that strips or shows these chunks' absence.
        [&(data.len() as u32).to_be_bytes()[..], kind, data, &[0; 4]].concat()
    }
    let ihdr_end = 8 + 25;
    let photo = [
        &PNG[..ihdr_end],
        &chunk(b"tEXt", "Author\0张三".as_bytes()),
        &chunk(b"eXIf", &exif_tiff("HUAWEI P30", 1)),
        &chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta/>"),
        &chunk(b"tIME", &[0x07, 0xEA, 3, 1, 8, 30, 0]),
        &PNG[ihdr_end..],
    ]
    .concat();
    let res = upload_as(&app, &resident, "shot.png", "image/png", &photo).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    let (bytes, _) = served(&app, &resident, &body["id"]).await;
    assert_eq!(bytes, PNG);
    for gone in [
        &b"tEXt"[..],
        b"eXIf",
        b"iTXt",
        b"tIME",
        b"HUAWEI",
        &[0x88, 0x25],
    ] {
        assert_eq!(count(&bytes, gone), 0, "{gone:?}");
    }
}

#[tokio::test]
async fn malformed_photos_are_refused_with_415() {
    let app = spawn_app().await;
    let (resident, _, _, _) = resident_and_staff(&app, "att13").await;
    let good = jpeg_with(&[], &[0x3F]);
    // Cut short in the scan: no end marker.
    let res = upload_as(
        &app,
        &resident,
        "a.jpg",
        "image/jpeg",
        &good[..good.len() - 2],
    )
    .await;
    assert_problem(res, 415, "unsupported_media_type").await;
    // A segment claiming more bytes than the file has.
    let mut lying = good.clone();
    lying[4..6].copy_from_slice(&0xFFF0u16.to_be_bytes());
    let res = upload_as(&app, &resident, "b.jpg", "image/jpeg", &lying).await;
    assert_problem(res, 415, "unsupported_media_type").await;
    // A PNG chunk running past the end.
    let res = upload_as(&app, &resident, "c.png", "image/png", &PNG[..PNG.len() - 5]).await;
    assert_problem(res, 415, "unsupported_media_type").await;
    let mut webp = b"RIFF\x20\0\0\0WEBPVP8 \x40\0\0\0".to_vec();
    webp.resize(28, 0);
    let res = upload_as(&app, &resident, "d.webp", "image/webp", &webp).await;
    assert_problem(res, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn a_photo_stored_with_its_metadata_before_is_served_clean() {
    let app = spawn_app().await;
    let (resident, _, _, _) = resident_and_staff(&app, "att14").await;
    let clean = jpeg_with(&[orientation_only(3)], &[0x3F]);
    let res = upload_as(&app, &resident, "a.jpg", "image/jpeg", &clean).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    let id: Uuid = body["id"].as_str().unwrap().parse().unwrap();
    let row = entity::attachment::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("row");
    // The file as an upload left it before metadata was stripped.
    let legacy = jpeg_with(
        &[segment(
            0xE1,
            &[b"Exif\0\0".as_slice(), &exif_tiff("HUAWEI", 3)].concat(),
        )],
        &[0x3F],
    );
    app.state
        .storage
        .put(&row.storage_key, &legacy)
        .await
        .unwrap();

    let (bytes, etag) = served(&app, &resident, &body["id"]).await;
    assert_eq!(bytes, clean);
    assert_eq!(count(&bytes, b"HUAWEI"), 0);
    // The ETag names what is served, and revalidates.
    assert_eq!(etag, format!("\"{}\"", row.sha256));
    let res = app
        .request(
            Method::GET,
            &format!("/api/v1/attachments/{id}"),
            Some(&resident),
        )
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);

    // A stored file that is not a well-formed image is not served as it is.
    app.state
        .storage
        .put(&row.storage_key, &legacy[..legacy.len() - 2])
        .await
        .unwrap();
    assert_problem(
        download(&app, &resident, &body["id"]).await,
        404,
        "not_found",
    )
    .await;
}
