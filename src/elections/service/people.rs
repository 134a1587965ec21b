//! Officers (选举委员会) and candidates (候选人) of an election. An officer can never be a
//! candidate: appointing a candidate as officer and nominating an officer are both refused
//! (409 `guard_failed`), and the guard is checked again at publish-candidates and certify.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::access::Actor;
use crate::elections::model::{self, CandidateStatus, NominationKind, OfficerRole, Status};
use crate::elections::policy as election_policy;
use crate::elections::service::{audit_step, guards, invalid, unmet, wrong_status};
use crate::identity::query::users as accounts;
use crate::platform::attachments;
use crate::platform::audit::Action as Audited;
use crate::platform::error::{AppError, AppResult, FieldCode, ProblemCode};
use crate::platform::http::clean_text;
use crate::platform::lang::Text;
use crate::residents::query::resident_refs::{self, PlacedResident};
use entity::{candidate, candidate_nominator, election, election_officer, election_position};

/// Statuses in which officers may still change (until voting opens).
const BEFORE_VOTING: [Status; 4] = [
    Status::Draft,
    Status::RollPublished,
    Status::Nominating,
    Status::CandidatesPublished,
];

/// Whether resident `r` lives under election `e`'s node.
pub(crate) fn lives_in(e: &election::Model, r: &PlacedResident) -> bool {
    match e.scope_type {
        model::ElectionScope::Community => r.community_id == e.scope_id,
        model::ElectionScope::Compound => r.compound_id == e.scope_id,
        model::ElectionScope::Building => r.building_id == e.scope_id,
    }
}

/// The candidates of `e` still standing (not disqualified or withdrawn) whose account is
/// `user_id`.
async fn standing_as_candidate<C: ConnectionTrait>(
    db: &C,
    election_id: Uuid,
    user_id: Uuid,
) -> AppResult<bool> {
    let bound = resident_refs::of_account(db, user_id).await?.map(|r| r.id);
    let mut any = sea_orm::Condition::any().add(candidate::Column::UserId.eq(user_id));
    if let Some(r) = bound {
        any = any.add(candidate::Column::ResidentId.eq(r));
    }
    Ok(candidate::Entity::find()
        .filter(candidate::Column::ElectionId.eq(election_id))
        .filter(any)
        .filter(
            candidate::Column::Status
                .is_not_in([CandidateStatus::Disqualified, CandidateStatus::Withdrawn]),
        )
        .count(db)
        .await?
        > 0)
}

/// Whether `user_id` is an officer of `election_id`.
pub(crate) async fn is_officer<C: ConnectionTrait>(
    db: &C,
    election_id: Uuid,
    user_id: Uuid,
) -> AppResult<bool> {
    Ok(election_officer::Entity::find_by_id((election_id, user_id))
        .one(db)
        .await?
        .is_some())
}

/// The officers of `election_id`, in the order appointed.
pub async fn officers<C: ConnectionTrait>(
    db: &C,
    election_id: Uuid,
) -> AppResult<Vec<election_officer::Model>> {
    use sea_orm::QueryOrder;
    Ok(election_officer::Entity::find()
        .filter(election_officer::Column::ElectionId.eq(election_id))
        .order_by_asc(election_officer::Column::CreatedAt)
        .order_by_asc(election_officer::Column::UserId)
        .all(db)
        .await?)
}

fn officer_is_candidate(field: &str) -> crate::platform::error::FieldError {
    unmet(
        field,
        FieldCode::NotAllowed,
        "选举工作人员不能同时是候选人".to_string(),
        "an election officer can never be a candidate".to_string(),
    )
}

