//! Proposals (议题) through HTTP, the six steps 提议决筹办评: proposing in one's own place,
//! supports once per household even from two members at once, every verb's step and guards, the
//! decision poll on a frozen revision and its close moving the proposal exactly once, the
//! implementation, acceptance, evaluation and close; scope (a building's proposal is its own).

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::ticket_world::{member, uname};

/// Street S ⊃ community C ⊃ compound K ⊃ building B1 (households H1, H1b) and building B2
/// (household H2). Staff and council members of C; two members of H1, one of H1b, one of H2.
pub struct Forum {
    pub app: TestApp,
    pub community: Uuid,
    pub compound: Uuid,
    pub b1: Uuid,
    pub b2: Uuid,
    pub staff: String,
    pub council: String,
    pub council2: String,
    /// Two members of H1.
    pub r1: String,
    pub r1b: String,
    /// A member of H1b (same building).
    pub r2: String,
    pub r2_id: Uuid,
    /// A member of H2 (the neighbour building).
    pub r3: String,
}

pub async fn forum() -> Forum {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "议事").await;
    let h1b = app
        .create(
            &root,
            "households",
            json!({"building_id": t.building, "unit": "1单元", "room": "102"}),
        )
        .await;
    let b2 = app
        .create(
            &root,
            "buildings",
            json!({"compound_id": t.compound, "name": "2幢"}),
        )
        .await;
    let h2 = app
        .create(
            &root,
            "households",
            json!({"building_id": b2, "unit": "1单元", "room": "201"}),
        )
        .await;
    let m = |role: &'static str, scope: &'static str, id: Uuid| {
        let (app, root) = (&app, root.clone());
        async move { member(app, &root, &uname("p"), role, scope, id).await }
    };
    let (r1, _) = voter(&app, &root, t.household, "王一").await;
    let (r2, r2_id) = voter(&app, &root, h1b, "李二").await;
    let (r1b, _) = voter(&app, &root, t.household, "王三").await;
    let (r3, _) = voter(&app, &root, h2, "赵四").await;
    Forum {
        staff: m("community_staff", "community", t.community).await.0,
        council: m("council_member", "community", t.community).await.0,
        council2: m("council_member", "community", t.community).await.0,
        r1,
        r1b,
        r2,
        r2_id,
        r3,
        community: t.community,
        compound: t.compound,
        b1: t.building,
        b2,
        app,
    }
}

/// An adult roster entry of `household` named `name`, with an account bound to it (a resident
/// of the household): (token, user id).
pub async fn voter(app: &TestApp, root: &str, household: Uuid, name: &str) -> (String, Uuid) {
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let rid = app
        .create(
            root,
            "residents",
            json!({"household_id": household, "name": name, "birth_date": "1980-01-01"}),
        )
        .await;
    let (token, user_id) = member(app, root, &uname("v"), "resident", "household", household).await;
    let mut r: entity::resident::ActiveModel = entity::resident::Entity::find_by_id(rid)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .into();
    r.user_id = Set(Some(user_id));
    r.update(&app.state.db).await.unwrap();
    (token, user_id)
}

/// The body of `res`, asserting its status.
pub async fn body(res: reqwest::Response, want: u16) -> Value {
    let status = res.status();
    let text = res.text().await.expect("body");
    assert_eq!(status.as_u16(), want, "{text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("json")
    }
}

impl Forum {
    /// A proposal by `token` for `scope`.
    pub async fn propose(
        &self,
        token: &str,
        scope_type: &str,
        scope_id: Uuid,
        title: &str,
    ) -> Value {
        let res = self
            .app
            .post(
                "/api/v1/proposals",
                token,
                &json!({
                    "scope_type": scope_type, "scope_id": scope_id, "title": title,
                    "body": "楼道里堆放杂物，建议统一清理并设置公共储物区。", "category": "环境",
                }),
            )
            .await;
        body(res, 201).await
    }

    /// POST `verb` on proposal `id` with `b` (and If-Match of `version` when given).
    pub async fn verb(
        &self,
        token: &str,
        id: Uuid,
        verb: &str,
        b: Value,
        version: Option<i64>,
    ) -> reqwest::Response {
        let mut req = self
            .app
            .request(
                Method::POST,
                &format!("/api/v1/proposals/{id}/{verb}"),
                Some(token),
            )
            .json(&b);
        if let Some(v) = version {
            req = req.header("If-Match", format!("\"{v}\""));
        }
        req.send().await.expect("request")
    }

