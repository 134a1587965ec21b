//! Proposing (提): who may propose where and for whom, the per-day limit, the idempotency key,
//! the first revision; editing (a new revision for the text, budget and targets; staff's triage
//! fields), and the revisions.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::revisions::{labour_minutes, targets_of, write_revision, write_targets, Target};
use super::{audit_step, check_version, load, raced, require_step, touch};
use crate::access::policy::{self, Action, Level, Role, ScopeType as AssignedAt};
use crate::access::Actor;
use crate::platform::attachments::{self, SubjectType};
use crate::platform::error::{AppError, AppResult, FieldCode, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::pii::mask_name;
use crate::proposals::model::{Channel, ScopeType, Step, Tier};
use crate::proposals::policy as rules;
use crate::proposals::service::policy::policy_in;
use crate::proposals::service::subject::{insert_event, ProposalRef};
use crate::residents::query::resident_refs;
use crate::territory::query::place_lookup::{self as places, PlaceRef};
use entity::proposal;

/// A new proposal (validated by the handler).
#[derive(Debug, Clone)]
pub struct NewProposal {
    pub scope_type: ScopeType,
    pub scope_id: Uuid,
    pub title: String,
    pub body: String,
    pub category: String,
    pub attachment_ids: Vec<Uuid>,
    pub source_ticket_id: Option<Uuid>,
    /// Staff: the resident the proposal is recorded for.
    pub on_behalf_of_resident_id: Option<Uuid>,
    /// Staff: how it came in (required on behalf).
    pub channel: Option<Channel>,
    pub budget_fen: i64,
    pub targets: Vec<Target>,
    pub idempotency_key: Option<String>,
}

fn level_of(s: ScopeType) -> Level {
    match s {
        ScopeType::Building => Level::Building,
        ScopeType::Compound => Level::Compound,
        ScopeType::Community => Level::Community,
    }
}

/// Whether the place `p` is the household's building, compound or community at `scope`.
fn home_has(home: &PlaceRef, scope: ScopeType, id: Uuid) -> bool {
    match scope {
        ScopeType::Building => home.building_id == Some(id),
        ScopeType::Compound => home.compound_id == Some(id),
        ScopeType::Community => home.community_id == Some(id),
    }
}

fn not_home() -> AppError {
    AppError::invalid(
        "scope_id",
        FieldCode::NotYours,
        Text::new(
            "居民只能为自己所在的楼栋、小区或社区提出议题",
            "residents propose for their own building, compound or community",
        ),
    )
}

/// The caller's household, if they are a resident.
fn own_household(actor: &Actor) -> Option<Uuid> {
    actor
        .roles
        .iter()
        .find(|a| a.role == Role::Resident && a.scope_type == AssignedAt::Household)
        .map(|a| a.scope_id)
}

/// "3栋 王*": the building and the masked surname, what everyone sees of an author.
async fn display<C: ConnectionTrait>(
    db: &C,
    building_id: Option<Uuid>,
    name: &str,
) -> AppResult<String> {
    let b = match building_id {
        Some(b) => places::building_names(db, [b]).await?.remove(&b),
        None => None,
    };
    let masked = mask_name(name);
    Ok(match b {
        Some(b) => format!("{b} {masked}"),
        None => masked,
    }
    .chars()
    .take(40)
    .collect())
}

/// Who the author is: (user, resident, household, display, channel, the place).
struct Author {
    user_id: Option<Uuid>,
    resident_id: Option<Uuid>,
    household_id: Option<Uuid>,
    display: String,
    channel: Channel,
}

async fn limit_per_day<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    max: i32,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let window = Duration::hours(24);
    let recent: Vec<DateTime<Utc>> = proposal::Entity::find()
        .select_only()
        .column(proposal::Column::CreatedAt)
        .filter(proposal::Column::CreatedBy.eq(actor.id))
        .filter(proposal::Column::CreatedAt.gt(now - window))
        .order_by_desc(proposal::Column::CreatedAt)
        .limit(max.max(0) as u64)
        .into_tuple()
        .all(db)
        .await?;
    if (recent.len() as i64) < i64::from(max) {
        return Ok(());
    }
    let oldest = recent.last().copied().unwrap_or(now);
    Err(AppError::limited(
        (oldest + window - now).to_std().unwrap_or_default(),
        ProblemCode::DailyFilingLimit,
        crate::text!(
            "24 小时内最多提出 {} 个议题，请稍后再提",
            "at most {} proposals in 24 hours; propose again later",
            max
        ),
    ))
}

