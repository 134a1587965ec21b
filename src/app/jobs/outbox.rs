//! Delivery of the notification outbox as WeChat subscribe messages.
//!
//! Rows are claimed one at a time with a conditional UPDATE (pending, unlocked or lock expired),
//! which also counts the attempt; only the replica whose UPDATE changed the row sends it, so
//! several replicas can run rounds at once without sending a message twice. The attempt count
//! fences both the send (a runner renews its claim right before sending, and gives up when a
//! later claim took the row while it stalled) and the final write (a runner whose lock expired
//! cannot overwrite a later claim).

use chrono::{DateTime, Duration, FixedOffset, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{json, Value};

use crate::platform::error::AppResult;
use crate::platform::inbox::SubjectType;
use crate::platform::notifications::{DeliveryStatus, Event, Payload};
use crate::platform::state::AppState;
use crate::platform::wechat::Delivery;
use crate::tickets::model::{status_label, status_named};
use entity::{notification, user};

/// Rows looked at per round.
const BATCH: u64 = 50;
/// How long a claimed row is held at least. A delivery takes at most a few WeChat calls (token
/// fetch or wait for another replica's, send, refresh, send again); the lock outlasts six.
const LOCK_SECS: i64 = 60;
/// After this many attempts a transient failure is final.
pub const MAX_ATTEMPTS: i32 = 6;
/// First retry delay; doubled per attempt up to [`MAX_BACKOFF_SECS`].
const BASE_BACKOFF_SECS: i64 = 30;
const MAX_BACKOFF_SECS: i64 = 3600;
/// `last_error` column width.
const MAX_ERROR_CHARS: usize = 500;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OutboxRound {
    pub sent: u64,
    /// Failed for good (permanent refusal or attempts exhausted).
    pub failed: u64,
    /// Failed transiently, back in the queue.
    pub retried: u64,
    pub skipped: u64,
}

/// How a claimed row ends this round.
enum Outcome {
    Sent,
    Failed(String),
    Retry(String),
    Skipped(String),
    /// The claim was taken over while this runner was stalled: someone else sends it.
    Lost,
}

/// Delivers the notifications that are due: at most [`BATCH`] per round, oldest due first.
pub async fn deliver_due(state: &AppState) -> AppResult<OutboxRound> {
    let now = state.clock.now();
    let due = notification::Entity::find()
        .filter(notification::Column::Status.eq(DeliveryStatus::Pending))
        .filter(notification::Column::NextAttemptAt.lte(now))
        .filter(unlocked(now))
        .order_by_asc(notification::Column::NextAttemptAt)
        .order_by_asc(notification::Column::Id)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    let mut round = OutboxRound::default();
    for row in due {
        let now = state.clock.now();
        if !claim(state, &row, now).await? {
            continue;
        }
        let attempts = row.attempts + 1;
        let outcome = match deliver(state, &row, attempts).await {
            Ok(o) => o,
            // Our own database failing mid-delivery: leave the row to the next round.
            Err(e) => Outcome::Retry(format!("delivery could not be prepared: {e}")),
        };
        if let Outcome::Lost = outcome {
            tracing::warn!(notification = %row.id, "another runner took the notification over while this one stalled; not sent twice");
            continue;
        }
        finish(state, &row, attempts, outcome, &mut round).await?;
    }
    if round != OutboxRound::default() {
        tracing::info!(
            sent = round.sent,
            failed = round.failed,
            retried = round.retried,
            skipped = round.skipped,
            "notification outbox round"
        );
    } else {
        tracing::debug!("notification outbox round: nothing due");
    }
    Ok(round)
}

fn unlocked(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(notification::Column::LockedUntil.is_null())
        .add(notification::Column::LockedUntil.lt(now))
}

/// Takes the row for this replica; false when another one got it first.
async fn claim(state: &AppState, row: &notification::Model, now: DateTime<Utc>) -> AppResult<bool> {
    let res = notification::Entity::update_many()
        .col_expr(
            notification::Column::LockedUntil,
            Expr::value(now + lock_time(state)),
        )
        .col_expr(
            notification::Column::Attempts,
            Expr::col(notification::Column::Attempts).add(1),
        )
        .col_expr(notification::Column::UpdatedAt, Expr::value(now))
        .filter(notification::Column::Id.eq(row.id))
        .filter(notification::Column::Status.eq(DeliveryStatus::Pending))
        .filter(unlocked(now))
        .exec(&state.db)
        .await?;
    Ok(res.rows_affected == 1)
}

fn lock_time(state: &AppState) -> Duration {
    let calls = 6 * state.settings.wechat_timeout.as_secs().min(3600) as i64;
    Duration::seconds(LOCK_SECS.max(calls))
}

/// Renews this runner's claim right before it sends: still pending, still claimed by this
/// attempt (a later claim increments `attempts`), and held for a whole lock time again. The
/// send that follows is bounded by the WeChat client's timeouts, far inside that lock time, so
/// no other runner can claim the row while it is being sent. This is the fence: a runner that
/// stalled (a slow token fetch, a cache outage) past its lock finds the row taken and sends
/// nothing.
async fn renew(state: &AppState, row: &notification::Model, attempts: i32) -> AppResult<bool> {
    let now = state.clock.now();
    let res = notification::Entity::update_many()
        .col_expr(
            notification::Column::LockedUntil,
            Expr::value(now + lock_time(state)),
        )
        .filter(notification::Column::Id.eq(row.id))
        .filter(notification::Column::Status.eq(DeliveryStatus::Pending))
        .filter(notification::Column::Attempts.eq(attempts))
        .exec(&state.db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Decides whether the row can be sent and sends it.
async fn deliver(state: &AppState, row: &notification::Model, attempts: i32) -> AppResult<Outcome> {
    let Some(template) = state.settings.wechat_templates.get(row.event_type.as_str()) else {
        return Ok(Outcome::Skipped(format!(
            "no WeChat template is configured for {} (LINLI_WECHAT_TEMPLATES)",
            row.event_type.as_str()
        )));
    };
    if !state.wechat.is_configured() {
        return Ok(Outcome::Skipped(
            "WeChat is not configured (LINLI_WECHAT_APPID, LINLI_WECHAT_SECRET)".into(),
        ));
    }
    let recipient = user::Entity::find_by_id(row.recipient_user_id)
        .one(&state.db)
        .await?;
    let openid = match recipient {
        None => {
            return Ok(Outcome::Skipped(
                "the recipient's account no longer exists".into(),
            ))
        }
        Some(u) if !u.is_active => {
            return Ok(Outcome::Skipped(
                "the recipient's account is deactivated".into(),
            ))
        }
        Some(u) => match u.wechat_openid {
            Some(o) if !o.is_empty() => o,
            _ => {
                return Ok(Outcome::Skipped(
                    "the recipient has no WeChat account (no openid)".into(),
                ))
            }
        },
    };
    let Ok(payload) = serde_json::from_str::<Payload>(&row.payload) else {
        return Ok(Outcome::Failed("the stored payload is unreadable".into()));
    };
    // The configured page shows a ticket; what is about something else opens it bare until
    // that subject has a page of its own.
    let page = match (row.subject_type, row.subject_id.or(row.ticket_id)) {
        (Some(SubjectType::Ticket) | None, Some(id)) => {
            format!("{}?id={id}", state.settings.wechat_page)
        }
        (Some(SubjectType::Notice), Some(id)) => {
            format!("{}?id={id}", state.settings.wechat_notice_page)
        }
        (Some(SubjectType::Poll), Some(id)) => {
            format!("{}?id={id}", state.settings.wechat_poll_page)
        }
        (Some(SubjectType::Proposal), Some(id)) => {
            format!("{}?id={id}", state.settings.wechat_proposal_page)
        }
        _ => state.settings.wechat_page.clone(),
    };
    let data = template_data(Some(row.event_type), &payload);
    // The access token first (it may take a while, or wait on another replica's fetch), then
    // the fence, then the send: nothing slow stands between the fence and the send.
    if let Err(e) = state.wechat.access_token().await {
        return Ok(Outcome::Retry(crate::platform::wechat::token_failure(&e)));
    }
    if !renew(state, row, attempts).await? {
        return Ok(Outcome::Lost);
    }
    Ok(
        match state
            .wechat
            .send_subscribe_message(&openid, template, &page, data)
            .await
        {
            Delivery::Sent => Outcome::Sent,
            Delivery::Permanent(reason) => Outcome::Failed(reason),
            Delivery::Transient(reason) => Outcome::Retry(reason),
        },
    )
}

/// Records the outcome and releases the lock, unless a later claim owns the row by now.
async fn finish(
    state: &AppState,
    row: &notification::Model,
    attempts: i32,
    outcome: Outcome,
    round: &mut OutboxRound,
) -> AppResult<()> {
    use notification::Column as C;
    let now = state.clock.now();
    let none_time = Option::<DateTime<Utc>>::None;
    let mut update = notification::Entity::update_many()
        .col_expr(C::LockedUntil, Expr::value(none_time))
        .col_expr(C::UpdatedAt, Expr::value(now));
    update = match outcome {
        Outcome::Sent => {
            round.sent += 1;
            update
                .col_expr(C::Status, Expr::value(DeliveryStatus::Sent))
                .col_expr(C::SentAt, Expr::value(Some(now)))
                .col_expr(C::LastError, Expr::value(Option::<String>::None))
        }
        Outcome::Failed(reason) => {
            round.failed += 1;
            update
                .col_expr(C::Status, Expr::value(DeliveryStatus::Failed))
                .col_expr(C::LastError, Expr::value(Some(clip(&reason))))
        }
        Outcome::Skipped(reason) => {
            round.skipped += 1;
            update
                .col_expr(C::Status, Expr::value(DeliveryStatus::Skipped))
                .col_expr(C::LastError, Expr::value(Some(clip(&reason))))
        }
        Outcome::Retry(reason) if attempts >= MAX_ATTEMPTS => {
            round.failed += 1;
            let reason = format!("{reason} (gave up after {attempts} attempts)");
            update
                .col_expr(C::Status, Expr::value(DeliveryStatus::Failed))
                .col_expr(C::LastError, Expr::value(Some(clip(&reason))))
        }
        // Handled before: nothing is written for a claim that was taken over.
        Outcome::Lost => return Ok(()),
        Outcome::Retry(reason) => {
            round.retried += 1;
            update
                .col_expr(C::NextAttemptAt, Expr::value(now + backoff(attempts)))
                .col_expr(C::LastError, Expr::value(Some(clip(&reason))))
        }
    };
    let res = update
        .filter(C::Id.eq(row.id))
        .filter(C::Status.eq(DeliveryStatus::Pending))
        .filter(C::Attempts.eq(attempts))
        .exec(&state.db)
        .await?;
    if res.rows_affected == 0 {
        tracing::warn!(notification = %row.id, "the outbox lock expired during a delivery");
    }
    Ok(())
}

/// Delay before the next attempt after `attempts` attempts: 30 s, 1 min, 2 min, … at most 1 h.
pub fn backoff(attempts: i32) -> Duration {
    let doublings = (attempts.max(1) - 1).min(20) as u32;
    Duration::seconds((BASE_BACKOFF_SECS << doublings).min(MAX_BACKOFF_SECS))
}

fn clip(s: &str) -> String {
    s.chars().take(MAX_ERROR_CHARS).collect()
}

/// The template fields (documented in the README): `thing1` title, `phrase2` status,
/// `time3` time in China Standard Time, `thing4` note.
pub fn template_data(event: Option<Event>, p: &Payload) -> Value {
    let note = p.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    json!({
        "thing1": { "value": truncate(p.title.trim(), 20) },
        "phrase2": { "value": status_phrase(event, &p.status) },
        "time3": { "value": china_time(p.at) },
        "thing4": { "value": note.map_or_else(|| "-".to_string(), |n| truncate(n, 20)) },
    })
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The status as a WeChat `phrase` (at most 5 Chinese characters).
fn status_phrase(event: Option<Event>, status: &str) -> String {
    // A status by its name reads as the API's `status_label` (one source for both).
    let urged_or_escalated = matches!(event, Some(Event::TicketUrged | Event::TicketEscalated));
    if let Some(s) = status_named(status).filter(|_| !urged_or_escalated) {
        return status_label(s).to_string();
    }
    let phrase = match (event, status) {
        (Some(Event::TicketUrged), _) => "催办",
        (Some(Event::TicketEscalated), _) => "已升级",
        (_, "in_progress" | "progress") => "处理中",
        (_, "returned") => "已退回",
        (_, "reopened") => "已重办",
        (_, "canceled") => "已撤销",
        (_, "escalated") => "已升级",
        (_, "urged") => "催办",
        (_, other) if !other.is_empty() && !other.is_ascii() => return truncate(other, 5),
        _ => "已更新",
    };
    phrase.to_string()
}

/// `YYYY-MM-DD HH:MM` in Asia/Shanghai (UTC+8 all year, no daylight saving).
fn china_time(at: DateTime<Utc>) -> String {
    const FORMAT: &str = "%Y-%m-%d %H:%M";
    match FixedOffset::east_opt(8 * 3600) {
        Some(cst) => at.with_timezone(&cst).format(FORMAT).to_string(),
        None => at.format(FORMAT).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn backoff_doubles_from_30_seconds_up_to_an_hour() {
        let secs: Vec<i64> = (1..=9).map(|a| backoff(a).num_seconds()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(backoff(0).num_seconds(), 30);
        assert_eq!(backoff(i32::MAX).num_seconds(), 3600);
    }

    #[test]
    fn payload_maps_onto_template_fields() {
        let p = Payload {
            title: "一二三四五六七八九十一二三四五六七八九十二十一".into(),
            status: "resolved".into(),
            note: None,
            at: Utc.with_ymd_and_hms(2026, 1, 31, 17, 5, 0).unwrap(),
        };
        let d = template_data(Some(Event::TicketStatusChanged), &p);
        assert_eq!(
            d["thing1"]["value"],
            "一二三四五六七八九十一二三四五六七八九十"
        );
        assert_eq!(d["phrase2"]["value"], "已办结");
        assert_eq!(d["time3"]["value"], "2026-02-01 01:05");
        assert_eq!(d["thing4"]["value"], "-");
        let d = template_data(Some(Event::TicketUrged), &p);
        assert_eq!(d["phrase2"]["value"], "催办");
        assert_eq!(status_phrase(None, "weird"), "已更新");
    }
}
