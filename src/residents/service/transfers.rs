//! Transfers of a resident to another household, usually of another community (迁出 → 迁入).
//!
//! Staff of the resident's current community file one; staff of the receiving community accept
//! it (the resident moves, with their account binding) or refuse it; the sending side may cancel
//! it while pending. Every decision claims the pending transfer by a conditional update first,
//! so of two concurrent decisions exactly one wins and the other is a 409.
//!
//! Nothing here tells the sending side anything about the receiving community's roster: filing
//! never looks at it. Only the receiving staff, accepting, learn that their own roster already
//! holds the same ID number.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::access::policy::{self as access, Role};
use crate::access::Actor;
use crate::identity::service::binding;
use crate::platform::audit::{self, Action, Who};
use crate::platform::error::{is_unique_violation, AppError, AppResult, FieldCode, ProblemCode};
use crate::platform::inbox::{self, Subject};
use crate::platform::lang::Text;
use crate::residents::model::TransferStatus;
use crate::residents::policy::{authorize_transfer, TransferEnd};
use crate::residents::query::transfers::{respond_one, ResidentTransferResponse};
use crate::territory::model::Household;
use crate::territory::query::places;
use entity::{resident, resident_transfer};

/// Longest note or reason.
pub const TEXT_MAX: usize = 500;

fn already_pending() -> AppError {
    AppError::conflict(
        ProblemCode::TransferPending,
        Text::new(
            "这位居民已有一条待处理的迁移申请；请等对方社区处理，或先撤销那一条",
            "This resident already has a pending transfer; wait for it to be decided or cancel it first",
        ),
    )
}

