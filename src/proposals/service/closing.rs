//! From 办 to 评 and the end: completing the work (evidence, nothing unpaid), acceptance (验收:
//! two pass verdicts by distinct council or staff users; a fail sends the work back), the
//! evaluation poll, closing (the money hooks, the 回头看 date, 金点子), and the review-due job.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
    TransactionTrait,
};
use uuid::Uuid;

use super::hooks::{self, Leftover};
use super::{audit_step, check_version, load, move_step, raced, require_step, touch, Guards};
use crate::access::policy::Action;
use crate::access::Actor;
use crate::platform::error::{AppError, AppResult, FieldCode};
use crate::polls::model::Status as PollStatus;
use crate::polls::service::engine;
use crate::proposals::model::{Step, UpdateKind, Verdict};
use crate::proposals::policy as rules;
use crate::proposals::service::decision::note_in;
use crate::proposals::service::policy::policy_in;
use crate::proposals::service::verbs::authorized;
use entity::{proposal, proposal_acceptance, proposal_update};

/// Completes the work (implementing → evaluating) and opens the evaluation poll. The lead or
/// staff. Guards: a `completion` update with a photo (`completion`); no expense for it still
/// submitted or approved and unpaid (`expenses`); not on hold (`on_hold`).
pub async fn complete<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<proposal::Model> {
    use proposal::Column as P;
    let txn = db.begin().await?;
    let p = rules::readable_proposal(&txn, actor, id).await?;
    if !rules::may_lead(&txn, actor, &p).await? {
        return Err(AppError::Forbidden);
    }
    check_version(&p, expected)?;
    require_step(&p, &[Step::Implementing], "办结")?;
    let evidence = proposal_update::Entity::find()
        .filter(proposal_update::Column::ProposalId.eq(id))
        .filter(proposal_update::Column::Kind.eq(UpdateKind::Completion))
        .filter(proposal_update::Column::Photos.gt(0))
        .count(&txn)
        .await?;
    let unpaid = crate::funds::query::unpaid_expenses_of_proposal(&txn, id).await?;
    let mut g = Guards::default();
    g.check(
        evidence > 0,
        "completion",
        FieldCode::Required,
        "请先发布带照片的完工报告",
        "post a completion update with a photo first",
    );
    g.check(
        unpaid == 0,
        "expenses",
        FieldCode::Pending,
        "还有未支付的支出申请，请先支付或取消",
        "an expense request is still unpaid: pay or cancel it first",
    );
    g.check(
        !p.on_hold,
        "on_hold",
        FieldCode::NotAllowed,
        "议题暂停中，请先恢复",
        "the work is on hold: resume it first",
    );
    g.done()?;
    let pol = policy_in(&txn, p.community_id).await?;
    let poll = super::evaluation::open_in(&txn, actor, &p, pol.evaluation_days, now).await?;
    let sets = vec![
        (P::CompletedAt, Expr::value(Some(now))),
        (P::EvaluationPollId, Expr::value(Some(poll))),
        (P::ProgressPct, Expr::value(100i16)),
    ];
    if !move_step(
        &txn,
        &p,
        Step::Evaluating,
        sets,
        Some(actor),
        "completed",
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
        "complete",
        serde_json::json!({"evaluation_poll_id": poll}),
        now,
    )
    .await?;
    super::notify::evaluation_open(&txn, &p, now).await?;
    txn.commit().await?;
    load(db, id).await
}

/// The acceptance round a proposal is in: one more than the fails it had.
async fn round_of<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<i32> {
    let fails = proposal_acceptance::Entity::find()
        .filter(proposal_acceptance::Column::ProposalId.eq(id))
        .filter(proposal_acceptance::Column::Verdict.eq(Verdict::Fail))
        .count(conn)
        .await?;
    Ok(fails as i32 + 1)
}

