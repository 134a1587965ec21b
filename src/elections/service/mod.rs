//! Elections' rules and transactions: creating and editing a draft (here), officers and
//! candidates (`people`), roll objections (`objections`), and the verbs of the state machine
//! (`verbs`, `count`). Every verb checks its guards, moves the status with a conditional update
//! (exactly once across replicas) and writes an audit event in the same transaction.

pub mod count;
pub mod objections;
pub mod people;
pub mod sheet;
pub mod verbs;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, TransactionTrait,
};
use uuid::Uuid;

use crate::access::policy::{self, Action, Level};
use crate::access::Actor;
use crate::elections::model::{self, ElectionBody, ElectionScope, Method, Rules, Status};
use crate::elections::policy as election_policy;
use crate::identity::service::users as roles;
use crate::platform::audit::{self, Action as Audited};
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::text::clean_name;
use crate::territory::query::place_lookup::{self, Node};
use entity::{election, election_position};

/// One position of a new or edited election.
#[derive(Debug, Clone)]
pub struct NewPosition {
    pub position: String,
    pub title: Option<String>,
    pub seats: i32,
    pub min_candidates: Option<i32>,
}

/// A new election (already parsed; texts not yet cleaned).
#[derive(Debug, Clone)]
pub struct NewElection {
    pub scope_type: ElectionScope,
    pub scope_id: Uuid,
    pub body: ElectionBody,
    pub title: String,
    pub method: Method,
    pub term_years: i32,
    pub term_starts_on: Option<NaiveDate>,
    pub voting_starts_at: DateTime<Utc>,
    pub voting_ends_at: DateTime<Utc>,
    pub rules: Option<Rules>,
    pub positions: Vec<NewPosition>,
}

/// The changes of a draft (absent: unchanged).
#[derive(Debug, Clone, Default)]
pub struct DraftChange {
    pub title: Option<String>,
    pub method: Option<Method>,
    pub term_years: Option<i32>,
    pub term_starts_on: Option<Option<NaiveDate>>,
    pub voting_starts_at: Option<DateTime<Utc>>,
    pub voting_ends_at: Option<DateTime<Utc>>,
    pub rules: Option<Rules>,
    pub positions: Option<Vec<NewPosition>>,
}

pub(crate) fn invalid(
    field: &str,
    code: FieldCode,
    zh: &'static str,
    en: &'static str,
) -> AppError {
    AppError::Validation(vec![FieldError::of(field, code, Text::new(zh, en))])
}

/// One unmet guard of a verb.
pub(crate) fn unmet(
    guard: impl Into<String>,
    code: FieldCode,
    zh: String,
    en: String,
) -> FieldError {
    FieldError::of(guard, code, Text::new(zh, en))
}

/// `Ok` when no guard is unmet, else 409 `guard_failed` naming each.
pub(crate) fn guards(unmet: Vec<FieldError>) -> AppResult<()> {
    if unmet.is_empty() {
        Ok(())
    } else {
        Err(AppError::GuardFailed(unmet))
    }
}

pub(crate) fn wrong_status(s: Status) -> AppError {
    let label = model::status_label(s);
    AppError::conflict(
        ProblemCode::WrongStatus,
        crate::text!(
            "选举当前处于「{label}」阶段，不能进行此操作",
            "the election is {label}; this step is not possible now"
        ),
    )
}

/// The territory read that makes a node visible (for the 404 / 403 split).
fn read_of(level: Level) -> Action {
    match level {
        Level::Community => Action::CommunityRead,
        Level::Compound => Action::CompoundRead,
        _ => Action::BuildingRead,
    }
}

fn level(s: ElectionScope) -> Level {
    match s {
        ElectionScope::Community => Level::Community,
        ElectionScope::Compound => Level::Compound,
        ElectionScope::Building => Level::Building,
    }
}