/// Files the transfer of `r` to `to`: pending until the receiving side decides.
pub async fn file<C: ConnectionTrait>(
    db: &C,
    actor: Who<'_>,
    r: &resident::Model,
    to: &Household,
    note: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<resident_transfer::Model> {
    if to.id == r.household_id {
        return Err(AppError::invalid(
            "to_household_id",
            FieldCode::Invalid,
            Text::new(
                "这位居民已经住在这一户",
                "The resident already lives in this household",
            ),
        ));
    }
    let pending = resident_transfer::Entity::find()
        .filter(resident_transfer::Column::PendingResidentId.eq(r.id))
        .count(db)
        .await?;
    if pending > 0 {
        return Err(already_pending());
    }
    let t = resident_transfer::ActiveModel {
        id: Set(Uuid::now_v7()),
        resident_id: Set(r.id),
        pending_resident_id: Set(Some(r.id)),
        status: Set(TransferStatus::Pending),
        from_street_id: Set(r.street_id),
        from_community_id: Set(r.community_id),
        from_compound_id: Set(r.compound_id),
        from_building_id: Set(r.building_id),
        from_household_id: Set(r.household_id),
        to_street_id: Set(to.street_id),
        to_community_id: Set(to.community_id),
        to_compound_id: Set(to.compound_id),
        to_building_id: Set(to.building_id),
        to_household_id: Set(to.id),
        resident_name: Set(r.name.clone()),
        phone_masked: Set(r
            .phone_masked
            .as_deref()
            .map(crate::platform::pii::staff_phone_mask)),
        id_number_masked: Set(r.id_number_masked.clone()),
        note: Set(note),
        reason: Set(None),
        filed_by: Set(actor.id),
        filed_by_name: Set(actor.name.to_string()),
        decided_by: Set(None),
        decided_by_name: Set(None),
        decided_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| {
        // Two filings racing: the unique index on `pending_resident_id` lets one in.
        if is_unique_violation(&e) {
            already_pending()
        } else {
            e.into()
        }
    })?;
    record(db, actor, Action::TransferFile, &t, now).await?;
    // The receiving community's staff are told in their message centre.
    let staff =
        crate::tickets::service::workflow::holders(db, Role::CommunityStaff, &[t.to_community_id])
            .await?;
    inbox::deliver(
        db,
        &staff,
        inbox::TRANSFER_FILED,
        Subject::ResidentTransfer(t.id),
        "有居民迁入待接收",
        &inbox::truncate(
            &format!("「{}」申请迁入本社区，请核对后接收或退回", t.resident_name),
            inbox::BODY_MAX,
        ),
        now,
    )
    .await?;
    Ok(t)
}

/// Tells who filed `t` how the receiving community decided.
async fn tell_filer<C: ConnectionTrait>(
    db: &C,
    t: &resident_transfer::Model,
    event: &str,
    title: &str,
    body: String,
    now: DateTime<Utc>,
) -> AppResult<()> {
    inbox::deliver(
        db,
        &[t.filed_by],
        event,
        Subject::ResidentTransfer(t.id),
        title,
        &inbox::truncate(&body, inbox::BODY_MAX),
        now,
    )
    .await
}

/// Moves a pending transfer to `status` for this decision, or 409 when another decision got
/// there first; returns it as it now is.
async fn claim<C: ConnectionTrait>(
    db: &C,
    actor: Who<'_>,
    t: &resident_transfer::Model,
    status: TransferStatus,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<resident_transfer::Model> {
    use resident_transfer::Column as C;
    let done = resident_transfer::Entity::update_many()
        .col_expr(C::Status, Expr::value(status))
        .col_expr(C::PendingResidentId, Expr::value(Option::<Uuid>::None))
        .col_expr(C::Reason, Expr::value(reason))
        .col_expr(C::DecidedBy, Expr::value(Some(actor.id)))
        .col_expr(C::DecidedByName, Expr::value(Some(actor.name.to_string())))
        .col_expr(C::DecidedAt, Expr::value(Some(now)))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(t.id))
        .filter(C::Status.eq(TransferStatus::Pending))
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        return Err(AppError::conflict(
            ProblemCode::TransferDecided,
            Text::new(
                "这条迁移申请已经处理过（已接收、已退回或已撤销）",
                "This transfer was already accepted, refused or cancelled",
            ),
        ));
    }
    resident_transfer::Entity::find_by_id(t.id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

fn id_number_on_roster() -> AppError {
    AppError::conflict(
        ProblemCode::IdNumberRegistered,
        Text::new(
            "本社区名册上已有同一身份证号的居民；请先核对并处理重复的登记，再接收这次迁入",
            "A resident with the same ID number is already on this community's roster; resolve the duplicate before accepting the transfer",
        ),
    )
}

/// Accepts: the resident moves into the target household (and its building, compound,
/// community and street), moved in `today`, no longer moved out. An account bound to the
/// resident stays bound and its resident role follows to the new household.
pub async fn accept<C: ConnectionTrait>(
    db: &C,
    actor: Who<'_>,
    t: &resident_transfer::Model,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<resident_transfer::Model> {
    let t = claim(db, actor, t, TransferStatus::Accepted, None, now).await?;
    let r = resident::Entity::find_by_id(t.resident_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let hh = places::household(db, t.to_household_id)
        .await?
        .ok_or(AppError::NotFound)?;
    // The receiving community's own roster, which the accepting staff keep: an ID number is
    // registered once per community.
    if let Some(hash) = &r.id_number_hash {
        let twins = resident::Entity::find()
            .filter(resident::Column::CommunityId.eq(hh.community_id))
            .filter(resident::Column::IdNumberHash.eq(hash.as_str()))
            .filter(resident::Column::Id.ne(r.id))
            .count(db)
            .await?;
        if twins > 0 {
            return Err(id_number_on_roster());
        }
    }
    let user_id = r.user_id;
    let mut am = r.into_active_model();
    am.street_id = Set(hh.street_id);
    am.community_id = Set(hh.community_id);
    am.compound_id = Set(hh.compound_id);
    am.building_id = Set(hh.building_id);
    am.household_id = Set(hh.id);
    am.moved_in_on = Set(Some(today));
    am.moved_out_on = Set(None);
    am.updated_at = Set(now);
    let r = am.update(db).await.map_err(|e| {
        if is_unique_violation(&e) {
            id_number_on_roster()
        } else {
            e.into()
        }
    })?;
    if let Some(user_id) = user_id {
        binding::link(db, user_id, r, now).await?;
    }
    record(db, actor, Action::TransferAccept, &t, now).await?;
    let body = format!("「{}」的迁入已被对方社区接收", t.resident_name);
    tell_filer(db, &t, inbox::TRANSFER_ACCEPTED, "迁入已接收", body, now).await?;
    Ok(t)
}

/// Refuses, with a reason the sending side reads.
pub async fn refuse<C: ConnectionTrait>(
    db: &C,
    actor: Who<'_>,
    t: &resident_transfer::Model,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<resident_transfer::Model> {
    let t = claim(db, actor, t, TransferStatus::Refused, Some(reason), now).await?;
    record(db, actor, Action::TransferRefuse, &t, now).await?;
    let body = format!(
        "「{}」的迁入被对方社区退回：{}",
        t.resident_name,
        t.reason.as_deref().unwrap_or_default()
    );
    tell_filer(db, &t, inbox::TRANSFER_REFUSED, "迁入被退回", body, now).await?;
    Ok(t)
}

/// Withdraws a pending transfer (the sending side).
pub async fn cancel<C: ConnectionTrait>(
    db: &C,
    actor: Who<'_>,
    t: &resident_transfer::Model,
    now: DateTime<Utc>,
) -> AppResult<resident_transfer::Model> {
    let t = claim(db, actor, t, TransferStatus::Cancelled, None, now).await?;
    record(db, actor, Action::TransferCancel, &t, now).await?;
    Ok(t)
}

/// Audits a step of a transfer in the logs of both communities (once when they are one): the
/// resident's personal data is shown to, and then kept by, the receiving side.
async fn record<C: ConnectionTrait>(
    db: &C,
    actor: Who<'_>,
    action: Action,
    t: &resident_transfer::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let detail = serde_json::json!({
        "transfer_id": t.id,
        "from_household_id": t.from_household_id,
        "to_household_id": t.to_household_id,
    })
    .to_string();
    let mut ends = vec![(t.from_street_id, t.from_community_id)];
    if t.to_community_id != t.from_community_id {
        ends.push((t.to_street_id, t.to_community_id));
    }
    for (street_id, community_id) in ends {
        audit::record(
            db,
            audit::Event {
                actor,
                action,
                street_id: Some(street_id),
                community_id: Some(community_id),
                resident_id: Some(t.resident_id),
                field: None,
                purpose: "",
                detail: Some(detail.clone()),
            },
            now,
        )
        .await?;
    }
    Ok(())
}

/// Files the transfer of the resident `resident_id` to the household `to_household_id` for
/// `actor`, who must keep the resident's roster, in one transaction; answers it as staff read it.
pub async fn file_for<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    resident_id: Uuid,
    to_household_id: Uuid,
    note: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<ResidentTransferResponse> {
    let r = access::authorize_object::<resident::Entity, _>(
        db,
        actor,
        access::Action::ResidentRead,
        access::Action::ResidentWrite,
        resident_id,
    )
    .await?;
    // Any household may be named: the picker shows every one, and filing reads nothing of the
    // receiving community's roster.
    let to = places::household(db, to_household_id)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "to_household_id",
                FieldCode::NotFound,
                Text::new("没有这一户", "No such household"),
            )
        })?;
    let txn = db.begin().await?;
    let t = file(&txn, actor.into(), &r, &to, note, now).await?;
    txn.commit().await?;
    respond_one(db, t).await
}

/// A decision on the transfer `id` by `actor`, who must reach the transfer's `end`.
#[derive(Debug, Clone)]
pub enum Decision {
    /// The receiving end takes the resident in, moved in on `now`'s date.
    Accept,
    /// The receiving end sends it back, with a reason.
    Refuse(String),
    /// The sending end withdraws it.
    Cancel,
}

/// Decides the transfer `id` for `actor`, in one transaction: accepting and refusing are the
/// receiving end's, cancelling the sending end's.
pub async fn decide<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    decision: Decision,
    now: DateTime<Utc>,
) -> AppResult<ResidentTransferResponse> {
    let end = match decision {
        Decision::Accept | Decision::Refuse(_) => TransferEnd::To,
        Decision::Cancel => TransferEnd::From,
    };
    let t = authorize_transfer(db, actor, id, end).await?;
    let txn = db.begin().await?;
    let t = match decision {
        Decision::Accept => accept(&txn, actor.into(), &t, now.date_naive(), now).await?,
        Decision::Refuse(reason) => refuse(&txn, actor.into(), &t, reason, now).await?,
        Decision::Cancel => cancel(&txn, actor.into(), &t, now).await?,
    };
    txn.commit().await?;
    respond_one(db, t).await
}