async fn author_of<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    n: &NewProposal,
    place: &PlaceRef,
) -> AppResult<Author> {
    match (n.channel, n.on_behalf_of_resident_id) {
        (None | Some(Channel::MiniProgram), None) => {
            let hh = own_household(actor).ok_or(AppError::Forbidden)?;
            if !policy::can_anywhere(actor, Action::ProposalCreate) {
                return Err(AppError::Forbidden);
            }
            let home = places::household_place(db, hh)
                .await?
                .ok_or(AppError::Forbidden)?;
            if !home_has(&home, n.scope_type, n.scope_id) {
                return Err(not_home());
            }
            let me = resident_refs::of_account(db, actor.id).await?;
            let name = me
                .as_ref()
                .map(|r| r.name.clone())
                .unwrap_or_else(|| actor.display_name.clone());
            Ok(Author {
                user_id: Some(actor.id),
                resident_id: me.map(|r| r.id),
                household_id: Some(hh),
                display: display(db, home.building_id, &name).await?,
                channel: Channel::MiniProgram,
            })
        }
        (channel, resident) => {
            let channel = channel
                .filter(|c| *c != Channel::MiniProgram)
                .ok_or_else(|| {
                    AppError::invalid(
                        "channel",
                        FieldCode::Required,
                        Text::new(
                            "代居民登记时须注明来源渠道",
                            "give the channel when proposing on a resident's behalf",
                        ),
                    )
                })?;
            places::authorize_place(
                db,
                actor,
                place.level,
                place.id,
                Action::ProposalCreateOnBehalf,
            )
            .await?;
            let Some(rid) = resident else {
                return Ok(Author {
                    user_id: None,
                    resident_id: None,
                    household_id: None,
                    display: "社区代录".to_string(),
                    channel,
                });
            };
            let r = resident_refs::placed(db, rid)
                .await?
                .filter(|r| match n.scope_type {
                    ScopeType::Building => r.building_id == n.scope_id,
                    ScopeType::Compound => r.compound_id == n.scope_id,
                    ScopeType::Community => r.community_id == n.scope_id,
                })
                .ok_or_else(|| {
                    AppError::invalid(
                        "on_behalf_of_resident_id",
                        FieldCode::NotFound,
                        Text::new("该范围内没有这位居民", "no such resident in this place"),
                    )
                })?;
            Ok(Author {
                user_id: r.user_id,
                resident_id: Some(r.id),
                household_id: Some(r.household_id),
                display: display(db, Some(r.building_id), &r.name).await?,
                channel,
            })
        }
    }
}

/// The street of the place `(scope, id)` (whose content-check keyword list applies): 400 when
/// there is no such place.
pub async fn street_of<C: ConnectionTrait>(db: &C, scope: ScopeType, id: Uuid) -> AppResult<Uuid> {
    Ok(places::place(db, level_of(scope), id)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "scope_id",
                FieldCode::NotFound,
                Text::new("没有这个地方", "no such place"),
            )
        })?
        .street_id)
}

