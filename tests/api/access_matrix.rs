//! The access matrix: every role against every territory resource type, black-box over HTTP.
//!
//! One fixture territory (two streets) and one user per role. For every user and every object:
//! the list filter and the per-object read agree and match the expected scope; reads answer 200 or
//! 404 (never 403); writes answer 404 outside the scope, 403 where the role may not write, 200
//! where it may. Role management stays within an administrator's street.
//!
//! Fixture (labels used throughout):
//! - S1 ⊃ C1, C2; S2 ⊃ C3.
//! - C1 ⊃ K1, K2; C2 ⊃ K3; C3 ⊃ K4.
//! - G1 in C1 covers compound K1 and building B2b; G2 in C1 covers nothing; G3 in C3 covers K4.
//! - K1 ⊃ B1; K2 ⊃ B2a, B2b; K3 ⊃ B3; K4 ⊃ B4; each Bx holds household Hx.
//! - P1 (S1) serves K1; P2 (S1) serves nothing; P3 (S2) serves K4.

use std::collections::BTreeSet;

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Street,
    Community,
    PropertyCompany,
    Compound,
    Grid,
    Building,
    Household,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::Street,
        Kind::Community,
        Kind::PropertyCompany,
        Kind::Compound,
        Kind::Grid,
        Kind::Building,
        Kind::Household,
    ];

    fn collection(self) -> &'static str {
        match self {
            Kind::Street => "streets",
            Kind::Community => "communities",
            Kind::PropertyCompany => "property-companies",
            Kind::Compound => "compounds",
            Kind::Grid => "grids",
            Kind::Building => "buildings",
            Kind::Household => "households",
        }
    }
}

/// What each role may write, mirrored from the permission table in `src/auth/policy.rs`.
const ADMIN_WRITES: &[Kind] = &Kind::ALL;
const COMMUNITY_STAFF_WRITES: &[Kind] =
    &[Kind::Compound, Kind::Grid, Kind::Building, Kind::Household];
const GRID_MANAGER_WRITES: &[Kind] = &[Kind::Household];
const NO_WRITES: &[Kind] = &[];

struct Obj {
    label: &'static str,
    kind: Kind,
    id: Uuid,
    /// A harmless PATCH body (the current name, or room for households).
    patch: Value,
}

impl Obj {
    fn path(&self) -> String {
        format!("/api/v1/{}/{}", self.kind.collection(), self.id)
    }
}

struct Actor {
    name: &'static str,
    token: String,
    visible: BTreeSet<&'static str>,
    writes: &'static [Kind],
}

struct Fixture {
    app: TestApp,
    /// The deployment superadmin.
    root: String,
    objects: Vec<Obj>,
    actors: Vec<Actor>,
}

impl Fixture {
    fn obj(&self, label: &str) -> &Obj {
        self.objects
            .iter()
            .find(|o| o.label == label)
            .unwrap_or_else(|| panic!("no fixture object {label}"))
    }

    fn id(&self, label: &str) -> Uuid {
        self.obj(label).id
    }

    fn actor(&self, name: &str) -> &Actor {
        self.actors
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("no actor {name}"))
    }

    /// The label of a fixture id, or `?<id>` for anything that is not part of the fixture.
    fn label_of(&self, id: &str) -> String {
        self.objects
            .iter()
            .find(|o| o.id.to_string() == id)
            .map_or_else(|| format!("?{id}"), |o| o.label.to_string())
    }

    fn labels(&self, kind: Kind) -> impl Iterator<Item = &Obj> {
        self.objects.iter().filter(move |o| o.kind == kind)
    }
}

async fn add(
    app: &TestApp,
    root: &str,
    objects: &mut Vec<Obj>,
    label: &'static str,
    kind: Kind,
    body: Value,
) -> Uuid {
    let id = app.create(root, kind.collection(), body.clone()).await;
    let patch = match kind {
        Kind::Household => json!({"room": body["room"]}),
        _ => json!({"name": body["name"]}),
    };
    objects.push(Obj {
        label,
        kind,
        id,
        patch,
    });
    id
}

const ALL_LABELS: &[&str] = &[
    "S1", "S2", "C1", "C2", "C3", "P1", "P2", "P3", "K1", "K2", "K3", "K4", "G1", "G2", "G3", "B1",
    "B2a", "B2b", "B3", "B4", "H1", "H2a", "H2b", "H3", "H4",
];

async fn fixture() -> Fixture {
    use Kind::*;
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let mut o = Vec::new();
    let (a, r) = (&app, root.as_str());

    let s1 = add(a, r, &mut o, "S1", Street, json!({"name": "S1街道"})).await;
    let s2 = add(a, r, &mut o, "S2", Street, json!({"name": "S2街道"})).await;
    let c1 = add(
        a,
        r,
        &mut o,
        "C1",
        Community,
        json!({"street_id": s1, "name": "C1社区"}),
    )
    .await;
    let c2 = add(
        a,
        r,
        &mut o,
        "C2",
        Community,
        json!({"street_id": s1, "name": "C2社区"}),
    )
    .await;
    let c3 = add(
        a,
        r,
        &mut o,
        "C3",
        Community,
        json!({"street_id": s2, "name": "C3社区"}),
    )
    .await;
    let pc = |street: Uuid, name: &str| json!({"street_id": street, "name": name});
    let p1 = add(a, r, &mut o, "P1", PropertyCompany, pc(s1, "P1物业")).await;
    add(a, r, &mut o, "P2", PropertyCompany, pc(s1, "P2物业")).await;
    let p3 = add(a, r, &mut o, "P3", PropertyCompany, pc(s2, "P3物业")).await;
    let k1 = add(
        a,
        r,
        &mut o,
        "K1",
        Compound,
        json!({"community_id": c1, "name": "K1小区", "property_company_id": p1}),
    )
    .await;
    let k2 = add(
        a,
        r,
        &mut o,
        "K2",
        Compound,
        // Street leaders lead a street front (商圈).
        json!({"community_id": c1, "name": "K2小区", "kind": "street_front"}),
    )
    .await;
    let k3 = add(
        a,
        r,
        &mut o,
        "K3",
        Compound,
        json!({"community_id": c2, "name": "K3小区", "kind": "mixed"}),
    )
    .await;
    let k4 = add(
        a,
        r,
        &mut o,
        "K4",
        Compound,
        json!({"community_id": c3, "name": "K4小区"}),
    )
    .await;
    // K4 gets its company by PATCH (the other way of setting it).
    let res = app
        .patch(
            &format!("/api/v1/compounds/{k4}"),
            &root,
            &json!({"property_company_id": p3}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "set K4's property company");

    let bld = |compound: Uuid, name: &str| json!({"compound_id": compound, "name": name});
    let b1 = add(a, r, &mut o, "B1", Building, bld(k1, "1幢")).await;
    let b2a = add(a, r, &mut o, "B2a", Building, bld(k2, "1幢")).await;
    let b2b = add(a, r, &mut o, "B2b", Building, bld(k2, "2幢")).await;
    let b3 = add(a, r, &mut o, "B3", Building, bld(k3, "1幢")).await;
    let b4 = add(a, r, &mut o, "B4", Building, bld(k4, "1幢")).await;

    let g1 = add(
        a,
        r,
        &mut o,
        "G1",
        Grid,
        json!({"community_id": c1, "name": "G1网格", "compound_ids": [k1], "building_ids": [b2b]}),
    )
    .await;
    add(
        a,
        r,
        &mut o,
        "G2",
        Grid,
        json!({"community_id": c1, "name": "G2网格"}),
    )
    .await;
    add(
        a,
        r,
        &mut o,
        "G3",
        Grid,
        json!({"community_id": c3, "name": "G3网格", "compound_ids": [k4]}),
    )
    .await;

    let hh = |building: Uuid, room: &str| json!({"building_id": building, "unit": "1单元", "room": room});
    let h1 = add(a, r, &mut o, "H1", Household, hh(b1, "101")).await;
    add(a, r, &mut o, "H2a", Household, hh(b2a, "201")).await;
    add(a, r, &mut o, "H2b", Household, hh(b2b, "202")).await;
    add(a, r, &mut o, "H3", Household, hh(b3, "301")).await;
    add(a, r, &mut o, "H4", Household, hh(b4, "401")).await;

    let labels: BTreeSet<&str> = o.iter().map(|x| x.label).collect();
    assert_eq!(
        labels,
        ALL_LABELS.iter().copied().collect(),
        "fixture labels"
    );

    // (username, role, scope type, scope, expected visible objects, writable kinds)
    type Spec<'a> = (&'a str, &'a str, &'a str, Uuid, &'a [&'a str], &'a [Kind]);
    let specs: [Spec; 8] = [
        (
            "admin_s1",
            "admin",
            "street",
            s1,
            &[
                "S1", "C1", "C2", "P1", "P2", "K1", "K2", "K3", "G1", "G2", "B1", "B2a", "B2b",
                "B3", "H1", "H2a", "H2b", "H3",
            ],
            ADMIN_WRITES,
        ),
        (
            "staff_c1",
            "community_staff",
            "community",
            c1,
            &[
                "C1", "K1", "K2", "G1", "G2", "B1", "B2a", "B2b", "H1", "H2a", "H2b",
            ],
            COMMUNITY_STAFF_WRITES,
        ),
        (
            "grid_g1",
            "grid_manager",
            "grid",
            g1,
            &["G1", "K1", "B1", "B2b", "H1", "H2b"],
            GRID_MANAGER_WRITES,
        ),
        (
            "property_p1",
            "property_staff",
            "property_company",
            p1,
            &["P1", "K1", "B1"],
            NO_WRITES,
        ),
        (
            "council_c1",
            "council_member",
            "community",
            c1,
            &["C1", "K1", "K2", "G1", "G2", "B1", "B2a", "B2b"],
            NO_WRITES,
        ),
        (
            "leader_b1",
            "building_leader",
            "building",
            b1,
            &["B1", "H1"],
            NO_WRITES,
        ),
        (
            "leader_k2",
            "street_leader",
            "compound",
            k2,
            &["K2", "B2a", "B2b", "H2a", "H2b"],
            NO_WRITES,
        ),
        (
            "resident_h1",
            "resident",
            "household",
            h1,
            &["H1"],
            NO_WRITES,
        ),
    ];

    let mut actors = vec![Actor {
        name: "superadmin",
        token: root.clone(),
        visible: ALL_LABELS.iter().copied().collect(),
        writes: ADMIN_WRITES,
    }];
    for (name, role, scope_type, scope_id, visible, writes) in specs {
        let token = app
            .user_with_role(&root, name, role, scope_type, scope_id)
            .await;
        actors.push(Actor {
            name,
            token,
            visible: visible.iter().copied().collect(),
            writes,
        });
    }
    let password = "a-long-password-1";
    app.create_user(&root, "nobody", password).await;
    actors.push(Actor {
        name: "nobody",
        token: token_of(&app.login("nobody", password).await),
        visible: BTreeSet::new(),
        writes: NO_WRITES,
    });

    Fixture {
        app,
        root,
        objects: o,
        actors,
    }
}

