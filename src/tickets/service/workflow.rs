//! The ticket (诉求) state machine: filing, the verbs that move a ticket, and the system's own
//! moves (escalation, auto-close). Every move happens in one transaction that also appends the
//! timeline entry and queues the notifications.
//!
//! ```text
//! submitted --triage--> triaged --assign--> assigned --accept--> accepted --resolve--> resolved --confirm--> closed
//!     |                  ^   |                 |  |                 |  ^                  |
//!     |                  |   +--reject         |  +-----return------+  |                  +--reopen--> accepted
//!     +--reject          +------return---------+                       |                  +--(auto-close)--> closed
//!     +--cancel (requester, before acceptance: submitted, triaged, assigned)
//! progress (handler or follow-up staff) and urge (requester) keep the status.
//! ```
//!
//! Who may do what is decided per ticket from the caller's relation to it: the requester, the
//! handler (the assigned user, or staff of the assigned property company), or staff whose scope
//! reaches the ticket with the triage, dispatch or follow-up permission.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::access::policy::{self, Action, Role, ScopeType};
use crate::access::Actor;
use crate::identity::query::role_holders;
use crate::platform::error::{AppError, AppResult, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::notifications::{Event, Payload};
use crate::tickets::model::{status_label, Status, OPEN};
use crate::tickets::service::attachments;
use crate::tickets::service::settings as ticket_settings;
use crate::tickets::service::timeline::{self, step, Facts};
use crate::tickets::service::verbs::{Change, Command, Party};
use entity::ticket;

/// Whether the ticket is past its deadline (due date, or a red ticket's follow-up) while open.
pub fn is_overdue(t: &ticket::Model, now: DateTime<Utc>) -> bool {
    t.deadline_at.is_some_and(|d| d < now) && is_open(t)
}

pub fn is_open(t: &ticket::Model) -> bool {
    OPEN.contains(&t.status)
}

/// What the caller is to ticket `t`.
pub async fn parties_of<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    t: &ticket::Model,
) -> AppResult<Vec<Party>> {
    let mut out = Vec::new();
    if t.requester_user_id == Some(user.id) {
        out.push(Party::Requester);
    }
    if is_handler(user, t) {
        out.push(Party::Handler);
    }
    for (party, action) in [
        (Party::Triager, Action::TicketTriage),
        (Party::Dispatcher, Action::TicketDispatch),
        (Party::FollowUp, Action::TicketFollowUp),
    ] {
        if policy::reaches::<ticket::Entity, _>(db, user, action, t.id).await? {
            out.push(party);
        }
    }
    Ok(out)
}

fn is_handler(user: &Actor, t: &ticket::Model) -> bool {
    t.handler_user_id == Some(user.id)
        || t.assigned_company_id.is_some_and(|c| {
            user.roles.iter().any(|a| {
                a.scope_type == ScopeType::PropertyCompany
                    && a.scope_id == c
                    && policy::allowed(a.role, Action::TicketHandle)
            })
        })
}

/// Whether the caller sees the requester's name: the requester, and staff who triage tickets
/// there, always; everyone else (the property company, other residents) not when the requester
/// asked to stay anonymous.
pub fn shows_requester(parties: &[Party], t: &ticket::Model) -> bool {
    !t.anonymous || parties.contains(&Party::Requester) || parties.contains(&Party::Triager)
}

/// Applies one verb to ticket `id` for `user`: 404 if they cannot see it, 403 if they may not
/// do this to it, 412 if `if_match` is stale, 409 if the ticket is in the wrong state.
pub async fn apply(
    db: &DatabaseConnection,
    user: &Actor,
    id: Uuid,
    if_match: Option<i32>,
    cmd: Command,
    now: DateTime<Utc>,
) -> AppResult<ticket::Model> {
    let txn = db.begin().await?;
    let t = policy::find_visible::<ticket::Entity, _>(&txn, user, Action::TicketRead, id).await?;
    let parties = parties_of(&txn, user, &t).await?;
    let verb = cmd.verb();
    if !verb.parties.iter().any(|p| parties.contains(p)) {
        return Err(AppError::Forbidden);
    }
    if if_match.is_some_and(|v| v != t.version) {
        return Err(AppError::PreconditionFailed);
    }
    let from = t.status;
    if from == Status::Merged {
        return Err(already_merged());
    }
    if !verb.from_states.contains(&from) {
        return Err(AppError::conflict(
            ProblemCode::WrongStatus,
            Text::new(
                format!("诉求当前为“{}”，不能{}", status_label(from), verb.zh),
                format!("a {} ticket cannot be {}", from.to_value(), verb.past_tense),
            ),
        ));
    }
    // Claim the version first: a concurrent move of the same ticket now waits for us, then finds
    // the version gone and fails instead of overwriting.
    claim(&txn, &t, if_match.is_some()).await?;
    let (policy, _) = ticket_settings::policy_of(&txn, t.community_id).await?;
    let mut am = t.clone().into_active_model();
    am.version = Set(t.version + 1);
    am.updated_at = Set(now);
    let mut change = Change {
        t: &t,
        am,
        policy: &policy,
        now,
        to: from,
        note: None,
        facts: Facts::default(),
        photos: Vec::new(),
        notify_handlers: None,
    };
    cmd.effect(&txn, &mut change).await?;
    let Change {
        mut am,
        to,
        note,
        facts,
        photos,
        notify_handlers,
        ..
    } = change;
    am.status = Set(to);
    let updated = am.update(&txn).await?;
    let changed = to != from;
    let taken = step(verb.kind)
        .moves(Some(from), changed.then_some(to))
        .note(note.clone())
        .facts(facts);
    let ev = timeline::record(&txn, &updated, Some(user), taken, now).await?;
    attachments::link(&txn, user.id, &photos, updated.id, ev).await?;
    tell(&txn, user, &updated, changed, note, notify_handlers, now).await?;
    txn.commit().await?;
    tracing::info!(ticket = %updated.id, verb = verb.kind.to_value(), from = from.to_value(), to = to.to_value(), by = %user.id, "ticket moved");
    Ok(updated)
}