/// Creates a proposal in `proposed`: a resident for their own building, compound or community
/// (at most the policy's number per 24 hours); staff with [`Action::ProposalCreateOnBehalf`]
/// there for a resident living in it, with the channel. With an idempotency key already used by
/// this caller, answers that proposal.
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    n: NewProposal,
    now: DateTime<Utc>,
) -> AppResult<proposal::Model> {
    if let Some(key) = n.idempotency_key.as_deref() {
        if let Some(p) = proposal::Entity::find()
            .filter(proposal::Column::CreatedBy.eq(actor.id))
            .filter(proposal::Column::IdempotencyKey.eq(key))
            .one(db)
            .await?
        {
            return Ok(p);
        }
    }
    let txn = db.begin().await?;
    let place = places::place(&txn, level_of(n.scope_type), n.scope_id)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "scope_id",
                FieldCode::NotFound,
                Text::new("没有这个地方", "no such place"),
            )
        })?;
    let community_id = place.community_id.ok_or(AppError::NotFound)?;
    if let Some(ticket) = n.source_ticket_id {
        // A proposal grows out of a request (诉求) the caller can see, of the same community.
        match crate::tickets::service::referral::readable_community(&txn, actor, ticket).await? {
            None => {
                return Err(AppError::invalid(
                    "source_ticket_id",
                    FieldCode::NotFound,
                    Text::new("没有这个诉求", "no such request"),
                ))
            }
            Some(c) if c != community_id => {
                return Err(AppError::invalid(
                    "source_ticket_id",
                    FieldCode::Mismatch,
                    Text::new("诉求不在本社区", "the request is of another community"),
                ))
            }
            Some(_) => {}
        }
    }
    let author = author_of(&txn, actor, &n, &place).await?;
    let pol = policy_in(&txn, community_id).await?;
    if author.channel == Channel::MiniProgram {
        limit_per_day(&txn, actor, pol.max_proposals_per_day, now).await?;
    }
    let id = Uuid::now_v7();
    let p = proposal::ActiveModel {
        id: Set(id),
        street_id: Set(place.street_id),
        community_id: Set(community_id),
        compound_id: Set(place.compound_id),
        building_id: Set(place.building_id),
        scope_type: Set(n.scope_type),
        scope_id: Set(n.scope_id),
        title: Set(n.title.clone()),
        body: Set(n.body.clone()),
        category: Set(n.category),
        tier: Set(None),
        step: Set(Step::Proposed),
        on_hold: Set(false),
        source_ticket_id: Set(n.source_ticket_id),
        channel: Set(author.channel),
        author_user_id: Set(author.user_id),
        author_resident_id: Set(author.resident_id),
        author_household_id: Set(author.household_id),
        author_display: Set(author.display),
        created_by: Set(actor.id),
        supporters_count: Set(0),
        support_deadline: Set(now + Duration::days(i64::from(pol.support_window_days))),
        deliberation_ends_at: Set(None),
        current_revision: Set(1),
        frozen_revision: Set(None),
        decision_poll_id: Set(None),
        evaluation_poll_id: Set(None),
        budget_fen: Set(n.budget_fen),
        allocated_fen: Set(0),
        received_fen: Set(0),
        spent_fen: Set(0),
        pledged_money_fen: Set(0),
        labour_goal_minutes: Set(labour_minutes(&n.targets)),
        labour_done_minutes: Set(0),
        lead_user_id: Set(None),
        lead_resident_id: Set(None),
        lead_display: Set(None),
        progress_pct: Set(0),
        started_at: Set(None),
        completed_at: Set(None),
        closed_at: Set(None),
        satisfaction_pct: Set(None),
        rating_avg_x100: Set(None),
        evaluation_answers: Set(None),
        review_on: Set(None),
        review_due_at: Set(None),
        review_notified_at: Set(None),
        golden: Set(false),
        merged_into_id: Set(None),
        referred_ticket_id: Set(None),
        reason: Set(None),
        cancel_requested_by: Set(None),
        cancel_requested_at: Set(None),
        idempotency_key: Set(n.idempotency_key.clone()),
        activity_at: Set(now),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    write_revision(
        &txn,
        id,
        1,
        &n.title,
        &n.body,
        n.budget_fen,
        &n.targets,
        actor,
        now,
    )
    .await?;
    write_targets(&txn, id, &n.targets).await?;
    if !n.attachment_ids.is_empty() {
        attachments::link(
            &txn,
            actor.id,
            &n.attachment_ids,
            (SubjectType::Proposal, id),
            None,
        )
        .await?;
    }
    let r = ProposalRef::from(&p);
    insert_event(&txn, &r, Some(actor), "proposed", None, None, now).await?;
    audit_step(
        &txn,
        actor,
        &p,
        "create",
        serde_json::json!({"channel": p.channel, "scope_type": p.scope_type}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(p)
}

/// A change to a proposal: each field absent leaves it.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub title: Option<String>,
    pub body: Option<String>,
    pub budget_fen: Option<i64>,
    pub targets: Option<Vec<Target>>,
    pub category: Option<String>,
    pub tier: Option<Tier>,
    pub scope: Option<(ScopeType, Uuid)>,
}

/// Edits a proposal as the caller saw it (`expected`). The author changes the text (a new
/// revision) in `proposed` or `deliberating`; the author or staff who move it change the budget
/// and targets then (a new revision too); staff change category, tier and scope in `proposed`.
pub async fn update<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    c: Changes,
    now: DateTime<Utc>,
) -> AppResult<proposal::Model> {
    use proposal::Column as P;
    let txn = db.begin().await?;
    rules::readable_proposal(&txn, actor, id).await?;
    let p = load(&txn, id).await?;
    let is_author = p.author_user_id == Some(actor.id);
    let is_staff = rules::may(&txn, actor, Action::ProposalAdvance, &p).await?;
    let text = c.title.is_some() || c.body.is_some();
    let money = c.budget_fen.is_some() || c.targets.is_some();
    let triage = c.category.is_some() || c.tier.is_some() || c.scope.is_some();
    if (text && !is_author) || (money && !(is_author || is_staff)) || (triage && !is_staff) {
        return Err(AppError::Forbidden);
    }
    check_version(&p, expected)?;
    if text || money {
        require_step(&p, &[Step::Proposed, Step::Deliberating], "修改")?;
    }
    if triage {
        require_step(&p, &[Step::Proposed], "调整分类或范围")?;
    }
    let mut sets = Vec::new();
    if text || money {
        let n = p.current_revision + 1;
        let title = c.title.clone().unwrap_or_else(|| p.title.clone());
        let body = c.body.clone().unwrap_or_else(|| p.body.clone());
        let budget = c.budget_fen.unwrap_or(p.budget_fen);
        let targets = match &c.targets {
            Some(t) => t.clone(),
            None => targets_of(&txn, id).await?,
        };
        write_revision(&txn, id, n, &title, &body, budget, &targets, actor, now).await?;
        if c.targets.is_some() {
            write_targets(&txn, id, &targets).await?;
        }
        sets.push((P::CurrentRevision, Expr::value(n)));
        sets.push((P::Title, Expr::value(title)));
        sets.push((P::Body, Expr::value(body)));
        sets.push((P::BudgetFen, Expr::value(budget)));
        sets.push((P::LabourGoalMinutes, Expr::value(labour_minutes(&targets))));
    }
    if let Some(cat) = c.category {
        sets.push((P::Category, Expr::value(cat)));
    }
    if let Some(t) = c.tier {
        sets.push((P::Tier, Expr::value(t)));
    }
    if let Some((st, sid)) = c.scope {
        let place =
            places::authorize_place(&txn, actor, level_of(st), sid, Action::ProposalAdvance)
                .await?;
        if place.community_id != Some(p.community_id) {
            return Err(AppError::invalid(
                "scope_id",
                FieldCode::NotAllowed,
                Text::new(
                    "议题只能在本社区内调整范围",
                    "a proposal stays in its community",
                ),
            ));
        }
        sets.push((P::ScopeType, Expr::value(st)));
        sets.push((P::ScopeId, Expr::value(sid)));
        sets.push((P::CompoundId, Expr::value(place.compound_id)));
        sets.push((P::BuildingId, Expr::value(place.building_id)));
    }
    if sets.is_empty() {
        txn.commit().await?;
        return Ok(p);
    }
    if !touch(&txn, &p, sets, now).await? {
        return Err(raced());
    }
    let kind = if text || money { "revised" } else { "triaged" };
    insert_event(
        &txn,
        &ProposalRef::from(&p),
        Some(actor),
        kind,
        None,
        None,
        now,
    )
    .await?;
    audit_step(
        &txn,
        actor,
        &p,
        "update",
        serde_json::json!({"kind": kind}),
        now,
    )
    .await?;
    txn.commit().await?;
    load(db, id).await
}