/// `"200"`, or `"<status> <code>"` for a problem response (flagging a non-problem error body).
async fn outcome(res: Response) -> String {
    let status = res.status();
    if status.is_success() {
        return status.as_u16().to_string();
    }
    let problem = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/problem+json"));
    let text = res.text().await.unwrap_or_default();
    let code = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_string))
        .unwrap_or_else(|| format!("<{text}>"));
    let mut out = format!("{} {code}", status.as_u16());
    if !problem {
        out.push_str(" (not problem+json)");
    }
    out
}

const OK: &str = "200";
const NOT_FOUND: &str = "404 not_found";
const FORBIDDEN: &str = "403 forbidden";

/// The ids of one full list page, as fixture labels.
async fn list_labels(
    f: &Fixture,
    token: &str,
    path: &str,
    errors: &mut Vec<String>,
    who: &str,
) -> BTreeSet<String> {
    let res = f.app.get(path, token).await;
    if res.status() != StatusCode::OK {
        errors.push(format!("{who}: GET {path} → {}", outcome(res).await));
        return BTreeSet::new();
    }
    let body: Value = res.json().await.expect("list body");
    if !body["next_cursor"].is_null() {
        errors.push(format!("{who}: GET {path} has a next page"));
    }
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| f.label_of(i["id"].as_str().expect("item id")))
        .collect()
}

fn check(errors: &mut Vec<String>, what: String, got: &str, want: &str) {
    if got != want {
        errors.push(format!("{what}: got {got}, want {want}"));
    }
}

