//! A page costs one page, however large the table: for every keyset list and filter, the query
//! the endpoint runs (captured from the request itself) is planned by the database as a range of
//! an index whose order is the page's order — no full scan, no sort of every matching row — on
//! tables seeded large enough for the planner to care (30,000 residents, 10,000 households, …;
//! then ANALYZE). And every list answers a page of 20 in a small, fixed number of statements.
//!
//! EXPLAIN (FORMAT JSON) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite.

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

/// A street of 2 communities × 10 compounds × 10 buildings × 10 households × 3 residents, and a
/// second street four times as large, with users, role assignments, audit events, notifications and binding
/// requests to match.
struct World {
    app: TestApp,
    root: String,
    street: Uuid,
    community: Uuid,
    compound: Uuid,
    building: Uuid,
    household: Uuid,
    /// Another compound of `street`, for a caller holding two terms.
    compound2: Uuid,
    /// A user of `street` with role assignments, audit events and notifications.
    user: Uuid,
    /// A resident of `household` with a phone and tags, created through the API.
    phone: &'static str,
}

fn backend(app: &TestApp) -> DbBackend {
    app.state.db.get_database_backend()
}

async fn exec(app: &TestApp, sql: &str) {
    app.state
        .db
        .execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
}

async fn one_id(app: &TestApp, sql: &str) -> Uuid {
    let row = app
        .state
        .db
        .query_one(Statement::from_string(backend(app), sql.to_string()))
        .await
        .expect("query")
        .expect("a row");
    row.try_get_by_index::<Uuid>(0).expect("uuid")
}

/// Inserts the world with INSERT … SELECT over a recursive counter (the same SQL on both
/// databases but for the id and random functions), then ANALYZE.
async fn world() -> World {
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let street = app
        .create(&root, "streets", json!({"name": "计划街道"}))
        .await;
    let other = app
        .create(&root, "streets", json!({"name": "别的街道"}))
        .await;
    let pg = backend(&app) == DbBackend::Postgres;
    let (new_id, third, random_text) = if pg {
        (
            "gen_random_uuid()",
            "random() < 0.33",
            "md5(random()::text)",
        )
    } else {
        (
            "randomblob(16)",
            "abs(random()) % 3 = 0",
            "hex(randomblob(16))",
        )
    };
    let ts = "'2026-11-30T00:00:00+00:00'";
    let k = |n: u32| {
        format!("WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < {n})")
    };
    // The street under test holds a fifth of everything, as one street of several would: its
    // scope term is selective, and a walk of the primary key filtering it would show.
    for (s, communities) in [(street, 1), (other, 7)] {
        let s = if pg {
            format!("'{s}'")
        } else {
            format!("x'{}'", s.simple())
        };
        exec(
            &app,
            &format!(
                "{} INSERT INTO communities (id, street_id, name, created_at, updated_at) \
             SELECT {new_id}, {s}, 'm' || i, {ts}, {ts} FROM k",
                k(communities)
            ),
        )
        .await;
    }
    for sql in [
        format!(
            "{} INSERT INTO compounds (id, street_id, community_id, name, created_at, updated_at) \
             SELECT {new_id}, c.street_id, c.id, 'c' || i, {ts}, {ts} FROM communities c, k",
            k(9)
        ),
        format!(
            "{} INSERT INTO buildings (id, street_id, community_id, compound_id, name, created_at, updated_at) \
             SELECT {new_id}, c.street_id, c.community_id, c.id, 'b' || i, {ts}, {ts} FROM compounds c, k",
            k(9)
        ),
        format!(
            "{} INSERT INTO households (id, street_id, community_id, compound_id, building_id, unit, room, created_at, updated_at) \
             SELECT {new_id}, b.street_id, b.community_id, b.compound_id, b.id, '', 'r' || i, {ts}, {ts} FROM buildings b, k",
            k(9)
        ),
        format!(
            "{} INSERT INTO residents (id, street_id, community_id, compound_id, building_id, household_id, name, phone_hash, created_at, updated_at) \
             SELECT {new_id}, h.street_id, h.community_id, h.compound_id, h.building_id, h.id, '居民' || i, {random_text}, {ts}, {ts} FROM households h, k",
            k(2)
        ),
        format!("INSERT INTO resident_tags (resident_id, tag) SELECT id, '党员' FROM residents WHERE {third}"),
        // A user per household, holding the resident role on it: a resident's WeChat account,
        // as residents' accounts are (the bulk of `users`).
        format!(
            "INSERT INTO users (id, display_name, is_active, is_superadmin, wechat_openid, created_at, updated_at) \
             SELECT id, '住户', true, false, {random_text}, {ts}, {ts} FROM households"
        ),
        format!(
            "INSERT INTO role_assignments (id, user_id, role, scope_type, scope_id, street_id, created_at) \
             SELECT {new_id}, id, 'resident', 'household', id, street_id, {ts} FROM households"
        ),
        format!(
            "INSERT INTO audit_events (id, street_id, community_id, actor_id, action, resident_id, field, purpose, created_at) \
             SELECT {new_id}, street_id, community_id, household_id, 'reveal', id, 'phone', '核实', {ts} FROM residents"
        ),
        format!(
            "{} INSERT INTO notifications (id, event_type, ticket_id, recipient_user_id, street_id, community_id, payload, status, attempts, next_attempt_at, created_at, updated_at) \
             SELECT {new_id}, 'ticket_assigned', h.building_id, h.id, h.street_id, h.community_id, '{{}}', \
                    CASE WHEN i = 0 THEN 'failed' ELSE 'sent' END, 1, {ts}, {ts}, {ts} FROM households h, k",
            k(1)
        ),
        format!(
            "INSERT INTO binding_requests (id, user_id, street_id, community_id, compound_id, building_id, household_id, name, relation, status, created_at, updated_at) \
             SELECT {new_id}, id, street_id, community_id, compound_id, building_id, id, '申请人', '子女', \
                    CASE WHEN room = 'r0' THEN 'pending' ELSE 'approved' END, {ts}, {ts} FROM households"
        ),
    ] {
        exec(&app, &sql).await;
    }
    let lit = |id: Uuid| {
        if pg {
            format!("'{id}'")
        } else {
            format!("x'{}'", id.simple())
        }
    };
    let s = lit(street);
    let community = one_id(
        &app,
        &format!("SELECT id FROM communities WHERE street_id = {s} ORDER BY name LIMIT 1"),
    )
    .await;
    // Nested: the compound in the community, the building in the compound, the household in the
    // building, so that every reader's filter names a place inside their scope (a place outside
    // gives an empty page with no page statement at all).
    let compound = one_id(
        &app,
        &format!(
            "SELECT id FROM compounds WHERE community_id = {} ORDER BY id LIMIT 1",
            lit(community)
        ),
    )
    .await;
    let compound2 = one_id(
        &app,
        &format!("SELECT id FROM compounds WHERE street_id = {s} ORDER BY id DESC LIMIT 1"),
    )
    .await;
    let building = one_id(
        &app,
        &format!(
            "SELECT id FROM buildings WHERE compound_id = {} ORDER BY id LIMIT 1",
            lit(compound)
        ),
    )
    .await;
    let household = one_id(
        &app,
        &format!(
            "SELECT id FROM households WHERE building_id = {} ORDER BY id LIMIT 1",
            lit(building)
        ),
    )
    .await;
    // Lists of compounds and buildings become large enough to be worth an index with thousands
    // of rows elsewhere; a building of 300 residents is one whose page must not be sorted.
    let o = lit(other);
    for sql in [
        format!(
            "{} INSERT INTO compounds (id, street_id, community_id, name, created_at, updated_at) \
             SELECT {new_id}, c.street_id, c.id, 'f' || i, {ts}, {ts} \
             FROM (SELECT * FROM communities WHERE street_id = {o} LIMIT 1) c, k",
            k(4999)
        ),
        format!(
            "{} INSERT INTO buildings (id, street_id, community_id, compound_id, name, created_at, updated_at) \
             SELECT {new_id}, c.street_id, c.community_id, c.id, 'f' || i, {ts}, {ts} \
             FROM (SELECT * FROM compounds WHERE street_id = {o} LIMIT 1) c, k",
            k(4999)
        ),
        format!(
            "{} INSERT INTO residents (id, street_id, community_id, compound_id, building_id, household_id, name, phone_hash, created_at, updated_at) \
             SELECT {new_id}, h.street_id, h.community_id, h.compound_id, h.building_id, h.id, '楼' || i, {random_text}, {ts}, {ts} \
             FROM households h, k WHERE h.building_id = {} AND h.id <> {}",
            k(29),
            lit(building),
            lit(household)
        ),
    ] {
        exec(&app, &sql).await;
    }
    for t in [
        "communities",
        "compounds",
        "buildings",
        "households",
        "residents",
        "resident_tags",
        "users",
        "role_assignments",
        "audit_events",
        "notifications",
        "binding_requests",
    ] {
        exec(&app, &format!("ANALYZE {t}")).await;
    }
    let phone = "13912345678";
    app.create(
        &root,
        "residents",
        json!({"household_id": household, "name": "计划", "phone": phone, "tags": ["党员"]}),
    )
    .await;
    World {
        app,
        root,
        street,
        community,
        compound,
        building,
        household,
        compound2,
        user: household,
        phone,
    }
}

