//! The secret ballot's Level 1 through HTTP (participation design §A4.4, §A9 8–11): the ballot
//! tables' columns on both databases, v4 ids, no per-option count before close for any role, no
//! idempotency row for a cast, and no response, log line, audit event or outbox payload tying a
//! voter to a choice; the anonymous ballots of a closed secret poll for a public recount.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;
use crate::polls::{
    ballot, ballots_of, body, cast, get, opened, option, pid, verb, voter, world, World,
};
use crate::ticket_world::{member, uname};

/// The columns of `table` as (name, type, nullable), on either database.
async fn columns(w: &World, table: &str) -> Vec<(String, String, bool)> {
    let db = &w.app.state.db;
    let backend = db.get_database_backend();
    if using_postgres() {
        let rows = db
            .query_all(Statement::from_string(
                backend,
                format!(
                    "SELECT column_name, data_type, is_nullable FROM information_schema.columns \
                     WHERE table_name = '{table}' AND table_schema = current_schema()"
                ),
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| {
                (
                    r.try_get::<String>("", "column_name").unwrap(),
                    r.try_get::<String>("", "data_type").unwrap(),
                    r.try_get::<String>("", "is_nullable").unwrap() == "YES",
                )
            })
            .collect()
    } else {
        let rows = db
            .query_all(Statement::from_string(
                backend,
                format!("PRAGMA table_info({table})"),
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| {
                (
                    r.try_get::<String>("", "name").unwrap(),
                    r.try_get::<String>("", "type").unwrap(),
                    r.try_get::<i32>("", "notnull").unwrap() == 0,
                )
            })
            .collect()
    }
}

#[tokio::test]
async fn secret_ballot_rows_have_no_voter_key_and_no_timestamp_columns() {
    let w = world().await;
    let v = voter(&w, w.h3a, "周一", Some("1970-01-01")).await;
    let p = opened(&w, body(&w, "building", w.b3, "secret", "resident")).await;
    assert_eq!(cast(&w, &v, &p, 0).await.status(), 201);
    for table in ["poll_ballots", "ballot_choices"] {
        let cols = columns(&w, table).await;
        assert!(!cols.is_empty(), "{table} has columns");
        for (name, ty, nullable) in &cols {
            let ty = ty.to_lowercase();
            assert!(
                !(ty.contains("time") || ty.contains("date")),
                "{table}.{name} is a time ({ty})"
            );
            for word in [
                "created",
                "updated",
                "_at",
                "seq",
                "user",
                "resident",
                "household",
            ] {
                assert!(
                    !name.contains(word),
                    "{table}.{name} may link or time a ballot"
                );
            }
            if name == "voter_key" {
                assert!(nullable, "{table}.voter_key must be nullable");
            }
        }
        let names: Vec<&str> = cols.iter().map(|(n, _, _)| n.as_str()).collect();
        if table == "poll_ballots" {
            let mut sorted = names.clone();
            sorted.sort();
            assert_eq!(
                sorted,
                vec!["box_id", "id", "poll_id", "source", "voter_key"]
            );
        }
    }
    let stored = ballots_of(&w, pid(&p)).await;
    assert_eq!(stored.len(), 1);
    assert!(
        stored.iter().all(|b| b.voter_key.is_none()),
        "no voter on a secret ballot"
    );
}

#[tokio::test]
async fn secret_ballot_ids_are_v4() {
    let w = world().await;
    let mut voters = Vec::new();
    for (i, h) in [w.h3a, w.h3a, w.h3b].into_iter().enumerate() {
        voters.push(voter(&w, h, &format!("吴{i}"), Some("1970-01-01")).await);
    }
    let p = opened(&w, body(&w, "building", w.b3, "secret", "resident")).await;
    for v in &voters {
        assert_eq!(cast(&w, v, &p, 1).await.status(), 201);
    }
    let stored = ballots_of(&w, pid(&p)).await;
    assert_eq!(stored.len(), 3);
    for b in stored {
        assert_eq!(b.id.get_version_num(), 4, "ballot id {} is not v4", b.id);
    }
    // An open poll records who voted, for the voter's own view.
    let open = opened(&w, body(&w, "building", w.b3, "open", "resident")).await;
    assert_eq!(cast(&w, &voters[0], &open, 0).await.status(), 201);
    let stored = ballots_of(&w, pid(&open)).await;
    assert_eq!(stored[0].voter_key, Some(voters[0].resident_id));
    let mine = get(
        &w,
        &voters[0].token,
        &format!("/api/v1/polls/{}/my-ballot", pid(&open)),
    )
    .await;
    assert_eq!(mine[0]["option_id"], option(&open, 0));
    let res = w
        .app
        .get(
            &format!("/api/v1/polls/{}/my-ballot", pid(&p)),
            &voters[0].token,
        )
        .await;
    assert_problem(res, 404, "not_found").await;
}

#[tokio::test]
async fn secret_poll_results_are_404_or_hidden_until_closed_even_for_admin() {
    let w = world().await;
    let v = voter(&w, w.h3a, "郑一", Some("1970-01-01")).await;
    let leader = {
        let (t, _) = member(
            &w.app,
            &w.root,
            &uname("bl"),
            "building_leader",
            "building",
            w.b3,
        )
        .await;
        t
    };
    let p = opened(&w, body(&w, "building", w.b3, "secret", "resident")).await;
    let id = p["id"].as_str().unwrap().to_string();
    assert_eq!(cast(&w, &v, &p, 0).await.status(), 201);
    for token in [&w.root, &w.staff, &leader, &v.token] {
        let seen = get(&w, token, &format!("/api/v1/polls/{id}")).await;
        assert_eq!(seen["ballots_cast"], 1, "turnout is live");
        for o in seen["questions"][0]["options"].as_array().unwrap() {
            assert!(o["votes"].is_null(), "a count before close: {seen}");
        }
        let res = w
            .app
            .get(&format!("/api/v1/polls/{id}/results"), token)
            .await;
        assert_problem(res, 409, "wrong_status").await;
        let res = w
            .app
            .get(&format!("/api/v1/polls/{id}/ballots.json"), token)
            .await;
        assert_problem(res, 409, "wrong_status").await;
    }
    // A secret poll cannot be made live.
    let mut live = body(&w, "building", w.b3, "secret", "resident");
    live["results_visibility"] = json!("live");
    let res = w.app.post("/api/v1/polls", &w.staff, &live).await;
    assert_problem(res, 400, "validation_failed").await;
    verb(&w, &w.staff, &id, "close", json!({})).await;
    for token in [&w.root, &v.token] {
        let seen = get(&w, token, &format!("/api/v1/polls/{id}")).await;
        assert_eq!(seen["questions"][0]["options"][0]["votes"], 1);
        let r = get(&w, token, &format!("/api/v1/polls/{id}/results")).await;
        assert_eq!(r["participants"], 1);
        assert_eq!(r["questions"][0]["options"][0]["votes"], 1);
        assert_eq!(r["outcome"], "passed");
    }
    // Below ten participants the anonymous ballots stay unpublished.
    let res = w
        .app
        .get(&format!("/api/v1/polls/{id}/ballots.json"), &w.root)
        .await;
    assert_problem(res, 409, "wrong_status").await;
}

#[tokio::test]
async fn secret_cast_with_idempotency_key_stores_no_idempotency_row() {
    let w = world().await;
    let v = voter(&w, w.h3a, "冯一", Some("1970-01-01")).await;
    let p = opened(&w, body(&w, "building", w.b3, "secret", "resident")).await;
    let path = format!("/api/v1/polls/{}/ballots", p["id"].as_str().unwrap());
    let send = || {
        w.app
            .request(reqwest::Method::POST, &path, Some(&v.token))
            .header("Idempotency-Key", "ballot-key-1")
            .json(&ballot(&p, 0))
            .send()
    };
    assert_eq!(send().await.unwrap().status(), 201);
    // Not replayed: the second cast is refused as a second cast.
    let again = send().await.unwrap();
    assert_problem(again, 409, "already_voted").await;
    let rows = entity::idempotency_key::Entity::find()
        .all(&w.app.state.db)
        .await
        .unwrap();
    assert!(
        rows.iter().all(|r| !r.request_path.ends_with("/ballots")),
        "an idempotency row for a ballot"
    );
    assert!(
        rows.iter().all(|r| r.user_id != v.user_id),
        "a row of the voter"
    );
}

/// Whether `text` carries one of `users` together with one of `options`.
fn links(text: &str, users: &[Uuid], options: &[String]) -> bool {
    users.iter().any(|u| text.contains(&u.to_string()))
        && options.iter().any(|o| text.contains(o.as_str()))
}

#[tokio::test]
async fn no_response_log_or_notification_links_user_to_choice() {
    let logs = crate::logs::captured();
    let w = world().await;
    let a = voter(&w, w.h3a, "陈甲", Some("1970-01-01")).await;
    let b = voter(&w, w.h3b, "陈乙", Some("1971-01-01")).await;
    let p = opened(&w, body(&w, "building", w.b3, "secret", "resident")).await;
    let id = p["id"].as_str().unwrap().to_string();
    let options: Vec<String> = (0..3).map(|i| option(&p, i)).collect();
    let users = [a.user_id, b.user_id];
    let mut texts = Vec::new();
    for (v, choice) in [(&a, 0), (&b, 2)] {
        let res = cast(&w, v, &p, choice).await;
        assert_eq!(res.status(), 201);
        texts.push(res.text().await.unwrap());
        for path in [
            format!("/api/v1/polls/{id}"),
            "/api/v1/me/polls".to_string(),
            format!("/api/v1/polls/{id}/my-ballot"),
        ] {
            texts.push(w.app.get(&path, &v.token).await.text().await.unwrap());
        }
    }
    for path in [
        format!("/api/v1/polls/{id}/roll"),
        format!("/api/v1/polls/{id}"),
        "/api/v1/polls".to_string(),
    ] {
        texts.push(w.app.get(&path, &w.staff).await.text().await.unwrap());
    }
    verb(&w, &w.staff, &id, "close", json!({})).await;
    for path in [
        format!("/api/v1/polls/{id}/results"),
        format!("/api/v1/polls/{id}/roll"),
        format!("/api/v1/polls/{id}"),
        "/api/v1/notifications".to_string(),
        "/api/v1/audit-events".to_string(),
    ] {
        texts.push(w.app.get(&path, &w.root).await.text().await.unwrap());
    }
    for v in [&a, &b] {
        texts.push(
            w.app
                .get(&format!("/api/v1/polls/{id}"), &v.token)
                .await
                .text()
                .await
                .unwrap(),
        );
        texts.push(
            w.app
                .get("/api/v1/me/export", &v.token)
                .await
                .text()
                .await
                .unwrap(),
        );
    }
    for t in &texts {
        assert!(
            !links(t, &users, &options),
            "a response links a voter to a choice: {t}"
        );
    }
    // The roll of a secret poll says who voted, never how or when.
    let roll = get(&w, &w.staff, &format!("/api/v1/polls/{id}/roll")).await;
    for e in roll["items"].as_array().unwrap() {
        assert!(
            e.get("voted_at").is_none() && e.get("channel").is_none(),
            "{e}"
        );
    }
    // Notifications went out (opened, result) and carry no choice.
    let queued = entity::notification::Entity::find()
        .filter(entity::notification::Column::SubjectId.eq(pid(&p)))
        .all(&w.app.state.db)
        .await
        .unwrap();
    assert_eq!(
        queued.len(),
        4,
        "opened and result, to each of the two voters"
    );
    for n in &queued {
        assert!(
            !options.iter().any(|o| n.payload.contains(o.as_str())),
            "{}",
            n.payload
        );
    }
    let audits = entity::audit_event::Entity::find()
        .all(&w.app.state.db)
        .await
        .unwrap();
    for e in audits {
        assert!(!users.contains(&e.actor_id), "an audit event of a voter");
    }
    let captured = logs.text();
    for line in captured.lines() {
        assert!(
            !links(line, &users, &options),
            "a log line links a voter to a choice: {line}"
        );
        assert!(
            !(line.contains(&id) && users.iter().any(|u| line.contains(&u.to_string()))),
            "a log line carries the poll with a voter: {line}"
        );
    }
}

#[tokio::test]
async fn a_closed_secret_poll_publishes_its_anonymous_ballots_in_random_order() {
    let w = world().await;
    let mut voters = Vec::new();
    for i in 0..10 {
        let h = [w.h3a, w.h3b][i % 2];
        voters.push(voter(&w, h, &format!("票{i}"), Some("1970-01-01")).await);
    }
    let p = opened(&w, body(&w, "building", w.b3, "secret", "resident")).await;
    let id = p["id"].as_str().unwrap().to_string();
    for (i, v) in voters.iter().enumerate() {
        assert_eq!(cast(&w, v, &p, usize::from(i >= 7)).await.status(), 201);
    }
    verb(&w, &w.staff, &id, "close", json!({})).await;
    let ballots = get(
        &w,
        &voters[0].token,
        &format!("/api/v1/polls/{id}/ballots.json"),
    )
    .await;
    let list = ballots.as_array().unwrap();
    assert_eq!(list.len(), 10);
    let yes = option(&p, 0);
    let count = |o: &str| {
        list.iter()
            .filter(|b| b["choices"][0]["option_id"] == o)
            .count()
    };
    // Anyone can recount: the published ballots give the tally.
    assert_eq!(count(&yes), 7);
    assert_eq!(count(&option(&p, 1)), 3);
    let r = get(&w, &w.staff, &format!("/api/v1/polls/{id}/results")).await;
    assert_eq!(r["questions"][0]["options"][0]["votes"], 7);
    for b in list {
        assert_eq!(b.as_object().unwrap().len(), 1, "choices only: {b}");
    }
    // The order is not the order of casting: over several reads, some differ.
    let mut orders = std::collections::BTreeSet::new();
    for _ in 0..5 {
        let again = get(&w, &w.staff, &format!("/api/v1/polls/{id}/ballots.json")).await;
        orders.insert(again.to_string());
    }
    assert!(orders.len() > 1, "the ballots come out in one fixed order");
    // An open poll publishes nothing this way.
    let open = opened(&w, body(&w, "building", w.b3, "open", "resident")).await;
    let res = w
        .app
        .get(
            &format!("/api/v1/polls/{}/ballots.json", pid(&open)),
            &w.staff,
        )
        .await;
    assert_problem(res, 409, "wrong_status").await;
}
