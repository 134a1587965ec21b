//! The demo's proposals that spend money, from the 自治金 and 民筹, oldest first: 已办结 (its LED
//! lights paid, the unused rest released, the 回头看 date set, marked 金点子), 评 (acceptances
//! given, its evaluation poll open), 办 (a lead, milestones, progress, an expense waiting for
//! approval) and 筹 (an allocation and pledges of money, labour and materials short of its
//! budget). Each decided by the households, then moved by the verbs staff and leads use.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use uuid::Uuid;

use super::consultation::{self as c, fail, Ask, Cast, Payment};
use crate::access::Actor;
use crate::pledges::model::{Kind, PledgerKind, PublicDisplay};
use crate::pledges::service::fulfil::{self, Received};
use crate::pledges::service::{self as pledges, NewPledge, OnBehalf};
use crate::proposals::model::{UpdateKind, Verdict};
use crate::proposals::service::closing;
use crate::proposals::service::hooks::Leftover;
use crate::proposals::service::implementation::{self as work, LeadRef, NewMilestone, NewUpdate};

/// Seeds the four; their ids (closed, evaluating, implementing, raising).
pub(super) async fn demo_projects<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cast: &Cast<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Uuid>> {
    Ok(vec![
        closed(db, cast, now).await?,
        evaluating(db, cast, now).await?,
        implementing(db, cast, now).await?,
        raising(db, cast, now).await?,
    ])
}

fn day(at: DateTime<Utc>) -> Option<NaiveDate> {
    Some(crate::funds::service::today(at))
}

/// Staff name `lead` (a neighbour's roster entry) at `at` and start the work with `milestones`
/// (planned ten days apart).
async fn start<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cast: &Cast<'_>,
    id: Uuid,
    lead: Uuid,
    milestones: &[&str],
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    work::set_lead(db, &cast.staff, id, None, LeadRef::Resident(lead), at)
        .await
        .map_err(fail("naming the lead"))?;
    let ms = milestones
        .iter()
        .enumerate()
        .map(|(i, t)| NewMilestone {
            title: (*t).into(),
            planned_on: day(at + Duration::days(10 * (i as i64 + 1))),
        })
        .collect();
    work::start(db, &cast.staff, id, None, ms, at + Duration::hours(2))
        .await
        .map_err(fail("starting the work"))?;
    Ok(())
}

/// The milestone ids of `id`, in order.
async fn milestones<C: ConnectionTrait>(db: &C, id: Uuid) -> anyhow::Result<Vec<Uuid>> {
    use entity::proposal_milestone as m;
    Ok(m::Entity::find()
        .filter(m::Column::ProposalId.eq(id))
        .order_by_asc(m::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|x| x.id)
        .collect())
}

/// `who` posts an update of `kind` with one photo (`shade`) at `at`.
#[allow(clippy::too_many_arguments)]
async fn report<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cast: &Cast<'_>,
    who: &Actor,
    id: Uuid,
    kind: UpdateKind,
    (note, pct, milestone): (&str, Option<i16>, Option<Uuid>),
    shade: u8,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let photo = cast.photo(db, who, shade, at).await?;
    let u = NewUpdate {
        kind,
        progress_pct: pct,
        note: note.into(),
        attachment_ids: vec![photo],
        milestone_id: milestone,
    };
    work::post_update(db, who, id, u, at)
        .await
        .map_err(fail("posting an update"))?;
    Ok(())
}

/// The lead reports completion with a photo and completes the work at `at` (the evaluation poll
/// opens for the policy's 14 days); the households in `answers` evaluate it a day later
/// (`(satisfaction, stars)` option positions).
async fn complete<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cast: &Cast<'_>,
    lead: &Actor,
    id: Uuid,
    note: &str,
    answers: &[(&Actor, [usize; 2])],
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let before = at - Duration::hours(3);
    let done = (note, Some(100), None);
    report(db, cast, lead, id, UpdateKind::Completion, done, 90, before).await?;
    let p = closing::complete(db, lead, id, None, at)
        .await
        .map_err(fail("completing the work"))?;
    let poll = p
        .evaluation_poll_id
        .ok_or_else(|| anyhow::anyhow!("the demo evaluation has no poll"))?;
    for (i, (who, picks)) in answers.iter().enumerate() {
        let when = at + Duration::days(1) + Duration::hours(i as i64);
        c::ballot(db, who, poll, picks, when).await?;
    }
    Ok(())
}

/// Staff and the council member pass the work (验收) at `at`.
async fn accepted<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cast: &Cast<'_>,
    id: Uuid,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    for (who, note, hours) in [
        (&cast.staff, "现场查看，符合方案要求", 0),
        (&cast.council, "议事会代表验收通过", 2),
    ] {
        let when = at + Duration::hours(hours);
        closing::accept_work(db, who, id, Verdict::Pass, Some(note.into()), when)
            .await
            .map_err(fail("accepting the work"))?;
    }
    Ok(())
}

