//! The demo's consultation (议事厅): proposals of 候潮府小区 in the steps a seed reaches through
//! the services without ballots — 提 (the demo resident's own), 议, 决 (its decision poll open),
//! 未受理 and 未通过 (a decision no household voted in). Money is the pledges seed's.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, TransactionTrait};
use uuid::Uuid;

use crate::access::actor::Assignment;
use crate::access::policy::{Role, ScopeType};
use crate::access::Actor;
use crate::proposals::model::{ScopeType as Place, Tier};
use crate::proposals::service::decision::{self, DecisionSpec};
use crate::proposals::service::intake::{self, NewProposal};
use crate::proposals::service::verbs::{self, Acceptance};

fn staff_actor(id: Uuid, name: &str, community: Uuid) -> Actor {
    let mut a = Actor::new(
        id,
        vec![Assignment {
            id: Uuid::now_v7(),
            role: Role::CommunityStaff,
            scope_type: ScopeType::Community,
            scope_id: community,
            valid_until: None,
            source_term_id: None,
        }],
    );
    a.display_name = name.to_string();
    a
}

fn new(title: &str, body: &str, category: &str, compound: Uuid, resident: bool) -> NewProposal {
    NewProposal {
        scope_type: Place::Compound,
        scope_id: compound,
        title: title.into(),
        body: body.into(),
        category: category.into(),
        attachment_ids: vec![],
        source_ticket_id: None,
        on_behalf_of_resident_id: None,
        channel: (!resident).then_some(crate::proposals::model::Channel::Meeting),
        budget_fen: 0,
        targets: vec![],
        idempotency_key: None,
    }
}

/// Seeds the proposals; answers their ids by step.
pub(super) async fn demo_proposals<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    staff: (Uuid, &str),
    resident: Option<(Uuid, Uuid)>,
    community: Uuid,
    compound: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Uuid>> {
    let err = |e: crate::platform::error::AppError| anyhow::anyhow!("demo proposals: {e}");
    let s = staff_actor(staff.0, staff.1, community);
    let mut out = Vec::new();
    if let Some((user, household)) = resident {
        let r = Actor::new(
            user,
            vec![Assignment {
                id: Uuid::now_v7(),
                role: Role::Resident,
                scope_type: ScopeType::Household,
                scope_id: household,
                valid_until: None,
                source_term_id: None,
            }],
        );
        let n = new(
            "楼道堆物清理与公共储物区",
            "1幢楼道长期堆放纸箱和旧家具，存在消防隐患。建议统一清理，并在地下室设置公共储物区。",
            "环境",
            compound,
            true,
        );
        out.push(intake::create(db, &r, n, now).await.map_err(err)?.id);
    }
    let accept = |days| Acceptance {
        tier: Some(Tier::Ordinary),
        deliberation_days: Some(days),
        note: Some("议事会受理".into()),
    };
    // 议: accepted yesterday, deliberating for a week.
    let t = now - Duration::days(1);
    let n = new(
        "小区东门增设人行道闸",
        "东门人车混行，早晚高峰有安全隐患。建议增设人行道闸并划分人车通道。",
        "安全",
        compound,
        false,
    );
    let p = intake::create(db, &s, n, t).await.map_err(err)?;
    verbs::accept(db, &s, p.id, None, accept(7), t)
        .await
        .map_err(err)?;
    out.push(p.id);
    // 决: deliberated for a week, its decision poll open since today.
    let t = now - Duration::days(8);
    let n = new(
        "地面停车位重新划线",
        "现有车位划线模糊，部分车位过窄。建议重新划线并增设2个无障碍车位。",
        "停车",
        compound,
        false,
    );
    let p = intake::create(db, &s, n, t).await.map_err(err)?;
    verbs::accept(db, &s, p.id, None, accept(7), t)
        .await
        .map_err(err)?;
    decision::open_decision(db, &s, p.id, None, DecisionSpec::default(), now)
        .await
        .map_err(err)?;
    out.push(p.id);
    // 未通过: its decision poll closed a week ago without a household voting (no quorum).
    let t = now - Duration::days(30);
    let n = new(
        "拆除中心花坛改建停车位",
        "中心花坛占地较大，建议改建为停车位以缓解停车难。",
        "停车",
        compound,
        false,
    );
    let p = intake::create(db, &s, n, t).await.map_err(err)?;
    verbs::accept(db, &s, p.id, None, accept(7), t)
        .await
        .map_err(err)?;
    let opened = t + Duration::days(8);
    let p = decision::open_decision(db, &s, p.id, None, DecisionSpec::default(), opened)
        .await
        .map_err(err)?;
    if let Some(poll) = p.decision_poll_id {
        let closed = opened + Duration::days(7);
        crate::polls::service::engine::close_in(db, poll, closed, None)
            .await
            .map_err(err)?;
        decision::on_poll_closed_in(db, poll, closed)
            .await
            .map_err(err)?;
    }
    out.push(p.id);
    // 未受理: answered.
    let n = new(
        "小区内禁止遛狗",
        "希望小区全面禁止遛狗。",
        "文明",
        compound,
        false,
    );
    let p = intake::create(db, &s, n, now - Duration::days(3))
        .await
        .map_err(err)?;
    verbs::reject(
        db,
        &s,
        p.id,
        None,
        "涉及居民合法权益，不宜全面禁止；已转入文明养犬公约的协商。".into(),
        now - Duration::days(2),
    )
    .await
    .map_err(err)?;
    out.push(p.id);
    Ok(out)
}
