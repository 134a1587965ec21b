//! The ticket workflow as a table: per verb, the states it starts from, who may take it and
//! how it reads in a refusal ([`Verb`]), and its effect on the ticket as a function of its own.
//! [`crate::tickets::service::workflow::apply`] checks the row and runs the effect in one
//! transaction.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, Set};
use uuid::Uuid;

use crate::access::actor::load_caller;
use crate::access::policy::{self, Action};
use crate::platform::error::{AppError, AppResult, FieldCode, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::notifications::Event;
use crate::territory::query::place_lookup;
use crate::tickets::model::{Priority, Status, TimelineKind, MAX_ESCALATION};
use crate::tickets::service::settings::{self as ticket_settings, Policy};
use crate::tickets::service::timeline::Facts;
use entity::ticket;

/// A requester may urge a ticket once per this period.
pub const URGE_EVERY: Duration = Duration::hours(24);

/// Whom a ticket is dispatched to.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Company(Uuid),
    User(Uuid),
}

#[derive(Debug, Clone)]
pub enum Command {
    Triage {
        priority: Priority,
        category_id: Option<Uuid>,
        note: Option<String>,
    },
    Assign {
        target: Target,
        note: Option<String>,
    },
    Accept {
        note: Option<String>,
    },
    Return {
        reason: String,
    },
    Progress {
        note: String,
        attachment_ids: Vec<Uuid>,
    },
    Resolve {
        note: String,
        attachment_ids: Vec<Uuid>,
    },
    Confirm {
        rating: i32,
        comment: Option<String>,
    },
    Reopen {
        reason: String,
    },
    Cancel {
        reason: Option<String>,
    },
    Reject {
        reason: String,
    },
    Urge {
        note: Option<String>,
    },
}

/// The caller's relations to one ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Requester,
    Handler,
    Triager,
    Dispatcher,
    FollowUp,
}

/// One verb of the workflow.
#[derive(Debug)]
pub struct Verb {
    /// What its timeline entry records.
    pub kind: TimelineKind,
    /// The states it may start from. Anything else is 409.
    pub from_states: &'static [Status],
    /// Who may take it. Anyone else who can see the ticket gets 403.
    pub parties: &'static [Party],
    /// The verb as a resident reads it, after “不能”.
    pub zh: &'static str,
    /// The verb as in “a submitted ticket cannot be …”.
    pub past_tense: &'static str,
}

const TRIAGE: Verb = Verb {
    kind: TimelineKind::Triage,
    from_states: &[Status::Submitted],
    parties: &[Party::Triager],
    zh: "分类研判",
    past_tense: "triaged",
};
const ASSIGN: Verb = Verb {
    kind: TimelineKind::Assign,
    from_states: &[Status::Triaged, Status::Assigned],
    parties: &[Party::Dispatcher],
    zh: "派单",
    past_tense: "assigned",
};
const ACCEPT: Verb = Verb {
    kind: TimelineKind::Accept,
    from_states: &[Status::Assigned],
    parties: &[Party::Handler],
    zh: "受理",
    past_tense: "accepted",
};
const RETURN: Verb = Verb {
    kind: TimelineKind::Return,
    from_states: &[Status::Assigned, Status::Accepted],
    parties: &[Party::Handler],
    zh: "退回",
    past_tense: "returned",
};
const PROGRESS: Verb = Verb {
    kind: TimelineKind::Progress,
    from_states: &[Status::Triaged, Status::Assigned, Status::Accepted],
    parties: &[Party::Handler, Party::FollowUp],
    zh: "记录进展",
    past_tense: "followed up",
};
const RESOLVE: Verb = Verb {
    kind: TimelineKind::Resolve,
    from_states: &[Status::Accepted],
    parties: &[Party::Handler],
    zh: "办结",
    past_tense: "resolved",
};
const CONFIRM: Verb = Verb {
    kind: TimelineKind::Confirm,
    from_states: &[Status::Resolved],
    parties: &[Party::Requester],
    zh: "确认",
    past_tense: "confirmed",
};
const REOPEN: Verb = Verb {
    kind: TimelineKind::Reopen,
    from_states: &[Status::Resolved],
    parties: &[Party::Requester],
    zh: "重新打开",
    past_tense: "reopened",
};
const CANCEL: Verb = Verb {
    kind: TimelineKind::Cancel,
    from_states: &[Status::Submitted, Status::Triaged, Status::Assigned],
    parties: &[Party::Requester],
    zh: "撤销",
    past_tense: "cancelled",
};
const REJECT: Verb = Verb {
    kind: TimelineKind::Reject,
    from_states: &[Status::Submitted, Status::Triaged],
    parties: &[Party::Triager],
    zh: "驳回",
    past_tense: "rejected",
};
const URGE: Verb = Verb {
    kind: TimelineKind::Urge,
    from_states: &[
        Status::Submitted,
        Status::Triaged,
        Status::Assigned,
        Status::Accepted,
    ],
    parties: &[Party::Requester],
    zh: "催办",
    past_tense: "urged",
};

