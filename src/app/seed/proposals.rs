//! The demo's consultation (议事厅) of 候潮府小区: one proposal in each step, reached through the
//! proposals', polls', funds' and pledges' services at the times it would have happened. Here
//! the steps before money: 提 (the demo resident's own), 议, 决 (its decision poll open, three
//! households voted), 未通过 (a decision too few households voted in) and 未受理; the steps with
//! money are in `projects`.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, TransactionTrait};
use uuid::Uuid;

use super::consultation::{self as c, fail, Ask, Cast};
use crate::proposals::model::ScopeType as Place;
use crate::proposals::service::intake::{self, NewProposal};
use crate::proposals::service::verbs;

/// Seeds the proposals, oldest first (so the 自治金's entries are written in the order of their
/// days); answers their ids.
pub(super) async fn demo_proposals<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cast: &Cast<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Uuid>> {
    let mut out = super::projects::demo_projects(db, cast, now).await?;
    // 未通过: its decision poll closed two weeks ago with two households voting (no quorum).
    let t = now - Duration::days(30);
    let n = Ask {
        title: "拆除中心花坛改建停车位",
        body: "中心花坛占地较大，建议改建为停车位以缓解停车难。",
        category: "停车",
        budget_fen: 0,
        targets: vec![],
    };
    let p = c::propose(db, cast, None, n, t).await?;
    c::accept(db, cast, p, t).await?;
    let opened = t + Duration::days(8);
    let poll = c::open_decision(db, cast, p, opened).await?;
    for (i, pick) in [1, 2].into_iter().enumerate() {
        let voter = &cast.neighbour(i)?.actor;
        c::ballot(db, voter, poll, &[pick], opened + Duration::days(2)).await?;
    }
    c::run_polls(db, opened + Duration::days(7)).await?;
    out.push(p);
    // 议: accepted yesterday, deliberating for a week.
    let t = now - Duration::days(1);
    let n = Ask {
        title: "小区东门增设人行道闸",
        body: "东门人车混行，早晚高峰有安全隐患。建议增设人行道闸并划分人车通道。",
        category: "安全",
        budget_fen: 0,
        targets: vec![],
    };
    let p = c::propose(db, cast, None, n, t).await?;
    c::accept(db, cast, p, t).await?;
    out.push(p);
    // 决: deliberated for a week, its decision poll open since two days ago; three households
    // voted yesterday, the demo resident's has not yet.
    let t = now - Duration::days(9);
    let n = Ask {
        title: "地面停车位重新划线",
        body: "现有车位划线模糊，部分车位过窄。建议重新划线并增设2个无障碍车位。",
        category: "停车",
        budget_fen: 0,
        targets: vec![],
    };
    let author = Some(cast.neighbour(3)?.resident);
    let p = c::propose(db, cast, author, n, t).await?;
    c::accept(db, cast, p, t).await?;
    let opened = now - Duration::days(2);
    let poll = c::open_decision(db, cast, p, opened).await?;
    for (i, pick) in [0, 0, 1].into_iter().enumerate() {
        let voter = &cast.neighbour(i)?.actor;
        let at = now - Duration::days(1) + Duration::hours(i as i64);
        c::ballot(db, voter, poll, &[pick], at).await?;
    }
    out.push(p);
    // 未受理: answered.
    let n = Ask {
        title: "小区内禁止遛狗",
        body: "希望小区全面禁止遛狗。",
        category: "文明",
        budget_fen: 0,
        targets: vec![],
    };
    let p = c::propose(db, cast, None, n, now - Duration::days(3)).await?;
    verbs::reject(
        db,
        &cast.staff,
        p,
        None,
        "涉及居民合法权益，不宜全面禁止；已转入文明养犬公约的协商。".into(),
        now - Duration::days(2),
    )
    .await
    .map_err(fail("rejecting"))?;
    out.push(p);
    // 提: the demo resident's own, from the mini-program, today.
    let n = NewProposal {
        scope_type: Place::Compound,
        scope_id: cast.compound,
        title: "楼道堆物清理与公共储物区".into(),
        body: "1幢楼道长期堆放纸箱和旧家具，存在消防隐患。建议统一清理，并在地下室设置公共储物区。"
            .into(),
        category: "环境".into(),
        attachment_ids: vec![],
        source_ticket_id: None,
        on_behalf_of_resident_id: None,
        channel: None,
        budget_fen: 0,
        targets: vec![],
        idempotency_key: None,
    };
    let p = intake::create(db, &cast.resident, n, now)
        .await
        .map_err(fail("proposing as the demo resident"))?;
    out.push(p.id);
    Ok(out)
}