/// The statements `GET path` ran, captured by request id.
pub(crate) async fn statements_of(app: &TestApp, token: &str, path: &str) -> Vec<Statement> {
    let request_id = format!("plan-{}", Uuid::now_v7().simple());
    linli::platform::statements::watch(&request_id);
    let res = app
        .request(reqwest::Method::GET, path, Some(token))
        .header("x-request-id", &request_id)
        .send()
        .await
        .expect("request");
    let status = res.status();
    let text = res.text().await.expect("body");
    let stmts = linli::platform::statements::take(&request_id);
    assert_eq!(status, StatusCode::OK, "GET {path}: {text}");
    stmts
}

/// The page query of `table` among `stmts`: the one reading it in order with a limit.
fn page_query<'a>(stmts: &'a [Statement], table: &str) -> &'a Statement {
    let from = format!("FROM \"{table}\"");
    stmts
        .iter()
        .rev()
        .find(|s| s.sql.contains(&from) && s.sql.contains("ORDER BY") && s.sql.contains("LIMIT"))
        .unwrap_or_else(|| {
            panic!(
                "no page query of {table} among {:#?}",
                stmts.iter().map(|s| &s.sql).collect::<Vec<_>>()
            )
        })
}

/// How the database reads one table in a plan.
#[derive(Debug)]
struct Access {
    table: String,
    /// `None`: a full scan of the table (PostgreSQL Seq Scan or a bitmap over the table, SQLite
    /// `SCAN`); else the index walked as a range.
    index: Option<String>,
    /// Whether a sort sits above this access with no LIMIT in between: every matching row
    /// would be sorted.
    sorted_unbounded: bool,
    /// PostgreSQL: the rows this access actually gave the sort above it (`EXPLAIN ANALYZE`).
    sorted_rows: Option<i64>,
}

async fn explain(app: &TestApp, stmt: &Statement) -> Vec<Access> {
    let db = &app.state.db;
    let values = stmt.values.clone().map(|v| v.0).unwrap_or_default();
    match backend(app) {
        DbBackend::Postgres => {
            let row = db
                .query_one(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    format!("EXPLAIN (ANALYZE, FORMAT JSON) {}", stmt.sql),
                    values,
                ))
                .await
                .expect("explain")
                .expect("a plan");
            let plan: Value = row.try_get_by_index(0).expect("json plan");
            let mut out = Vec::new();
            pg_walk(&plan[0]["Plan"], false, &mut out);
            out
        }
        _ => {
            let rows = db
                .query_all(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    format!("EXPLAIN QUERY PLAN {}", stmt.sql),
                    values,
                ))
                .await
                .expect("explain");
            let lines: Vec<(i64, i64, String)> = rows
                .iter()
                .map(|r| {
                    (
                        r.try_get::<i64>("", "id").expect("id"),
                        r.try_get::<i64>("", "parent").expect("parent"),
                        r.try_get::<String>("", "detail").expect("detail"),
                    )
                })
                .collect();
            sqlite_accesses(&lines)
        }
    }
}

/// The index of the one Bitmap Index Scan below a Bitmap Heap Scan (None for a BitmapAnd or
/// BitmapOr of several: not a range of one index).
fn bitmap_index(node: &Value) -> Option<String> {
    let children = node["Plans"].as_array()?;
    match children.as_slice() {
        [c] if c["Node Type"] == "Bitmap Index Scan" && c.get("Index Cond").is_some() => {
            c["Index Name"].as_str().map(str::to_string)
        }
        _ => None,
    }
}

/// `sort_pending`: a Sort above with no Limit between it and here.
fn pg_walk(node: &Value, sort_pending: bool, out: &mut Vec<Access>) {
    let kind = node["Node Type"].as_str().unwrap_or_default();
    let sort_pending = match kind {
        "Sort" | "Incremental Sort" => true,
        "Limit" => false,
        _ => sort_pending,
    };
    if let Some(table) = node["Relation Name"].as_str() {
        // An index walked without a condition is the whole table in index order; a bitmap heap
        // scan reads the ranges its bitmap index scans found, out of order.
        // A partial index walked whole is its predicate's rows, not the table (`PARTIAL`).
        let ranged = |n: &Value| {
            n.get("Index Cond").is_some()
                || n["Index Name"]
                    .as_str()
                    .is_some_and(|i| PARTIAL.contains(&i))
        };
        let index = match kind {
            "Index Scan" | "Index Only Scan" if ranged(node) => {
                node["Index Name"].as_str().map(str::to_string)
            }
            "Bitmap Heap Scan" => bitmap_index(node),
            _ => None,
        };
        let rows =
            node["Actual Rows"].as_i64().unwrap_or(0) * node["Actual Loops"].as_i64().unwrap_or(1);
        out.push(Access {
            table: table.to_string(),
            index,
            sorted_unbounded: sort_pending,
            sorted_rows: sort_pending.then_some(rows),
        });
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        pg_walk(child, sort_pending, out);
    }
}

/// SQLite's plan lines: `SEARCH t USING INDEX i (a=? AND id>?)` is a range of `i`; `SCAN t`
/// (with or without an index) reads all of `t`. A `USE TEMP B-TREE FOR ORDER BY` beside a
/// table's line sorts that table's matching rows; beside a subquery's (a LIMITed branch of a
/// union) it sorts at most a page per branch.
fn sqlite_accesses(lines: &[(i64, i64, String)]) -> Vec<Access> {
    let mut out = Vec::new();
    for (_, parent, detail) in lines {
        let (full, rest) = if let Some(r) = detail.strip_prefix("SEARCH ") {
            (false, r)
        } else if let Some(r) = detail.strip_prefix("SCAN ") {
            // A partial index walked whole is its predicate's rows, not the table.
            let partial = r
                .split_once(" INDEX ")
                .and_then(|(_, i)| i.split_whitespace().next())
                .is_some_and(|i| PARTIAL.contains(&i));
            (!partial, r)
        } else {
            continue;
        };
        let table = rest.split_whitespace().next().unwrap_or_default();
        // Subqueries of a union (`p0`, …) and CTEs are not tables.
        if table.len() <= 3 && table.starts_with('p') {
            continue;
        }
        let index = if full {
            None
        } else {
            rest.split_once(" INDEX ")
                .map(|(_, i)| i.split_whitespace().next().unwrap_or_default().to_string())
                .or_else(|| {
                    rest.contains("USING PRIMARY KEY")
                        .then(|| "PRIMARY KEY".into())
                })
        };
        let sorted_unbounded = lines.iter().any(|(_, p, d)| {
            p == parent && d.starts_with("USE TEMP B-TREE FOR") && d.contains("ORDER BY")
        });
        out.push(Access {
            table: table.to_string(),
            index,
            sorted_unbounded,
            sorted_rows: None,
        });
    }
    out
}

/// Partial indexes: walking one whole reads the rows of its predicate only (the staff accounts
/// without a WeChat identity, not the residents' accounts), so it is a range, not a scan.
const PARTIAL: [&str; 1] = ["ix_users_staff_id"];

/// The tables seeded by the thousand.
const BIG: [&str; 22] = [
    "comments",
    "proposals",
    "elections",
    "candidates",
    "polls",
    "poll_roll",
    "fund_accounts",
    "fund_entries",
    "fund_expenses",
    "notices",
    "office_terms",
    "notice_recipients",
    "residents",
    "resident_tags",
    "households",
    "buildings",
    "compounds",
    "users",
    "role_assignments",
    "audit_events",
    "notifications",
    "binding_requests",
];

/// An administrator of the street, community staff, a building leader and a resident of the
/// world, named `plan_<what>_<role>`: the readers whose reach has a branch per place.
async fn readers(w: &World, what: &str) -> [(&'static str, String); 4] {
    let user = |role: &'static str, scope: &'static str, id: Uuid, who: &'static str| {
        let name = format!("plan_{what}_{who}");
        async move {
            (
                who,
                w.app.user_with_role(&w.root, &name, role, scope, id).await,
            )
        }
    };
    [
        user("admin", "street", w.street, "admin").await,
        user("community_staff", "community", w.community, "staff").await,
        user("building_leader", "building", w.building, "leader").await,
        user("resident", "household", w.household, "resident").await,
    ]
}

/// Whether a filter may be answered by sorting what its index range finds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Sort {
    /// The range must come out in the page's order: nothing sorted.
    Never,
    /// A point lookup (a phone number, one household, one resident's audit trail, one user's
    /// role assignments): the range holds a handful of rows and the planner may sort those
    /// (SQLite does when its statistics show a few rows per key). The range must still be the
    /// named index, never a scan.
    FewRows,
}