/// Records the caller's 验收 verdict while `evaluating` (council members and staff who move it;
/// one verdict per person and round). A `fail` sends the work back to `implementing` with the
/// note, and a new round begins.
pub async fn accept_work<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    verdict: Verdict,
    note: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<proposal::Model> {
    use proposal::Column as P;
    let txn = db.begin().await?;
    let p = authorized(&txn, actor, id, Action::ProposalAdvance).await?;
    require_step(&p, &[Step::Evaluating], "验收")?;
    let round = round_of(&txn, id).await?;
    let inserted = proposal_acceptance::Entity::insert(proposal_acceptance::ActiveModel {
        proposal_id: Set(id),
        round: Set(round),
        user_id: Set(actor.id),
        user_name: Set(actor.display_name.clone()),
        verdict: Set(verdict),
        note: Set(note.clone()),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            proposal_acceptance::Column::ProposalId,
            proposal_acceptance::Column::Round,
            proposal_acceptance::Column::UserId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if inserted != 1 {
        return Err(AppError::GuardFailed(vec![
            crate::platform::error::FieldError::of(
                "acceptance",
                FieldCode::Duplicate,
                crate::platform::lang::Text::new(
                    "您已在本轮验收中给出意见",
                    "you gave your verdict in this round already",
                ),
            ),
        ]));
    }
    let kind = match verdict {
        Verdict::Pass => "acceptance_passed",
        Verdict::Fail => "acceptance_failed",
    };
    if verdict == Verdict::Fail {
        let sets = vec![
            (P::Reason, Expr::value(note.clone())),
            (P::CompletedAt, Expr::value(Option::<DateTime<Utc>>::None)),
        ];
        if !move_step(
            &txn,
            &p,
            Step::Implementing,
            sets,
            Some(actor),
            kind,
            note.as_deref(),
            now,
        )
        .await?
        {
            return Err(raced());
        }
        super::notify::stepped(&txn, &p, Step::Implementing, now).await?;
    } else {
        if !touch(&txn, &p, vec![], now).await? {
            return Err(raced());
        }
        super::subject::record_event_in(&txn, id, Some(actor), kind, note.as_deref(), now).await?;
    }
    audit_step(
        &txn,
        actor,
        &p,
        kind,
        serde_json::json!({"round": round}),
        now,
    )
    .await?;
    txn.commit().await?;
    load(db, id).await
}

/// Closes a proposal (evaluating → closed). Guards: the evaluation poll closed (`evaluation`),
/// two pass verdicts from distinct people in the current round (`acceptances`). In the same
/// transaction, before the move: the money hooks (unused allocations released, leftovers kept
/// or refunded); then `review_on = today + review_after_days` and 金点子 when asked.
pub async fn close<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    golden: bool,
    leftover: Leftover,
    now: DateTime<Utc>,
) -> AppResult<proposal::Model> {
    use proposal::Column as P;
    let txn = db.begin().await?;
    let p = authorized(&txn, actor, id, Action::ProposalAdvance).await?;
    check_version(&p, expected)?;
    require_step(&p, &[Step::Evaluating], "结案")?;
    let evaluation_closed = match p.evaluation_poll_id {
        Some(poll) => engine::status_in(&txn, poll).await?.status == PollStatus::Closed,
        None => false,
    };
    let round = round_of(&txn, id).await?;
    let passes: Vec<Uuid> = proposal_acceptance::Entity::find()
        .select_only()
        .column(proposal_acceptance::Column::UserId)
        .filter(proposal_acceptance::Column::ProposalId.eq(id))
        .filter(proposal_acceptance::Column::Round.eq(round))
        .filter(proposal_acceptance::Column::Verdict.eq(Verdict::Pass))
        .into_tuple()
        .all(&txn)
        .await?;
    let mut g = Guards::default();
    g.check(
        evaluation_closed,
        "evaluation",
        FieldCode::NotClosed,
        "评议投票尚未结束",
        "the evaluation poll has not closed",
    );
    g.check(
        passes.len() >= 2,
        "acceptances",
        FieldCode::TooFew,
        "需要两位不同的居委会成员或工作人员验收通过",
        "two pass verdicts by distinct council members or staff are needed",
    );
    g.done()?;
    hooks::on_closing_in(&txn, id, leftover, actor, now).await?;
    let pol = policy_in(&txn, p.community_id).await?;
    let review_at = now + Duration::days(i64::from(pol.review_after_days));
    let sets = vec![
        (P::ClosedAt, Expr::value(Some(now))),
        (P::ReviewOn, Expr::value(Some(review_at.date_naive()))),
        (P::ReviewDueAt, Expr::value(Some(review_at))),
        (P::Golden, Expr::value(golden)),
    ];
    if !move_step(
        &txn,
        &p,
        Step::Closed,
        sets,
        Some(actor),
        "closed",
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
        "close",
        serde_json::json!({"golden": golden, "leftover": leftover}),
        now,
    )
    .await?;
    super::notify::stepped(&txn, &p, Step::Closed, now).await?;
    txn.commit().await?;
    load(db, id).await
}

/// Marks or unmarks a closed proposal as 金点子 (the street's case list).
pub async fn set_golden<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
    golden: bool,
    now: DateTime<Utc>,
) -> AppResult<proposal::Model> {
    let txn = db.begin().await?;
    let p = authorized(&txn, actor, id, Action::ProposalAdvance).await?;
    check_version(&p, expected)?;
    require_step(&p, &[Step::Closed], "评为金点子")?;
    if !touch(
        &txn,
        &p,
        vec![(proposal::Column::Golden, Expr::value(golden))],
        now,
    )
    .await?
    {
        return Err(raced());
    }
    let kind = if golden { "golden" } else { "golden_removed" };
    super::subject::record_event_in(&txn, id, Some(actor), kind, None, now).await?;
    audit_step(&txn, actor, &p, kind, serde_json::json!({}), now).await?;
    txn.commit().await?;
    load(db, id).await
}

/// Proposals whose 回头看 review fell due by `now` get `proposal_review_due` (to the lead and the
/// community's council and staff), each exactly once: claimed by a conditional update of
/// `review_notified_at` in its own transaction. Answers how many were sent.
pub async fn review_due<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    use proposal::Column as P;
    let due: Vec<Uuid> = proposal::Entity::find()
        .select_only()
        .column(P::Id)
        .filter(P::Step.eq(Step::Closed))
        .filter(P::ReviewDueAt.lte(now))
        .filter(P::ReviewNotifiedAt.is_null())
        .limit(100)
        .into_tuple()
        .all(db)
        .await?;
    let mut sent = 0;
    for id in due {
        let txn = db.begin().await?;
        let claimed = proposal::Entity::update_many()
            .col_expr(P::ReviewNotifiedAt, Expr::value(Some(now)))
            .filter(P::Id.eq(id))
            .filter(P::ReviewNotifiedAt.is_null())
            .exec(&txn)
            .await?;
        if claimed.rows_affected != 1 {
            continue;
        }
        let p = load(&txn, id).await?;
        note_in(&txn, &p, "review_due", Some("回头看：请回访办理效果"), now).await?;
        super::notify::review_due(&txn, &p, now).await?;
        txn.commit().await?;
        sent += 1;
    }
    Ok(sent)
}
