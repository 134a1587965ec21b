//! 办: the lead (领办人), starting the work (guards: the poll passed, a lead, the money
//! committed), progress updates with photos, milestones.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;

use super::{audit_step, check_version, load, move_step, raced, require_step, touch, Guards};
use crate::access::policy::Action;
use crate::access::Actor;
use crate::platform::attachments::{self, SubjectType};
use crate::platform::error::{AppError, AppResult, FieldCode};
use crate::platform::lang::Text;
use crate::platform::pii::mask_name;
use crate::polls::model::Outcome;
use crate::polls::service::engine;
use crate::proposals::model::{Step, UpdateKind};
use crate::proposals::policy as rules;
use crate::proposals::service::subject::{insert_event, ProposalRef};
use crate::proposals::service::verbs::authorized;
use crate::residents::query::resident_refs;
use crate::territory::query::place_lookup as places;
use entity::{proposal, proposal_milestone, proposal_update};

/// Who leads: a roster resident, by their id or their account.
#[derive(Debug, Clone, Copy)]
pub enum LeadRef {
    Resident(Uuid),
    User(Uuid),
}

/// Names the lead (领办人) of a proposal from deliberation on: a resident of its community
/// (their account, if bound, posts the updates). Shown as "3栋 李*".
pub async fn set_lead<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    lead: LeadRef,
    now: DateTime<Utc>,
) -> AppResult<proposal::Model> {
    use proposal::Column as P;
    let txn = db.begin().await?;
    let p = authorized(&txn, actor, id, Action::ProposalAdvance).await?;
    check_version(&p, expected)?;
    require_step(
        &p,
        &[
            Step::Deliberating,
            Step::Deciding,
            Step::Raising,
            Step::Implementing,
        ],
        "指定领办人",
    )?;
    let resident_id = match lead {
        LeadRef::Resident(r) => Some(r),
        LeadRef::User(u) => resident_refs::of_account(&txn, u).await?.map(|r| r.id),
    };
    let r = match resident_id {
        Some(r) => resident_refs::placed(&txn, r).await?,
        None => None,
    }
    .filter(|r| r.community_id == p.community_id)
    .ok_or_else(|| {
        AppError::invalid(
            "resident_id",
            FieldCode::NotFound,
            Text::new("本社区没有这位居民", "no such resident in the community"),
        )
    })?;
    let building = places::building_names(&txn, [r.building_id])
        .await?
        .remove(&r.building_id)
        .unwrap_or_default();
    let display: String = format!("{building} {}", mask_name(&r.name))
        .trim()
        .chars()
        .take(40)
        .collect();
    let sets = vec![
        (P::LeadUserId, Expr::value(r.user_id)),
        (P::LeadResidentId, Expr::value(Some(r.id))),
        (P::LeadDisplay, Expr::value(Some(display.clone()))),
    ];
    if !touch(&txn, &p, sets, now).await? {
        return Err(raced());
    }
    let r_ref = ProposalRef::from(&p);
    insert_event(
        &txn,
        &r_ref,
        Some(actor),
        "lead_set",
        None,
        Some(&display),
        now,
    )
    .await?;
    audit_step(
        &txn,
        actor,
        &p,
        "set_lead",
        serde_json::json!({"resident_id": r.id}),
        now,
    )
    .await?;
    if let Some(u) = r.user_id {
        super::notify::to_users(&txn, &p, &[u], "您被指定为领办人", now).await?;
    }
    txn.commit().await?;
    load(db, id).await
}

/// A planned milestone.
#[derive(Debug, Clone)]
pub struct NewMilestone {
    pub title: String,
    pub planned_on: Option<NaiveDate>,
}

