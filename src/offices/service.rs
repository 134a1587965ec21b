//! Appointing, ending and handing over office terms. A term that grants a role writes the
//! grant through the identity service in the same transaction, and every write that adds or
//! takes a role runs inside the holder's authorization-epoch change (`access::epoch`), around
//! the whole transaction, so no replica keeps serving the holder's old roles after it commits.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, TransactionTrait,
};
use uuid::Uuid;

use crate::access::policy::{self, Action, Level};
use crate::access::{epoch, Actor};
use crate::identity::query::users as accounts;
use crate::identity::service::users::{self as roles, Grant, TermGrant};
use crate::offices::model::{self, Body, OfficeScope, Source};
use crate::offices::query::{self, OfficeTermResponse};
use crate::platform::audit::{self, Action as Audited};
use crate::platform::cache::SharedCache;
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::text::clean_name;
use crate::residents::query::resident_refs;
use crate::territory::query::place_lookup::{self, Node};
use entity::office_term;

/// Who starts a term, where, for which period (already parsed; texts not yet cleaned).
#[derive(Debug, Clone)]
pub struct Appointment {
    pub body: Body,
    pub position: String,
    pub scope_type: OfficeScope,
    pub scope_id: Uuid,
    pub body_ref_id: Option<Uuid>,
    pub holder: Holder,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub grants_role: bool,
}

/// Who holds a term: a resident of the roster and/or an account, and the name shown.
#[derive(Debug, Clone, Default)]
pub struct Holder {
    pub resident_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub display_name: Option<String>,
}

/// How a term is ended early.
#[derive(Debug, Clone)]
pub struct Ending {
    /// The last day; today (Asia/Shanghai) when absent.
    pub ended_on: Option<NaiveDate>,
    pub reason: String,
}

/// The territory read that makes a node visible (for the 404 / 403 split).
fn read_of(level: Level) -> Action {
    match level {
        Level::Street => Action::StreetRead,
        Level::Community => Action::CommunityRead,
        Level::Compound => Action::CompoundRead,
        _ => Action::BuildingRead,
    }
}