fn report(errors: Vec<String>) {
    assert!(
        errors.is_empty(),
        "{} access-matrix violations:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

#[tokio::test]
async fn every_role_reads_exactly_its_scope_and_lists_agree_with_object_reads() {
    let f = fixture().await;
    let mut errors = Vec::new();
    for actor in &f.actors {
        for kind in Kind::ALL {
            let who = format!("{} {}", actor.name, kind.collection());
            let listed = list_labels(
                &f,
                &actor.token,
                &format!("/api/v1/{}?limit=100", kind.collection()),
                &mut errors,
                &who,
            )
            .await;
            let mut readable = BTreeSet::new();
            for obj in f.labels(kind) {
                let res = f.app.get(&obj.path(), &actor.token).await;
                if res.status() == StatusCode::OK {
                    let body: Value = res.json().await.expect("object body");
                    if body["id"] != obj.id.to_string() {
                        errors.push(format!("{who}: GET {} returned {body}", obj.label));
                    }
                    readable.insert(obj.label.to_string());
                } else {
                    let got = outcome(res).await;
                    check(
                        &mut errors,
                        format!("{who}: GET {}", obj.label),
                        &got,
                        NOT_FOUND,
                    );
                }
            }
            let expected: BTreeSet<String> = f
                .labels(kind)
                .filter(|o| actor.visible.contains(o.label))
                .map(|o| o.label.to_string())
                .collect();
            if listed != readable {
                errors.push(format!(
                    "{who}: list {listed:?} disagrees with GET-200 {readable:?}"
                ));
            }
            if readable != expected {
                errors.push(format!(
                    "{who}: GET-200 {readable:?}, expected {expected:?}"
                ));
            }
        }
    }

    // Parent filters never widen the scope.
    let admin = &f.actor("admin_s1").token;
    let staff = &f.actor("staff_c1").token;
    for (token, who, path, want) in [
        (
            admin,
            "admin_s1",
            format!("/api/v1/communities?street_id={}", f.id("S2")),
            vec![],
        ),
        (
            admin,
            "admin_s1",
            format!("/api/v1/compounds?community_id={}", f.id("C3")),
            vec![],
        ),
        (
            admin,
            "admin_s1",
            format!("/api/v1/property-companies?street_id={}", f.id("S2")),
            vec![],
        ),
        (
            admin,
            "admin_s1",
            format!("/api/v1/compounds?property_company_id={}", f.id("P1")),
            vec!["K1"],
        ),
        (
            staff,
            "staff_c1",
            format!("/api/v1/grids?community_id={}", f.id("C3")),
            vec![],
        ),
        (
            staff,
            "staff_c1",
            format!("/api/v1/buildings?compound_id={}", f.id("K2")),
            vec!["B2a", "B2b"],
        ),
        (
            staff,
            "staff_c1",
            format!("/api/v1/households?community_id={}", f.id("C2")),
            vec![],
        ),
    ] {
        let got = list_labels(&f, token, &format!("{path}&limit=100"), &mut errors, who).await;
        let want: BTreeSet<String> = want.into_iter().map(str::to_string).collect();
        if got != want {
            errors.push(format!("{who}: GET {path} → {got:?}, want {want:?}"));
        }
    }
    report(errors);
}

#[tokio::test]
async fn writes_are_404_outside_the_scope_403_without_the_right_and_200_with_it() {
    let f = fixture().await;
    let mut errors = Vec::new();
    for actor in &f.actors {
        for obj in &f.objects {
            let visible = actor.visible.contains(obj.label);
            let writable = visible && actor.writes.contains(&obj.kind);
            let want = if !visible {
                NOT_FOUND
            } else if !writable {
                FORBIDDEN
            } else {
                OK
            };
            let who = format!("{} {} {}", actor.name, obj.kind.collection(), obj.label);
            let got = outcome(f.app.patch(&obj.path(), &actor.token, &obj.patch).await).await;
            check(&mut errors, format!("{who}: PATCH"), &got, want);
            // Objects the role may delete are left alone: deleting them would break the fixture.
            if !writable {
                let got = outcome(f.app.delete(&obj.path(), &actor.token).await).await;
                check(&mut errors, format!("{who}: DELETE"), &got, want);
            }
        }
    }
    // Nothing was deleted or changed.
    for obj in &f.objects {
        let res = f.app.get(&obj.path(), &f.root).await;
        if res.status() != StatusCode::OK {
            errors.push(format!("fixture {} is gone after the matrix", obj.label));
            continue;
        }
        let body: Value = res.json().await.expect("object body");
        for (field, value) in obj.patch.as_object().expect("patch object") {
            if &body[field] != value {
                errors.push(format!(
                    "fixture {} changed: {field} = {}",
                    obj.label, body[field]
                ));
            }
        }
    }
    report(errors);
}

#[tokio::test]
async fn creating_needs_a_visible_parent_and_the_write_right_for_the_child() {
    let f = fixture().await;
    let mut errors = Vec::new();
    // (child kind, parent label, parent field)
    let cases: &[(Kind, &str, &str)] = &[
        (Kind::Community, "S1", "street_id"),
        (Kind::Community, "S2", "street_id"),
        (Kind::PropertyCompany, "S1", "street_id"),
        (Kind::PropertyCompany, "S2", "street_id"),
        (Kind::Compound, "C1", "community_id"),
        (Kind::Compound, "C2", "community_id"),
        (Kind::Compound, "C3", "community_id"),
        (Kind::Grid, "C1", "community_id"),
        (Kind::Grid, "C2", "community_id"),
        (Kind::Grid, "C3", "community_id"),
        (Kind::Building, "K1", "compound_id"),
        (Kind::Building, "K2", "compound_id"),
        (Kind::Building, "K3", "compound_id"),
        (Kind::Building, "K4", "compound_id"),
        (Kind::Household, "B1", "building_id"),
        (Kind::Household, "B2a", "building_id"),
        (Kind::Household, "B2b", "building_id"),
        (Kind::Household, "B3", "building_id"),
        (Kind::Household, "B4", "building_id"),
    ];
    for (n, actor) in f.actors.iter().enumerate() {
        // Streets have no parent: only the deployment superadmin creates them.
        let res = f
            .app
            .post(
                "/api/v1/streets",
                &actor.token,
                &json!({"name": format!("{}街道", actor.name)}),
            )
            .await;
        let want = if actor.name == "superadmin" {
            "201"
        } else {
            FORBIDDEN
        };
        let got = outcome(res).await;
        check(
            &mut errors,
            format!("{} POST streets", actor.name),
            &got,
            want,
        );

        for (i, &(kind, parent, field)) in cases.iter().enumerate() {
            let mut body = json!({ field: f.id(parent) });
            if kind == Kind::Household {
                body["room"] = json!(format!("9{n:02}{i:02}"));
            } else {
                body["name"] = json!(format!("{}-{}", actor.name, i));
            }
            let want = if !actor.visible.contains(parent) {
                NOT_FOUND
            } else if !actor.writes.contains(&kind) {
                FORBIDDEN
            } else {
                "201"
            };
            let res = f
                .app
                .post(
                    &format!("/api/v1/{}", kind.collection()),
                    &actor.token,
                    &body,
                )
                .await;
            let got = outcome(res).await;
            check(
                &mut errors,
                format!("{} POST {} under {parent}", actor.name, kind.collection()),
                &got,
                want,
            );
        }
    }
    report(errors);
}

/// POSTs a role assignment as `token`; the outcome and, on 201, the body.
async fn grant_as(
    f: &Fixture,
    token: &str,
    user: Uuid,
    role: &str,
    scope_type: &str,
    scope: &str,
) -> (String, Value) {
    let res = f
        .app
        .post(
            "/api/v1/role-assignments",
            token,
            &json!({"user_id": user, "role": role, "scope_type": scope_type, "scope_id": f.id(scope)}),
        )
        .await;
    if res.status() == StatusCode::CREATED {
        ("201".into(), res.json().await.expect("assignment body"))
    } else {
        (outcome(res).await, Value::Null)
    }
}

async fn assignment_ids(f: &Fixture, token: &str) -> Vec<(String, String)> {
    let res = f.app.get("/api/v1/role-assignments?limit=100", token).await;
    assert_eq!(res.status(), StatusCode::OK, "list role assignments");
    let body: Value = res.json().await.expect("json");
    assert!(body["next_cursor"].is_null(), "one page: {body}");
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| {
            (
                a["id"].as_str().expect("id").to_string(),
                a["street_id"].as_str().expect("street_id").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn role_assignments_are_managed_only_within_the_admins_street() {
    let f = fixture().await;
    let mut errors = Vec::new();
    let admin = f.actor("admin_s1").token.clone();
    let s1 = f.id("S1").to_string();

    // An S2 assignment made by the deployment superadmin.
    let password = "a-long-password-1";
    let other = f.app.create_user(&f.root, "staff_c3", password).await;
    let (got, s2_assignment) =
        grant_as(&f, &f.root, other, "community_staff", "community", "C3").await;
    assert_eq!(got, "201", "superadmin grants in S2");
    let s2_assignment = s2_assignment["id"].as_str().expect("id").to_string();

    // The street admin creates a staff account and grants it a role in S1; it takes effect.
    let res = f
        .app
        .post(
            "/api/v1/users",
            &admin,
            &json!({"username": "newbie", "password": password, "display_name": "newbie"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "admin_s1 creates a user");
    let newbie = id_of(&res.json().await.expect("json"));
    let (got, body) = grant_as(&f, &admin, newbie, "community_staff", "community", "C2").await;
    check(
        &mut errors,
        "admin_s1 grants community_staff@C2".into(),
        &got,
        "201",
    );
    if got == "201" {
        check(
            &mut errors,
            "assignment street_id".into(),
            body["street_id"].as_str().unwrap_or_default(),
            &s1,
        );
        let token = token_of(&f.app.login("newbie", password).await);
        let got = outcome(f.app.get(&f.obj("C2").path(), &token).await).await;
        check(&mut errors, "newbie GET C2".into(), &got, OK);
        let got = outcome(f.app.get(&f.obj("C1").path(), &token).await).await;
        check(&mut errors, "newbie GET C1".into(), &got, NOT_FOUND);
    }

    // Every scope type: in S1 → 201, in S2 → 404.
    let mut granted_in_s1 = Vec::new();
    for (role, scope_type, inside, outside) in [
        ("admin", "street", "S1", "S2"),
        ("council_member", "community", "C1", "C3"),
        ("grid_manager", "grid", "G2", "G3"),
        ("property_staff", "property_company", "P2", "P3"),
        ("street_leader", "compound", "K3", "K4"),
        ("building_leader", "building", "B3", "B4"),
        ("resident", "household", "H2a", "H4"),
    ] {
        let (got, body) = grant_as(&f, &admin, newbie, role, scope_type, inside).await;
        check(
            &mut errors,
            format!("admin_s1 grants {role}@{inside}"),
            &got,
            "201",
        );
        if got == "201" {
            granted_in_s1.push(body["id"].as_str().expect("id").to_string());
        }
        let (got, _) = grant_as(&f, &admin, newbie, role, scope_type, outside).await;
        check(
            &mut errors,
            format!("admin_s1 grants {role}@{outside}"),
            &got,
            NOT_FOUND,
        );
    }

    // Nobody but administrators manages roles, not even on their own scope.
    let some_s1 = granted_in_s1.first().expect("an S1 grant").clone();
    for actor in f
        .actors
        .iter()
        .filter(|a| !["superadmin", "admin_s1"].contains(&a.name))
    {
        let (got, _) = grant_as(
            &f,
            &actor.token,
            newbie,
            "community_staff",
            "community",
            "C1",
        )
        .await;
        check(
            &mut errors,
            format!("{} grants community_staff@C1", actor.name),
            &got,
            FORBIDDEN,
        );
        let got = outcome(f.app.get("/api/v1/role-assignments", &actor.token).await).await;
        check(
            &mut errors,
            format!("{} lists role assignments", actor.name),
            &got,
            FORBIDDEN,
        );
        let got = outcome(
            f.app
                .delete(&format!("/api/v1/role-assignments/{some_s1}"), &actor.token)
                .await,
        )
        .await;
        check(
            &mut errors,
            format!("{} revokes an assignment", actor.name),
            &got,
            FORBIDDEN,
        );
    }

    // The street admin's list is exactly the S1 part of the whole list.
    let all = assignment_ids(&f, &f.root).await;
    assert!(
        all.iter().any(|(id, _)| *id == s2_assignment),
        "superadmin sees S2"
    );
    let want: BTreeSet<String> = all
        .iter()
        .filter(|(_, street)| *street == s1)
        .map(|(id, _)| id.clone())
        .collect();
    // 8 fixture roles, newbie's 8 grants.
    assert_eq!(want.len(), 16, "assignments in S1");
    let mine = assignment_ids(&f, &admin).await;
    let got: BTreeSet<String> = mine.iter().map(|(id, _)| id.clone()).collect();
    if got != want {
        errors.push(format!(
            "admin_s1 lists {got:?}, want the S1 assignments {want:?}"
        ));
    }
    if mine.iter().any(|(_, street)| *street != s1) {
        errors.push(format!("admin_s1 lists assignments outside S1: {mine:?}"));
    }

    // Revoking: outside the street is 404, inside 204.
    let got = outcome(
        f.app
            .delete(&format!("/api/v1/role-assignments/{s2_assignment}"), &admin)
            .await,
    )
    .await;
    check(
        &mut errors,
        "admin_s1 revokes the S2 assignment".into(),
        &got,
        NOT_FOUND,
    );
    let revoke = granted_in_s1.last().expect("an S1 grant").clone();
    let res = f
        .app
        .delete(&format!("/api/v1/role-assignments/{revoke}"), &admin)
        .await;
    check(
        &mut errors,
        "admin_s1 revokes an S1 assignment".into(),
        &res.status().as_u16().to_string(),
        "204",
    );
    let all = assignment_ids(&f, &f.root).await;
    if !all.iter().any(|(id, _)| *id == s2_assignment) {
        errors.push("the S2 assignment is gone".into());
    }
    if all.iter().any(|(id, _)| *id == revoke) {
        errors.push("the revoked S1 assignment is still listed".into());
    }
    report(errors);
}

/// Publishes a notice to `(scope_type, scope_id)` as the superadmin (a draft when `publish` is
/// false); returns its id.
async fn notice_at(f: &Fixture, scope_type: &str, scope_id: Uuid, publish: bool) -> String {
    let res = f
        .app
        .post(
            "/api/v1/notices",
            &f.root,
            &json!({"scope_type": scope_type, "scope_id": scope_id, "category": "notice",
                    "title": format!("{scope_type}公告"), "body": "正文"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "draft a notice");
    let id = id_of(&res.json().await.expect("json")).to_string();
    if publish {
        let res = f
            .app
            .post(
                &format!("/api/v1/notices/{id}/publish"),
                &f.root,
                &json!({}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "publish a notice");
    }
    id
}

/// Notices (§0.1): staff and leaders read down their reach (drafts included); residents, and
/// leaders, grid managers, council members and community staff for the places above them, read
/// the published notices addressed upward of their assignment; never a neighbour's. Lists and
/// reads by id agree. Publishing to a building: 404 outside the reach, 403 `notice_restricted`
/// for a kind the role may not publish, 201 otherwise. The moderation queue lists a held notice
/// to its moderators (administrators and community staff) only; passing it is 404 out of
/// sight, 403 in sight without the right.
#[tokio::test]
async fn every_role_reads_exactly_the_notices_its_reach_and_its_audience_allow() {
    let f = fixture().await;
    let mut labels: Vec<(&str, String)> = Vec::new();
    for (label, scope_type, place) in [
        ("N_S1", "street", "S1"),
        ("N_S2", "street", "S2"),
        ("N_C1", "community", "C1"),
        ("N_C2", "community", "C2"),
        ("N_K1", "compound", "K1"),
        ("N_K2", "compound", "K2"),
        ("N_B1", "building", "B1"),
        ("N_B2a", "building", "B2a"),
        ("N_B2b", "building", "B2b"),
        ("N_B4", "building", "B4"),
    ] {
        labels.push((label, notice_at(&f, scope_type, f.id(place), true).await));
    }
    labels.push(("D_B1", notice_at(&f, "building", f.id("B1"), false).await));
    let label_of = |id: &str| {
        labels
            .iter()
            .find(|(_, i)| i == id)
            .map_or_else(|| format!("?{id}"), |(l, _)| l.to_string())
    };
    let every: Vec<&str> = labels.iter().map(|(l, _)| *l).collect();
    let expected: &[(&str, &[&str])] = &[
        ("superadmin", &every),
        (
            "admin_s1",
            &[
                "N_S1", "N_C1", "N_C2", "N_K1", "N_K2", "N_B1", "N_B2a", "N_B2b", "D_B1",
            ],
        ),
        (
            "staff_c1",
            &[
                "N_S1", "N_C1", "N_K1", "N_K2", "N_B1", "N_B2a", "N_B2b", "D_B1",
            ],
        ),
        (
            "grid_g1",
            &["N_S1", "N_C1", "N_K1", "N_B1", "N_B2b", "D_B1"],
        ),
        ("property_p1", &["N_K1", "N_B1", "D_B1"]),
        (
            "council_c1",
            &[
                "N_S1", "N_C1", "N_K1", "N_K2", "N_B1", "N_B2a", "N_B2b", "D_B1",
            ],
        ),
        ("leader_b1", &["N_S1", "N_C1", "N_K1", "N_B1", "D_B1"]),
        ("leader_k2", &["N_S1", "N_C1", "N_K2", "N_B2a", "N_B2b"]),
        ("resident_h1", &["N_S1", "N_C1", "N_K1", "N_B1"]),
        ("nobody", &[]),
    ];
    let mut errors = Vec::new();
    for (name, want) in expected {
        let actor = f.actor(name);
        let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
        let res = f.app.get("/api/v1/notices?limit=100", &actor.token).await;
        if res.status() != StatusCode::OK {
            errors.push(format!("{name}: list → {}", outcome(res).await));
            continue;
        }
        let body: Value = res.json().await.expect("json");
        let got: BTreeSet<String> = body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| label_of(i["id"].as_str().expect("id")))
            .collect();
        if got != want {
            errors.push(format!("{name}: lists {got:?}, want {want:?}"));
        }
        for (label, id) in &labels {
            let got = outcome(
                f.app
                    .get(&format!("/api/v1/notices/{id}"), &actor.token)
                    .await,
            )
            .await;
            let expect = if want.contains(*label) { OK } else { NOT_FOUND };
            check(&mut errors, format!("{name} reads {label}"), &got, expect);
        }
    }

    // Drafting a notice for building B1, as each role.
    let restricted = "403 notice_restricted";
    let created = "201";
    let drafts: &[(&str, &str, &str, &str)] = &[
        ("superadmin", "notice", "urgent", created),
        ("admin_s1", "notice", "urgent", created),
        ("staff_c1", "notice", "urgent", created),
        ("grid_g1", "notice", "urgent", created),
        ("property_p1", "safety", "urgent", created),
        ("council_c1", "notice", "normal", restricted),
        ("council_c1", "publicity", "normal", created),
        ("leader_b1", "notice", "urgent", restricted),
        ("leader_b1", "notice", "normal", created),
        ("leader_k2", "notice", "normal", NOT_FOUND),
        ("resident_h1", "notice", "normal", NOT_FOUND),
        ("nobody", "notice", "normal", NOT_FOUND),
    ];
    for (name, category, priority, want) in drafts {
        let res = f
            .app
            .post(
                "/api/v1/notices",
                &f.actor(name).token,
                &json!({"scope_type": "building", "scope_id": f.id("B1"), "category": category,
                        "priority": priority, "title": "停水通知", "body": "明天停水"}),
            )
            .await;
        let got = if res.status() == StatusCode::CREATED {
            created.to_string()
        } else {
            outcome(res).await
        };
        check(
            &mut errors,
            format!("{name} drafts a {priority} {category} notice for B1"),
            &got,
            want,
        );
    }
    // The moderation queue: a notice for B1 held by S1's keyword list.
    let res = f
        .app
        .post(
            "/api/v1/content-keywords",
            &f.root,
            &json!({"street_id": f.id("S1"), "word": "集资", "verdict": "review"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "add a keyword");
    let held = notice_at(&f, "building", f.id("B1"), false).await;
    let res = f
        .app
        .patch(
            &format!("/api/v1/notices/{held}"),
            &f.root,
            &json!({"title": "楼道集资"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "retitle the held notice");
    let res = f
        .app
        .post(
            &format!("/api/v1/notices/{held}/publish"),
            &f.root,
            &json!({}),
        )
        .await;
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["status"], "pending_review", "{body}");
    let moderators = ["superadmin", "admin_s1", "staff_c1"];
    for actor in &f.actors {
        let res = f.app.get("/api/v1/moderation-queue", &actor.token).await;
        if res.status() != StatusCode::OK {
            errors.push(format!("{}: queue → {}", actor.name, outcome(res).await));
            continue;
        }
        let body: Value = res.json().await.expect("json");
        let got: Vec<String> = body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["id"].as_str().unwrap_or_default().to_string())
            .collect();
        let want = if moderators.contains(&actor.name) {
            vec![held.clone()]
        } else {
            Vec::new()
        };
        if got != want {
            errors.push(format!("{}: queue {got:?}, want {want:?}", actor.name));
        }
    }
    // Passing it: 404 where the held notice is out of sight (residents see no held notice),
    // 403 where it is seen but not moderated; the moderator last.
    for (name, want) in [
        ("nobody", NOT_FOUND),
        ("resident_h1", NOT_FOUND),
        ("leader_k2", NOT_FOUND),
        ("leader_b1", FORBIDDEN),
        ("grid_g1", FORBIDDEN),
        ("property_p1", FORBIDDEN),
        ("council_c1", FORBIDDEN),
        ("staff_c1", OK),
    ] {
        let res = f
            .app
            .post(
                &format!("/api/v1/notices/{held}/approve"),
                &f.actor(name).token,
                &json!({}),
            )
            .await;
        check(
            &mut errors,
            format!("{name} approves the held notice"),
            &outcome(res).await,
            want,
        );
    }
    // Leaders read upward but write downward only: K1 is above B1, not under it.
    let res = f
        .app
        .post(
            "/api/v1/notices",
            &f.actor("leader_b1").token,
            &json!({"scope_type": "compound", "scope_id": f.id("K1"), "category": "notice",
                    "title": "全小区", "body": "正文"}),
        )
        .await;
    check(
        &mut errors,
        "leader_b1 drafts for K1".into(),
        &outcome(res).await,
        NOT_FOUND,
    );
    report(errors);
}

#[tokio::test]
async fn content_keywords_and_checks_follow_the_streets_each_role_belongs_to() {
    let f = fixture().await;
    let mut errors = Vec::new();
    // Who keeps which street's keyword list; everyone else with a role in a street may check
    // text there, and sees the list as 403; a street they have no role in is 404.
    let keeps = |actor: &str, street: &str| match actor {
        "superadmin" => true,
        "admin_s1" | "staff_c1" => street == "S1",
        _ => false,
    };
    let belongs = |actor: &str, street: &str| match actor {
        "superadmin" => true,
        "nobody" => false,
        _ => street == "S1",
    };
    let mut seeded = Vec::new();
    for street in ["S1", "S2"] {
        let res = f
            .app
            .post(
                "/api/v1/content-keywords",
                &f.root,
                &json!({"street_id": f.id(street), "word": format!("seed-{street}"), "verdict": "review"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        seeded.push((street, id_of(&res.json().await.expect("keyword"))));
    }
    for actor in &f.actors {
        for (street, seed) in &seeded {
            let who = format!("{} {street}", actor.name);
            let sid = f.id(street);
            let (keep, belong) = (keeps(actor.name, street), belongs(actor.name, street));
            let refused = if belong { FORBIDDEN } else { NOT_FOUND };

            let res = f
                .app
                .post(
                    "/api/v1/content-check",
                    &actor.token,
                    &json!({"street_id": sid, "body": "seed-S1 你好"}),
                )
                .await;
            let want = if belong { OK } else { NOT_FOUND };
            check(
                &mut errors,
                format!("{who}: check"),
                &outcome(res).await,
                want,
            );

            let res = f
                .app
                .get(
                    &format!("/api/v1/content-keywords?street_id={sid}"),
                    &actor.token,
                )
                .await;
            if keep && res.status() == StatusCode::OK {
                let body: Value = res.json().await.expect("list");
                let items = body["items"].as_array().expect("items");
                if items.iter().any(|i| i["street_id"] != sid.to_string()) {
                    errors.push(format!("{who}: the list shows another street's words"));
                }
            } else {
                let want = if keep { OK } else { refused };
                check(
                    &mut errors,
                    format!("{who}: list"),
                    &outcome(res).await,
                    want,
                );
            }

            let word = format!("{}-{street}", actor.name);
            let res = f
                .app
                .post(
                    "/api/v1/content-keywords",
                    &actor.token,
                    &json!({"street_id": sid, "word": word, "verdict": "risky"}),
                )
                .await;
            if keep && res.status() == StatusCode::CREATED {
                let id = id_of(&res.json().await.expect("keyword"));
                let got = outcome(
                    f.app
                        .delete(&format!("/api/v1/content-keywords/{id}"), &actor.token)
                        .await,
                )
                .await;
                check(&mut errors, format!("{who}: delete own"), &got, "204");
            } else {
                let want = if keep { "201" } else { refused };
                check(
                    &mut errors,
                    format!("{who}: create"),
                    &outcome(res).await,
                    want,
                );
                let got = outcome(
                    f.app
                        .delete(&format!("/api/v1/content-keywords/{seed}"), &actor.token)
                        .await,
                )
                .await;
                check(&mut errors, format!("{who}: delete"), &got, refused);
            }
        }
    }
    report(errors);
}

/// Who reads office terms (`OfficeRead`: admin, community staff, grid managers, council
/// members, downward) and who appoints and ends them (`OfficeManage`: admin, community staff).
/// One term per compound; lists agree with object reads; appointing and ending answer 404
/// outside the reach, 403 without the right, 2xx with it.
#[tokio::test]
async fn office_terms_are_read_and_managed_by_exactly_the_roles_that_may() {
    let f = fixture().await;
    let mut errors = Vec::new();
    let steward = |compound: Uuid| {
        json!({"body": "neighbour_steward", "position": "邻里大管家", "scope_type": "compound",
               "scope_id": compound, "display_name": "张大伯", "starts_on": "2026-01-01",
               "grants_role": false})
    };
    let mut terms: Vec<(&str, Uuid)> = Vec::new();
    for k in ["K1", "K2", "K3", "K4"] {
        let id = f
            .app
            .create(&f.root, "office-terms", steward(f.id(k)))
            .await;
        terms.push((k, id));
    }
    let label = |id: &str| {
        terms
            .iter()
            .find(|(_, t)| t.to_string() == id)
            .map_or_else(|| format!("?{id}"), |(k, _)| k.to_string())
    };
    // (actor, compounds whose terms it reads, whether it manages offices)
    let expect: &[(&str, &[&str], bool)] = &[
        ("superadmin", &["K1", "K2", "K3", "K4"], true),
        ("admin_s1", &["K1", "K2", "K3"], true),
        ("staff_c1", &["K1", "K2"], true),
        ("grid_g1", &["K1"], false),
        ("property_p1", &[], false),
        ("council_c1", &["K1", "K2"], false),
        ("leader_b1", &[], false),
        ("leader_k2", &[], false),
        ("resident_h1", &[], false),
        ("nobody", &[], false),
    ];
    assert_eq!(expect.len(), f.actors.len(), "every actor is in the table");
    for (name, reads, manages) in expect {
        let actor = f.actor(name);
        let res = f
            .app
            .get("/api/v1/office-terms?limit=100", &actor.token)
            .await;
        let listed: BTreeSet<String> = if res.status() == StatusCode::OK {
            let body: Value = res.json().await.expect("list body");
            body["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| label(i["id"].as_str().expect("id")))
                .collect()
        } else {
            errors.push(format!("{name}: list → {}", outcome(res).await));
            BTreeSet::new()
        };
        let want: BTreeSet<String> = reads.iter().map(|s| s.to_string()).collect();
        check(
            &mut errors,
            format!("{name}: office-terms list"),
            &format!("{listed:?}"),
            &format!("{want:?}"),
        );
        for (k, id) in &terms {
            let sees = reads.contains(k);
            let got = outcome(
                f.app
                    .get(&format!("/api/v1/office-terms/{id}"), &actor.token)
                    .await,
            )
            .await;
            check(
                &mut errors,
                format!("{name}: GET term on {k}"),
                &got,
                if sees { OK } else { NOT_FOUND },
            );
            if !*manages {
                // Ending needs the right; a term outside the reach is not there at all.
                let got = outcome(
                    f.app
                        .post(
                            &format!("/api/v1/office-terms/{id}/end"),
                            &actor.token,
                            &json!({"reason": "试"}),
                        )
                        .await,
                )
                .await;
                check(
                    &mut errors,
                    format!("{name}: end term on {k}"),
                    &got,
                    if sees { FORBIDDEN } else { NOT_FOUND },
                );
            }
        }
    }
    // Then the appointments (after every read, so the new terms do not change the lists):
    // 404 unless the caller sees the compound, 403 unless it manages offices there.
    for (name, _, manages) in expect {
        let actor = f.actor(name);
        for k in ["K1", "K2", "K3", "K4"] {
            let sees_compound = actor.visible.contains(k);
            let want = if !sees_compound {
                NOT_FOUND
            } else if *manages {
                "201"
            } else {
                FORBIDDEN
            };
            let got = outcome(
                f.app
                    .post("/api/v1/office-terms", &actor.token, &steward(f.id(k)))
                    .await,
            )
            .await;
            check(&mut errors, format!("{name}: appoint on {k}"), &got, want);
        }
    }
    report(errors);
}

/// Creates a poll at `(scope_type, scope_id)` as the superadmin and opens it (a draft when
/// `open` is false); returns its id.
async fn poll_at(f: &Fixture, scope_type: &str, scope_id: Uuid, open: bool) -> String {
    let now = f.app.state.clock.now();
    let res = f
        .app
        .post(
            "/api/v1/polls",
            &f.root,
            &json!({"scope_type": scope_type, "scope_id": scope_id, "title": format!("{scope_type}投票"),
                    "secrecy": "secret", "unit": "resident", "preset": "simple_majority",
                    "opens_at": now.to_rfc3339(),
                    "closes_at": (now + chrono::Duration::days(1)).to_rfc3339(),
                    "questions": [{"title": "是否同意", "kind": "yes_no_abstain"}]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "create a poll");
    let id = id_of(&res.json().await.expect("json")).to_string();
    if open {
        let res = f
            .app
            .post(&format!("/api/v1/polls/{id}/open"), &f.root, &json!({}))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "open a poll");
    }
    id
}

/// Polls (§A8, §0.1): staff and leaders read down their reach (drafts included); residents,
/// and leaders, grid managers, council members and community staff for the places above them,
/// read the polls addressed upward of their assignment once scheduled; property staff none;
/// never a neighbour's. Lists and reads by id agree. Creating a poll for a building: 404 out of
/// sight, 403 in sight without `PollManage`, 201 for staff and the building's leader; closing
/// it likewise.
#[tokio::test]
async fn every_role_reads_and_manages_exactly_the_polls_its_reach_allows() {
    let f = fixture().await;
    let mut labels: Vec<(&str, String)> = Vec::new();
    for (label, scope_type, place) in [
        ("P_S1", "street", "S1"),
        ("P_S2", "street", "S2"),
        ("P_C1", "community", "C1"),
        ("P_C2", "community", "C2"),
        ("P_K1", "compound", "K1"),
        ("P_K2", "compound", "K2"),
        ("P_B1", "building", "B1"),
        ("P_B2a", "building", "B2a"),
        ("P_B2b", "building", "B2b"),
        ("P_B4", "building", "B4"),
    ] {
        labels.push((label, poll_at(&f, scope_type, f.id(place), true).await));
    }
    labels.push(("D_B1", poll_at(&f, "building", f.id("B1"), false).await));
    let label_of = |id: &str| {
        labels
            .iter()
            .find(|(_, i)| i == id)
            .map_or_else(|| format!("?{id}"), |(l, _)| l.to_string())
    };
    let every: Vec<&str> = labels.iter().map(|(l, _)| *l).collect();
    let expected: &[(&str, &[&str])] = &[
        ("superadmin", &every),
        (
            "admin_s1",
            &[
                "P_S1", "P_C1", "P_C2", "P_K1", "P_K2", "P_B1", "P_B2a", "P_B2b", "D_B1",
            ],
        ),
        (
            "staff_c1",
            &[
                "P_S1", "P_C1", "P_K1", "P_K2", "P_B1", "P_B2a", "P_B2b", "D_B1",
            ],
        ),
        (
            "grid_g1",
            &["P_S1", "P_C1", "P_K1", "P_B1", "P_B2b", "D_B1"],
        ),
        ("property_p1", &[]),
        (
            "council_c1",
            &[
                "P_S1", "P_C1", "P_K1", "P_K2", "P_B1", "P_B2a", "P_B2b", "D_B1",
            ],
        ),
        ("leader_b1", &["P_S1", "P_C1", "P_K1", "P_B1", "D_B1"]),
        ("leader_k2", &["P_S1", "P_C1", "P_K2", "P_B2a", "P_B2b"]),
        ("resident_h1", &["P_S1", "P_C1", "P_K1", "P_B1"]),
        ("nobody", &[]),
    ];
    let mut errors = Vec::new();
    for (name, want) in expected {
        let actor = f.actor(name);
        let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
        let res = f.app.get("/api/v1/polls?limit=100", &actor.token).await;
        if res.status() != StatusCode::OK {
            errors.push(format!("{name}: list → {}", outcome(res).await));
            continue;
        }
        let body: Value = res.json().await.expect("json");
        let got: BTreeSet<String> = body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| label_of(i["id"].as_str().expect("id")))
            .collect();
        if got != want {
            errors.push(format!("{name}: lists {got:?}, want {want:?}"));
        }
        for (label, id) in &labels {
            let got = outcome(
                f.app
                    .get(&format!("/api/v1/polls/{id}"), &actor.token)
                    .await,
            )
            .await;
            let expect = if want.contains(*label) { OK } else { NOT_FOUND };
            check(&mut errors, format!("{name} reads {label}"), &got, expect);
        }
    }
    let created = "201";
    for (name, want) in [
        ("superadmin", created),
        ("admin_s1", created),
        ("staff_c1", created),
        ("grid_g1", FORBIDDEN),
        ("property_p1", FORBIDDEN),
        ("council_c1", FORBIDDEN),
        ("leader_b1", created),
        ("leader_k2", NOT_FOUND),
        ("resident_h1", NOT_FOUND),
        ("nobody", NOT_FOUND),
    ] {
        let now = f.app.state.clock.now();
        let res = f
            .app
            .post(
                "/api/v1/polls",
                &f.actor(name).token,
                &json!({"scope_type": "building", "scope_id": f.id("B1"), "title": "楼道议题",
                        "secrecy": "open", "unit": "household", "preset": "simple_majority",
                        "opens_at": now.to_rfc3339(),
                        "closes_at": (now + chrono::Duration::days(1)).to_rfc3339()}),
            )
            .await;
        let got = if res.status() == StatusCode::CREATED {
            created.to_string()
        } else {
            outcome(res).await
        };
        check(
            &mut errors,
            format!("{name} creates a poll for B1"),
            &got,
            want,
        );
    }
    // Closing the B1 poll: 404 out of sight, 403 in sight without the right; its leader last.
    let b1 = labels
        .iter()
        .find(|(l, _)| *l == "P_B1")
        .map(|(_, id)| id.clone())
        .expect("P_B1");
    for (name, want) in [
        ("nobody", NOT_FOUND),
        ("leader_k2", NOT_FOUND),
        ("property_p1", NOT_FOUND),
        ("resident_h1", FORBIDDEN),
        ("grid_g1", FORBIDDEN),
        ("council_c1", FORBIDDEN),
        ("leader_b1", OK),
    ] {
        let res = f
            .app
            .post(
                &format!("/api/v1/polls/{b1}/close"),
                &f.actor(name).token,
                &json!({}),
            )
            .await;
        check(
            &mut errors,
            format!("{name} closes P_B1"),
            &outcome(res).await,
            want,
        );
    }
    report(errors);
}

/// Opens a fund account on `(scope_type, scope_id)` as the superadmin.
async fn fund_account_at(f: &Fixture, scope_type: &str, scope_id: Uuid) -> String {
    let id = f
        .app
        .create(
            &f.root,
            "fund-accounts",
            json!({"scope_type": scope_type, "scope_id": scope_id, "name": "专项补助",
                   "kind": "grant"}),
        )
        .await;
    id.to_string()
}

/// Fund accounts on C1, C2, K1, K2 and K4: every role reads those down its reach and, through
/// the audience reach, those of the places above it (a resident of H1: C1 and K1; property
/// staff none). Lists and reads by id (the account, its ledger, its verification) agree.
/// Recording income on K1's account: 404 outside the reach, 403 for readers who may not record,
/// 201 for admins and community staff; approving a request there: 200 for admins, community
/// staff and council members.
#[tokio::test]
async fn every_role_reads_and_keeps_exactly_the_fund_accounts_the_table_allows() {
    let f = fixture().await;
    let mut labels: Vec<(&str, String)> = Vec::new();
    for (label, scope_type, place) in [
        ("F_C1", "community", "C1"),
        ("F_C2", "community", "C2"),
        ("F_K1", "compound", "K1"),
        ("F_K2", "compound", "K2"),
        ("F_K4", "compound", "K4"),
    ] {
        labels.push((label, fund_account_at(&f, scope_type, f.id(place)).await));
    }
    let label_of = |id: &str| {
        labels
            .iter()
            .find(|(_, i)| i == id)
            .map_or_else(|| format!("?{id}"), |(l, _)| l.to_string())
    };
    let every: Vec<&str> = labels.iter().map(|(l, _)| *l).collect();
    let expected: &[(&str, &[&str])] = &[
        ("superadmin", &every),
        ("admin_s1", &["F_C1", "F_C2", "F_K1", "F_K2"]),
        ("staff_c1", &["F_C1", "F_K1", "F_K2"]),
        ("grid_g1", &["F_C1", "F_K1"]),
        ("property_p1", &[]),
        ("council_c1", &["F_C1", "F_K1", "F_K2"]),
        ("leader_b1", &["F_C1", "F_K1"]),
        ("leader_k2", &["F_C1", "F_K2"]),
        ("resident_h1", &["F_C1", "F_K1"]),
        ("nobody", &[]),
    ];
    let mut errors = Vec::new();
    for (name, want) in expected {
        let actor = f.actor(name);
        let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
        let res = f
            .app
            .get("/api/v1/fund-accounts?limit=100", &actor.token)
            .await;
        if res.status() != StatusCode::OK {
            errors.push(format!("{name}: list → {}", outcome(res).await));
            continue;
        }
        let body: Value = res.json().await.expect("json");
        let got: BTreeSet<String> = body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| label_of(i["id"].as_str().expect("id")))
            .collect();
        if got != want {
            errors.push(format!("{name}: lists {got:?}, want {want:?}"));
        }
        for (label, id) in &labels {
            for suffix in ["", "/entries", "/verify"] {
                let got = outcome(
                    f.app
                        .get(&format!("/api/v1/fund-accounts/{id}{suffix}"), &actor.token)
                        .await,
                )
                .await;
                let expect = if want.contains(*label) { OK } else { NOT_FOUND };
                check(
                    &mut errors,
                    format!("{name} reads {label}{suffix}"),
                    &got,
                    expect,
                );
            }
        }
    }
    let k1 = &labels[2].1;
    let created = "201";
    for (name, want) in [
        ("superadmin", created),
        ("admin_s1", created),
        ("staff_c1", created),
        ("grid_g1", FORBIDDEN),
        ("property_p1", NOT_FOUND),
        ("council_c1", FORBIDDEN),
        ("leader_b1", FORBIDDEN),
        ("leader_k2", NOT_FOUND),
        ("resident_h1", FORBIDDEN),
        ("nobody", NOT_FOUND),
    ] {
        let res = f
            .app
            .post(
                &format!("/api/v1/fund-accounts/{k1}/income"),
                &f.actor(name).token,
                &json!({"kind": "contribution", "amount_fen": 100, "counterparty_kind": "government",
                        "counterparty_name": "街道办", "occurred_on": "2026-11-20"}),
            )
            .await;
        let got = if res.status() == StatusCode::CREATED {
            created.to_string()
        } else {
            outcome(res).await
        };
        check(
            &mut errors,
            format!("{name} records income on F_K1"),
            &got,
            want,
        );
    }
    for (name, want) in [
        ("superadmin", OK),
        ("admin_s1", OK),
        ("staff_c1", OK),
        ("council_c1", OK),
        ("grid_g1", FORBIDDEN),
        ("property_p1", NOT_FOUND),
        ("leader_b1", FORBIDDEN),
        ("leader_k2", NOT_FOUND),
        ("resident_h1", FORBIDDEN),
        ("nobody", NOT_FOUND),
    ] {
        // Filed by someone else than the approver (the requester may never approve).
        let filer = if name == "superadmin" {
            &f.actor("admin_s1").token
        } else {
            &f.root
        };
        let expense = f
            .app
            .create(
                filer,
                "fund-expenses",
                json!({"account_id": k1, "amount_fen": 10, "payee_kind": "business",
                       "payee_name": "五金店", "purpose": "螺丝"}),
            )
            .await;
        let got = outcome(
            f.app
                .post(
                    &format!("/api/v1/fund-expenses/{expense}/approve"),
                    &f.actor(name).token,
                    &json!({}),
                )
                .await,
        )
        .await;
        check(&mut errors, format!("{name} approves on F_K1"), &got, want);
    }
    report(errors);
}

/// Who reads elections (`ElectionRead`: staff and leaders down their reach once past the
/// draft, residents and leaders up their audience reach; drafts only to those who run them) and
/// who runs them (`ElectionManage`: admin, community staff). One election per compound, those
/// of K1 and K3 cancelled (past the draft); lists agree with object reads; a verb answers 404
/// outside the reach and 403 without the right.
#[tokio::test]
async fn elections_are_read_and_run_by_exactly_the_roles_that_may() {
    let f = fixture().await;
    let mut errors = Vec::new();
    let at = |days: i64| (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339();
    let steward = |compound: Uuid| {
        json!({"scope_type": "compound", "scope_id": compound, "body": "neighbour_steward",
               "title": "邻里大管家推选", "method": "direct", "term_years": 2,
               "voting_starts_at": at(30), "voting_ends_at": at(31),
               "positions": [{"position": "邻里大管家", "seats": 1}]})
    };
    let mut elections: Vec<(&str, Uuid)> = Vec::new();
    for k in ["K1", "K2", "K3", "K4"] {
        let id = f.app.create(&f.root, "elections", steward(f.id(k))).await;
        if k == "K1" || k == "K3" {
            let res = f
                .app
                .post(
                    &format!("/api/v1/elections/{id}/cancel"),
                    &f.root,
                    &json!({"reason": "改期"}),
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK);
        }
        elections.push((k, id));
    }
    let label = |id: &str| {
        elections
            .iter()
            .find(|(_, e)| e.to_string() == id)
            .map_or_else(|| format!("?{id}"), |(k, _)| k.to_string())
    };
    // (actor, compounds whose election it reads, whether it runs elections)
    let expect: &[(&str, &[&str], bool)] = &[
        ("superadmin", &["K1", "K2", "K3", "K4"], true),
        ("admin_s1", &["K1", "K2", "K3"], true),
        ("staff_c1", &["K1", "K2"], true),
        ("grid_g1", &["K1"], false),
        ("property_p1", &[], false),
        ("council_c1", &["K1"], false),
        ("leader_b1", &["K1"], false),
        ("leader_k2", &[], false),
        ("resident_h1", &["K1"], false),
        ("nobody", &[], false),
    ];
    assert_eq!(expect.len(), f.actors.len(), "every actor is in the table");
    for (name, reads, manages) in expect {
        let actor = f.actor(name);
        let res = f.app.get("/api/v1/elections?limit=100", &actor.token).await;
        let listed: BTreeSet<String> = if res.status() == StatusCode::OK {
            let body: Value = res.json().await.expect("list body");
            body["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| label(i["id"].as_str().expect("id")))
                .collect()
        } else {
            errors.push(format!("{name}: list → {}", outcome(res).await));
            BTreeSet::new()
        };
        let want: BTreeSet<String> = reads.iter().map(|s| s.to_string()).collect();
        check(
            &mut errors,
            format!("{name}: elections list"),
            &format!("{listed:?}"),
            &format!("{want:?}"),
        );
        for (k, id) in &elections {
            let sees = reads.contains(k);
            let got = outcome(
                f.app
                    .get(&format!("/api/v1/elections/{id}"), &actor.token)
                    .await,
            )
            .await;
            check(
                &mut errors,
                format!("{name}: GET election on {k}"),
                &got,
                if sees { OK } else { NOT_FOUND },
            );
            // The roll and the result sheet are for those who run it: none of these elections
            // has published a roll (409) or results (404) yet.
            let got = outcome(
                f.app
                    .get(&format!("/api/v1/elections/{id}/roll"), &actor.token)
                    .await,
            )
            .await;
            let want = match (sees, *manages) {
                (false, _) => NOT_FOUND,
                (true, true) => "409 wrong_status",
                (true, false) => FORBIDDEN,
            };
            check(
                &mut errors,
                format!("{name}: election roll on {k}"),
                &got,
                want,
            );
            let got = outcome(
                f.app
                    .get(
                        &format!("/api/v1/elections/{id}/results.xlsx"),
                        &actor.token,
                    )
                    .await,
            )
            .await;
            let want = if sees && !*manages {
                FORBIDDEN
            } else {
                NOT_FOUND
            };
            check(
                &mut errors,
                format!("{name}: election sheet on {k}"),
                &got,
                want,
            );
            if !*manages {
                let got = outcome(
                    f.app
                        .post(
                            &format!("/api/v1/elections/{id}/cancel"),
                            &actor.token,
                            &json!({"reason": "试"}),
                        )
                        .await,
                )
                .await;
                check(
                    &mut errors,
                    format!("{name}: cancel election on {k}"),
                    &got,
                    if sees { FORBIDDEN } else { NOT_FOUND },
                );
            }
        }
    }
    report(errors);
}

/// Records a proposal at `(scope_type, scope_id)` as the superadmin (on a resident's behalf,
/// by visit); returns its id.
async fn proposal_at(f: &Fixture, scope_type: &str, scope_id: Uuid) -> String {
    let res = f
        .app
        .post(
            "/api/v1/proposals",
            &f.root,
            &json!({"scope_type": scope_type, "scope_id": scope_id, "title": format!("{scope_type}议题"),
                    "body": "居民走访时反映的问题", "category": "环境", "channel": "visit"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "create a proposal");
    id_of(&res.json().await.expect("json")).to_string()
}

/// Proposals (§A8, §0.1): staff and leaders read down their reach, property staff the compounds
/// they serve; residents, and every role reading upward, the proposals addressed to the places
/// at and above their assignment; never a neighbour building's. Lists and reads by id agree.
/// Accepting a building's proposal: 404 out of sight, 403 in sight without `ProposalAdvance`
/// (and for a leader, unless it is a small matter), 200 for its leader with `small`.
#[tokio::test]
async fn every_role_reads_and_moves_exactly_the_proposals_its_reach_allows() {
    let f = fixture().await;
    let mut labels: Vec<(&str, String)> = Vec::new();
    for (label, scope_type, place) in [
        ("P_C1", "community", "C1"),
        ("P_C2", "community", "C2"),
        ("P_K1", "compound", "K1"),
        ("P_K2", "compound", "K2"),
        ("P_B1", "building", "B1"),
        ("P_B2a", "building", "B2a"),
        ("P_B2b", "building", "B2b"),
        ("P_B4", "building", "B4"),
    ] {
        labels.push((label, proposal_at(&f, scope_type, f.id(place)).await));
    }
    let label_of = |id: &str| {
        labels
            .iter()
            .find(|(_, i)| i == id)
            .map_or_else(|| format!("?{id}"), |(l, _)| l.to_string())
    };
    let every: Vec<&str> = labels.iter().map(|(l, _)| *l).collect();
    let expected: &[(&str, &[&str])] = &[
        ("superadmin", &every),
        (
            "admin_s1",
            &["P_C1", "P_C2", "P_K1", "P_K2", "P_B1", "P_B2a", "P_B2b"],
        ),
        (
            "staff_c1",
            &["P_C1", "P_K1", "P_K2", "P_B1", "P_B2a", "P_B2b"],
        ),
        ("grid_g1", &["P_C1", "P_K1", "P_B1", "P_B2b"]),
        ("property_p1", &["P_K1", "P_B1"]),
        (
            "council_c1",
            &["P_C1", "P_K1", "P_K2", "P_B1", "P_B2a", "P_B2b"],
        ),
        ("leader_b1", &["P_C1", "P_K1", "P_B1"]),
        ("leader_k2", &["P_C1", "P_K2", "P_B2a", "P_B2b"]),
        ("resident_h1", &["P_C1", "P_K1", "P_B1"]),
        ("nobody", &[]),
    ];
    let mut errors = Vec::new();
    for (name, want) in expected {
        let actor = f.actor(name);
        let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
        let res = f.app.get("/api/v1/proposals?limit=100", &actor.token).await;
        if res.status() != StatusCode::OK {
            errors.push(format!("{name}: list → {}", outcome(res).await));
            continue;
        }
        let body: Value = res.json().await.expect("json");
        let got: BTreeSet<String> = body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| label_of(i["id"].as_str().expect("id")))
            .collect();
        if got != want {
            errors.push(format!("{name}: lists {got:?}, want {want:?}"));
        }
        // The stats count exactly what the list shows.
        let res = f.app.get("/api/v1/proposals/stats", &actor.token).await;
        let stats: Value = res.json().await.expect("json");
        if stats["total"].as_u64() != Some(want.len() as u64) {
            errors.push(format!(
                "{name}: stats total {}, want {}",
                stats["total"],
                want.len()
            ));
        }
        // The 协商台账: those who record proposals on residents' behalf; never residents or
        // property staff.
        let res = f.app.get("/api/v1/proposals/export", &actor.token).await;
        let expect = if matches!(*name, "resident_h1" | "property_p1" | "nobody") {
            FORBIDDEN
        } else {
            OK
        };
        check(
            &mut errors,
            format!("{name} exports the 协商台账"),
            &outcome(res).await,
            expect,
        );
        for (label, id) in &labels {
            for path in [
                format!("/api/v1/proposals/{id}"),
                format!("/api/v1/proposals/{id}/timeline"),
                format!("/api/v1/proposals/{id}/revisions"),
            ] {
                let got = outcome(f.app.get(&path, &actor.token).await).await;
                let expect = if want.contains(*label) { OK } else { NOT_FOUND };
                check(
                    &mut errors,
                    format!("{name} reads {path} ({label})"),
                    &got,
                    expect,
                );
            }
        }
    }
    let b1 = labels
        .iter()
        .find(|(l, _)| *l == "P_B1")
        .map(|(_, id)| id.clone())
        .expect("P_B1");
    let note = "议事会受理";
    for (name, tier, want) in [
        ("nobody", "ordinary", NOT_FOUND),
        ("leader_k2", "small", NOT_FOUND),
        ("resident_h1", "small", FORBIDDEN),
        ("grid_g1", "small", FORBIDDEN),
        ("property_p1", "small", FORBIDDEN),
        ("leader_b1", "ordinary", FORBIDDEN),
        ("leader_b1", "small", OK),
    ] {
        let res = f
            .app
            .post(
                &format!("/api/v1/proposals/{b1}/accept"),
                &f.actor(name).token,
                &json!({"tier": tier, "note": note}),
            )
            .await;
        check(
            &mut errors,
            format!("{name} accepts P_B1 as {tier}"),
            &outcome(res).await,
            want,
        );
    }
    // Referring (the same who accept): 404 out of sight, 403 in sight without the right (a
    // leader's only for small matters, which are never referred), and for staff the guards of
    // a community-wide proposal with no tier.
    let c1 = labels
        .iter()
        .find(|(l, _)| *l == "P_C1")
        .map(|(_, id)| id.clone())
        .expect("P_C1");
    for (name, want) in [
        ("nobody", NOT_FOUND),
        ("property_p1", NOT_FOUND),
        ("resident_h1", FORBIDDEN),
        ("grid_g1", FORBIDDEN),
        ("leader_b1", FORBIDDEN),
        ("staff_c1", "409 guard_failed"),
        ("council_c1", "409 guard_failed"),
    ] {
        let res = f
            .app
            .post(
                &format!("/api/v1/proposals/{c1}/refer"),
                &f.actor(name).token,
                &json!({"to": "street"}),
            )
            .await;
        check(
            &mut errors,
            format!("{name} refers P_C1"),
            &outcome(res).await,
            want,
        );
    }
    // Supporting: residents in the audience only.
    let k1 = labels
        .iter()
        .find(|(l, _)| *l == "P_K1")
        .map(|(_, id)| id.clone())
        .expect("P_K1");
    for (name, want) in [
        ("nobody", NOT_FOUND),
        ("leader_k2", NOT_FOUND),
        ("staff_c1", FORBIDDEN),
        ("council_c1", FORBIDDEN),
        ("resident_h1", "204"),
    ] {
        let res = f
            .app
            .post(
                &format!("/api/v1/proposals/{k1}/support"),
                &f.actor(name).token,
                &json!({}),
            )
            .await;
        let got = if res.status() == StatusCode::NO_CONTENT {
            "204".to_string()
        } else {
            outcome(res).await
        };
        check(&mut errors, format!("{name} supports P_K1"), &got, want);
    }
    report(errors);
}

/// Comments (§A2, §A8 rows Comment and Moderate) on a notice to C1: whoever reads the notice
/// comments on it and reads its comments (404 for the others); a held comment waits in the
/// queue of exactly the moderators (administrators, community staff, council members) of C1;
/// hiding and unhiding are 404 out of sight, 403 in sight without the right, 200 for a
/// moderator; deleting is the author's alone.
#[tokio::test]
async fn comments_are_written_read_and_moderated_by_exactly_the_roles_that_may() {
    let f = fixture().await;
    let notice = notice_at(&f, "community", f.id("C1"), true).await;
    let path = format!("/api/v1/notices/{notice}/comments");
    let readers = [
        "superadmin",
        "admin_s1",
        "staff_c1",
        "grid_g1",
        "council_c1",
        "leader_b1",
        "leader_k2",
        "resident_h1",
    ];
    let mut errors = Vec::new();
    let mut by_resident = String::new();
    for actor in &f.actors {
        let reads = readers.contains(&actor.name);
        let res = f
            .app
            .post(&path, &actor.token, &json!({"body": "我有个想法"}))
            .await;
        let got = if res.status() == StatusCode::CREATED {
            let v: Value = res.json().await.expect("json");
            if actor.name == "resident_h1" {
                by_resident = v["id"].as_str().expect("id").to_string();
            }
            "201".to_string()
        } else {
            outcome(res).await
        };
        let want = if reads { "201" } else { NOT_FOUND };
        check(&mut errors, format!("{} comments", actor.name), &got, want);
        let got = outcome(f.app.get(&path, &actor.token).await).await;
        let want = if reads { OK } else { NOT_FOUND };
        check(
            &mut errors,
            format!("{} lists comments", actor.name),
            &got,
            want,
        );
    }
    let moderators = ["superadmin", "admin_s1", "staff_c1", "council_c1"];
    // Hiding the resident's comment: out of sight 404, in sight without the right 403.
    for actor in f.actors.iter().filter(|a| !moderators.contains(&a.name)) {
        let res = f
            .app
            .post(
                &format!("/api/v1/comments/{by_resident}/hide"),
                &actor.token,
                &json!({"reason": "测试"}),
            )
            .await;
        let want = if readers.contains(&actor.name) {
            FORBIDDEN
        } else {
            NOT_FOUND
        };
        check(
            &mut errors,
            format!("{} hides", actor.name),
            &outcome(res).await,
            want,
        );
    }
    for (i, name) in moderators.iter().enumerate() {
        let verb = if i % 2 == 0 { "hide" } else { "unhide" };
        let res = f
            .app
            .post(
                &format!("/api/v1/comments/{by_resident}/{verb}"),
                &f.actor(name).token,
                &json!({"reason": "核实"}),
            )
            .await;
        check(
            &mut errors,
            format!("{name} {verb}s"),
            &outcome(res).await,
            OK,
        );
    }
    // Deleting: the author's alone.
    for (name, want) in [
        ("nobody", NOT_FOUND),
        ("property_p1", NOT_FOUND),
        ("staff_c1", FORBIDDEN),
        ("leader_b1", FORBIDDEN),
        ("resident_h1", "204"),
    ] {
        let res = f
            .app
            .delete(
                &format!("/api/v1/comments/{by_resident}"),
                &f.actor(name).token,
            )
            .await;
        let got = if res.status() == StatusCode::NO_CONTENT {
            "204".to_string()
        } else {
            outcome(res).await
        };
        check(&mut errors, format!("{name} deletes"), &got, want);
    }
    // A comment the street's keyword list holds waits for C1's moderators only.
    let res = f
        .app
        .post(
            "/api/v1/content-keywords",
            &f.root,
            &json!({"street_id": f.id("S1"), "word": "集资", "verdict": "review"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "add a keyword");
    let res = f
        .app
        .post(
            &path,
            &f.actor("resident_h1").token,
            &json!({"body": "楼道集资"}),
        )
        .await;
    let held: Value = res.json().await.expect("json");
    assert_eq!(held["status"], "pending_review", "{held}");
    for actor in &f.actors {
        let res = f.app.get("/api/v1/moderation/queue", &actor.token).await;
        if res.status() != StatusCode::OK {
            errors.push(format!("{}: queue → {}", actor.name, outcome(res).await));
            continue;
        }
        let body: Value = res.json().await.expect("json");
        let got: Vec<&str> = body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["id"].as_str().unwrap_or_default())
            .collect();
        let want: Vec<&str> = if moderators.contains(&actor.name) {
            vec![held["id"].as_str().expect("id")]
        } else {
            Vec::new()
        };
        if got != want {
            errors.push(format!("{}: queue {got:?}, want {want:?}", actor.name));
        }
    }
    report(errors);
}