/// A verb's effect in the making: the ticket as it was, the row as it will be, and what the
/// step records and whom it tells.
pub(crate) struct Change<'a> {
    pub t: &'a ticket::Model,
    pub am: ticket::ActiveModel,
    pub policy: &'a Policy,
    pub now: DateTime<Utc>,
    /// The status after the verb (the one before, unless the effect moves it).
    pub to: Status,
    pub note: Option<String>,
    pub facts: Facts,
    /// The caller's uploads to attach to the step.
    pub photos: Vec<Uuid>,
    /// What the handlers hear of, besides the requester hearing of a new status.
    pub notify_handlers: Option<Event>,
}

impl Command {
    /// The verb's row of the table.
    pub fn verb(&self) -> &'static Verb {
        match self {
            Command::Triage { .. } => &TRIAGE,
            Command::Assign { .. } => &ASSIGN,
            Command::Accept { .. } => &ACCEPT,
            Command::Return { .. } => &RETURN,
            Command::Progress { .. } => &PROGRESS,
            Command::Resolve { .. } => &RESOLVE,
            Command::Confirm { .. } => &CONFIRM,
            Command::Reopen { .. } => &REOPEN,
            Command::Cancel { .. } => &CANCEL,
            Command::Reject { .. } => &REJECT,
            Command::Urge { .. } => &URGE,
        }
    }

    /// Runs the verb's effect on `c`; an error when its input does not hold (a category of
    /// another community, a handler out of scope, an urge too soon).
    pub(crate) async fn effect<C: ConnectionTrait>(
        &self,
        db: &C,
        c: &mut Change<'_>,
    ) -> AppResult<()> {
        match self {
            Command::Triage {
                priority,
                category_id,
                note,
            } => triage(db, c, *priority, *category_id, note).await?,
            Command::Assign { target, note } => assign(db, c, *target, note).await?,
            Command::Accept { note } => accept(c, note),
            Command::Return { reason } => return_to_triage(c, reason),
            Command::Progress {
                note,
                attachment_ids,
            } => progress(c, note, attachment_ids),
            Command::Resolve {
                note,
                attachment_ids,
            } => resolve(c, note, attachment_ids),
            Command::Confirm { rating, comment } => confirm(c, *rating, comment),
            Command::Reopen { reason } => reopen(c, reason),
            Command::Cancel { reason } => cancel(c, reason),
            Command::Reject { reason } => reject(c, reason),
            Command::Urge { note } => urge(c, note)?,
        }
        Ok(())
    }
}

/// Sets the running deadline and when escalation next looks at the ticket.
pub(crate) fn set_deadline(
    am: &mut ticket::ActiveModel,
    deadline: Option<DateTime<Utc>>,
    level: i32,
) {
    am.deadline_at = Set(deadline);
    am.escalate_at = Set(deadline.filter(|_| level < MAX_ESCALATION));
}

/// Gives the ticket its colour and with it its deadline (or, red, its first follow-up).
async fn triage<C: ConnectionTrait>(
    db: &C,
    c: &mut Change<'_>,
    priority: Priority,
    category_id: Option<Uuid>,
    note: &Option<String>,
) -> AppResult<()> {
    let (t, now, policy) = (c.t, c.now, c.policy);
    if let Some(id) = category_id {
        ticket_settings::category_of(db, t.community_id, id).await?;
        c.am.category_id = Set(id);
    }
    c.to = Status::Triaged;
    c.am.priority = Set(Some(priority));
    c.am.triaged_at = Set(Some(now));
    let (due, follow_up) = match priority {
        Priority::Green => (Some(now + Duration::days(policy.green_days.into())), None),
        Priority::Orange => (Some(now + Duration::days(policy.orange_days.into())), None),
        Priority::Red => (
            None,
            Some(now + Duration::days(policy.red_follow_up_days.into())),
        ),
    };
    c.am.due_at = Set(due);
    c.am.next_follow_up_at = Set(follow_up);
    set_deadline(&mut c.am, due.or(follow_up), t.escalation_level);
    c.facts.priority = Some(priority);
    c.note = note.clone();
    Ok(())
}

/// Dispatches the ticket to a property company of its street, or to staff whose scope covers
/// it.
async fn assign<C: ConnectionTrait>(
    db: &C,
    c: &mut Change<'_>,
    target: Target,
    note: &Option<String>,
) -> AppResult<()> {
    let t = c.t;
    let (company, handler) = match target {
        Target::Company(id) => {
            if !place_lookup::property_company_in_street(db, id, t.street_id).await? {
                return Err(AppError::invalid(
                    "property_company_id",
                    FieldCode::NotFound,
                    Text::new(
                        "本街道没有这家物业公司",
                        "no such property company in this street",
                    ),
                ));
            }
            (Some(id), None)
        }
        Target::User(u) => {
            // An active account whose own roles reach the ticket: being a superadmin does not
            // make someone a handler.
            let them = load_caller(db, u).await?.map(|mut a| {
                a.is_superadmin = false;
                a.as_of(c.now)
            });
            let eligible = match them {
                Some(them) => {
                    policy::reaches::<ticket::Entity, _>(db, &them, Action::TicketFollowUp, t.id)
                        .await?
                }
                None => false,
            };
            if !eligible {
                return Err(AppError::invalid(
                    "handler_user_id",
                    FieldCode::NotEligible,
                    Text::new(
                        "处理人须是负责该诉求所在范围的工作人员（网格员或社区工作人员）",
                        "the handler must be staff (grid manager or community staff) whose scope covers the ticket",
                    ),
                ));
            }
            (None, Some(u))
        }
    };
    c.to = Status::Assigned;
    c.am.assigned_company_id = Set(company);
    c.am.handler_user_id = Set(handler);
    c.am.assigned_at = Set(Some(c.now));
    c.am.accepted_at = Set(None);
    c.note = note.clone();
    c.notify_handlers = Some(Event::TicketAssigned);
    Ok(())
}