/// 已办结: 楼道声控灯更换为LED, decided 136 days ago, paid 111 days ago, evaluated by every
/// household with an account, closed 85 days ago as 金点子 with the leftover kept in the 自治金
/// (the allocation's unused 480 元 released); 回头看 due in five days.
async fn closed<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cast: &Cast<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<Uuid> {
    let at = |days: i64| now - Duration::days(days);
    let ask = Ask {
        title: "楼道声控灯更换为LED节能灯",
        body:
            "1至3幢楼道声控灯老化，夜间经常不亮，老人上下楼不安全。建议全部更换为LED声光控节能灯，\
               费用从社区自治金列支。",
        category: "设施",
        budget_fen: 400_000,
        targets: vec![c::money(400_000), c::labour("电工", 360)],
    };
    let lead = cast.neighbour(2)?;
    let id = c::decided(db, cast, Some(lead.resident), ask, at(150)).await?;
    let allocation = c::allocate(db, cast, id, 400_000, at(135)).await?;
    let steps = ["采购LED灯具", "逐层更换安装", "夜间试亮检查"];
    start(db, cast, id, lead.resident, &steps, at(134)).await?;
    let ms = milestones(db, id).await?;
    let first = ("灯具已到货，型号与方案一致", None, ms.first().copied());
    report(
        db,
        cast,
        &lead.actor,
        id,
        UpdateKind::Milestone,
        first,
        30,
        at(125),
    )
    .await?;
    let pay = Payment {
        payee: "杭州明亮照明工程有限公司",
        purpose: "1至3幢楼道LED声光控灯具及安装",
        amount_fen: 352_000,
    };
    c::spend(db, cast, allocation, pay, false, at(112)).await?;
    let voters = cast.voters();
    let picks = [[0, 4], [0, 4], [1, 3], [0, 4], [1, 3]];
    let answers: Vec<(&Actor, [usize; 2])> = voters.into_iter().zip(picks).collect();
    let note = "三幢楼道共更换灯具72盏，夜间逐层试亮正常";
    complete(db, cast, &lead.actor, id, note, &answers, at(100)).await?;
    accepted(db, cast, id, at(95)).await?;
    c::run_polls(db, at(86)).await?;
    closing::close(db, &cast.staff, id, None, true, Leftover::Keep, at(85))
        .await
        .map_err(fail("closing"))?;
    Ok(id)
}

/// 评: 单元门禁系统维修更换, completed five days ago; three neighbours evaluated it (the demo
/// resident has not), staff and the council member passed it; its evaluation poll is open.
async fn evaluating<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cast: &Cast<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<Uuid> {
    let at = |days: i64| now - Duration::days(days);
    let ask = Ask {
        title: "单元门禁系统维修更换",
        body: "1幢两个单元的门禁损坏半年，外来人员随意进出。建议更换为刷卡加密码的门禁，并给每户配两张卡。",
        category: "安全",
        budget_fen: 300_000,
        targets: vec![c::money(300_000)],
    };
    let lead = cast.neighbour(0)?;
    let id = c::decided(db, cast, Some(lead.resident), ask, at(80)).await?;
    let allocation = c::allocate(db, cast, id, 300_000, at(65)).await?;
    start(
        db,
        cast,
        id,
        lead.resident,
        &["设备选型", "安装调试", "发卡"],
        at(64),
    )
    .await?;
    let pay = Payment {
        payee: "杭州安居智能科技有限公司",
        purpose: "1幢两个单元门禁设备及安装、门禁卡48张",
        amount_fen: 286_000,
    };
    c::spend(db, cast, allocation, pay, false, at(31)).await?;
    let answers: Vec<(&Actor, [usize; 2])> = (1..4)
        .map(|i| cast.neighbour(i).map(|n| (&n.actor, [i % 2, 4 - i % 2])))
        .collect::<anyhow::Result<_>>()?;
    let note = "两个单元门禁已安装调试完毕，门禁卡已发放到户";
    complete(db, cast, &lead.actor, id, note, &answers, at(5)).await?;
    accepted(db, cast, id, at(2)).await?;
    Ok(id)
}