/// Starts the work (raising → implementing). Guards: the decision poll passed (`poll`; while
/// `deciding` it has not yet), a lead (`lead`), and when it needs money the committed money
/// (approved allocations not released + contributions received, the funds' caches) covers the
/// budget (`committed`); pledges promised do not count.
pub async fn start<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    milestones: Vec<NewMilestone>,
    now: DateTime<Utc>,
) -> AppResult<proposal::Model> {
    let txn = db.begin().await?;
    let p = authorized(&txn, actor, id, Action::ProposalAdvance).await?;
    check_version(&p, expected)?;
    require_step(&p, &[Step::Deciding, Step::Raising], "开始实施")?;
    let passed = match (p.step, p.decision_poll_id) {
        (Step::Raising, Some(poll)) => {
            engine::status_in(&txn, poll).await?.outcome == Some(Outcome::Passed)
        }
        _ => false,
    };
    let committed = p.allocated_fen + p.received_fen;
    let mut g = Guards::default();
    g.check(
        passed,
        "poll",
        FieldCode::NotPassed,
        "表决尚未通过",
        "the decision poll has not passed",
    );
    g.check(
        p.lead_user_id.is_some() || p.lead_resident_id.is_some(),
        "lead",
        FieldCode::NotSet,
        "请先指定领办人",
        "name the lead first",
    );
    if p.budget_fen > 0 && committed < p.budget_fen {
        g.fail(
            "committed",
            FieldCode::TooFew,
            crate::text!(
                "已落实资金 {} 分，少于预算 {} 分",
                "{} fen committed, less than the budget of {} fen",
                committed,
                p.budget_fen
            ),
        );
    }
    g.done()?;
    write_milestones(&txn, id, &milestones).await?;
    let sets = vec![(proposal::Column::StartedAt, Expr::value(Some(now)))];
    if !move_step(
        &txn,
        &p,
        Step::Implementing,
        sets,
        Some(actor),
        "started",
        None,
        now,
    )
    .await?
    {
        return Err(raced());
    }
    audit_step(
        &txn,
        actor,
        &p,
        "start_implementation",
        serde_json::json!({}),
        now,
    )
    .await?;
    super::notify::stepped(&txn, &p, Step::Implementing, now).await?;
    txn.commit().await?;
    load(db, id).await
}