fn accept(c: &mut Change<'_>, note: &Option<String>) {
    c.to = Status::Accepted;
    c.am.accepted_at = Set(Some(c.now));
    c.note = note.clone();
}

/// The handler gives the ticket back: triaged again, with no one on it.
fn return_to_triage(c: &mut Change<'_>, reason: &str) {
    c.to = Status::Triaged;
    c.am.assigned_company_id = Set(None);
    c.am.handler_user_id = Set(None);
    c.am.assigned_at = Set(None);
    c.am.accepted_at = Set(None);
    c.am.reason = Set(Some(reason.to_string()));
    c.note = Some(reason.to_string());
}

/// A progress entry; on a red ticket it moves the next follow-up on.
fn progress(c: &mut Change<'_>, note: &str, attachment_ids: &[Uuid]) {
    if c.t.priority == Some(Priority::Red) {
        let next = c.now + Duration::days(c.policy.red_follow_up_days.into());
        c.am.next_follow_up_at = Set(Some(next));
        set_deadline(&mut c.am, Some(next), c.t.escalation_level);
    }
    c.note = Some(note.to_string());
    c.photos = attachment_ids.to_vec();
}

/// Resolved: the requester's confirmation is awaited until the auto-close.
fn resolve(c: &mut Change<'_>, note: &str, attachment_ids: &[Uuid]) {
    c.to = Status::Resolved;
    c.am.resolved_at = Set(Some(c.now));
    c.am.auto_close_at = Set(Some(
        c.now + Duration::days(c.policy.auto_close_days.into()),
    ));
    set_deadline(&mut c.am, None, c.t.escalation_level);
    c.note = Some(note.to_string());
    c.photos = attachment_ids.to_vec();
}

fn confirm(c: &mut Change<'_>, rating: i32, comment: &Option<String>) {
    c.to = Status::Closed;
    c.am.closed_at = Set(Some(c.now));
    c.am.auto_close_at = Set(None);
    c.am.rating = Set(Some(rating));
    c.am.feedback = Set(comment.clone());
    c.facts.rating = Some(rating);
    c.note = comment.clone();
}

/// Back to work: a red ticket gets a new follow-up, any other its old due date again.
fn reopen(c: &mut Change<'_>, reason: &str) {
    let t = c.t;
    c.to = Status::Accepted;
    c.am.resolved_at = Set(None);
    c.am.auto_close_at = Set(None);
    c.am.reopen_count = Set(t.reopen_count + 1);
    c.am.reason = Set(Some(reason.to_string()));
    let deadline = if t.priority == Some(Priority::Red) {
        let next = c.now + Duration::days(c.policy.red_follow_up_days.into());
        c.am.next_follow_up_at = Set(Some(next));
        Some(next)
    } else {
        t.due_at
    };
    set_deadline(&mut c.am, deadline, t.escalation_level);
    c.note = Some(reason.to_string());
}

fn cancel(c: &mut Change<'_>, reason: &Option<String>) {
    c.to = Status::Cancelled;
    c.am.closed_at = Set(Some(c.now));
    c.am.reason = Set(reason.clone());
    set_deadline(&mut c.am, None, c.t.escalation_level);
    c.note = reason.clone();
}

fn reject(c: &mut Change<'_>, reason: &str) {
    c.to = Status::Rejected;
    c.am.closed_at = Set(Some(c.now));
    c.am.reason = Set(Some(reason.to_string()));
    set_deadline(&mut c.am, None, c.t.escalation_level);
    c.note = Some(reason.to_string());
}

/// Reminds the handlers, at most once per [`URGE_EVERY`] (429 sooner).
fn urge(c: &mut Change<'_>, note: &Option<String>) -> AppResult<()> {
    let (t, now) = (c.t, c.now);
    if let Some(last) = t.last_urged_at {
        let next = last + URGE_EVERY;
        if next > now {
            let wait = (next - now).to_std().unwrap_or_default();
            return Err(AppError::limited(
                wait,
                ProblemCode::AlreadyUrgedToday,
                Text::new(
                    "这件诉求今天已经催办过了，明天可以再催",
                    "this ticket was already urged today; urge again tomorrow",
                ),
            ));
        }
    }
    c.am.last_urged_at = Set(Some(now));
    c.am.urge_count = Set(t.urge_count + 1);
    c.note = note.clone();
    c.notify_handlers = Some(Event::TicketUrged);
    Ok(())
}