/// Asserts that the page query of `GET path` reads `table` only as ranges of `index` in order,
/// and reads no other table in full.
async fn assert_page_walks(
    w: &World,
    token: &str,
    path: &str,
    table: &str,
    index: &str,
    sort: Sort,
) {
    let stmts = statements_of(&w.app, token, path).await;
    let stmt = page_query(&stmts, table);
    let plan = explain(&w.app, stmt).await;
    let of_table: Vec<&Access> = plan.iter().filter(|a| a.table == table).collect();
    assert!(
        !of_table.is_empty(),
        "GET {path}: {table} not in the plan {plan:#?}\n{}",
        stmt.sql
    );
    // Streets and communities are a handful of rows per deployment: reading them whole (the
    // check that a filter lies in the caller's street) is what a planner should do.
    for a in plan.iter().filter(|a| BIG.contains(&a.table.as_str())) {
        assert!(
            a.index.is_some(),
            "GET {path}: full scan of {} in {plan:#?}\n{}",
            a.table,
            stmt.sql
        );
        assert!(
            !a.sorted_unbounded || sort == Sort::FewRows,
            "GET {path}: every matching row of {} sorted in {plan:#?}\n{}",
            a.table,
            stmt.sql
        );
    }
    // `a|b`: either index is a range in the page's order (a filter and a scope term of about
    // the same size: the planner may take either).
    let allowed: Vec<&str> = index.split('|').collect();
    for a in of_table {
        assert!(
            a.index.as_deref().is_some_and(|i| allowed.contains(&i)),
            "GET {path}: {table} not read as a range of {index}: {plan:#?}\n{}",
            stmt.sql
        );
    }
    if sort == Sort::FewRows {
        // What may be sorted is about a page, not a table.
        let sep = if path.contains('?') { '&' } else { '?' };
        let all: Value = w
            .app
            .get(&format!("{path}{sep}limit=100"), token)
            .await
            .json()
            .await
            .unwrap();
        let n = all["items"].as_array().map_or(0, Vec::len);
        assert!(n <= 25, "GET {path}: {n} rows, not a point lookup");
    }
}

#[tokio::test]
async fn resident_pages_read_one_index_range_per_filter_and_scope_term() {
    let w = world().await;
    let admin = w
        .app
        .user_with_role(&w.root, "plan_admin", "admin", "street", w.street)
        .await;
    let staff = w
        .app
        .user_with_role(
            &w.root,
            "plan_staff",
            "community_staff",
            "community",
            w.community,
        )
        .await;
    // Two compounds: two terms, one index range each, merged.
    let leader_id = w
        .app
        .create_user(&w.root, "plan_leader", "a-long-password-1")
        .await;
    for c in [w.compound, w.compound2] {
        let path = format!("/api/v1/compounds/{c}");
        let res = w
            .app
            .patch(&path, &w.root, &json!({"kind": "street_front"}))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        w.app
            .grant(&w.root, leader_id, "street_leader", "compound", c)
            .await;
    }
    let leader = token_of(&w.app.login("plan_leader", "a-long-password-1").await);
    let r = "/api/v1/residents";
    for (token, query, index, sort) in [
        (
            &admin,
            String::new(),
            "ix_residents_street_id_id",
            Sort::Never,
        ),
        (
            &admin,
            format!("community_id={}", w.community),
            "ix_residents_community_id_id",
            Sort::Never,
        ),
        (
            &admin,
            format!("compound_id={}", w.compound),
            "ix_residents_compound_id_id",
            Sort::Never,
        ),
        (
            &admin,
            format!("building_id={}", w.building),
            "ix_residents_building_id_id",
            Sort::Never,
        ),
        (
            &admin,
            format!("household_id={}", w.household),
            "ix_residents_household_id_id",
            Sort::FewRows,
        ),
        (
            &admin,
            format!("phone={}", w.phone),
            "ix_residents_phone_hash_id",
            Sort::FewRows,
        ),
        (
            &staff,
            String::new(),
            "ix_residents_community_id_id",
            Sort::Never,
        ),
        (
            &staff,
            format!("compound_id={}", w.compound),
            "ix_residents_compound_id_id",
            Sort::Never,
        ),
        (
            &leader,
            String::new(),
            "ix_residents_compound_id_id",
            Sort::Never,
        ),
        (
            &w.root,
            format!("compound_id={}", w.compound),
            "ix_residents_compound_id_id",
            Sort::Never,
        ),
    ] {
        assert_page_walks(&w, token, &format!("{r}?{query}"), "residents", index, sort).await;
        // A later page: the same range, from the cursor on.
        let first: Value = w
            .app
            .get(&format!("{r}?{query}&limit=2"), token)
            .await
            .json()
            .await
            .unwrap();
        if let Some(c) = first["next_cursor"].as_str() {
            assert_page_walks(
                &w,
                token,
                &format!("{r}?{query}&cursor={c}"),
                "residents",
                index,
                sort,
            )
            .await;
        }
    }
}

#[tokio::test]
async fn territory_pages_read_one_index_range_per_filter_and_scope_term() {
    let w = world().await;
    let admin = w
        .app
        .user_with_role(&w.root, "plan_admin", "admin", "street", w.street)
        .await;
    let staff = w
        .app
        .user_with_role(
            &w.root,
            "plan_staff",
            "community_staff",
            "community",
            w.community,
        )
        .await;
    for (token, path, table, index, sort) in [
        (
            &admin,
            "/api/v1/households".to_string(),
            "households",
            "ix_households_street_id_id",
            Sort::Never,
        ),
        (
            &admin,
            format!("/api/v1/households?building_id={}", w.building),
            "households",
            "ix_households_building_id_id",
            Sort::FewRows,
        ),
        (
            &staff,
            "/api/v1/households".to_string(),
            "households",
            "ix_households_community_id_id",
            Sort::Never,
        ),
        (
            &admin,
            "/api/v1/buildings".to_string(),
            "buildings",
            "ix_buildings_street_id_id",
            Sort::Never,
        ),
        (
            &admin,
            format!("/api/v1/buildings?compound_id={}", w.compound),
            "buildings",
            "ix_buildings_compound_id_id",
            Sort::FewRows,
        ),
        (
            &staff,
            "/api/v1/buildings".to_string(),
            "buildings",
            "ix_buildings_community_id_id",
            Sort::Never,
        ),
        (
            &admin,
            "/api/v1/compounds".to_string(),
            "compounds",
            "ix_compounds_street_id_id",
            Sort::Never,
        ),
        (
            &admin,
            format!("/api/v1/compounds?community_id={}", w.community),
            "compounds",
            "ix_compounds_community_id_id|ix_compounds_street_id_id",
            Sort::FewRows,
        ),
        (
            &staff,
            "/api/v1/compounds".to_string(),
            "compounds",
            "ix_compounds_community_id_id",
            Sort::Never,
        ),
    ] {
        assert_page_walks(&w, token, &path, table, index, sort).await;
    }
}

#[tokio::test]
async fn staff_audit_notification_and_binding_pages_read_one_index_range() {
    let w = world().await;
    let admin = w
        .app
        .user_with_role(&w.root, "plan_admin", "admin", "street", w.street)
        .await;
    let staff = w
        .app
        .user_with_role(
            &w.root,
            "plan_staff",
            "community_staff",
            "community",
            w.community,
        )
        .await;
    let resident = one_id(
        &w.app,
        &format!(
            "SELECT id FROM residents WHERE household_id = {} LIMIT 1",
            if backend(&w.app) == DbBackend::Postgres {
                format!("'{}'", w.household)
            } else {
                format!("x'{}'", w.household.simple())
            }
        ),
    )
    .await;
    for (token, path, table, index, sort) in [
        (
            &admin,
            "/api/v1/role-assignments".to_string(),
            "role_assignments",
            "ix_role_assignments_street_id_id",
            Sort::Never,
        ),
        (
            &admin,
            format!("/api/v1/role-assignments?user_id={}", w.user),
            "role_assignments",
            "ix_role_assignments_user_id_id",
            Sort::FewRows,
        ),
        (
            &admin,
            format!("/api/v1/role-assignments?scope_id={}", w.household),
            "role_assignments",
            "ix_role_assignments_scope_id_id",
            Sort::FewRows,
        ),
        (
            &admin,
            "/api/v1/audit-events".to_string(),
            "audit_events",
            "ix_audit_events_street_id_id",
            Sort::Never,
        ),
        (
            &admin,
            format!("/api/v1/audit-events?resident_id={resident}"),
            "audit_events",
            "ix_audit_events_resident_id_id",
            Sort::FewRows,
        ),
        (
            &admin,
            format!("/api/v1/audit-events?actor_id={}", w.user),
            "audit_events",
            "ix_audit_events_actor_id_id",
            Sort::FewRows,
        ),
        (
            &staff,
            "/api/v1/audit-events".to_string(),
            "audit_events",
            "ix_audit_events_community_id_id",
            Sort::Never,
        ),
        (
            &admin,
            "/api/v1/notifications".to_string(),
            "notifications",
            "ix_notifications_street_id_id",
            Sort::Never,
        ),
        (
            &admin,
            "/api/v1/notifications?status=failed".to_string(),
            "notifications",
            "ix_notifications_street_id_status_id",
            Sort::Never,
        ),
        (
            &admin,
            format!("/api/v1/notifications?ticket_id={}", w.building),
            "notifications",
            "ix_notifications_ticket_id_id",
            Sort::FewRows,
        ),
        (
            &staff,
            "/api/v1/notifications?status=failed".to_string(),
            "notifications",
            "ix_notifications_community_id_status_id",
            Sort::Never,
        ),
        (
            &admin,
            "/api/v1/binding-requests".to_string(),
            "binding_requests",
            "ix_binding_requests_street_id_id",
            Sort::Never,
        ),
        (
            &admin,
            "/api/v1/binding-requests?status=pending".to_string(),
            "binding_requests",
            "ix_binding_requests_street_id_status_id",
            Sort::Never,
        ),
        (
            &staff,
            "/api/v1/binding-requests?status=pending".to_string(),
            "binding_requests",
            "ix_binding_requests_community_id_status_id",
            Sort::Never,
        ),
        (
            &admin,
            format!("/api/v1/binding-requests?household_id={}", w.household),
            "binding_requests",
            "ix_binding_requests_household_id_id",
            Sort::FewRows,
        ),
    ] {
        assert_page_walks(&w, token, &path, table, index, sort).await;
    }
}