/// Appoints `user_id` as an officer of election `id` (until voting opens).
pub async fn add_officer(
    db: &DatabaseConnection,
    caller: &Actor,
    id: Uuid,
    user_id: Uuid,
    role: OfficerRole,
    now: DateTime<Utc>,
) -> AppResult<election_officer::Model> {
    let e = election_policy::find_managed(db, caller, id).await?;
    if !BEFORE_VOTING.contains(&e.status) {
        return Err(wrong_status(e.status));
    }
    let Some(name) = accounts::active_display_name(db, user_id).await? else {
        return Err(invalid(
            "user_id",
            FieldCode::NotFound,
            "没有这个账号",
            "no such active account",
        ));
    };
    if standing_as_candidate(db, e.id, user_id).await? {
        return Err(AppError::GuardFailed(vec![officer_is_candidate("user_id")]));
    }
    if is_officer(db, e.id, user_id).await? {
        return Err(AppError::conflict(
            ProblemCode::AlreadyExists,
            Text::new(
                "此人已是本次选举的工作人员",
                "already an officer of this election",
            ),
        ));
    }
    let txn = db.begin().await?;
    let o = election_officer::ActiveModel {
        election_id: Set(e.id),
        user_id: Set(user_id),
        role: Set(role),
        display_name: Set(name),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit_step(
        &txn,
        caller.into(),
        Audited::ElectionStep,
        &e,
        "add_officer",
        None,
        serde_json::json!({"user_id": user_id, "role": role}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(o)
}

/// Removes officer `user_id` of election `id` (until voting opens).
pub async fn remove_officer(
    db: &DatabaseConnection,
    caller: &Actor,
    id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let e = election_policy::find_managed(db, caller, id).await?;
    if !BEFORE_VOTING.contains(&e.status) {
        return Err(wrong_status(e.status));
    }
    let txn = db.begin().await?;
    let done = election_officer::Entity::delete_by_id((e.id, user_id))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(AppError::NotFound);
    }
    audit_step(
        &txn,
        caller.into(),
        Audited::ElectionStep,
        &e,
        "remove_officer",
        None,
        serde_json::json!({"user_id": user_id}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A nomination (already parsed).
#[derive(Debug, Clone)]
pub struct Nomination {
    pub position_id: Uuid,
    /// The candidate; the caller's own resident when absent (自荐).
    pub resident_id: Option<Uuid>,
    pub statement: String,
    pub photo_attachment_id: Option<Uuid>,
    /// Staff nominating on behalf say by whom: `group` or `council`.
    pub kind: Option<NominationKind>,
}

/// Nominates a candidate while nominations are open: a resident of the election's node
/// nominates themself (`self`) or proposes a neighbour (`joint`, the proposer its first
/// nominator); staff nominate on behalf of a 居民小组 or the council (`group`, `council`).
pub async fn nominate(
    db: &DatabaseConnection,
    caller: &Actor,
    id: Uuid,
    n: Nomination,
    now: DateTime<Utc>,
) -> AppResult<candidate::Model> {
    let e = election_policy::find_readable(db, caller, id).await?;
    let staff = election_policy::may_manage(db, caller, &e).await?;
    if e.status != Status::Nominating {
        return Err(wrong_status(e.status));
    }
    let statement = clean_text("statement", &n.statement, model::STATEMENT_MAX)?;
    let position = election_position::Entity::find_by_id(n.position_id)
        .filter(election_position::Column::ElectionId.eq(e.id))
        .one(db)
        .await?
        .ok_or_else(|| {
            invalid(
                "position_id",
                FieldCode::NotFound,
                "本次选举没有这个职位",
                "no such position in this election",
            )
        })?;
    if let Some(p) = n.photo_attachment_id {
        if attachments::find(db, p).await.is_err() {
            return Err(invalid(
                "photo_attachment_id",
                FieldCode::NotFound,
                "没有这张照片",
                "no such uploaded photo",
            ));
        }
    }
    let own = resident_refs::of_account(db, caller.id).await?;
    let (resident_id, kind, proposer) = if staff {
        let Some(r) = n.resident_id else {
            return Err(AppError::Validation(vec![
                crate::platform::error::FieldError::required("resident_id"),
            ]));
        };
        let kind = match n.kind {
            Some(k @ (NominationKind::Group | NominationKind::Council)) => k,
            Some(_) => {
                return Err(invalid(
                    "kind",
                    FieldCode::NotAllowed,
                    "工作人员代为提名时，提名方式为居民小组（group）或议事会（council）",
                    "staff nominate on behalf of a group or the council",
                ))
            }
            None => {
                return Err(AppError::Validation(vec![
                    crate::platform::error::FieldError::required("kind"),
                ]))
            }
        };
        (r, kind, None)
    } else {
        if n.kind.is_some() {
            return Err(invalid(
                "kind",
                FieldCode::NotAllowed,
                "居民提名无需填写提名方式",
                "residents do not set kind",
            ));
        }
        let Some(me) = own.as_ref() else {
            return Err(AppError::Forbidden);
        };
        match n.resident_id {
            None => (me.id, NominationKind::Own, None),
            Some(r) if r == me.id => (me.id, NominationKind::Own, None),
            Some(r) => (r, NominationKind::Joint, Some(me.id)),
        }
    };
    let placed = resident_refs::placed(db, resident_id)
        .await?
        .filter(|r| lives_in(&e, r));
    let Some(r) = placed else {
        return Err(invalid(
            "resident_id",
            FieldCode::NotFound,
            "该居民不在本次选举的范围内",
            "no such resident within this election's scope",
        ));
    };
    if let Some(p) = proposer {
        let lives = resident_refs::placed(db, p)
            .await?
            .is_some_and(|me| lives_in(&e, &me));
        if !lives {
            return Err(AppError::Forbidden);
        }
    }
    if let Some(u) = r.user_id {
        if is_officer(db, e.id, u).await? {
            return Err(AppError::GuardFailed(vec![officer_is_candidate(
                "resident_id",
            )]));
        }
    }
    let cid = Uuid::now_v7();
    let txn = db.begin().await?;
    let inserted = candidate::ActiveModel {
        id: Set(cid),
        election_id: Set(e.id),
        position_id: Set(position.id),
        resident_id: Set(r.id),
        user_id: Set(r.user_id),
        display_name: Set(r.name.clone()),
        gender: Set(r.gender),
        statement: Set(statement),
        photo_attachment_id: Set(n.photo_attachment_id),
        nomination_kind: Set(kind),
        nominators_count: Set(i32::from(proposer.is_some())),
        status: Set(CandidateStatus::Nominated),
        reason: Set(None),
        votes: Set(None),
        rank: Set(None),
        created_by: Set(caller.id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await;
    let c = match inserted {
        Ok(c) => c,
        Err(err) if crate::platform::error::is_unique_violation(&err) => {
            return Err(AppError::conflict(
                ProblemCode::AlreadyExists,
                Text::new(
                    "该居民已是本次选举的候选人（每人只能竞选一个职位）",
                    "the resident is already a candidate in this election (one position each)",
                ),
            ))
        }
        Err(err) => return Err(err.into()),
    };
    if let Some(p) = proposer {
        candidate_nominator::ActiveModel {
            candidate_id: Set(cid),
            resident_id: Set(p),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    audit_step(
        &txn,
        caller.into(),
        Audited::ElectionStep,
        &e,
        "nominate",
        Some(r.id),
        serde_json::json!({"candidate_id": cid, "kind": kind, "position_id": position.id}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(c)
}

/// A candidate and its election, if the caller may read the election.
async fn candidate_of<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    candidate_id: Uuid,
) -> AppResult<(candidate::Model, election::Model)> {
    let c = candidate::Entity::find_by_id(candidate_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let e = election_policy::find_readable(db, caller, c.election_id).await?;
    Ok((c, e))
}

/// The caller joins a joint nomination (联名): a resident of the election's node, once.
pub async fn join(
    db: &DatabaseConnection,
    caller: &Actor,
    candidate_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<candidate::Model> {
    let (c, e) = candidate_of(db, caller, candidate_id).await?;
    if e.status != Status::Nominating {
        return Err(wrong_status(e.status));
    }
    let me = match resident_refs::of_account(db, caller.id).await? {
        Some(me) => resident_refs::placed(db, me.id).await?,
        None => None,
    };
    let Some(me) = me.filter(|r| lives_in(&e, r)) else {
        return Err(AppError::Forbidden);
    };
    if c.nomination_kind != NominationKind::Joint
        || !matches!(
            c.status,
            CandidateStatus::Nominated | CandidateStatus::Qualified
        )
    {
        return Err(AppError::conflict(
            ProblemCode::WrongStatus,
            Text::new(
                "只能联名推荐联名提名中的候选人",
                "only a standing joint nomination takes nominators",
            ),
        ));
    }
    let txn = db.begin().await?;
    let added = candidate_nominator::ActiveModel {
        candidate_id: Set(c.id),
        resident_id: Set(me.id),
        created_at: Set(now),
    }
    .insert(&txn)
    .await;
    match added {
        Ok(_) => {}
        Err(err) if crate::platform::error::is_unique_violation(&err) => {
            return Err(AppError::conflict(
                ProblemCode::AlreadyExists,
                Text::new(
                    "您已联名推荐过该候选人",
                    "you already nominated this candidate",
                ),
            ))
        }
        Err(err) => return Err(err.into()),
    }
    candidate::Entity::update_many()
        .col_expr(
            candidate::Column::NominatorsCount,
            Expr::col(candidate::Column::NominatorsCount).add(1),
        )
        .col_expr(candidate::Column::UpdatedAt, Expr::value(now))
        .filter(candidate::Column::Id.eq(c.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    candidate::Entity::find_by_id(c.id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// The candidate moves `from` → `to` with `reason` (a conditional update); the caller must run
/// the election, or — for a withdrawal — be the candidate.
pub async fn decide(
    db: &DatabaseConnection,
    caller: &Actor,
    candidate_id: Uuid,
    to: CandidateStatus,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<candidate::Model> {
    let (c, e) = candidate_of(db, caller, candidate_id).await?;
    let staff = election_policy::may_manage(db, caller, &e).await?;
    let own = c.user_id == Some(caller.id);
    let allowed = staff || (to == CandidateStatus::Withdrawn && own);
    if !allowed {
        return Err(AppError::Forbidden);
    }
    let (statuses, from): (&[Status], &[CandidateStatus]) = match to {
        CandidateStatus::Qualified => (&[Status::Nominating], &[CandidateStatus::Nominated]),
        _ => (
            &[Status::Nominating, Status::CandidatesPublished],
            &[CandidateStatus::Nominated, CandidateStatus::Qualified],
        ),
    };
    if !statuses.contains(&e.status) {
        return Err(wrong_status(e.status));
    }
    if !from.contains(&c.status) {
        return Err(AppError::conflict(
            ProblemCode::WrongStatus,
            Text::new(
                "候选人当前状态不能进行此操作",
                "not possible in the candidate's status",
            ),
        ));
    }
    let reason = match reason {
        Some(r) => Some(clean_text("reason", &r, model::REASON_MAX)?),
        None => None,
    };
    if to == CandidateStatus::Qualified {
        let mut u = Vec::new();
        if c.nomination_kind == NominationKind::Joint && c.nominators_count < e.joint_nominators_min
        {
            let (have, need) = (c.nominators_count, e.joint_nominators_min);
            u.push(unmet(
                "nominators",
                FieldCode::TooFew,
                format!("联名推荐人数 {have} 人，至少需要 {need} 人"),
                format!("{have} joint nominators; at least {need} are needed"),
            ));
        }
        if let Some(uid) = c.user_id {
            if is_officer(db, e.id, uid).await? {
                u.push(officer_is_candidate("officer"));
            }
        }
        guards(u)?;
    }
    let txn = db.begin().await?;
    let done = candidate::Entity::update_many()
        .col_expr(candidate::Column::Status, Expr::value(to))
        .col_expr(candidate::Column::Reason, Expr::value(reason.clone()))
        .col_expr(candidate::Column::UpdatedAt, Expr::value(now))
        .filter(candidate::Column::Id.eq(c.id))
        .filter(candidate::Column::Status.eq(c.status))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(crate::elections::service::concurrent());
    }
    let verb = match to {
        CandidateStatus::Qualified => "qualify",
        CandidateStatus::Disqualified => "disqualify",
        _ => "withdraw",
    };
    audit_step(
        &txn,
        caller.into(),
        Audited::ElectionStep,
        &e,
        verb,
        Some(c.resident_id),
        serde_json::json!({"candidate_id": c.id, "reason": reason}),
        now,
    )
    .await?;
    txn.commit().await?;
    candidate::Entity::find_by_id(c.id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}
