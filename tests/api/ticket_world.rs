//! A territory with everyone a ticket meets: a resident of a household, the community's staff, a
//! grid manager of the compound's grid, a council member, a property company serving the
//! compound with one staff member, and the street's admin. Shared by the ticket test files.

use reqwest::Response;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

pub struct World {
    pub t: Territory,
    /// Bootstrap administrator (superadmin).
    pub admin: String,
    /// `admin` role on the street (a street-level administrator, not superadmin).
    pub street_admin: String,
    pub street_admin_id: Uuid,
    pub staff: String,
    pub staff_id: Uuid,
    pub council: String,
    #[allow(dead_code)]
    pub grid: Uuid,
    pub grid_manager: String,
    pub grid_manager_id: Uuid,
    pub company: Uuid,
    pub property: String,
    pub property_id: Uuid,
    pub resident: String,
    pub resident_id: Uuid,
    /// The first default category of the community.
    pub category: Uuid,
}

/// Creates a user with one role; returns its token and id.
pub async fn member(
    app: &TestApp,
    admin: &str,
    username: &str,
    role: &str,
    scope_type: &str,
    scope_id: Uuid,
) -> (String, Uuid) {
    let password = "a-long-password-1";
    let id = app.create_user(admin, username, password).await;
    app.grant(admin, id, role, scope_type, scope_id).await;
    (token_of(&app.login(username, password).await), id)
}

/// A fresh ASCII username (usernames are ASCII; tags are Chinese).
pub fn uname(prefix: &str) -> String {
    let id = Uuid::now_v7().simple().to_string();
    format!("{prefix}{}", &id[20..])
}

pub async fn world(app: &TestApp, tag: &str) -> World {
    let admin = app.admin_token().await;
    let t = small_territory(app, &admin, tag).await;
    let company = app
        .create(
            &admin,
            "property-companies",
            json!({"street_id": t.street, "name": format!("{tag}物业")}),
        )
        .await;
    let res = app
        .patch(
            &format!("/api/v1/compounds/{}", t.compound),
            &admin,
            &json!({"property_company_id": company}),
        )
        .await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let grid = app
        .create(
            &admin,
            "grids",
            json!({"community_id": t.community, "name": format!("{tag}网格"), "compound_ids": [t.compound]}),
        )
        .await;
    let (street_admin, street_admin_id) =
        member(app, &admin, &uname("sa"), "admin", "street", t.street).await;
    let (staff, staff_id) = member(
        app,
        &admin,
        &uname("cs"),
        "community_staff",
        "community",
        t.community,
    )
    .await;
    let (council, _) = member(
        app,
        &admin,
        &uname("cm"),
        "council_member",
        "community",
        t.community,
    )
    .await;
    let (grid_manager, grid_manager_id) =
        member(app, &admin, &uname("gm"), "grid_manager", "grid", grid).await;
    let (property, property_id) = member(
        app,
        &admin,
        &uname("ps"),
        "property_staff",
        "property_company",
        company,
    )
    .await;
    let (resident, resident_id) = member(
        app,
        &admin,
        &uname("r"),
        "resident",
        "household",
        t.household,
    )
    .await;
    let cats = app
        .get(
            &format!("/api/v1/ticket-categories?community_id={}", t.community),
            &resident,
        )
        .await;
    assert_eq!(cats.status(), 200);
    let cats: Value = cats.json().await.expect("json");
    let category = cats["items"][0]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("a default category");
    World {
        t,
        admin,
        street_admin,
        street_admin_id,
        staff,
        staff_id,
        council,
        grid,
        grid_manager,
        grid_manager_id,
        company,
        property,
        property_id,
        resident,
        resident_id,
        category,
    }
}

/// The body of a resident's ticket in the world's compound and building.
pub fn ticket_body(w: &World, title: &str) -> Value {
    json!({
        "category_id": w.category,
        "title": title,
        "description": "楼道灯坏了，晚上很黑",
        "compound_id": w.t.compound,
        "building_id": w.t.building,
        "location": {"address": "1幢1单元楼道"},
    })
}

/// Files a ticket as `token` (asserting 201) and returns it.
pub async fn file(app: &TestApp, token: &str, body: &Value) -> Value {
    let res = app.post("/api/v1/tickets", token, body).await;
    let status = res.status();
    let text = res.text().await.expect("body");
    assert_eq!(status, 201, "file ticket: {text}");
    serde_json::from_str(&text).expect("json")
}

/// `POST /api/v1/tickets/{id}/{verb}` as `token`.
pub async fn act(app: &TestApp, token: &str, id: &Value, verb: &str, body: Value) -> Response {
    let id = id.as_str().expect("ticket id");
    app.post(&format!("/api/v1/tickets/{id}/{verb}"), token, &body)
        .await
}

/// Like [`act`], asserting 200 and returning the ticket.
pub async fn act_ok(app: &TestApp, token: &str, id: &Value, verb: &str, body: Value) -> Value {
    let res = act(app, token, id, verb, body).await;
    let status = res.status();
    let text = res.text().await.expect("body");
    assert_eq!(status, 200, "{verb}: {text}");
    serde_json::from_str(&text).expect("json")
}

/// Triages ticket `id` as `token` with `priority` (asserting 200) and returns it.
pub async fn triage(app: &TestApp, token: &str, id: &Value, priority: &str) -> Value {
    act_ok(app, token, id, "triage", json!({ "priority": priority })).await
}

/// Files a ticket and takes it through triage (green), dispatch to the property company and
/// acceptance; returns the accepted ticket.
pub async fn accepted_ticket(app: &TestApp, w: &World, title: &str) -> Value {
    let t = file(app, &w.resident, &ticket_body(w, title)).await;
    let id = &t["id"];
    triage(app, &w.staff, id, "green").await;
    act_ok(
        app,
        &w.staff,
        id,
        "assign",
        json!({"property_company_id": w.company}),
    )
    .await;
    act_ok(app, &w.property, id, "accept", json!({})).await
}