/// `reltuples` of a table: what the PostgreSQL planner believes its size to be (-1: never
/// analyzed).
pub async fn planner_rows(app: &TestApp, table: &str) -> f64 {
    let row = app
        .state
        .db
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT reltuples::float8 FROM pg_class WHERE relname = $1",
            [table.into()],
        ))
        .await
        .expect("query")
        .expect("a row");
    row.try_get_by_index::<f64>(0).expect("reltuples")
}

#[tokio::test]
async fn a_roster_import_leaves_the_planner_statistics_current_on_postgres() {
    // SQLite plans without statistics (nothing to refresh).
    if !using_postgres() {
        return;
    }
    use crate::residents_io::{generated_rows, import_ok, xlsx};
    let app = spawn_app().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "统").await;
    assert!(planner_rows(&app, "residents").await < 1.0);
    let header = [
        "姓名",
        "性别",
        "出生日期",
        "手机号",
        "身份证号",
        "楼栋",
        "单元",
        "房号",
        "与户主关系",
        "标签",
    ];
    let file = xlsx(&header, &generated_rows(400, 1));
    let (created, _, households) = import_ok(&app, &root, t.compound, "r.xlsx", &file).await;
    assert_eq!(created, 400);
    // Without autovacuum (as in these tests' databases until it happens by), only the import's
    // own ANALYZE tells the planner.
    assert_eq!(planner_rows(&app, "residents").await, 400.0);
    assert_eq!(
        planner_rows(&app, "households").await,
        households as f64 + 1.0
    );
    assert!(planner_rows(&app, "resident_tags").await > 0.0);
}

/// Statements a list may run for a page of 20, the caller's identity and roles included.
const MAX_STATEMENTS: usize = 3;

#[tokio::test]
async fn every_list_answers_a_page_of_20_in_a_fixed_number_of_statements() {
    let w = world().await;
    let admin = w
        .app
        .user_with_role(&w.root, "count_admin", "admin", "street", w.street)
        .await;
    let staff = w
        .app
        .user_with_role(
            &w.root,
            "count_staff",
            "community_staff",
            "community",
            w.community,
        )
        .await;
    let mut counts = Vec::new();
    for (who, token) in [("admin", &admin), ("staff", &staff)] {
        for list in [
            "streets",
            "communities",
            "compounds",
            "grids",
            "buildings",
            "households",
            "property-companies",
            "residents",
            "users",
            "role-assignments",
            "audit-events",
            "notifications",
            "binding-requests",
            "binding-requests?status=pending&",
            "tickets",
            "me/messages",
            "me/messages?unread=true&",
        ] {
            let path = if list.ends_with('&') {
                format!("/api/v1/{list}limit=20")
            } else {
                format!("/api/v1/{list}?limit=20")
            };
            // Lists a role may not read answer 403 after the same identity statement.
            let request_id = format!("count-{}", Uuid::now_v7().simple());
            linli::platform::statements::watch(&request_id);
            let res = w
                .app
                .request(reqwest::Method::GET, &path, Some(token))
                .header("x-request-id", &request_id)
                .send()
                .await
                .expect("request");
            let status = res.status();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            let stmts = linli::platform::statements::take(&request_id);
            let items = body["items"].as_array().map_or(0, Vec::len);
            counts.push((who, path.clone(), status.as_u16(), items, stmts.len()));
        }
    }
    // Full pages, so the counts are those of a page of 20.
    assert!(counts
        .iter()
        .any(|(_, p, s, n, _)| p.contains("residents") && *s == 200 && *n == 20));
    // The tickets list walks one index per scope term (the caller's street, and the tickets they
    // filed themselves) and merges in memory: one statement per term, still a fixed number.
    for (who, path, status, _, n) in &counts {
        assert!(
            *n <= MAX_STATEMENTS,
            "{who} GET {path} ({status}) ran {n} statements: {counts:#?}"
        );
    }
}

/// The accounts list is one statement of index walks merged by id: the administrator's street's
/// role assignments by user (`(street_id, user_id)`) and the staff accounts without a role (the
/// partial index of `users (id)`), with and without a name search; nothing is scanned or sorted
/// whole. (Before: a walk of every account tested against the role assignments.)
#[tokio::test]
async fn user_pages_walk_the_streets_role_assignments_and_the_unassigned_staff_by_id() {
    let w = world().await;
    let admin = w
        .app
        .user_with_role(&w.root, "plan_users_admin", "admin", "street", w.street)
        .await;
    for path in [
        "/api/v1/users?limit=20",
        "/api/v1/users?limit=20&q=%E4%BD%8F",
    ] {
        assert_eq!(
            assert_every_branch_walks(&w, &admin, path, "users").await,
            1
        );
        let stmts = statements_of(&w.app, &admin, path).await;
        let plan = explain(&w.app, page_query(&stmts, "users")).await;
        for index in ["ix_role_assignments_street_id_user_id", "ix_users_staff_id"] {
            assert!(
                plan.iter().any(|a| a.index.as_deref() == Some(index)),
                "GET {path}: {index} not walked: {plan:#?}"
            );
        }
    }
}

#[tokio::test]
async fn message_centre_pages_read_one_index_range() {
    let w = world().await;
    let password = "a-long-password-1";
    let reader = w.app.create_user(&w.root, "plan_reader", password).await;
    let token = token_of(&w.app.login("plan_reader", password).await);
    let pg = backend(&w.app) == DbBackend::Postgres;
    let (new_id, me) = if pg {
        ("gen_random_uuid()".to_string(), format!("'{reader}'"))
    } else {
        (
            "randomblob(16)".to_string(),
            format!("x'{}'", reader.simple()),
        )
    };
    let ts = "'2026-11-30T00:00:00+00:00'";
    // Three messages for every household's user, two of them read; 3,000 for the reader, 30 of
    // them unread (most of an inbox is read: walking it all to find the unread would not be a
    // page). (Read and unread in separate statements: PostgreSQL will not take a
    // text literal for a time inside a CASE.)
    let insert = |to: &str, from: &str, n: u32, read_at: &str| {
        format!(
            "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < {n}) \
             INSERT INTO inbox_messages (id, recipient_user_id, event, subject_type, subject_id, title, body, read_at, created_at) \
             SELECT {new_id}, {to}, 'ticket_status_changed', 'ticket', {to}, '诉求已受理', '「灯」', {read_at}, {ts} FROM {from}"
        )
    };
    for sql in [
        insert("h.id", "households h, k", 1, ts),
        insert("h.id", "households h, k", 0, "NULL"),
        insert(&me, "k", 2969, ts),
        insert(&me, "k", 29, "NULL"),
        "ANALYZE inbox_messages".to_string(),
    ] {
        exec(&w.app, &sql).await;
    }
    for (path, index) in [
        (
            "/api/v1/me/messages",
            "ix_inbox_messages_recipient_user_id_id",
        ),
        (
            "/api/v1/me/messages?unread=true",
            "ix_inbox_messages_unread_recipient_user_id_id",
        ),
    ] {
        assert_page_walks(&w, &token, path, "inbox_messages", index, Sort::Never).await;
    }
}

