//! Referral (participation design §A1.1, `refer`): a 大事 goes to the street as a red ticket
//! (诉求) of the proposal's place, in the same transaction as the move `→ referred`. The
//! proposal keeps the ticket's id (`referred_ticket_id`); the ticket's filing note names the
//! proposal.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::verbs::authorized;
use super::{audit_step, check_version, load, move_step, raced, require_step, Guards};
use crate::access::policy::Action;
use crate::access::Actor;
use crate::platform::error::{AppError, AppResult, FieldCode};
use crate::proposals::model::{Channel, Step, Tier};
use crate::territory::query::place_lookup;
use crate::tickets::model::Channel as TicketChannel;
use crate::tickets::service::referral::{self as tickets, Referral};
use entity::proposal;

/// Whom a 大事 is referred to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ProposalReferTo)]
pub enum ReferTo {
    /// 街道兜底: a red ticket at the street administrator's level; the street is told.
    Street,
    /// A red ticket in the community's own ticket flow (triaged, not yet dispatched).
    Ticket,
}

/// The steps a proposal may be referred from: before the decision (nothing voted on yet).
pub const REFER_FROM: [Step; 2] = [Step::Proposed, Step::Deliberating];

/// The ticket channel a proposal's channel files as.
fn channel_of(c: Channel) -> TicketChannel {
    match c {
        Channel::MiniProgram => TicketChannel::MiniProgram,
        Channel::Phone => TicketChannel::Phone,
        Channel::Visit | Channel::Meeting => TicketChannel::Visit,
        Channel::Station => TicketChannel::DutyRoom,
    }
}

/// Refers a 大事 (proposed|deliberating → referred) as a red ticket. Guards: the tier is
/// `major` (`tier`); the ticket's compound is the proposal's, or for a community-wide proposal
/// `compound_id`, a compound of its community (`compound_id`).
#[allow(clippy::too_many_arguments)]
pub async fn refer<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    to: ReferTo,
    note: Option<String>,
    compound_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<proposal::Model> {
    let txn = db.begin().await?;
    let p = authorized(&txn, actor, id, Action::ProposalAdvance).await?;
    check_version(&p, expected)?;
    require_step(&p, &REFER_FROM, "转交")?;
    let mut g = Guards::default();
    match p.tier {
        Some(Tier::Major) => {}
        None => g.check(
            false,
            "tier",
            FieldCode::NotSet,
            "请先将议题定为大事再转交",
            "set the tier to major before referring",
        ),
        Some(_) => g.check(
            false,
            "tier",
            FieldCode::NotAllowed,
            "只有大事转交街道，小事和普通事在社区协商",
            "only major matters are referred; small and ordinary ones are deliberated",
        ),
    }
    let compound = match (p.compound_id, compound_id) {
        (Some(c), None) => Some(c),
        (Some(c), Some(given)) if c == given => Some(c),
        (Some(_), Some(_)) => {
            g.check(
                false,
                "compound_id",
                FieldCode::Mismatch,
                "议题属于另一个小区",
                "the proposal belongs to another compound",
            );
            None
        }
        (None, Some(given)) => {
            let ok = place_lookup::compound(&txn, given)
                .await?
                .is_some_and(|c| c.community_id == p.community_id);
            g.check(
                ok,
                "compound_id",
                FieldCode::NotFound,
                "本社区没有这个小区",
                "no such compound in the proposal's community",
            );
            ok.then_some(given)
        }
        (None, None) => {
            g.check(
                false,
                "compound_id",
                FieldCode::Required,
                "全社区的议题转交时请选择诉求所在的小区",
                "a community-wide proposal is referred with the compound the ticket is for",
            );
            None
        }
    };
    g.done()?;
    let compound_id = compound.ok_or(AppError::NotFound)?;
    let mut description = format!("【议题转交】{}", p.body);
    if let Some(n) = &note {
        description = format!("{description}\n转交说明：{n}");
    }
    let ticket = tickets::file_red(
        &txn,
        actor,
        Referral {
            compound_id,
            building_id: p.building_id.filter(|_| p.compound_id == Some(compound_id)),
            title: p.title.clone(),
            description,
            category: p.category.clone(),
            channel: channel_of(p.channel),
            requester_display: p.author_display.clone(),
            to_street: to == ReferTo::Street,
            note: format!("由议题「{}」转交（大事）", p.title),
        },
        now,
    )
    .await?;
    let sets = vec![
        (
            proposal::Column::ReferredTicketId,
            Expr::value(Some(ticket.id)),
        ),
        (proposal::Column::Reason, Expr::value(note.clone())),
    ];
    if !move_step(
        &txn,
        &p,
        Step::Referred,
        sets,
        Some(actor),
        "referred",
        note.as_deref(),
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
        "refer",
        serde_json::json!({"to": to, "ticket_id": ticket.id, "note": note}),
        now,
    )
    .await?;
    super::notify::stepped(&txn, &p, Step::Referred, now).await?;
    txn.commit().await?;
    load(db, id).await
}