/// The node a term goes on, if the caller sees it (else 404) and may manage offices there
/// (else 403).
async fn authorize_node<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    scope_type: OfficeScope,
    scope_id: Uuid,
) -> AppResult<Node> {
    let level = model::level(scope_type);
    let node = place_lookup::node(db, level, scope_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let places = node.places();
    let sees = policy::scope(db, caller, read_of(level))
        .await?
        .contains(&places)
        || policy::scope(db, caller, Action::OfficeRead)
            .await?
            .contains(&places);
    if !sees {
        return Err(AppError::NotFound);
    }
    if !policy::scope(db, caller, Action::OfficeManage)
        .await?
        .contains(&places)
    {
        return Err(AppError::Forbidden);
    }
    Ok(node)
}

fn invalid(field: &str, code: FieldCode, zh: &'static str, en: &'static str) -> AppError {
    AppError::Validation(vec![FieldError::of(field, code, Text::new(zh, en))])
}

/// The checks of a new term that need no database: dates, and the body on its scope kind.
fn check_shape(a: &Appointment) -> AppResult<()> {
    if a.ends_on.is_some_and(|e| e < a.starts_on) {
        return Err(invalid(
            "ends_on",
            FieldCode::OutOfRange,
            "任期结束日期不能早于开始日期",
            "ends_on is before starts_on",
        ));
    }
    if let Some(want) = model::required_scope(a.body) {
        if want != a.scope_type {
            return Err(invalid(
                "scope_type",
                FieldCode::Mismatch,
                "该职务只能设在对应层级：楼组长在楼栋，街面长在小区（商圈），居委会和议事会在社区",
                "this body sits on another kind of scope: building_leader on a building, street_leader on a compound, residents_committee and council on a community",
            ));
        }
    }
    if a.grants_role && model::granted_role(a.body).is_none() {
        return Err(invalid(
            "grants_role",
            FieldCode::NotAllowed,
            "该职务不授予系统角色",
            "this body grants no role",
        ));
    }
    if a.grants_role && a.holder.user_id.is_none() && a.holder.resident_id.is_none() {
        return Err(AppError::Validation(vec![FieldError::required("user_id")]));
    }
    Ok(())
}

/// The holder, checked: the resident lives under the node; the account exists; the name
/// defaults to the resident's, then the account's. The account defaults to the resident's own.
async fn check_holder<C: ConnectionTrait>(
    db: &C,
    node: &Node,
    h: &Holder,
) -> AppResult<(Option<Uuid>, Option<Uuid>, String)> {
    let mut name = match &h.display_name {
        Some(n) => Some(clean_name("display_name", n, model::NAME_MAX)?),
        None => None,
    };
    let mut user_id = h.user_id;
    if let Some(rid) = h.resident_id {
        let r = resident_refs::placed(db, rid).await?;
        let lives_here = r.as_ref().is_some_and(|r| {
            let at = [
                (Level::Street, r.street_id),
                (Level::Community, r.community_id),
                (Level::Compound, r.compound_id),
                (Level::Building, r.building_id),
            ];
            at.contains(&(node.level, node.id))
        });
        let Some(r) = r.filter(|_| lives_here) else {
            return Err(invalid(
                "resident_id",
                FieldCode::NotFound,
                "该居民不住在这个范围内",
                "no such resident lives in this scope",
            ));
        };
        name = name.or(Some(r.name));
        user_id = user_id.or(r.user_id);
    }
    if let Some(uid) = user_id {
        let Some(shown) = accounts::active_display_name(db, uid).await? else {
            return Err(invalid(
                "user_id",
                FieldCode::NotFound,
                "没有这个账号",
                "no such active account",
            ));
        };
        name = name.or(Some(shown));
    }
    let name =
        name.ok_or_else(|| AppError::Validation(vec![FieldError::required("display_name")]))?;
    Ok((h.resident_id, user_id, name))
}

/// Inserts a term (and its grant) on the connection `db` (a transaction), after the checks.
#[allow(clippy::too_many_arguments)]
async fn start<C: ConnectionTrait>(
    db: &C,
    cache: &SharedCache,
    caller: &Actor,
    a: &Appointment,
    node: &Node,
    source: Source,
    election_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<office_term::Model> {
    check_shape(a)?;
    let position = clean_name("position", &a.position, model::POSITION_MAX)?;
    if a.body == Body::StreetLeader {
        roles::street_leader_may_lead(db, node.id).await?;
    }
    let (resident_id, user_id, display_name) = check_holder(db, node, &a.holder).await?;
    if a.grants_role && user_id.is_none() {
        return Err(invalid(
            "user_id",
            FieldCode::Required,
            "授予角色需要任职人的账号（user_id），该居民尚未绑定账号",
            "granting a role needs the holder's account (user_id); the resident has none bound",
        ));
    }
    let id = Uuid::now_v7();
    let mut term = office_term::ActiveModel {
        id: Set(id),
        street_id: Set(node.street_id),
        community_id: Set(node.community_id),
        compound_id: Set(node.compound_id),
        building_id: Set(node.building_id),
        scope_type: Set(a.scope_type),
        scope_id: Set(node.id),
        body: Set(a.body),
        body_ref_id: Set(a.body_ref_id),
        position: Set(position),
        resident_id: Set(resident_id),
        user_id: Set(user_id),
        display_name: Set(display_name),
        source: Set(source),
        election_id: Set(election_id),
        starts_on: Set(a.starts_on),
        ends_on: Set(a.ends_on),
        ended_on: Set(None),
        end_reason: Set(None),
        role_assignment_id: Set(None),
        created_by: Set(caller.id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    if let (true, Some(user_id), Some(role)) = (a.grants_role, user_id, model::granted_role(a.body))
    {
        let grant = Grant {
            user_id,
            role,
            scope_type: role.scope_type(),
            scope_id: node.id,
            term: Some(TermGrant {
                term_id: id,
                valid_until: a.ends_on.map(model::end_instant),
            }),
        };
        let granted = roles::grant_role(db, cache, caller, grant, now).await?;
        let mut am: office_term::ActiveModel = term.into();
        am.role_assignment_id = Set(Some(granted.id));
        term = am.update(db).await?;
    }
    Ok(term)
}

async fn audit_term<C: ConnectionTrait>(
    db: &C,
    who: audit::Who<'_>,
    action: Audited,
    t: &office_term::Model,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let detail = serde_json::json!({
        "term_id": t.id,
        "body": t.body,
        "position": t.position,
        "scope_type": t.scope_type,
        "scope_id": t.scope_id,
        "user_id": t.user_id,
        "role_assignment_id": t.role_assignment_id,
        "ends_on": t.ends_on,
        "ended_on": t.ended_on,
    });
    audit::record(
        db,
        audit::Event {
            actor: who,
            action,
            street_id: Some(t.street_id),
            community_id: t.community_id,
            resident_id: t.resident_id,
            field: None,
            purpose: reason.unwrap_or(""),
            detail: Some(detail.to_string()),
        },
        now,
    )
    .await?;
    Ok(())
}

/// The accounts whose roles a write may change (their epochs change around it).
fn holders(users: impl IntoIterator<Item = Option<Uuid>>) -> Vec<Uuid> {
    let mut v: Vec<Uuid> = users.into_iter().flatten().collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Appoints a term (任命): the node must be within the caller's office management; when
/// `grants_role`, the role of the body is granted on the node until the term's end.
pub async fn appoint(
    db: &DatabaseConnection,
    cache: &SharedCache,
    caller: &Actor,
    a: Appointment,
    now: DateTime<Utc>,
) -> AppResult<OfficeTermResponse> {
    let node = authorize_node(db, caller, a.scope_type, a.scope_id).await?;
    check_shape(&a)?;
    // The account is known before the transaction only when given; a resident's own account
    // is found inside. Both are marked (a mark on an account whose roles do not change is
    // harmless).
    let resident_user = match a.holder.resident_id {
        Some(r) => resident_refs::placed(db, r).await?.and_then(|r| r.user_id),
        None => None,
    };
    let users = holders([a.holder.user_id, resident_user]);
    let name = node.name.clone();
    let term = epoch::changing(cache, &users, async {
        let txn = db.begin().await?;
        let term = start(
            &txn,
            cache,
            caller,
            &a,
            &node,
            Source::Appointment,
            None,
            now,
        )
        .await?;
        audit_term(&txn, caller.into(), Audited::TermAppoint, &term, None, now).await?;
        txn.commit().await?;
        Ok(term)
    })
    .await?;
    tracing::info!(term = %term.id, by = %caller.id, "office term appointed");
    Ok(query::respond(term, name, now))
}

/// Starts the term of someone elected in election `election_id` (`source = election`), with
/// the role of the body when `a.grants_role`, on the connection `db` (the election's
/// transaction; the caller changes the holders' epochs around it). No authorization here: the
/// elections domain authorized publishing the result.
pub async fn start_elected<C: ConnectionTrait>(
    db: &C,
    cache: &SharedCache,
    caller: &Actor,
    a: &Appointment,
    election_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<office_term::Model> {
    let node = place_lookup::node(db, model::level(a.scope_type), a.scope_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let term = start(
        db,
        cache,
        caller,
        a,
        &node,
        Source::Election,
        Some(election_id),
        now,
    )
    .await?;
    audit_term(db, caller.into(), Audited::TermElect, &term, None, now).await?;
    Ok(term)
}

/// Ends term `t` on `ended_on` with `reason`, revoking its grant: exactly once (a conditional
/// update on `ended_on IS NULL`; the loser of a race, or a second call, is 409).
async fn finish<C: ConnectionTrait>(
    db: &C,
    t: &office_term::Model,
    ended_on: NaiveDate,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<office_term::Model> {
    if ended_on < t.starts_on {
        return Err(invalid(
            "ended_on",
            FieldCode::OutOfRange,
            "结束日期不能早于任期开始日期",
            "ended_on is before the term's starts_on",
        ));
    }
    let done = office_term::Entity::update_many()
        .col_expr(office_term::Column::EndedOn, Expr::value(Some(ended_on)))
        .col_expr(
            office_term::Column::EndReason,
            Expr::value(Some(reason.to_string())),
        )
        .col_expr(
            office_term::Column::RoleAssignmentId,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(office_term::Column::UpdatedAt, Expr::value(now))
        .filter(office_term::Column::Id.eq(t.id))
        .filter(office_term::Column::EndedOn.is_null())
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        return Err(already_ended());
    }
    if let Some(grant) = t.role_assignment_id {
        roles::remove_term_grant(db, grant, t.id).await?;
    }
    office_term::Entity::find_by_id(t.id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

fn already_ended() -> AppError {
    AppError::conflict(
        ProblemCode::TermAlreadyEnded,
        Text::new("该任期已经结束", "the term has already ended"),
    )
}

/// The term `id` for a change: visible (else 404), manageable (else 403), not yet ended (409).
async fn for_change<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    id: Uuid,
) -> AppResult<office_term::Model> {
    let t = policy::authorize_object::<office_term::Entity, C>(
        db,
        caller,
        Action::OfficeRead,
        Action::OfficeManage,
        id,
    )
    .await?;
    if t.ended_on.is_some() {
        return Err(already_ended());
    }
    Ok(t)
}

/// Ends the term `id` now (or on `ended_on`), revoking the role it granted at once.
pub async fn end(
    db: &DatabaseConnection,
    cache: &SharedCache,
    caller: &Actor,
    id: Uuid,
    ending: Ending,
    now: DateTime<Utc>,
) -> AppResult<OfficeTermResponse> {
    let t = for_change(db, caller, id).await?;
    let reason = clean_name("reason", &ending.reason, model::REASON_MAX)?;
    let ended_on = ending.ended_on.unwrap_or_else(|| model::today(now));
    let ended = epoch::changing(cache, &holders([t.user_id]), async {
        let txn = db.begin().await?;
        let ended = finish(&txn, &t, ended_on, &reason, now).await?;
        let audited = office_term::Model {
            role_assignment_id: t.role_assignment_id,
            ..ended.clone()
        };
        audit_term(
            &txn,
            caller.into(),
            Audited::TermEnd,
            &audited,
            Some(&reason),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(ended)
    })
    .await?;
    tracing::info!(term = %id, by = %caller.id, "office term ended");
    query::get(db, caller, ended.id, now).await
}

/// The successor in a handover (荣退交接).
#[derive(Debug, Clone)]
pub struct Handover {
    pub successor: Holder,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub grants_role: bool,
    pub reason: String,
}

/// Ends the term `id` (the day before the successor starts, or the day it started if that is
/// later) and starts the successor's term on the same office with `source = handover`, in one
/// transaction; returns the successor's term.
pub async fn hand_over(
    db: &DatabaseConnection,
    cache: &SharedCache,
    caller: &Actor,
    id: Uuid,
    h: Handover,
    now: DateTime<Utc>,
) -> AppResult<OfficeTermResponse> {
    let t = for_change(db, caller, id).await?;
    let reason = clean_name("reason", &h.reason, model::REASON_MAX)?;
    let node = authorize_node(db, caller, t.scope_type, t.scope_id).await?;
    let a = Appointment {
        body: t.body,
        position: t.position.clone(),
        scope_type: t.scope_type,
        scope_id: t.scope_id,
        body_ref_id: t.body_ref_id,
        holder: h.successor,
        starts_on: h.starts_on,
        ends_on: h.ends_on,
        grants_role: h.grants_role,
    };
    check_shape(&a)?;
    let resident_user = match a.holder.resident_id {
        Some(r) => resident_refs::placed(db, r).await?.and_then(|r| r.user_id),
        None => None,
    };
    let ended_on = h
        .starts_on
        .pred_opt()
        .filter(|d| *d >= t.starts_on)
        .unwrap_or(t.starts_on);
    let users = holders([t.user_id, a.holder.user_id, resident_user]);
    let name = node.name.clone();
    let next = epoch::changing(cache, &users, async {
        let txn = db.begin().await?;
        let ended = finish(&txn, &t, ended_on, &reason, now).await?;
        let audited = office_term::Model {
            role_assignment_id: t.role_assignment_id,
            ..ended
        };
        audit_term(
            &txn,
            caller.into(),
            Audited::TermHandover,
            &audited,
            Some(&reason),
            now,
        )
        .await?;
        let next = start(&txn, cache, caller, &a, &node, Source::Handover, None, now).await?;
        audit_term(
            &txn,
            caller.into(),
            Audited::TermAppoint,
            &next,
            Some(&reason),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(next)
    })
    .await?;
    tracing::info!(term = %id, successor = %next.id, by = %caller.id, "office term handed over");
    Ok(query::respond(next, name, now))
}

/// Records on term `term_id` that its role expired at `valid_until` (ended on its last day,
/// `end_reason = expired`), unless it already ended; whether this call recorded it.
pub async fn record_expiry<C: ConnectionTrait>(
    db: &C,
    term_id: Uuid,
    valid_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<Option<office_term::Model>> {
    let done = office_term::Entity::update_many()
        .col_expr(
            office_term::Column::EndedOn,
            Expr::value(Some(model::last_day(valid_until))),
        )
        .col_expr(
            office_term::Column::EndReason,
            Expr::value(Some(model::EXPIRED.to_string())),
        )
        .col_expr(
            office_term::Column::RoleAssignmentId,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(office_term::Column::UpdatedAt, Expr::value(now))
        .filter(office_term::Column::Id.eq(term_id))
        .filter(office_term::Column::EndedOn.is_null())
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        return Ok(None);
    }
    Ok(office_term::Entity::find_by_id(term_id).one(db).await?)
}

/// Writes the expiry of `t`'s grant `grant_id` to the audit log, as the system.
pub async fn audit_expiry<C: ConnectionTrait>(
    db: &C,
    t: &office_term::Model,
    grant_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let system = audit::Who {
        id: Uuid::nil(),
        name: "系统",
        username: None,
    };
    let audited = office_term::Model {
        role_assignment_id: Some(grant_id),
        ..t.clone()
    };
    audit_term(
        db,
        system,
        Audited::TermExpire,
        &audited,
        Some(model::EXPIRED),
        now,
    )
    .await
}