/// Every statement of `GET path` that pages `table` (ORDER BY … LIMIT) reads it as an index
/// range in order: no full scan, no sort of every matching row. For lists that walk one range
/// per term of the caller's reach and merge (one statement per term).
async fn assert_every_branch_walks(w: &World, token: &str, path: &str, table: &str) -> usize {
    let stmts = statements_of(&w.app, token, path).await;
    let from = format!("FROM \"{table}\"");
    let pages: Vec<&Statement> = stmts
        .iter()
        .filter(|s| s.sql.contains(&from) && s.sql.contains("ORDER BY") && s.sql.contains("LIMIT"))
        .collect();
    assert!(!pages.is_empty(), "GET {path}: no page query of {table}");
    for stmt in &pages {
        let plan = explain(&w.app, stmt).await;
        assert!(
            plan.iter().any(|a| a.table == table),
            "GET {path}: {table} not in the plan {plan:#?}\n{}",
            stmt.sql
        );
        for a in plan.iter().filter(|a| BIG.contains(&a.table.as_str())) {
            assert!(
                a.index.is_some(),
                "GET {path}: full scan of {} in {plan:#?}\n{}",
                a.table,
                stmt.sql
            );
            // PostgreSQL weighs a walk in order against reading a place's few rows and sorting
            // them, and its statistics (sampled) tip it either way when a place holds a page or
            // two: a sort of that many rows is a page's work, not a table's. SQLite, which
            // never weighs, keeps the test of the index's order.
            assert!(
                !a.sorted_unbounded || a.sorted_rows.is_some_and(|n| n <= SORTED_ROWS_MAX),
                "GET {path}: every matching row of {} sorted in {plan:#?}\n{}",
                a.table,
                stmt.sql
            );
        }
    }
    pages.len()
}

/// The most rows of one branch PostgreSQL may read and sort for a page (see
/// [`assert_every_branch_walks`]).
const SORTED_ROWS_MAX: i64 = 64;

/// Notices (10 to every building, 5 to every compound, 3 to every community and street, all
/// published):
/// a page of the notices a resident, a building leader, community staff and a street
/// administrator read is one backward range per term of their reach (their places below, and
/// the places above them), and a resident's own list walks `(user_id, is_read, sort_key)`.
#[tokio::test]
async fn notice_pages_read_one_index_range_per_term_of_the_reach() {
    let w = world().await;
    let pg = backend(&w.app) == DbBackend::Postgres;
    let new_id = if pg {
        "gen_random_uuid()"
    } else {
        "randomblob(16)"
    };
    let ts = "'2026-11-30T00:00:00+00:00'";
    let k = |n: u32| {
        format!("WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < {n})")
    };
    for (n, place, from, at) in [
        (
            9,
            "building",
            "buildings p",
            "p.street_id, p.community_id, p.compound_id, p.id",
        ),
        (
            4,
            "compound",
            "compounds p",
            "p.street_id, p.community_id, p.id, NULL",
        ),
        (
            2,
            "community",
            "communities p",
            "p.street_id, p.id, NULL, NULL",
        ),
        (2, "street", "streets p", "p.id, NULL, NULL, NULL"),
    ] {
        exec(
            &w.app,
            &format!(
                "{} INSERT INTO notices (id, street_id, community_id, compound_id, building_id, \
                 scope_type, scope_id, audience_tags, include_shops, category, title, body, priority, \
                 requires_confirmation, status, sort_key, created_by, created_by_name, published_at, \
                 created_at, updated_at) \
                 SELECT {new_id}, {at}, '{place}', p.id, '[]', false, 'notice', '通知', '正文', 'normal', \
                 false, 'published', {new_id}, {new_id}, '社工', {ts}, {ts}, {ts} FROM {from}, k",
                k(n)
            ),
        )
        .await;
    }
    // Years of notices at the reader's own places: enough that a branch is a long range, which
    // must be walked in order and cut, not fetched whole and sorted.
    let lit = |id: Uuid| {
        if pg {
            format!("'{id}'")
        } else {
            format!("x'{}'", id.simple())
        }
    };
    let null = "NULL".to_string();
    for (place, id, at) in [
        (
            "building",
            w.building,
            [
                lit(w.street),
                lit(w.community),
                lit(w.compound),
                lit(w.building),
            ],
        ),
        (
            "compound",
            w.compound,
            [
                lit(w.street),
                lit(w.community),
                lit(w.compound),
                null.clone(),
            ],
        ),
        (
            "community",
            w.community,
            [lit(w.street), lit(w.community), null.clone(), null.clone()],
        ),
        (
            "street",
            w.street,
            [lit(w.street), null.clone(), null.clone(), null.clone()],
        ),
    ] {
        exec(
            &w.app,
            &format!(
                "{} INSERT INTO notices (id, street_id, community_id, compound_id, building_id, \
                 scope_type, scope_id, audience_tags, include_shops, category, title, body, priority, \
                 requires_confirmation, status, sort_key, created_by, created_by_name, published_at, \
                 created_at, updated_at) \
                 SELECT {new_id}, {}, '{place}', {}, '[]', false, 'notice', '通知', '正文', 'normal', \
                 false, 'published', {new_id}, {new_id}, '社工', {ts}, {ts}, {ts} FROM k",
                k(4999),
                at.join(", "),
                lit(id)
            ),
        )
        .await;
    }
    let resident_id = w
        .app
        .create_user(&w.root, "plan_notice_reader", "a-long-password-1")
        .await;
    w.app
        .grant(&w.root, resident_id, "resident", "household", w.household)
        .await;
    let resident = token_of(&w.app.login("plan_notice_reader", "a-long-password-1").await);
    let me = if pg {
        format!("'{resident_id}'")
    } else {
        format!("x'{}'", resident_id.simple())
    };
    // The reader received 3,000 notices and read most of them.
    for (limit, offset, read) in [(2970, 0, "true"), (30, 2970, "false")] {
        exec(
            &w.app,
            &format!(
                "INSERT INTO notice_recipients (notice_id, user_id, sort_key, is_read, created_at) \
                 SELECT id, {me}, sort_key, {read}, {ts} FROM (SELECT id, sort_key FROM notices \
                 ORDER BY id LIMIT {limit} OFFSET {offset}) n"
            ),
        )
        .await;
    }
    exec(&w.app, "ANALYZE notices").await;
    exec(&w.app, "ANALYZE notice_recipients").await;
    let leader = w
        .app
        .user_with_role(
            &w.root,
            "plan_leader",
            "building_leader",
            "building",
            w.building,
        )
        .await;
    let staff = w
        .app
        .user_with_role(
            &w.root,
            "plan_staff",
            "community_staff",
            "community",
            w.community,
        )
        .await;
    let admin = w
        .app
        .user_with_role(&w.root, "plan_admin", "admin", "street", w.street)
        .await;
    // (who, the branches their reach walks)
    for (token, branches) in [(&resident, 4), (&leader, 5), (&staff, 3), (&admin, 1)] {
        let n = assert_every_branch_walks(&w, token, "/api/v1/notices", "notices").await;
        assert_eq!(n, branches, "one statement per term");
        let page: Value = w
            .app
            .get("/api/v1/notices", token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["items"].as_array().unwrap().len(), 20);
        let next = page["next_cursor"].as_str().expect("more pages");
        assert_every_branch_walks(
            &w,
            token,
            &format!("/api/v1/notices?cursor={next}&category=notice"),
            "notices",
        )
        .await;
    }
    for path in ["/api/v1/me/notices", "/api/v1/me/notices?unread=true"] {
        assert_every_branch_walks(&w, &resident, path, "notice_recipients").await;
    }
}

/// Office terms (one 楼组长 term on every building, three 街面长-style terms on every compound):
/// a page for a street administrator and community staff, and with a community filter, is one
/// range of the `(street_id|community_id, id)` index in order.
#[tokio::test]
async fn office_term_pages_read_one_index_range() {
    let w = world().await;
    let pg = backend(&w.app) == DbBackend::Postgres;
    let new_id = if pg {
        "gen_random_uuid()"
    } else {
        "randomblob(16)"
    };
    let ts = "'2026-11-30T00:00:00+00:00'";
    let k = |n: u32| {
        format!("WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < {n})")
    };
    for (n, place, body, from, at) in [
        (
            0,
            "building",
            "building_leader",
            "buildings p",
            "p.street_id, p.community_id, p.compound_id, p.id",
        ),
        (
            2,
            "compound",
            "team",
            "compounds p",
            "p.street_id, p.community_id, p.id, NULL",
        ),
    ] {
        exec(
            &w.app,
            &format!(
                "{} INSERT INTO office_terms (id, street_id, community_id, compound_id, building_id, \
                 scope_type, scope_id, body, position, display_name, source, starts_on, created_by, \
                 created_at, updated_at) \
                 SELECT {new_id}, {at}, '{place}', p.id, '{body}', '楼组长', '王阿姨', 'appointment', \
                 '2026-01-01', {new_id}, {ts}, {ts} FROM {from}, k",
                k(n)
            ),
        )
        .await;
    }
    exec(&w.app, "ANALYZE office_terms").await;
    let admin = w
        .app
        .user_with_role(&w.root, "plan_office_admin", "admin", "street", w.street)
        .await;
    let staff = w
        .app
        .user_with_role(
            &w.root,
            "plan_office_staff",
            "community_staff",
            "community",
            w.community,
        )
        .await;
    for (token, path, index) in [
        (
            &admin,
            "/api/v1/office-terms".to_string(),
            "ix_office_terms_street_id_id",
        ),
        (
            &staff,
            "/api/v1/office-terms".to_string(),
            "ix_office_terms_community_id_id",
        ),
        (
            &admin,
            format!("/api/v1/office-terms?community_id={}", w.community),
            "ix_office_terms_community_id_id",
        ),
    ] {
        assert_page_walks(&w, token, &path, "office_terms", index, Sort::Never).await;
    }
}

