//! The conversation on a ticket (留言): short messages between the requester and the staff who
//! can read the ticket (its handler, the property company, the community's staff).
//!
//! Who may read and write: whoever the ticket detail is visible to (`TicketRead`, the same
//! check as `GET /tickets/{id}`; anyone else gets 404). The requester speaks as `requester`,
//! everyone else as `staff`. On an anonymous ticket, whoever does not see the requester on the
//! ticket (`tickets::shows_requester`: the property company, for one) sees the requester's
//! messages as from 居民, with no name and no user id.
//!
//! Messages are taken until the ticket is closed, cancelled or rejected (then 409
//! `ticket_conversation_closed`, for both sides); at most [`MAX_PER_WINDOW`] per author and
//! ticket in [`WINDOW`] (429 `ticket_message_limit`). Each message tells the other side, in
//! their message centre and, where a template is configured, on WeChat (`ticket_message`).

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::access::actor::load_caller;
use crate::access::policy::{self, Action, Role};
use crate::access::Actor;
use crate::platform::error::{AppError, AppResult, ProblemCode};
use crate::platform::http::encode_cursor;
use crate::platform::http::PageParams;
use crate::platform::lang::Text;
use crate::platform::notifications::{Event, Payload};
use crate::tickets::model::{Side, Status};
use crate::tickets::service::verbs::Party;
use crate::tickets::service::workflow as tickets;
use entity::{ticket, ticket_message};

/// Characters of one message, once trimmed.
pub const BODY_MAX: usize = 500;
/// Messages one author may post on one ticket per [`WINDOW`].
pub const MAX_PER_WINDOW: u64 = 30;
pub const WINDOW: Duration = Duration::hours(1);
/// How the requester is shown to those who may not know them on an anonymous ticket.
pub const ANONYMOUS_NAME: &str = "居民";
/// Characters of the message quoted in the notification.
const EXCERPT: usize = 40;

/// A message as the caller may see it.
#[derive(Debug, Clone)]
pub struct Shown {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub side: Side,
    /// None when hidden from the caller (the anonymous requester) or erased.
    pub author_user_id: Option<Uuid>,
    pub author_name: String,
    pub body: String,
    /// Written by the caller.
    pub mine: bool,
    pub created_at: DateTime<Utc>,
}

/// The ticket `id` if the caller may read it (else 404), and what the caller is to it.
async fn open<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    id: Uuid,
) -> AppResult<(ticket::Model, Vec<Party>)> {
    let t = policy::find_visible::<ticket::Entity, _>(db, user, Action::TicketRead, id).await?;
    let parties = tickets::parties_of(db, user, &t).await?;
    Ok((t, parties))
}

fn show(m: ticket_message::Model, user: &Actor, shows_requester: bool) -> Shown {
    let side = m.side;
    let hidden = side == Side::Requester && !shows_requester;
    let mine = m.author_user_id == Some(user.id);
    let name = m.author_name.filter(|_| !hidden);
    Shown {
        id: m.id,
        ticket_id: m.ticket_id,
        side,
        author_user_id: m.author_user_id.filter(|_| !hidden),
        author_name: name.unwrap_or_else(|| match side {
            Side::Requester => ANONYMOUS_NAME.to_string(),
            Side::Staff => "工作人员".to_string(),
        }),
        body: m.body,
        mine,
        created_at: m.created_at,
    }
}

/// A page of ticket `id`'s conversation, oldest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    id: Uuid,
    p: PageParams,
) -> AppResult<(Vec<Shown>, Option<String>)> {
    let (t, parties) = open(db, user, id).await?;
    let shows = tickets::shows_requester(&parties, &t);
    let mut q = ticket_message::Entity::find().filter(ticket_message::Column::TicketId.eq(t.id));
    if let Some(after) = p.after {
        q = q.filter(ticket_message::Column::Id.gt(after));
    }
    let mut rows = q
        .order_by_asc(ticket_message::Column::Id)
        .limit(p.limit + 1)
        .all(db)
        .await?;
    let next = if rows.len() as u64 > p.limit {
        rows.truncate(p.limit as usize);
        rows.last().map(|m| encode_cursor(m.id))
    } else {
        None
    };
    Ok((
        rows.into_iter().map(|m| show(m, user, shows)).collect(),
        next,
    ))
}

/// 429 when the caller already wrote [`MAX_PER_WINDOW`] messages on the ticket in the window,
/// with the time until the oldest of them leaves it.
async fn limit_rate<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    ticket_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let recent: Vec<DateTime<Utc>> = ticket_message::Entity::find()
        .select_only()
        .column(ticket_message::Column::CreatedAt)
        .filter(ticket_message::Column::AuthorUserId.eq(user.id))
        .filter(ticket_message::Column::TicketId.eq(ticket_id))
        .filter(ticket_message::Column::CreatedAt.gt(now - WINDOW))
        .order_by_desc(ticket_message::Column::CreatedAt)
        .limit(MAX_PER_WINDOW)
        .into_tuple()
        .all(db)
        .await?;
    if (recent.len() as u64) < MAX_PER_WINDOW {
        return Ok(());
    }
    let oldest = recent.last().copied().unwrap_or(now);
    let wait = (oldest + WINDOW - now).to_std().unwrap_or_default();
    Err(AppError::limited(
        wait,
        ProblemCode::TicketMessageLimit,
        crate::text!(
            "每个诉求每小时最多留言 {MAX_PER_WINDOW} 条，请稍后再试",
            "at most {MAX_PER_WINDOW} messages per ticket per hour; retry later"
        ),
    ))
}