/// Queues what a verb's step tells: the requester of a new status (unless they took the step
/// themselves), and the handlers of what the verb wants them to hear of.
async fn tell<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    t: &ticket::Model,
    changed: bool,
    note: Option<String>,
    notify_handlers: Option<Event>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let payload = Payload {
        title: t.title.clone(),
        status: status_label(t.status).into(),
        note,
        at: now,
    };
    if changed {
        if let Some(r) = t.requester_user_id.filter(|r| *r != user.id) {
            crate::tickets::service::notify::enqueue(
                db,
                Event::TicketStatusChanged,
                t,
                &[r],
                &payload,
                now,
            )
            .await?;
        }
    }
    if let Some(event) = notify_handlers {
        let to_notify = handlers_of(db, t).await?;
        let payload = Payload {
            status: if event == Event::TicketUrged {
                "催办".into()
            } else {
                payload.status.clone()
            },
            ..payload
        };
        crate::tickets::service::notify::enqueue(db, event, t, &to_notify, &payload, now).await?;
    }
    Ok(())
}

/// Bumps the version if it is still the one read; otherwise someone else moved the ticket
/// since: 412 for a caller who sent `If-Match`, 409 for one who did not.
pub(crate) async fn claim<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
    had_if_match: bool,
) -> AppResult<()> {
    let done = ticket::Entity::update_many()
        .col_expr(ticket::Column::Version, Expr::value(t.version + 1))
        .filter(ticket::Column::Id.eq(t.id))
        .filter(ticket::Column::Version.eq(t.version))
        .exec(db)
        .await?;
    if done.rows_affected == 1 {
        Ok(())
    } else if had_if_match {
        Err(AppError::PreconditionFailed)
    } else {
        Err(AppError::conflict(
            ProblemCode::ConcurrentChange,
            Text::new(
                "诉求刚被他人修改，请刷新后重试",
                "the ticket was changed at the same time; reload and retry",
            ),
        ))
    }
}

/// The users who work ticket `t`: its handler, or every staff member of its property company.
pub async fn handlers_of<C: ConnectionTrait>(db: &C, t: &ticket::Model) -> AppResult<Vec<Uuid>> {
    if let Some(u) = t.handler_user_id {
        return Ok(vec![u]);
    }
    match t.assigned_company_id {
        Some(c) => holders(db, Role::PropertyStaff, &[c]).await,
        None => Ok(Vec::new()),
    }
}

/// The users holding `role` on any of `scopes` (see `identity::query::role_holders`).
pub async fn holders<C: ConnectionTrait>(
    db: &C,
    role: Role,
    scopes: &[Uuid],
) -> AppResult<Vec<Uuid>> {
    role_holders::holders(db, role, scopes).await
}

/// An erased account (DELETE /me) leaves the community's ledger: its tickets stay, without the
/// requester's name or account; its name leaves the timelines; its queued messages go.
/// `as_staff`: the account acted in an official capacity (it held a staff role), and what it
/// did on tickets is the office's record: timeline entries keep the name they were written
/// with (an immutable snapshot) and lose only the link to the erased account. A resident's own
/// entries are anonymised.
pub async fn forget_user<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    as_staff: bool,
) -> AppResult<()> {
    ticket::Entity::update_many()
        .col_expr(
            ticket::Column::RequesterUserId,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(
            ticket::Column::RequesterName,
            Expr::value(Option::<String>::None),
        )
        .filter(ticket::Column::RequesterUserId.eq(user_id))
        .exec(db)
        .await?;
    crate::platform::timeline::forget_actor(db, user_id, as_staff).await?;
    crate::platform::notifications::forget_recipient(db, user_id).await
}

/// A merged ticket takes no further step.
pub fn already_merged() -> AppError {
    AppError::conflict(
        ProblemCode::TicketAlreadyMerged,
        Text::new(
            "该诉求已合并到另一诉求，不能再操作",
            "the ticket was merged into another and takes no further step",
        ),
    )
}