/// Polls (10 on every building, 3 on every compound, 2 on every community, all open) and one
/// community poll whose roll holds the community's 3,000 residents: a page of polls for
/// community staff and a resident is one backward range per term of their reach; a page of the
/// roll (also by status) is one range of the roll's key in order; a resident's own polls read
/// `(voter_key, poll_id)`.
#[tokio::test]
async fn poll_pages_read_one_index_range_per_term_of_the_reach() {
    let w = world().await;
    let pg = backend(&w.app) == DbBackend::Postgres;
    let new_id = if pg {
        "gen_random_uuid()"
    } else {
        "randomblob(16)"
    };
    let ts = "'2026-11-30T00:00:00+00:00'";
    let k = |n: u32| {
        format!("WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < {n})")
    };
    for (n, place, from, at) in [
        (
            9,
            "building",
            "buildings p",
            "p.street_id, p.community_id, p.compound_id, p.id",
        ),
        (
            2,
            "compound",
            "compounds p",
            "p.street_id, p.community_id, p.id, NULL",
        ),
        (
            1,
            "community",
            "communities p",
            "p.street_id, p.id, NULL, NULL",
        ),
    ] {
        exec(
            &w.app,
            &format!(
                "{} INSERT INTO polls (id, street_id, community_id, compound_id, building_id, \
                 scope_type, scope_id, subject_type, title, description, secrecy, unit, eligibility, \
                 preset, quorum_strict, threshold_num, threshold_den, threshold_strict, \
                 threshold_base, abstain_in_quorum, abstain_in_threshold_base, results_visibility, \
                 opens_at, closes_at, status, created_by, created_by_name, created_at, updated_at) \
                 SELECT {new_id}, {at}, '{place}', p.id, 'standalone', '意见征询', '', 'secret', \
                 'resident', '{{}}', 'simple_majority', true, 1, 2, true, 'valid', true, false, \
                 'after_close', {ts}, '2027-11-30T00:00:00+00:00', 'open', {new_id}, '社工', {ts}, {ts} \
                 FROM {from}, k",
                k(n)
            ),
        )
        .await;
    }
    let lit = |id: Uuid| {
        if pg {
            format!("'{id}'")
        } else {
            format!("x'{}'", id.simple())
        }
    };
    // The community of the world's household, where the resident below lives.
    let community = one_id(
        &w.app,
        &format!(
            "SELECT community_id FROM households WHERE id = {}",
            lit(w.household)
        ),
    )
    .await;
    let staff = w
        .app
        .user_with_role(
            &w.root,
            "plan_poll_staff",
            "community_staff",
            "community",
            community,
        )
        .await;
    let now = w.app.state.clock.now();
    let res = w
        .app
        .post(
            "/api/v1/polls",
            &staff,
            &json!({
                "scope_type": "community", "scope_id": community, "title": "社区议题",
                "secrecy": "secret", "unit": "resident", "preset": "residents_meeting",
                "opens_at": now.to_rfc3339(),
                "closes_at": (now + chrono::Duration::days(3)).to_rfc3339(),
                "questions": [{"title": "是否同意", "kind": "yes_no_abstain"}],
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let poll: Value = res.json().await.unwrap();
    let id = poll["id"].as_str().unwrap().to_string();
    let res = w
        .app
        .post(&format!("/api/v1/polls/{id}/open"), &staff, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let opened: Value = res.json().await.unwrap();
    assert!(opened["roll_size"].as_i64().unwrap() >= 3000, "{opened}");
    // A resident of the world's household, bound to its first roster entry.
    let resident_user = w
        .app
        .create_user(&w.root, "plan_poll_resident", "a-long-password-1")
        .await;
    w.app
        .grant(&w.root, resident_user, "resident", "household", w.household)
        .await;
    exec(
        &w.app,
        &format!(
            "UPDATE residents SET user_id = {} WHERE id = (SELECT id FROM residents \
             WHERE household_id = {} ORDER BY id LIMIT 1)",
            lit(resident_user),
            lit(w.household)
        ),
    )
    .await;
    let resident = token_of(&w.app.login("plan_poll_resident", "a-long-password-1").await);
    // Years of polls at the resident's building and community: enough that a branch is a long
    // range, which must be walked in order and cut, not fetched whole and sorted.
    let building = one_id(
        &w.app,
        &format!(
            "SELECT building_id FROM households WHERE id = {}",
            lit(w.household)
        ),
    )
    .await;
    let compound = one_id(
        &w.app,
        &format!(
            "SELECT compound_id FROM households WHERE id = {}",
            lit(w.household)
        ),
    )
    .await;
    for (place, id, at) in [
        (
            "building",
            building,
            format!("(SELECT street_id FROM buildings WHERE id = {b}), (SELECT community_id FROM buildings WHERE id = {b}), (SELECT compound_id FROM buildings WHERE id = {b}), {b}", b = lit(building)),
        ),
        (
            "community",
            community,
            format!("(SELECT street_id FROM communities WHERE id = {c}), {c}, NULL, NULL", c = lit(community)),
        ),
        (
            "compound",
            compound,
            format!("(SELECT street_id FROM compounds WHERE id = {c}), (SELECT community_id FROM compounds WHERE id = {c}), {c}, NULL", c = lit(compound)),
        ),
        ("street", w.street, format!("{}, NULL, NULL, NULL", lit(w.street))),
    ] {
        exec(
            &w.app,
            &format!(
                "{} INSERT INTO polls (id, street_id, community_id, compound_id, building_id, \
                 scope_type, scope_id, subject_type, title, description, secrecy, unit, eligibility, \
                 preset, quorum_strict, threshold_num, threshold_den, threshold_strict, \
                 threshold_base, abstain_in_quorum, abstain_in_threshold_base, results_visibility, \
                 opens_at, closes_at, status, created_by, created_by_name, created_at, updated_at) \
                 SELECT {new_id}, {at}, '{place}', {}, 'standalone', '往年议题', '', 'open', \
                 'resident', '{{}}', 'simple_majority', true, 1, 2, true, 'valid', true, false, \
                 'after_close', {ts}, {ts}, 'closed', {new_id}, '社工', {ts}, {ts} FROM k",
                k(1500),
                lit(id)
            ),
        )
        .await;
    }
    exec(&w.app, "ANALYZE polls").await;
    exec(&w.app, "ANALYZE poll_roll").await;
    for token in [&staff, &resident] {
        let n = assert_every_branch_walks(&w, token, "/api/v1/polls", "polls").await;
        assert!(n >= 1);
        let page: Value = w
            .app
            .get("/api/v1/polls", token)
            .await
            .json()
            .await
            .unwrap();
        let all: Value = w
            .app
            .get("/api/v1/polls?limit=100", token)
            .await
            .json()
            .await
            .unwrap();
        let n = all["items"].as_array().unwrap().len();
        assert_eq!(page["items"].as_array().unwrap().len(), n.min(20));
    }
    let roll_index = if pg {
        "poll_roll_pkey|ix_poll_roll_poll_id_status_voter_key"
    } else {
        "sqlite_autoindex_poll_roll_1|ix_poll_roll_poll_id_status_voter_key"
    };
    for path in [
        format!("/api/v1/polls/{id}/roll"),
        format!("/api/v1/polls/{id}/roll?status=eligible"),
    ] {
        assert_page_walks(&w, &staff, &path, "poll_roll", roll_index, Sort::Never).await;
    }
    // An election whose poll it is: its roll view walks the same range of the same index.
    let election = Uuid::now_v7();
    let poll_id: Uuid = id.parse().unwrap();
    exec(
        &w.app,
        &format!(
            "INSERT INTO elections (id, street_id, community_id, compound_id, building_id, \
             scope_type, scope_id, body, title, method, term_years, validity_num, validity_den, \
             validity_strict, win_num, win_den, win_strict, runoff_min_num, runoff_min_den, \
             contested, min_women, roll_publish_days, candidates_publish_days, \
             joint_nominators_min, status, poll_id, voting_starts_at, voting_ends_at, version, \
             created_by, created_at, updated_at) \
             SELECT {}, p.street_id, p.id, NULL, NULL, 'community', p.id, \
             'residents_committee', '换届选举', 'direct', 5, 1, 2, true, 1, 2, true, 1, 3, true, \
             0, 20, 5, 10, 'voting', {}, {ts}, {ts}, 1, {new_id}, {ts}, {ts} \
             FROM communities p WHERE p.id = {}",
            lit(election),
            lit(poll_id),
            lit(community)
        ),
    )
    .await;
    for path in [
        format!("/api/v1/elections/{election}/roll"),
        format!("/api/v1/elections/{election}/roll?status=eligible"),
    ] {
        assert_page_walks(&w, &staff, &path, "poll_roll", roll_index, Sort::Never).await;
    }
    let mine: Value = w
        .app
        .get("/api/v1/me/polls", &resident)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"][0]["id"], id.as_str());
    assert_page_walks(
        &w,
        &resident,
        "/api/v1/me/polls",
        "poll_roll",
        "ix_poll_roll_voter_key_poll_id",
        Sort::Never,
    )
    .await;
}

/// Fund accounts (3 on every community, 5 on every compound, and 2,000 more on a resident's
/// community and compound), 5,000 entries and 3,000 expense requests on one account: a page of
/// accounts is one backward range per term of the reader's reach (a resident's compound and
/// community, staff's community down and up, an admin's street); a page of the ledger walks
/// `(account_id, seq)` or `(account_id, kind, seq)` backwards; a page of requests
/// `(account_id, id)` or `(account_id, status, id)`.
#[tokio::test]
async fn fund_pages_read_one_index_range_per_term_of_the_reach() {
    let w = world().await;
    let pg = backend(&w.app) == DbBackend::Postgres;
    let new_id = if pg {
        "gen_random_uuid()"
    } else {
        "randomblob(16)"
    };
    let lit = |id: Uuid| {
        if pg {
            format!("'{id}'")
        } else {
            format!("x'{}'", id.simple())
        }
    };
    let ts = "'2026-11-30T00:00:00+00:00'";
    let zeros = "0".repeat(64);
    let k = |n: u32| {
        format!("WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < {n})")
    };
    let accounts =
        "INSERT INTO fund_accounts (id, street_id, community_id, compound_id, scope_type, \
                    scope_id, name, kind, last_hash, status, created_by, created_at, updated_at)";
    for (n, place, from, at) in [
        (
            4,
            "compound",
            "compounds p",
            "p.street_id, p.community_id, p.id",
        ),
        (2, "community", "communities p", "p.street_id, p.id, NULL"),
    ] {
        exec(
            &w.app,
            &format!(
                "{} {accounts} SELECT {new_id}, {at}, '{place}', p.id, '自治金', 'self_governance', \
                 '{zeros}', 'active', {new_id}, {ts}, {ts} FROM {from}, k",
                k(n)
            ),
        )
        .await;
    }
    // Years of accounts at the reader's own compound and community (those of `w.household`).
    let of_household = |col: &str| {
        format!(
            "SELECT {col} FROM households WHERE id = {}",
            lit(w.household)
        )
    };
    let home = one_id(&w.app, &of_household("compound_id")).await;
    let home_community = one_id(&w.app, &of_household("community_id")).await;
    for (place, id, at) in [
        (
            "compound",
            home,
            [lit(w.street), lit(home_community), lit(home)],
        ),
        (
            "community",
            home_community,
            [lit(w.street), lit(home_community), "NULL".to_string()],
        ),
    ] {
        exec(
            &w.app,
            &format!(
                "{} {accounts} SELECT {new_id}, {}, '{place}', {}, '自治金', 'self_governance', \
                 '{zeros}', 'active', {new_id}, {ts}, {ts} FROM k",
                k(1999),
                at.join(", "),
                lit(id)
            ),
        )
        .await;
    }
    let account = Uuid::now_v7();
    exec(
        &w.app,
        &format!(
            "{accounts} VALUES ({}, {}, {}, {}, 'compound', {}, '自治金', 'self_governance', \
             '{zeros}', 'active', {}, {ts}, {ts})",
            lit(account),
            lit(w.street),
            lit(home_community),
            lit(home),
            lit(home),
            lit(w.user)
        ),
    )
    .await;
    exec(
        &w.app,
        &format!(
            "{} INSERT INTO fund_entries (id, account_id, seq, amount_fen, balance_after_fen, \
             prev_hash, hash, created_at, kind, street_id, community_id, recorded_by, recorded_by_name) \
             SELECT {new_id}, {}, i + 1, 100, 100 * (i + 1), '{zeros}', '{zeros}', {ts}, \
             CASE WHEN i % 3 = 0 THEN 'allocation' ELSE 'contribution' END, {}, {}, {}, '社工' FROM k",
            k(4999),
            lit(account),
            lit(w.street),
            lit(home_community),
            lit(w.user)
        ),
    )
    .await;
    exec(
        &w.app,
        &format!(
            "{} INSERT INTO fund_expenses (id, account_id, street_id, community_id, amount_fen, \
             payee_kind, payee_name, public_name, purpose, status, requested_by, requested_by_name, \
             created_at, updated_at) \
             SELECT {new_id}, {}, {}, {}, 100, 'business', '灯具店', '灯具店', '换灯', \
             CASE WHEN i % 4 = 0 THEN 'paid' ELSE 'rejected' END, {}, '社工', {ts}, {ts} FROM k",
            k(2999),
            lit(account),
            lit(w.street),
            lit(home_community),
            lit(w.user)
        ),
    )
    .await;
    for t in ["fund_accounts", "fund_entries", "fund_expenses"] {
        exec(&w.app, &format!("ANALYZE {t}")).await;
    }
    let resident_id = w
        .app
        .create_user(&w.root, "plan_fund_reader", "a-long-password-1")
        .await;
    w.app
        .grant(&w.root, resident_id, "resident", "household", w.household)
        .await;
    let resident = token_of(&w.app.login("plan_fund_reader", "a-long-password-1").await);
    let staff = w
        .app
        .user_with_role(
            &w.root,
            "plan_fund_staff",
            "community_staff",
            "community",
            home_community,
        )
        .await;
    let admin = w
        .app
        .user_with_role(&w.root, "plan_fund_admin", "admin", "street", w.street)
        .await;
    // (who, the branches their reach walks)
    // A resident: their compound and community (the building and street above them hold no
    // accounts); staff: their community down, and up (the same community; the street holds
    // none); the admin: their street.
    for (token, branches) in [(&resident, 2), (&staff, 2), (&admin, 1)] {
        let n =
            assert_every_branch_walks(&w, token, "/api/v1/fund-accounts", "fund_accounts").await;
        assert_eq!(n, branches, "one statement per term");
        let page: Value = w
            .app
            .get("/api/v1/fund-accounts", token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["items"].as_array().unwrap().len(), 20);
        let next = page["next_cursor"].as_str().expect("more pages");
        assert_every_branch_walks(
            &w,
            token,
            &format!("/api/v1/fund-accounts?cursor={next}&status=active"),
            "fund_accounts",
        )
        .await;
    }
    let entries = format!("/api/v1/fund-accounts/{account}/entries");
    let page: Value = w.app.get(&entries, &resident).await.json().await.unwrap();
    let next = page["next_cursor"]
        .as_str()
        .expect("more entries")
        .to_string();
    for (path, index) in [
        (entries.clone(), "ix_fund_entries_account_id_seq"),
        (
            format!("{entries}?cursor={next}"),
            "ix_fund_entries_account_id_seq",
        ),
        (
            format!("{entries}?kind=allocation"),
            "ix_fund_entries_account_id_kind_seq",
        ),
    ] {
        assert_page_walks(&w, &resident, &path, "fund_entries", index, Sort::Never).await;
    }
    let expenses = format!("/api/v1/fund-expenses?account_id={account}");
    for (path, index) in [
        (expenses.clone(), "ix_fund_expenses_account_id_id"),
        (
            format!("{expenses}&status=paid"),
            "ix_fund_expenses_account_id_status_id",
        ),
    ] {
        assert_page_walks(&w, &admin, &path, "fund_expenses", index, Sort::Never).await;
    }
}

/// Elections (thirty void on every building, thirty cancelled on every compound, thirty published on
/// every community): a page of the
/// elections an administrator, community staff, a building leader and a resident read is one
/// backward range per branch of their reach, merged.
#[tokio::test]
async fn election_pages_read_one_index_range_per_branch_of_the_reach() {
    let w = world().await;
    let pg = backend(&w.app) == DbBackend::Postgres;
    let new_id = if pg {
        "gen_random_uuid()"
    } else {
        "randomblob(16)"
    };
    let ts = "'2026-12-30T00:00:00+00:00'";
    for (place, status, from, at) in [
        (
            "building",
            "void",
            "buildings p",
            "p.street_id, p.community_id, p.compound_id, p.id",
        ),
        (
            "compound",
            "cancelled",
            "compounds p",
            "p.street_id, p.community_id, p.id, NULL",
        ),
        (
            "community",
            "published",
            "communities p",
            "p.street_id, p.id, NULL, NULL",
        ),
    ] {
        exec(
            &w.app,
            &format!(
                "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 29) \
                 INSERT INTO elections (id, street_id, community_id, compound_id, building_id, \
                 scope_type, scope_id, body, title, method, term_years, validity_num, validity_den, \
                 validity_strict, win_num, win_den, win_strict, runoff_min_num, runoff_min_den, \
                 contested, min_women, roll_publish_days, candidates_publish_days, \
                 joint_nominators_min, status, voting_starts_at, voting_ends_at, version, \
                 created_by, created_at, updated_at) \
                 SELECT {new_id}, {at}, '{place}', p.id, 'neighbour_steward', '推选', 'direct', 2, \
                 1, 2, true, 1, 2, true, 1, 3, true, 0, 20, 5, 10, '{status}', {ts}, {ts}, 1, \
                 {new_id}, {ts}, {ts} FROM {from}, k"
            ),
        )
        .await;
    }
    exec(&w.app, "ANALYZE elections").await;
    let readers = readers(&w, "election").await;
    for (who, token) in &readers {
        let n = assert_every_branch_walks(&w, token, "/api/v1/elections", "elections").await;
        assert!(n >= 1, "{who}: {n} branches");
        let res = w.app.get("/api/v1/elections?limit=20", token).await;
        let status = res.status();
        let page: Value = res.json().await.unwrap();
        assert_eq!(status, 200, "{who}: {page}");
        // Every reader reaches at least the thirty of their building.
        assert_eq!(
            page["items"].as_array().map(Vec::len),
            Some(20),
            "{who}: {page}"
        );
    }
}

/// Proposals (thirty on every building and compound of the street, thirty on every community):
/// a page of the proposals an administrator, community staff, a building leader and a resident
/// read is one backward range per branch of their reach, merged; and with a step filter too.
#[tokio::test]
async fn proposal_pages_read_one_index_range_per_branch_of_the_reach() {
    let w = world().await;
    let pg = backend(&w.app) == DbBackend::Postgres;
    let new_id = if pg {
        "gen_random_uuid()"
    } else {
        "randomblob(16)"
    };
    let ts = "'2026-12-30T00:00:00+00:00'";
    let street = if pg {
        format!("'{}'", w.street)
    } else {
        format!("x'{}'", w.street.simple())
    };
    // The buildings and compounds of the street under test, and every community: the other
    // street's thousands of compounds and buildings would only slow the test down.
    for (place, step, from, at) in [
        (
            "building",
            "implementing",
            "buildings p",
            "p.street_id, p.community_id, p.compound_id, p.id",
        ),
        (
            "compound",
            "deliberating",
            "compounds p",
            "p.street_id, p.community_id, p.id, NULL",
        ),
        (
            "community",
            "closed",
            "communities p",
            "p.street_id, p.id, NULL, NULL",
        ),
    ] {
        exec(
            &w.app,
            &format!(
                "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 29) \
                 INSERT INTO proposals (id, street_id, community_id, compound_id, building_id, \
                 scope_type, scope_id, title, body, category, step, on_hold, channel, author_display, \
                 created_by, supporters_count, support_deadline, current_revision, budget_fen, \
                 allocated_fen, received_fen, spent_fen, pledged_money_fen, labour_goal_minutes, \
                 labour_done_minutes, progress_pct, golden, activity_at, version, created_at, \
                 updated_at) \
                 SELECT {new_id}, {at}, '{place}', p.id, '议题', '正文', '环境', '{step}', false, \
                 'mini_program', '1栋 王*', {new_id}, 0, {ts}, 1, 0, 0, 0, 0, 0, 0, 0, 0, false, \
                 {ts}, 1, {ts}, {ts} FROM {from}, k \
                 WHERE p.street_id = {street} OR '{place}' = 'community'"
            ),
        )
        .await;
    }
    exec(&w.app, "ANALYZE proposals").await;
    let readers = readers(&w, "proposal").await;
    for (who, token) in &readers {
        // A step filter walks `(community_id, step, id)` and `(scope_id, step, id)`: the
        // branches of community staff and of residents. (A building's or a street's branch with
        // a step filter may read the place's range and sort what is of that step: a place's
        // proposals, not a table.)
        let paths: &[&str] = match *who {
            "staff" | "resident" => &[
                "/api/v1/proposals?limit=20",
                "/api/v1/proposals?limit=20&step=closed",
            ],
            _ => &["/api/v1/proposals?limit=20"],
        };
        for path in paths {
            let n = assert_every_branch_walks(&w, token, path, "proposals").await;
            assert!(n >= 1, "{who} {path}: {n} branches");
        }
        let res = w.app.get("/api/v1/proposals?limit=20", token).await;
        let status = res.status();
        let page: Value = res.json().await.unwrap();
        assert_eq!(status, 200, "{who}: {page}");
        // Every reader reaches at least the thirty of their community.
        assert_eq!(
            page["items"].as_array().map(Vec::len),
            Some(20),
            "{who}: {page}"
        );
    }
}

/// Candidates (2,000 of one election, 2,000 of another): a page of one election's candidates is
/// one range of `(election_id, id)`.
#[tokio::test]
async fn candidate_pages_read_one_index_range() {
    let w = world().await;
    let pg = backend(&w.app) == DbBackend::Postgres;
    let new_id = if pg {
        "gen_random_uuid()"
    } else {
        "randomblob(16)"
    };
    let ts = "'2026-12-30T00:00:00+00:00'";
    let staff = w
        .app
        .user_with_role(&w.root, "plan_candidate_admin", "admin", "street", w.street)
        .await;
    let at = |days: i64| (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let res = w
            .app
            .post(
                "/api/v1/elections",
                &staff,
                &json!({"scope_type": "building", "scope_id": w.building, "body": "building_leader",
                        "title": "楼组长推选", "method": "household_rep", "term_years": 3,
                        "voting_starts_at": at(30), "voting_ends_at": at(31),
                        "positions": [{"position": "楼组长", "seats": 1}]}),
            )
            .await;
        let e: Value = res.json().await.unwrap();
        let id = e["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{e}"))
            .to_string();
        let position = e["positions"][0]["id"].as_str().unwrap().to_string();
        // SQLite keeps the app's uuids as 16-byte blobs.
        let lit = |u: &str| {
            if pg {
                format!("'{u}'")
            } else {
                format!("x'{}'", u.replace('-', ""))
            }
        };
        let (eid, pid) = (lit(&id), lit(&position));
        exec(
            &w.app,
            &format!(
                "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 1999) \
                 INSERT INTO candidates (id, election_id, position_id, resident_id, display_name, \
                 statement, nomination_kind, nominators_count, status, created_by, created_at, \
                 updated_at) SELECT {new_id}, {eid}, {pid}, {new_id}, '王阿姨', '服务邻里', \
                 'own', 0, 'nominated', {new_id}, {ts}, {ts} FROM k"
            ),
        )
        .await;
        ids.push(id);
    }
    exec(&w.app, "ANALYZE candidates").await;
    let path = format!("/api/v1/elections/{}/candidates", ids[0]);
    assert_page_walks(
        &w,
        &staff,
        &path,
        "candidates",
        "ix_candidates_election_id_id",
        Sort::Never,
    )
    .await;
    let page: Value = w.app.get(&path, &staff).await.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 20);
}

/// Comments (3,000 on one notice of the community, a tenth of them held for review; 30,000
/// more on other subjects of it): a page of the notice's comments is one range of
/// `(subject_type, subject_id, id)` in order, and the community's moderation queue one range of
/// `(community_id, queue_rank, id)`.
#[tokio::test]
async fn comment_pages_read_one_index_range() {
    let w = world().await;
    let pg = backend(&w.app) == DbBackend::Postgres;
    let new_id = if pg {
        "gen_random_uuid()"
    } else {
        "randomblob(16)"
    };
    let lit = |id: Uuid| {
        if pg {
            format!("'{id}'")
        } else {
            format!("x'{}'", id.simple())
        }
    };
    let staff = w
        .app
        .user_with_role(
            &w.root,
            "plan_comment_staff",
            "community_staff",
            "community",
            w.community,
        )
        .await;
    let res = w
        .app
        .post(
            "/api/v1/notices",
            &staff,
            &json!({"scope_type": "community", "scope_id": w.community, "category": "notice",
                    "title": "征求意见", "body": "请发表意见"}),
        )
        .await;
    let notice = id_of(&res.json().await.unwrap());
    let res = w
        .app
        .post(
            &format!("/api/v1/notices/{notice}/publish"),
            &staff,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let ts = "'2026-12-30T00:00:00+00:00'";
    for subject in [lit(notice), new_id.to_string()] {
        exec(
            &w.app,
            &format!(
                "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 2999) \
                 INSERT INTO comments (id, street_id, community_id, subject_type, subject_id, \
                 author_user_id, author_kind, author_display, alignment, body, status, \
                 reports_count, queue_rank, version, created_at, updated_at) \
                 SELECT {new_id}, {}, {}, 'notice', {subject}, {new_id}, 'resident', '1栋 王**', \
                 0, '意见', CASE WHEN i % 10 = 0 THEN 'pending_review' ELSE 'published' END, 0, \
                 CASE WHEN i % 10 = 0 THEN 1 ELSE NULL END, 1, {ts}, {ts} FROM k",
                lit(w.street),
                lit(w.community)
            ),
        )
        .await;
    }
    exec(&w.app, "ANALYZE comments").await;
    let path = format!("/api/v1/notices/{notice}/comments");
    assert_page_walks(
        &w,
        &staff,
        &path,
        "comments",
        "ix_comments_subject_type_subject_id_id",
        Sort::Never,
    )
    .await;
    let page: Value = w.app.get(&path, &staff).await.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 20);
    let queue = format!("/api/v1/moderation/queue?community_id={}", w.community);
    assert_page_walks(
        &w,
        &staff,
        &queue,
        "comments",
        "ix_comments_community_id_queue_rank_id",
        Sort::Never,
    )
    .await;
    let page: Value = w.app.get(&queue, &staff).await.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 20);
}