/// 办: 健身角改造, started 43 days ago with three milestones, the first done, a progress report
/// ten days ago, a neighbour's labour confirmed by the lead, and the equipment's payment filed
/// two days ago, waiting for its approvals.
async fn implementing<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cast: &Cast<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<Uuid> {
    let at = |days: i64| now - Duration::days(days);
    let ask = Ask {
        title: "健身角改造",
        body:
            "小区健身角器材锈蚀、地面坑洼，老人和孩子使用有安全隐患。建议拆除旧器材，铺设塑胶地面，\
               更换适老化健身器材。",
        category: "设施",
        budget_fen: 600_000,
        targets: vec![c::money(600_000), c::labour("场地清理", 240)],
    };
    let lead = cast.neighbour(1)?;
    let id = c::decided(db, cast, Some(lead.resident), ask, at(60)).await?;
    let allocation = c::allocate(db, cast, id, 600_000, at(45)).await?;
    let helper = &cast.neighbour(3)?.actor;
    let hands = NewPledge {
        kind: Kind::Labour,
        public_display: PublicDisplay::Masked,
        minutes: Some(120),
        skill: Some("场地清理".into()),
        note: Some("周末可以来帮忙搬运旧器材".into()),
        ..pledge()
    };
    let hands = pledges::create(db, helper, id, hands, at(45))
        .await
        .map_err(fail("pledging labour"))?;
    let steps = ["旧器材拆除", "地面铺设塑胶", "新器材安装"];
    start(db, cast, id, lead.resident, &steps, at(43)).await?;
    fulfil::fulfil(db, &lead.actor, hands.id, None, Received::default(), at(40))
        .await
        .map_err(fail("confirming labour"))?;
    let ms = milestones(db, id).await?;
    let first = ("旧器材已全部拆除，场地已清理", None, ms.first().copied());
    report(
        db,
        cast,
        &lead.actor,
        id,
        UpdateKind::Milestone,
        first,
        60,
        at(30),
    )
    .await?;
    let progress = ("塑胶地面铺设完成约六成，预计下周完工", Some(50), None);
    report(
        db,
        cast,
        &lead.actor,
        id,
        UpdateKind::Progress,
        progress,
        120,
        at(10),
    )
    .await?;
    let pay = Payment {
        payee: "浙江康体器材有限公司",
        purpose: "适老化健身器材6件（首批）",
        amount_fen: 380_000,
    };
    c::spend(db, cast, allocation, pay, true, at(2)).await?;
    Ok(id)
}

/// 筹: 小区加装电动车充电桩, passed 26 days ago: 8000 元 of the 自治金 approved, a business's 2000
/// 元 received, the demo resident's 200 元 promised, an electrician's labour and the property
/// company's cable trays pledged: 10000 元 committed of a 12000 元 budget.
async fn raising<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cast: &Cast<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<Uuid> {
    let at = |days: i64| now - Duration::days(days);
    let ask = Ask {
        title: "小区加装电动车充电桩",
        body: "电动自行车在楼道充电屡禁不止，存在火灾隐患。建议在2幢北侧加装20个智能充电桩，\
               费用由自治金和居民、商户共同筹集。",
        category: "安全",
        budget_fen: 1_200_000,
        targets: vec![
            c::money(1_200_000),
            c::labour("电工", 480),
            c::material("PVC线槽", 50, "米"),
        ],
    };
    let id = c::decided(db, cast, None, ask, at(40)).await?;
    c::allocate(db, cast, id, 800_000, at(25)).await?;
    let business = |name: &str| {
        Some(OnBehalf {
            pledger_kind: PledgerKind::Business,
            name: name.into(),
        })
    };
    let gift = NewPledge {
        kind: Kind::Money,
        public_display: PublicDisplay::Name,
        amount_fen: Some(200_000),
        note: Some("支持小区消防安全".into()),
        on_behalf: business("杭州顺达充电科技有限公司"),
        ..pledge()
    };
    let gift = pledges::create(db, &cast.staff, id, gift, at(24))
        .await
        .map_err(fail("recording a business's pledge"))?;
    let mine = NewPledge {
        kind: Kind::Money,
        public_display: PublicDisplay::Masked,
        amount_fen: Some(20_000),
        ..pledge()
    };
    pledges::create(db, &cast.resident, id, mine, at(22))
        .await
        .map_err(fail("the demo resident's pledge"))?;
    let electrician = NewPledge {
        kind: Kind::Labour,
        public_display: PublicDisplay::Masked,
        minutes: Some(240),
        skill: Some("电工".into()),
        note: Some("退休电工，可以帮忙布线".into()),
        ..pledge()
    };
    pledges::create(db, &cast.neighbour(2)?.actor, id, electrician, at(23))
        .await
        .map_err(fail("pledging labour"))?;
    let trays = NewPledge {
        kind: Kind::Material,
        public_display: PublicDisplay::Name,
        item: Some("PVC线槽".into()),
        quantity: Some(50),
        unit: Some("米".into()),
        est_value_fen: Some(15_000),
        on_behalf: business("候潮物业服务有限公司"),
        ..pledge()
    };
    pledges::create(db, &cast.staff, id, trays, at(21))
        .await
        .map_err(fail("recording the property company's pledge"))?;
    let received = Received {
        account_id: Some(cast.fund),
        ..Received::default()
    };
    fulfil::fulfil(db, &cast.staff, gift.id, None, received, at(20))
        .await
        .map_err(fail("receiving a pledge"))?;
    Ok(id)
}

/// A pledge with nothing set, to fill.
fn pledge() -> NewPledge {
    NewPledge {
        kind: Kind::Money,
        public_display: PublicDisplay::Masked,
        amount_fen: None,
        minutes: None,
        skill: None,
        item: None,
        quantity: None,
        unit: None,
        est_value_fen: None,
        note: None,
        on_behalf: None,
    }
}