/// Whether staff member `user_id`, who wrote on `t` earlier, is still active and may still read
/// it (the ticket may have gone to another company since, or their role may be gone): a
/// message names the ticket and quotes the requester, so it goes only to those who may.
async fn still_reads<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    t: &ticket::Model,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let Some(them) = load_caller(db, user_id).await? else {
        return Ok(false);
    };
    policy::reaches::<ticket::Entity, _>(db, &them.as_of(now), Action::TicketRead, t.id).await
}

/// Who hears of a message: the requester of a staff message; of a requester's message, the
/// handlers and the staff who already took part and may still read it, or the community's
/// staff while there are none.
async fn other_side<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    t: &ticket::Model,
    side: Side,
    now: DateTime<Utc>,
) -> AppResult<Vec<Uuid>> {
    let mut to = match side {
        Side::Staff => t.requester_user_id.into_iter().collect(),
        Side::Requester => {
            let mut to = tickets::handlers_of(db, t).await?;
            let earlier: Vec<Option<Uuid>> = ticket_message::Entity::find()
                .select_only()
                .column(ticket_message::Column::AuthorUserId)
                .distinct()
                .filter(ticket_message::Column::TicketId.eq(t.id))
                .filter(ticket_message::Column::Side.eq(Side::Staff))
                .filter(ticket_message::Column::AuthorUserId.is_not_null())
                .into_tuple()
                .all(db)
                .await?;
            for u in earlier.into_iter().flatten() {
                if !to.contains(&u) && still_reads(db, u, t, now).await? {
                    to.push(u);
                }
            }
            if to.is_empty() {
                to = tickets::holders(db, Role::CommunityStaff, &[t.community_id]).await?;
            }
            to
        }
    };
    to.retain(|u| *u != user.id);
    Ok(to)
}

/// Posts `body` (already validated) on ticket `id` as the caller; returns it as the caller sees
/// it.
pub async fn post(
    db: &DatabaseConnection,
    user: &Actor,
    id: Uuid,
    body: String,
    now: DateTime<Utc>,
) -> AppResult<Shown> {
    let txn = db.begin().await?;
    let (t, parties) = open(&txn, user, id).await?;
    if matches!(
        t.status,
        Status::Closed | Status::Cancelled | Status::Rejected
    ) {
        return Err(AppError::conflict(
            ProblemCode::TicketConversationClosed,
            Text::new(
                "诉求已结束，不能再留言",
                "the ticket is closed; its conversation takes no more messages",
            ),
        ));
    }
    limit_rate(&txn, user, t.id, now).await?;
    let side = if parties.contains(&Party::Requester) {
        Side::Requester
    } else {
        Side::Staff
    };
    let name = match side {
        Side::Requester => t
            .requester_name
            .clone()
            .unwrap_or_else(|| user.display_name.clone()),
        Side::Staff => user.display_name.clone(),
    };
    let m = ticket_message::ActiveModel {
        id: Set(Uuid::now_v7()),
        ticket_id: Set(t.id),
        author_user_id: Set(Some(user.id)),
        author_name: Set(Some(name.clone())),
        side: Set(side),
        body: Set(body.clone()),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let to = other_side(&txn, user, &t, side, now).await?;
    // Staff hear of a requester's message: on an anonymous ticket some of them may not know
    // who it is, so none is told.
    let from = if side == Side::Requester && t.anonymous {
        ANONYMOUS_NAME.to_string()
    } else {
        name
    };
    let excerpt: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let payload = Payload {
        title: t.title.clone(),
        status: "新留言".into(),
        note: Some(format!(
            "{from}：{}",
            crate::platform::inbox::truncate(&excerpt, EXCERPT)
        )),
        at: now,
    };
    crate::tickets::service::notify::enqueue(&txn, Event::TicketMessage, &t, &to, &payload, now)
        .await?;
    txn.commit().await?;
    tracing::info!(ticket = %t.id, side = side.to_value(), "ticket message posted");
    let shows = tickets::shows_requester(&parties, &t);
    Ok(show(m, user, shows))
}

/// Every message the caller wrote, on any ticket, oldest first (their data export).
pub async fn written_by<C: ConnectionTrait>(db: &C, user: &Actor) -> AppResult<Vec<Shown>> {
    Ok(ticket_message::Entity::find()
        .filter(ticket_message::Column::AuthorUserId.eq(user.id))
        .order_by_asc(ticket_message::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|m| show(m, user, true))
        .collect())
}

/// An erased account leaves the conversations: its messages stay with the ticket, without the
/// link to the account; a resident's also lose the name (shown as 居民). Staff acted in an
/// official capacity and keep the name written (like the timeline).
pub async fn forget_user<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    as_staff: bool,
) -> AppResult<()> {
    let mut q = ticket_message::Entity::update_many().col_expr(
        ticket_message::Column::AuthorUserId,
        Expr::value(Option::<Uuid>::None),
    );
    if !as_staff {
        q = q.col_expr(
            ticket_message::Column::AuthorName,
            Expr::value(Option::<String>::None),
        );
    }
    q.filter(ticket_message::Column::AuthorUserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
