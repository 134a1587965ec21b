//! Objections to an election's voter roll (选民名单异议): filed while the roll is published and
//! before voting opens; an accepted one edits the poll's roll through the poll engine (add,
//! strike, or admit an entry held for review), audited in the same transaction.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use uuid::Uuid;

use crate::access::Actor;
use crate::elections::engine::{self, RollEdit, VoterKey};
use crate::elections::model::{self, Method, ObjectionKind, ObjectionStatus, Status};
use crate::elections::policy as election_policy;
use crate::elections::service::people::lives_in;
use crate::elections::service::{audit_step, concurrent, invalid, wrong_status};
use crate::platform::audit::Action as Audited;
use crate::platform::error::{AppError, AppResult, FieldCode, ProblemCode};
use crate::platform::http::clean_text;
use crate::platform::lang::Text;
use crate::residents::query::resident_refs;
use entity::roll_objection;

/// While objections may be filed and decided: the roll is published, voting not yet open.
const OPEN_FOR_OBJECTIONS: [Status; 3] = [
    Status::RollPublished,
    Status::Nominating,
    Status::CandidatesPublished,
];

/// Files an objection to the roll of election `id`.
pub async fn file(
    db: &DatabaseConnection,
    caller: &Actor,
    id: Uuid,
    resident_id: Uuid,
    kind: ObjectionKind,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<roll_objection::Model> {
    let e = election_policy::find_readable(db, caller, id).await?;
    if !OPEN_FOR_OBJECTIONS.contains(&e.status) {
        return Err(wrong_status(e.status));
    }
    let reason = clean_text("reason", &reason, model::REASON_MAX)?;
    let lives = resident_refs::placed(db, resident_id)
        .await?
        .is_some_and(|r| lives_in(&e, &r));
    if !lives {
        return Err(invalid(
            "resident_id",
            FieldCode::NotFound,
            "该居民不在本次选举的范围内",
            "no such resident within this election's scope",
        ));
    }
    let txn = db.begin().await?;
    let o = roll_objection::ActiveModel {
        id: Set(Uuid::now_v7()),
        election_id: Set(e.id),
        by_user_id: Set(caller.id),
        resident_id: Set(resident_id),
        kind: Set(kind),
        reason: Set(reason),
        status: Set(ObjectionStatus::Pending),
        decided_by: Set(None),
        decision_note: Set(None),
        decided_at: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit_step(
        &txn,
        caller.into(),
        Audited::ElectionStep,
        &e,
        "object",
        Some(resident_id),
        serde_json::json!({"objection_id": o.id, "kind": kind}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(o)
}

/// Decides objection `id`: accepted (the roll is edited) or rejected, with a note; once.
pub async fn decide(
    db: &DatabaseConnection,
    caller: &Actor,
    id: Uuid,
    accept: bool,
    note: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<roll_objection::Model> {
    let o = roll_objection::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let e = election_policy::find_managed(db, caller, o.election_id).await?;
    if !OPEN_FOR_OBJECTIONS.contains(&e.status) {
        return Err(wrong_status(e.status));
    }
    if o.status != ObjectionStatus::Pending {
        return Err(AppError::conflict(
            ProblemCode::WrongStatus,
            Text::new("该异议已经处理过", "the objection was already decided"),
        ));
    }
    let note = match note {
        Some(n) => Some(clean_text("note", &n, model::REASON_MAX)?),
        None => None,
    };
    let status = if accept {
        ObjectionStatus::Accepted
    } else {
        ObjectionStatus::Rejected
    };
    let txn = db.begin().await?;
    let done = roll_objection::Entity::update_many()
        .col_expr(roll_objection::Column::Status, Expr::value(status))
        .col_expr(
            roll_objection::Column::DecidedBy,
            Expr::value(Some(caller.id)),
        )
        .col_expr(
            roll_objection::Column::DecisionNote,
            Expr::value(note.clone()),
        )
        .col_expr(roll_objection::Column::DecidedAt, Expr::value(Some(now)))
        .filter(roll_objection::Column::Id.eq(o.id))
        .filter(roll_objection::Column::Status.eq(ObjectionStatus::Pending))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(concurrent());
    }
    if accept {
        let poll = e.poll_id.ok_or(AppError::NotFound)?;
        let r = resident_refs::placed(&txn, o.resident_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let edit = match o.kind {
            ObjectionKind::Add => RollEdit::Add,
            ObjectionKind::Remove => RollEdit::Strike,
            ObjectionKind::Correct => RollEdit::Admit,
        };
        let voter = match e.method {
            Method::HouseholdRep => VoterKey::Household(r.household_id),
            Method::Direct => VoterKey::Resident(r.id),
        };
        engine::edit_roll(&txn, poll, edit, voter, &o.reason, caller.id, now).await?;
        audit_step(
            &txn,
            caller.into(),
            Audited::ElectionRollEdit,
            &e,
            "roll_edit",
            Some(o.resident_id),
            serde_json::json!({"objection_id": o.id, "kind": o.kind}),
            now,
        )
        .await?;
    }
    audit_step(
        &txn,
        caller.into(),
        Audited::ElectionStep,
        &e,
        "decide_objection",
        Some(o.resident_id),
        serde_json::json!({"objection_id": o.id, "accept": accept, "note": note}),
        now,
    )
    .await?;
    txn.commit().await?;
    roll_objection::Entity::find_by_id(o.id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}