/// The node an election goes on, if the caller sees it (else 404) and may run elections there
/// (else 403).
async fn authorize_node<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    scope_type: ElectionScope,
    scope_id: Uuid,
) -> AppResult<Node> {
    let lv = level(scope_type);
    let node = place_lookup::node(db, lv, scope_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let places = node.places();
    let manage = policy::scope(db, caller, Action::ElectionManage).await?;
    let sees = manage.contains(&places)
        || policy::scope(db, caller, read_of(lv))
            .await?
            .contains(&places);
    if !sees {
        return Err(AppError::NotFound);
    }
    if !manage.contains(&places) {
        return Err(AppError::Forbidden);
    }
    Ok(node)
}

fn check_rules(r: &Rules) -> AppResult<()> {
    let bad = r.out_of_range();
    if bad.is_empty() {
        return Ok(());
    }
    Err(AppError::Validation(
        bad.into_iter()
            .map(|f| {
                FieldError::of(
                    f,
                    FieldCode::OutOfRange,
                    Text::new(
                        "超出允许范围（比例的分子不大于分母，分母 1–100）",
                        "out of range (a share's numerator at most its denominator, denominator 1–100)",
                    ),
                )
            })
            .collect(),
    ))
}

fn check_times(starts: DateTime<Utc>, ends: DateTime<Utc>, now: DateTime<Utc>) -> AppResult<()> {
    if starts <= now {
        return Err(invalid(
            "voting_starts_at",
            FieldCode::OutOfRange,
            "投票开始时间必须在将来",
            "voting_starts_at must be in the future",
        ));
    }
    if ends <= starts || ends - starts > Duration::days(model::VOTING_DAYS_MAX) {
        return Err(invalid(
            "voting_ends_at",
            FieldCode::OutOfRange,
            "投票结束时间必须晚于开始时间，且投票期不超过 31 天",
            "voting_ends_at must be after voting_starts_at, at most 31 days later",
        ));
    }
    Ok(())
}

fn check_term(years: i32) -> AppResult<()> {
    if !(1..=model::TERM_YEARS_MAX).contains(&years) {
        return Err(invalid(
            "term_years",
            FieldCode::OutOfRange,
            "任期为 1 到 10 年",
            "term_years is 1 to 10",
        ));
    }
    Ok(())
}

/// The positions, cleaned: 1 to 10, seats 1 to 20, at least as many candidates as seats (one
/// more when contested, by default).
fn clean_positions(
    ps: &[NewPosition],
    rules: &Rules,
) -> AppResult<Vec<(String, String, i32, i32)>> {
    if ps.is_empty() {
        return Err(AppError::Validation(vec![FieldError::required(
            "positions",
        )]));
    }
    if ps.len() > model::POSITIONS_MAX {
        return Err(AppError::Validation(vec![FieldError::too_many(
            "positions",
            model::POSITIONS_MAX,
        )]));
    }
    let mut out = Vec::with_capacity(ps.len());
    for (i, p) in ps.iter().enumerate() {
        let position = clean_name(
            &format!("positions[{i}].position"),
            &p.position,
            model::POSITION_MAX,
        )?;
        let title = match &p.title {
            Some(t) => clean_name(&format!("positions[{i}].title"), t, model::TITLE_MAX)?,
            None => position.clone(),
        };
        if !(1..=model::SEATS_MAX).contains(&p.seats) {
            return Err(invalid(
                &format!("positions[{i}].seats"),
                FieldCode::OutOfRange,
                "名额为 1 到 20",
                "seats is 1 to 20",
            ));
        }
        let least = p.seats + i32::from(rules.contested);
        let min = p.min_candidates.unwrap_or(least);
        if min < p.seats || min > model::SEATS_MAX * 3 {
            return Err(invalid(
                &format!("positions[{i}].min_candidates"),
                FieldCode::OutOfRange,
                "候选人最少人数不能少于名额，也不能超过 60",
                "min_candidates is at least seats and at most 60",
            ));
        }
        if out
            .iter()
            .any(|(q, _, _, _): &(String, String, i32, i32)| *q == position)
        {
            return Err(invalid(
                &format!("positions[{i}].position"),
                FieldCode::Duplicate,
                "职位重复",
                "the position is given twice",
            ));
        }
        out.push((position, title, p.seats, min));
    }
    Ok(out)
}

async fn write_positions<C: ConnectionTrait>(
    db: &C,
    election_id: Uuid,
    ps: Vec<(String, String, i32, i32)>,
) -> AppResult<()> {
    election_position::Entity::delete_many()
        .filter(election_position::Column::ElectionId.eq(election_id))
        .exec(db)
        .await?;
    for (i, (position, title, seats, min)) in ps.into_iter().enumerate() {
        election_position::ActiveModel {
            id: Set(Uuid::now_v7()),
            election_id: Set(election_id),
            sort: Set(i32::try_from(i).unwrap_or(0)),
            position: Set(position),
            title: Set(title),
            seats: Set(seats),
            min_candidates: Set(min),
            seats_filled: Set(0),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Writes one audit event of election `e`: `verb` as the purpose, `detail` as given.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn audit_step<C: ConnectionTrait>(
    db: &C,
    who: audit::Who<'_>,
    action: Audited,
    e: &election::Model,
    verb: &str,
    resident_id: Option<Uuid>,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut d = serde_json::json!({"election_id": e.id, "verb": verb});
    if let (Some(m), serde_json::Value::Object(extra)) = (d.as_object_mut(), detail) {
        m.extend(extra);
    }
    audit::record(
        db,
        audit::Event {
            actor: who,
            action,
            street_id: Some(e.street_id),
            community_id: Some(e.community_id),
            resident_id,
            field: None,
            purpose: verb,
            detail: Some(d.to_string()),
        },
        now,
    )
    .await?;
    Ok(())
}

/// Creates a draft election on a node the caller runs elections on.
pub async fn create(
    db: &DatabaseConnection,
    caller: &Actor,
    n: NewElection,
    now: DateTime<Utc>,
) -> AppResult<election::Model> {
    let node = authorize_node(db, caller, n.scope_type, n.scope_id).await?;
    if !model::body_fits(n.body, n.scope_type) {
        return Err(invalid(
            "scope_type",
            FieldCode::Mismatch,
            "该职务只能在对应层级选举：楼组长在楼栋，街面长在小区（商圈），居委会和议事会在社区",
            "this body is elected on another kind of scope: building_leader on a building, street_leader on a compound, residents_committee and council on a community",
        ));
    }
    if n.body == ElectionBody::StreetLeader {
        roles::street_leader_may_lead(db, node.id).await?;
    }
    let title = clean_name("title", &n.title, model::TITLE_MAX)?;
    check_term(n.term_years)?;
    check_times(n.voting_starts_at, n.voting_ends_at, now)?;
    let rules = n.rules.unwrap_or_default();
    check_rules(&rules)?;
    let positions = clean_positions(&n.positions, &rules)?;
    let community_id = node.community_id.ok_or(AppError::NotFound)?;
    let id = Uuid::now_v7();
    let txn = db.begin().await?;
    let e = election::ActiveModel {
        id: Set(id),
        street_id: Set(node.street_id),
        community_id: Set(community_id),
        compound_id: Set(node.compound_id),
        building_id: Set(node.building_id),
        scope_type: Set(n.scope_type),
        scope_id: Set(node.id),
        body: Set(n.body),
        title: Set(title),
        method: Set(n.method),
        term_years: Set(n.term_years),
        term_starts_on: Set(n.term_starts_on),
        validity_num: Set(rules.validity_num),
        validity_den: Set(rules.validity_den),
        validity_strict: Set(rules.validity_strict),
        win_num: Set(rules.win_num),
        win_den: Set(rules.win_den),
        win_strict: Set(rules.win_strict),
        runoff_min_num: Set(rules.runoff_min_num),
        runoff_min_den: Set(rules.runoff_min_den),
        contested: Set(rules.contested),
        min_women: Set(rules.min_women),
        roll_publish_days: Set(rules.roll_publish_days),
        candidates_publish_days: Set(rules.candidates_publish_days),
        joint_nominators_min: Set(rules.joint_nominators_min),
        status: Set(Status::Draft),
        poll_id: Set(None),
        voting_starts_at: Set(n.voting_starts_at),
        voting_ends_at: Set(n.voting_ends_at),
        certified_by_1: Set(None),
        certified_by_2: Set(None),
        certified_at: Set(None),
        published_at: Set(None),
        end_reason: Set(None),
        runoff_position_id: Set(None),
        version: Set(1),
        created_by: Set(caller.id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    write_positions(&txn, id, positions).await?;
    audit_step(
        &txn,
        caller.into(),
        Audited::ElectionStep,
        &e,
        "create",
        None,
        serde_json::json!({"body": e.body, "scope_id": e.scope_id}),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(election = %id, by = %caller.id, "election created");
    Ok(e)
}

/// Checks `If-Match` against `e`'s version.
pub(crate) fn check_version(e: &election::Model, expected: Option<i32>) -> AppResult<()> {
    match expected {
        Some(v) if v != e.version => Err(AppError::PreconditionFailed),
        _ => Ok(()),
    }
}

/// Edits a draft (If-Match).
pub async fn update(
    db: &DatabaseConnection,
    caller: &Actor,
    id: Uuid,
    expected: Option<i32>,
    c: DraftChange,
    now: DateTime<Utc>,
) -> AppResult<election::Model> {
    let e = election_policy::find_managed(db, caller, id).await?;
    check_version(&e, expected)?;
    if e.status != Status::Draft {
        return Err(wrong_status(e.status));
    }
    let rules = c.rules.unwrap_or_else(|| Rules::of(&e));
    check_rules(&rules)?;
    let title = match &c.title {
        Some(t) => clean_name("title", t, model::TITLE_MAX)?,
        None => e.title.clone(),
    };
    let term_years = c.term_years.unwrap_or(e.term_years);
    check_term(term_years)?;
    let starts = c.voting_starts_at.unwrap_or(e.voting_starts_at);
    let ends = c.voting_ends_at.unwrap_or(e.voting_ends_at);
    if c.voting_starts_at.is_some() || c.voting_ends_at.is_some() {
        check_times(starts, ends, now)?;
    }
    let positions = match &c.positions {
        Some(ps) => Some(clean_positions(ps, &rules)?),
        None => None,
    };
    let txn = db.begin().await?;
    let done = election::Entity::update_many()
        .col_expr(election::Column::Title, Expr::value(title))
        .col_expr(
            election::Column::Method,
            Expr::value(c.method.unwrap_or(e.method)),
        )
        .col_expr(election::Column::TermYears, Expr::value(term_years))
        .col_expr(
            election::Column::TermStartsOn,
            Expr::value(c.term_starts_on.unwrap_or(e.term_starts_on)),
        )
        .col_expr(election::Column::VotingStartsAt, Expr::value(starts))
        .col_expr(election::Column::VotingEndsAt, Expr::value(ends))
        .col_expr(
            election::Column::ValidityNum,
            Expr::value(rules.validity_num),
        )
        .col_expr(
            election::Column::ValidityDen,
            Expr::value(rules.validity_den),
        )
        .col_expr(
            election::Column::ValidityStrict,
            Expr::value(rules.validity_strict),
        )
        .col_expr(election::Column::WinNum, Expr::value(rules.win_num))
        .col_expr(election::Column::WinDen, Expr::value(rules.win_den))
        .col_expr(election::Column::WinStrict, Expr::value(rules.win_strict))
        .col_expr(
            election::Column::RunoffMinNum,
            Expr::value(rules.runoff_min_num),
        )
        .col_expr(
            election::Column::RunoffMinDen,
            Expr::value(rules.runoff_min_den),
        )
        .col_expr(election::Column::Contested, Expr::value(rules.contested))
        .col_expr(election::Column::MinWomen, Expr::value(rules.min_women))
        .col_expr(
            election::Column::RollPublishDays,
            Expr::value(rules.roll_publish_days),
        )
        .col_expr(
            election::Column::CandidatesPublishDays,
            Expr::value(rules.candidates_publish_days),
        )
        .col_expr(
            election::Column::JointNominatorsMin,
            Expr::value(rules.joint_nominators_min),
        )
        .col_expr(
            election::Column::Version,
            Expr::col(election::Column::Version).add(1),
        )
        .col_expr(election::Column::UpdatedAt, Expr::value(now))
        .filter(election::Column::Id.eq(e.id))
        .filter(election::Column::Version.eq(e.version))
        .filter(election::Column::Status.eq(Status::Draft))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(concurrent());
    }
    if let Some(ps) = positions {
        write_positions(&txn, e.id, ps).await?;
    }
    audit_step(
        &txn,
        caller.into(),
        Audited::ElectionStep,
        &e,
        "update",
        None,
        serde_json::json!({}),
        now,
    )
    .await?;
    txn.commit().await?;
    reload(db, e.id).await
}

pub(crate) fn concurrent() -> AppError {
    AppError::conflict(
        ProblemCode::ConcurrentChange,
        Text::new(
            "选举刚被他人修改，请刷新后重试",
            "someone else changed the election at the same moment; reload and retry",
        ),
    )
}

pub(crate) async fn reload<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<election::Model> {
    election::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// Moves `e` from its current status to `to` exactly once (a conditional update on its id,
/// status and version), setting `extra` columns too; a lost race is 409 `concurrent_change`.
pub(crate) async fn transition<C: ConnectionTrait>(
    db: &C,
    e: &election::Model,
    to: Status,
    extra: Vec<(election::Column, sea_orm::sea_query::SimpleExpr)>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut u = election::Entity::update_many()
        .col_expr(election::Column::Status, Expr::value(to))
        .col_expr(
            election::Column::Version,
            Expr::col(election::Column::Version).add(1),
        )
        .col_expr(election::Column::UpdatedAt, Expr::value(now));
    for (c, v) in extra {
        u = u.col_expr(c, v);
    }
    let done = u
        .filter(election::Column::Id.eq(e.id))
        .filter(election::Column::Status.eq(e.status))
        .filter(election::Column::Version.eq(e.version))
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        return Err(concurrent());
    }
    Ok(())
}