    pub async fn get(&self, token: &str, id: Uuid) -> Value {
        body(
            self.app
                .get(&format!("/api/v1/proposals/{id}"), token)
                .await,
            200,
        )
        .await
    }

    /// The unmet guards of a 409 `guard_failed`, by name.
    pub async fn guards(&self, res: reqwest::Response) -> Vec<String> {
        let v = assert_problem(res, 409, "guard_failed").await;
        v["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["field"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

#[tokio::test]
async fn a_resident_proposes_for_their_own_building_and_reads_it_with_names() {
    let f = forum().await;
    let p = f.propose(&f.r1, "building", f.b1, "清理楼道杂物").await;
    assert_eq!(p["step"], "proposed");
    assert_eq!(p["step_label"], "提议");
    assert_eq!(p["scope_name"], "1幢");
    assert_eq!(p["community_name"], "议事社区");
    assert!(
        p["author_display"].as_str().unwrap().starts_with("1幢 "),
        "{p}"
    );
    assert_eq!(p["is_mine"], true);
    assert_eq!(p["tracker"].as_array().unwrap().len(), 6);
    assert_eq!(p["tracker"][0]["state"], "current");
    assert!(p["tracker"][0]["at"].is_string());
    // Not their building: 400 not_yours.
    let res = f
        .app
        .post(
            "/api/v1/proposals",
            &f.r1,
            &json!({"scope_type": "building", "scope_id": f.b2, "title": "别人的楼",
                    "body": "内容", "category": "环境"}),
        )
        .await;
    assert_problem(res, 400, "validation_failed").await;
    // Staff may not propose without a channel.
    let res = f
        .app
        .post(
            "/api/v1/proposals",
            &f.staff,
            &json!({"scope_type": "compound", "scope_id": f.compound, "title": "代录",
                    "body": "电话反映", "category": "停车"}),
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = f
        .app
        .post(
            "/api/v1/proposals",
            &f.staff,
            &json!({"scope_type": "compound", "scope_id": f.compound, "title": "代录",
                    "body": "电话反映", "category": "停车", "channel": "phone"}),
        )
        .await;
    let v = body(res, 201).await;
    assert_eq!(v["channel"], "phone");
}

#[tokio::test]
async fn support_counts_once_per_household_even_from_two_members() {
    let f = forum().await;
    let p = f
        .propose(&f.r2, "compound", f.compound, "增设非机动车棚")
        .await;
    let id = id_of(&p);
    // The two members of H1 press 附议 at the same moment, several times each.
    let presses = (0..6).map(|i| {
        let token = if i % 2 == 0 { &f.r1 } else { &f.r1b };
        f.verb(token, id, "support", json!({}), None)
    });
    for res in join_all(presses).await {
        assert_eq!(res.status(), 204);
    }
    let v = f.get(&f.r1, id).await;
    assert_eq!(v["supporters_count"], 1, "{v}");
    assert_eq!(v["supported"], true);
    let n = {
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        entity::proposal_support::Entity::find()
            .filter(entity::proposal_support::Column::ProposalId.eq(id))
            .count(&f.app.state.db)
            .await
            .unwrap()
    };
    assert_eq!(n, 1);
    // The author's own household does not support its proposal.
    let res = f.verb(&f.r2, id, "support", json!({}), None).await;
    assert_eq!(f.guards(res).await, vec!["household"]);
    // The household takes it back, once.
    let res = f
        .app
        .delete(&format!("/api/v1/proposals/{id}/support"), &f.r1b)
        .await;
    assert_eq!(res.status(), 204);
    let v = f.get(&f.r1, id).await;
    assert_eq!(v["supporters_count"], 0);
    // Staff do not support.
    let res = f.verb(&f.staff, id, "support", json!({}), None).await;
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn residents_see_proposals_of_their_own_building_not_the_neighbour_buildings() {
    let f = forum().await;
    let mine = id_of(&f.propose(&f.r1, "building", f.b1, "一幢楼道灯").await);
    let theirs = id_of(&f.propose(&f.r3, "building", f.b2, "二幢楼道灯").await);
    let shared = id_of(&f.propose(&f.r3, "compound", f.compound, "小区停车").await);
    let listed = |v: Value| -> Vec<Uuid> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(id_of)
            .collect::<Vec<_>>()
    };
    // r2 lives in building 1: sees building 1's and the compound's, not building 2's; the list
    // and the per-object read agree.
    let list = listed(body(f.app.get("/api/v1/proposals", &f.r2).await, 200).await);
    assert!(list.contains(&mine) && list.contains(&shared), "{list:?}");
    assert!(!list.contains(&theirs));
    assert_eq!(
        f.app
            .get(&format!("/api/v1/proposals/{mine}"), &f.r2)
            .await
            .status(),
        200
    );
    assert_problem(
        f.app
            .get(&format!("/api/v1/proposals/{theirs}"), &f.r2)
            .await,
        404,
        "not_found",
    )
    .await;
    // Supporting the neighbour building's proposal: not found either.
    let res = f.verb(&f.r2, theirs, "support", json!({}), None).await;
    assert_problem(res, 404, "not_found").await;
    // Filters: the building, mine.
    let b1 = listed(
        body(
            f.app
                .get(&format!("/api/v1/proposals?building_id={}", f.b1), &f.staff)
                .await,
            200,
        )
        .await,
    );
    assert_eq!(b1, vec![mine]);
    let own = listed(body(f.app.get("/api/v1/proposals?mine=true", &f.r3).await, 200).await);
    assert_eq!(own.len(), 2);
    assert!(!own.contains(&mine));
    // The timeline names the author masked.
    let t = body(
        f.app
            .get(&format!("/api/v1/proposals/{mine}/timeline"), &f.r2)
            .await,
        200,
    )
    .await;
    assert_eq!(t["items"][0]["kind"], "proposed");
    assert_eq!(
        t["items"][0]["actor_name"]
            .as_str()
            .map(|n| n.ends_with('*')),
        Some(true),
        "{t}"
    );
}

#[tokio::test]
async fn staff_change_the_consultation_policy_and_it_rules_acceptance() {
    let f = forum().await;
    let path = format!("/api/v1/consultation-policies/{}", f.community);
    let v = body(f.app.get(&path, &f.council).await, 200).await;
    assert_eq!(v["min_supporters"], 5);
    assert_eq!(v["is_default"], true);
    let mut b = v.clone();
    for k in ["community_id", "version", "is_default"] {
        b.as_object_mut().unwrap().remove(k);
    }
    b["min_supporters"] = json!(1);
    // Council members read it but do not change it.
    let res = f
        .app
        .request(Method::PUT, &path, Some(&f.council))
        .json(&b)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = f
        .app
        .request(Method::PUT, &path, Some(&f.staff))
        .json(&b)
        .send()
        .await
        .unwrap();
    let v = body(res, 200).await;
    assert_eq!(v["min_supporters"], 1);
    assert_eq!(v["version"], 1);
    // One household's support is enough now; the tier must be given.
    let p = f.propose(&f.r2, "compound", f.compound, "增设快递柜").await;
    let id = id_of(&p);
    assert_eq!(
        f.verb(&f.r1, id, "support", json!({}), None).await.status(),
        204
    );
    let res = f.verb(&f.staff, id, "accept", json!({}), None).await;
    assert_eq!(f.guards(res).await, vec!["tier"]);
    let res = f
        .verb(&f.staff, id, "accept", json!({"tier": "small"}), Some(9))
        .await;
    assert_problem(res, 412, "precondition_failed").await;
    let res = f
        .verb(&f.staff, id, "accept", json!({"tier": "small"}), Some(1))
        .await;
    assert_eq!(body(res, 200).await["step"], "deliberating");
    // Accepting again: wrong step.
    let res = f
        .verb(&f.staff, id, "accept", json!({"tier": "small"}), None)
        .await;
    assert_problem(res, 409, "wrong_step").await;
    // A resident's per-day limit (the policy's 3 by default; r2 has made one).
    let p2 = f.propose(&f.r2, "compound", f.compound, "二").await;
    let _ = f.propose(&f.r2, "compound", f.compound, "三").await;
    let res = f
        .app
        .post(
            "/api/v1/proposals",
            &f.r2,
            &json!({"scope_type": "compound", "scope_id": f.compound, "title": "四",
                    "body": "内容", "category": "环境"}),
        )
        .await;
    assert_problem(res, 429, "daily_filing_limit").await;
    // The author withdraws one; staff reject another with the answer.
    let res = f.verb(&f.r2, id_of(&p2), "withdraw", json!({}), None).await;
    assert_eq!(body(res, 200).await["step"], "withdrawn");
}