async fn write_milestones<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    ms: &[NewMilestone],
) -> AppResult<()> {
    if ms.is_empty() {
        return Ok(());
    }
    proposal_milestone::Entity::delete_many()
        .filter(proposal_milestone::Column::ProposalId.eq(id))
        .exec(conn)
        .await?;
    for (i, m) in ms.iter().enumerate() {
        proposal_milestone::ActiveModel {
            id: Set(Uuid::now_v7()),
            proposal_id: Set(id),
            position: Set(i as i32 + 1),
            title: Set(m.title.clone()),
            planned_on: Set(m.planned_on),
            done_on: Set(None),
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// A progress report.
#[derive(Debug, Clone)]
pub struct NewUpdate {
    pub kind: UpdateKind,
    pub progress_pct: Option<i16>,
    pub note: String,
    pub attachment_ids: Vec<Uuid>,
    /// A milestone this update marks done.
    pub milestone_id: Option<Uuid>,
}

/// Whether the caller reports on `p` (its lead, or community staff): 403 otherwise.
async fn require_lead<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    p: &proposal::Model,
) -> AppResult<()> {
    if rules::may_lead(conn, actor, p).await? {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Posts an update (progress, milestone, issue, completion) while `implementing`, with up to 9
/// photos (the poster's own uploads). A milestone update marks its milestone done; a progress
/// percentage becomes the proposal's, and without one, a proposal with milestones shows
/// done/total.
pub async fn post_update<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    u: NewUpdate,
    now: DateTime<Utc>,
) -> AppResult<proposal_update::Model> {
    use proposal::Column as P;
    let txn = db.begin().await?;
    let p = rules::readable_proposal(&txn, actor, id).await?;
    require_lead(&txn, actor, &p).await?;
    require_step(&p, &[Step::Implementing], "报告进展")?;
    let update_id = Uuid::now_v7();
    let name = if p.lead_user_id == Some(actor.id) {
        p.lead_display
            .clone()
            .unwrap_or_else(|| mask_name(&actor.display_name))
    } else {
        actor.display_name.clone()
    };
    let row = proposal_update::ActiveModel {
        id: Set(update_id),
        proposal_id: Set(id),
        kind: Set(u.kind),
        progress_pct: Set(u.progress_pct),
        note: Set(u.note.clone()),
        author_user_id: Set(actor.id),
        author_name: Set(name),
        photos: Set(u.attachment_ids.len() as i32),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    if !u.attachment_ids.is_empty() {
        attachments::link(
            &txn,
            actor.id,
            &u.attachment_ids,
            (SubjectType::ProposalUpdate, update_id),
            None,
        )
        .await?;
    }
    if let Some(m) = u.milestone_id {
        let done = proposal_milestone::Entity::update_many()
            .col_expr(
                proposal_milestone::Column::DoneOn,
                Expr::value(Some(now.date_naive())),
            )
            .filter(proposal_milestone::Column::Id.eq(m))
            .filter(proposal_milestone::Column::ProposalId.eq(id))
            .exec(&txn)
            .await?;
        if done.rows_affected != 1 {
            return Err(AppError::invalid(
                "milestone_id",
                FieldCode::NotFound,
                Text::new("没有这个节点", "no such milestone"),
            ));
        }
    }
    let pct = match u.progress_pct {
        Some(v) => Some(v),
        None => milestone_pct(&txn, id).await?,
    };
    let mut sets = Vec::new();
    if let Some(v) = pct {
        sets.push((P::ProgressPct, Expr::value(v)));
    }
    // Updates by the lead and by staff may cross; the count is what matters, not the version.
    proposal::Entity::update_many()
        .col_expr(P::ActivityAt, Expr::value(now))
        .col_expr(P::UpdatedAt, Expr::value(now))
        .col_expr(P::Version, Expr::col(P::Version).add(1))
        .filter(P::Id.eq(id))
        .exec(&txn)
        .await?;
    if let Some((c, v)) = sets.pop() {
        proposal::Entity::update_many()
            .col_expr(c, v)
            .filter(P::Id.eq(id))
            .exec(&txn)
            .await?;
    }
    super::notify::progress(&txn, &p, &u.note, now).await?;
    txn.commit().await?;
    Ok(row)
}

/// done/total of the milestones, percent; None without milestones.
async fn milestone_pct<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<Option<i16>> {
    let all = proposal_milestone::Entity::find()
        .filter(proposal_milestone::Column::ProposalId.eq(id))
        .all(conn)
        .await?;
    if all.is_empty() {
        return Ok(None);
    }
    let done = all.iter().filter(|m| m.done_on.is_some()).count();
    Ok(Some((done * 100 / all.len()) as i16))
}

/// Adds milestones while `implementing` (the lead or staff), after those there are.
pub async fn add_milestones<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    ms: Vec<NewMilestone>,
    _now: DateTime<Utc>,
) -> AppResult<()> {
    use sea_orm::{QueryOrder, QuerySelect};
    let txn = db.begin().await?;
    let p = rules::readable_proposal(&txn, actor, id).await?;
    require_lead(&txn, actor, &p).await?;
    require_step(&p, &[Step::Raising, Step::Implementing], "添加节点")?;
    let last: Option<i32> = proposal_milestone::Entity::find()
        .select_only()
        .column(proposal_milestone::Column::Position)
        .filter(proposal_milestone::Column::ProposalId.eq(id))
        .order_by_desc(proposal_milestone::Column::Position)
        .into_tuple()
        .one(&txn)
        .await?;
    let n = last.unwrap_or(0) as usize;
    if n + ms.len() > crate::proposals::model::MILESTONES_MAX {
        return Err(AppError::Validation(vec![
            crate::platform::error::FieldError::too_many(
                "milestones",
                crate::proposals::model::MILESTONES_MAX,
            ),
        ]));
    }
    for (i, m) in ms.iter().enumerate() {
        proposal_milestone::ActiveModel {
            id: Set(Uuid::now_v7()),
            proposal_id: Set(id),
            position: Set((n + i + 1) as i32),
            title: Set(m.title.clone()),
            planned_on: Set(m.planned_on),
            done_on: Set(None),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(())
}
