//! Timelines and attachments keyed by subject (`platform::timeline`, migrations 016 and 018): a
//! ticket reads the same through the move from `ticket_events` to `timeline_events` (and from
//! `attachments.ticket_id` to its subject) and back, and a stored step this version does not
//! know is an error, never another step.

use chrono::Duration;
use migration::MigratorTrait;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::ticket_world::*;

async fn detail(app: &TestApp, token: &str, id: &Value) -> Value {
    let res = app
        .get(&format!("/api/v1/tickets/{}", id.as_str().unwrap()), token)
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let row = app
        .state
        .db
        .query_one(sea_orm::Statement::from_string(
            app.state.db.get_database_backend(),
            sql,
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// A uuid as a SQL literal of the test's database (SQLite keeps a uuid as its 16 bytes).
fn uuid_literal(id: &Value) -> String {
    let id = id.as_str().unwrap();
    if using_postgres() {
        format!("'{id}'")
    } else {
        let hex: String = uuid::Uuid::parse_str(id)
            .unwrap()
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        format!("X'{hex}'")
    }
}

/// Tickets whose timelines hold every field a step can carry: moves, notes, a priority, a
/// rating, an escalation level, the two sides of a merge, the system as actor.
async fn tickets_with_every_kind_of_step(app: &TestApp, w: &World) -> Vec<Value> {
    let photo = crate::attachments::upload_png(app, &w.resident).await;
    let mut body = ticket_body(w, "楼道灯不亮");
    body["attachment_ids"] = json!([photo["id"]]);
    let closed = file(app, &w.resident, &body).await;
    let id = closed["id"].clone();
    act_ok(
        app,
        &w.staff,
        &id,
        "triage",
        json!({"priority": "green", "note": "简单事项"}),
    )
    .await;
    act_ok(
        app,
        &w.staff,
        &id,
        "assign",
        json!({"property_company_id": w.company}),
    )
    .await;
    act_ok(app, &w.property, &id, "accept", json!({})).await;
    act_ok(app, &w.property, &id, "resolve", json!({"note": "已更换"})).await;
    act_ok(
        app,
        &w.resident,
        &id,
        "confirm",
        json!({"rating": 4, "comment": "还行"}),
    )
    .await;

    let escalated = file(app, &w.resident, &ticket_body(w, "道路破损")).await;
    triage(app, &w.grid_manager, &escalated["id"], "orange").await;
    app.clock.advance(Duration::days(31));
    let round = linli::app::jobs::tickets(&app.state).await.unwrap();
    assert_eq!(round.escalated, 1);

    let survivor = file(app, &w.resident, &ticket_body(w, "电梯异响")).await;
    let duplicate = file(app, &w.resident, &ticket_body(w, "电梯有怪声")).await;
    act_ok(
        app,
        &w.grid_manager,
        &duplicate["id"],
        "merge",
        json!({"into_ticket_id": survivor["id"]}),
    )
    .await;

    let mut out = Vec::new();
    for t in [closed, escalated, survivor, duplicate] {
        out.push(detail(app, &w.staff, &t["id"]).await);
    }
    out
}

#[tokio::test]
async fn a_ticket_timeline_reads_the_same_after_the_move_to_subjects_and_back() {
    let app = spawn_app().await;
    let w = world(&app, "迁").await;
    let before = tickets_with_every_kind_of_step(&app, &w).await;
    // The fields the move carries are really there to carry.
    let steps: Vec<&Value> = before
        .iter()
        .flat_map(|t| t["timeline"].as_array().unwrap())
        .collect();
    for field in ["priority", "rating", "escalated_to", "related_ticket_id"] {
        assert!(
            steps.iter().any(|s| !s[field].is_null()),
            "no step carries {field}"
        );
    }
    assert!(steps.iter().any(|s| s["actor_user_id"].is_null()));
    let photo_id = &before[0]["attachments"][0]["id"];
    assert!(photo_id.is_string());
    assert_eq!(
        before[0]["timeline"][0]["attachment_ids"],
        json!([photo_id])
    );
    let total = steps.len() as i64;
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM timeline_events WHERE subject_type = 'ticket'"
        )
        .await,
        total
    );

    // Back to `ticket_events` (migration 016 down, and the later ones first): every step, its
    // facts in their columns.
    let db = &app.state.db;
    migrate_back_before(&app, "m20261130_000016_timeline_subjects").await;
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM ticket_events").await,
        total
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM attachments WHERE ticket_id IS NOT NULL"
        )
        .await,
        1,
        "the photo's ticket is written back"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM ticket_events WHERE priority = 'green' AND note = '简单事项'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM ticket_events WHERE rating = 4").await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM ticket_events WHERE escalated_to IS NOT NULL"
        )
        .await,
        1
    );

    // And forward again (up): the API reads exactly what it read before.
    migration::Migrator::up(db, None).await.unwrap();
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM timeline_events WHERE facts IS NULL"
        )
        .await,
        total - 4,
        "two triages, a rating and an escalation decided something; no other step stores facts"
    );
    for t in &before {
        assert_eq!(&detail(&app, &w.staff, &t["id"]).await, t);
    }
}

#[tokio::test]
async fn a_stored_step_this_version_does_not_know_is_an_error_not_another_step() {
    let app = spawn_app().await;
    let w = world(&app, "怪步").await;
    for (column, value) in [
        ("kind", "'teleport'"),
        ("to_state", "'on_hold'"),
        ("facts", "'{\"priority\":\"purple\"}'"),
    ] {
        let t = file(&app, &w.resident, &ticket_body(&w, "未知步骤")).await;
        let id = &t["id"];
        detail(&app, &w.staff, id).await;
        let done = app
            .state
            .db
            .execute_unprepared(&format!(
                "UPDATE timeline_events SET {column} = {value} WHERE subject_id = {}",
                uuid_literal(id)
            ))
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 1, "{column}");
        let res = app
            .get(
                &format!("/api/v1/tickets/{}", id.as_str().unwrap()),
                &w.staff,
            )
            .await;
        assert_problem(res, 500, "internal_error").await;
    }
}
