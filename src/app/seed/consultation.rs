//! Who takes part in the demo's consultation (议事厅) of 候潮府小区, and the steps they take,
//! each through the service its HTTP verb calls, at the time it would have happened: proposing,
//! accepting, the decision poll and its ballots, closing polls by the polls' job
//! (`polls::jobs::run_due`), allocations from the 自治金 (two approvers of different roles),
//! paid expenses with their invoice, and photos kept in the storage like any upload.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use uuid::Uuid;

use super::election::{actor, Account};
use super::DemoUser;
use crate::access::actor::Assignment;
use crate::access::policy::{Role, ScopeType};
use crate::access::Actor;
use crate::funds::model::CounterpartyKind;
use crate::funds::service::{allocations, expenses};
use crate::platform::error::AppError;
use crate::platform::storage::Storage;
use crate::polls::service::casting::{self, Answer};
use crate::proposals::model::{Channel, ScopeType as Place, Tier};
use crate::proposals::service::decision::{self, DecisionSpec};
use crate::proposals::service::intake::{self, NewProposal};
use crate::proposals::service::revisions::Target;
use crate::proposals::service::verbs::{self, Acceptance};

/// The error of a demo step: what was being done, and why it failed.
pub(super) fn fail(what: &'static str) -> impl Fn(AppError) -> anyhow::Error {
    move |e| anyhow::anyhow!("the demo consultation: {what}: {e}")
}

/// The accounts the consultation needs, as seeded.
pub(super) struct People<'a> {
    pub staff: &'a Account<'a>,
    pub admin: &'a Account<'a>,
    pub council: &'a Account<'a>,
    pub resident: &'a Account<'a>,
    /// Roster entries of 1幢 who get an account of their own (they vote online).
    pub neighbours: &'a [Uuid],
}

/// A neighbour with an account: the actor and their roster entry.
pub(super) struct Neighbour {
    pub actor: Actor,
    pub resident: Uuid,
}

/// Everyone who takes part, the place, the 自治金 and where photos go.
pub(super) struct Cast<'a> {
    /// 海潮社区's community staff: proposes on residents' behalf, moves the steps, records money.
    pub staff: Actor,
    /// The street's administrator: first approver of allocations and expenses.
    pub admin: Actor,
    /// 海潮社区's council member (议事会成员): second approver, and second 验收 verdict.
    pub council: Actor,
    /// The demo resident (houchao_resident).
    pub resident: Actor,
    pub neighbours: Vec<Neighbour>,
    pub compound: Uuid,
    /// The community's 自治金 account.
    pub fund: Uuid,
    storage: &'a dyn Storage,
}

impl<'a> Cast<'a> {
    /// The cast, after giving each of `people.neighbours` an account bound to their roster entry
    /// (the resident role on their household comes with the binding); those accounts, to print.
    pub(super) async fn new<C: ConnectionTrait>(
        db: &C,
        people: People<'_>,
        compound: Uuid,
        fund: Uuid,
        storage: &'a dyn Storage,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(Self, Vec<DemoUser>)> {
        let logins = [
            "houchao_liufang",
            "houchao_chenjing",
            "houchao_yangjianguo",
            "houchao_zhaolihua",
        ];
        let mut neighbours = Vec::new();
        let mut users = Vec::new();
        for (resident, username) in people.neighbours.iter().zip(logins) {
            let r = entity::resident::Entity::find_by_id(*resident)
                .one(db)
                .await?
                .ok_or_else(|| anyhow::anyhow!("a demo neighbour is missing"))?;
            let home = entity::household::Entity::find_by_id(r.household_id)
                .one(db)
                .await?
                .ok_or_else(|| anyhow::anyhow!("a demo neighbour's home is missing"))?;
            let pw = super::password();
            let u = crate::identity::service::auth::create_user(
                db,
                username,
                pw.clone(),
                &r.name,
                false,
                now,
            )
            .await
            .map_err(fail("creating a neighbour's account"))?;
            let r = crate::identity::service::binding::link(db, u.id, r, now)
                .await
                .map_err(fail("binding a neighbour's account"))?;
            let mut a = Actor::new(
                u.id,
                vec![Assignment {
                    id: Uuid::nil(),
                    role: Role::Resident,
                    scope_type: ScopeType::Household,
                    scope_id: r.household_id,
                    valid_until: None,
                    source_term_id: None,
                }],
            );
            a.display_name = r.name.clone();
            neighbours.push(Neighbour {
                actor: a,
                resident: r.id,
            });
            users.push(DemoUser {
                username: username.into(),
                password: pw,
                role: Role::Resident,
                scope: format!("household 候潮府小区 1幢{}{}", home.unit, home.room),
            });
        }
        let cast = Cast {
            staff: actor(people.staff),
            admin: actor(people.admin),
            council: actor(people.council),
            resident: actor(people.resident),
            neighbours,
            compound,
            fund,
            storage,
        };
        Ok((cast, users))
    }

    /// The neighbour `i` (0 刘芳, 1 陈静, 2 杨建国, 3 赵丽华).
    pub(super) fn neighbour(&self, i: usize) -> anyhow::Result<&Neighbour> {
        self.neighbours
            .get(i)
            .ok_or_else(|| anyhow::anyhow!("demo neighbour {i} missing"))
    }

    /// Every household with an account that votes: the demo resident's, then the neighbours'.
    pub(super) fn voters(&self) -> Vec<&Actor> {
        std::iter::once(&self.resident)
            .chain(self.neighbours.iter().map(|n| &n.actor))
            .collect()
    }

    /// A photo (a small PNG, `shade` making each one differ) uploaded by `uploader` at `at`, as
    /// an upload is kept: its id, to attach.
    pub(super) async fn photo<C: ConnectionTrait>(
        &self,
        db: &C,
        uploader: &Actor,
        shade: u8,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Uuid> {
        let img = image::RgbImage::from_fn(160, 120, |x, y| {
            let (x, y) = ((x % 256) as u8, (y % 256) as u8);
            image::Rgb([x.wrapping_add(shade), y.wrapping_add(shade / 2), shade])
        });
        let mut bytes = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img).write_to(&mut bytes, image::ImageFormat::Png)?;
        let a =
            crate::platform::attachments::store(db, self.storage, uploader.id, bytes.get_ref(), at)
                .await
                .map_err(fail("storing a photo"))?;
        Ok(a.id)
    }
}

/// What a proposal asks for.
pub(super) struct Ask<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub category: &'a str,
    pub budget_fen: i64,
    pub targets: Vec<Target>,
}

/// A target of money (fen), labour (minutes, skill) or materials.
pub(super) fn money(fen: i64) -> Target {
    Target {
        kind: crate::proposals::model::TargetKind::Money,
        item: None,
        quantity: None,
        unit: None,
        amount_fen: Some(fen),
        minutes: None,
    }
}

pub(super) fn labour(skill: &str, minutes: i32) -> Target {
    Target {
        kind: crate::proposals::model::TargetKind::Labour,
        item: Some(skill.into()),
        quantity: None,
        unit: None,
        amount_fen: None,
        minutes: Some(minutes),
    }
}

pub(super) fn material(item: &str, quantity: i32, unit: &str) -> Target {
    Target {
        kind: crate::proposals::model::TargetKind::Material,
        item: Some(item.into()),
        quantity: Some(quantity),
        unit: Some(unit.into()),
        amount_fen: None,
        minutes: None,
    }
}

/// Staff record `ask` raised at a residents' meeting (议事会) by the roster entry `author`
/// (None: the community's own, 社区代录) at `at`.
pub(super) async fn propose<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cast: &Cast<'_>,
    author: Option<Uuid>,
    ask: Ask<'_>,
    at: DateTime<Utc>,
) -> anyhow::Result<Uuid> {
    let n = NewProposal {
        scope_type: Place::Compound,
        scope_id: cast.compound,
        title: ask.title.into(),
        body: ask.body.into(),
        category: ask.category.into(),
        attachment_ids: vec![],
        source_ticket_id: None,
        on_behalf_of_resident_id: author,
        channel: Some(Channel::Meeting),
        budget_fen: ask.budget_fen,
        targets: ask.targets,
        idempotency_key: None,
    };
    Ok(intake::create(db, &cast.staff, n, at)
        .await
        .map_err(fail("proposing"))?
        .id)
}

/// Staff accept proposal `id` at `at` for a week's deliberation (议事会受理, with its note).
pub(super) async fn accept<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cast: &Cast<'_>,
    id: Uuid,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let a = Acceptance {
        tier: Some(Tier::Ordinary),
        deliberation_days: Some(7),
        note: Some("议事会受理".into()),
    };
    verbs::accept(db, &cast.staff, id, None, a, at)
        .await
        .map_err(fail("accepting"))?;
    Ok(())
}

/// Staff open the decision poll of `id` at `at` (the policy's 居民会议 rules, a week long); its
/// poll.
pub(super) async fn open_decision<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cast: &Cast<'_>,
    id: Uuid,
    at: DateTime<Utc>,
) -> anyhow::Result<Uuid> {
    decision::open_decision(db, &cast.staff, id, None, DecisionSpec::default(), at)
        .await
        .map_err(fail("opening the decision"))?
        .decision_poll_id
        .ok_or_else(|| anyhow::anyhow!("the demo decision has no poll"))
}

/// `voter` casts a ballot in `poll` at `at`: on each question, in order, the option at `picks`.
pub(super) async fn ballot<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    voter: &Actor,
    poll: Uuid,
    picks: &[usize],
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    use entity::{poll_option, poll_question};
    let questions = poll_question::Entity::find()
        .filter(poll_question::Column::PollId.eq(poll))
        .order_by_asc(poll_question::Column::Position)
        .all(db)
        .await?;
    let mut answers = Vec::new();
    for (q, pick) in questions.iter().zip(picks) {
        let options = poll_option::Entity::find()
            .filter(poll_option::Column::QuestionId.eq(q.id))
            .order_by_asc(poll_option::Column::Position)
            .all(db)
            .await?;
        let o = options
            .get(*pick)
            .ok_or_else(|| anyhow::anyhow!("a demo ballot picks a missing option"))?;
        answers.push(Answer {
            question_id: q.id,
            option_ids: vec![o.id],
            scores: None,
        });
    }
    casting::cast(db, voter, poll, answers, at)
        .await
        .map_err(fail("casting a ballot"))
}

/// The households with accounts vote on decision `poll` a day after `opened`: 同意 but for one
/// 反对 and one 弃权 (five of the seven households on the roll: quorum met, passed).
pub(super) async fn carry<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cast: &Cast<'_>,
    poll: Uuid,
    opened: DateTime<Utc>,
) -> anyhow::Result<()> {
    for (i, voter) in cast.voters().into_iter().enumerate() {
        let pick = match i {
            3 => 1,
            4 => 2,
            _ => 0,
        };
        let at = opened + Duration::days(1) + Duration::hours(i as i64);
        ballot(db, voter, poll, &[pick], at).await?;
    }
    Ok(())
}

/// The polls' job runs at `at`: it closes the polls due by then (and moves their proposals).
/// At least one must have been due.
pub(super) async fn run_polls<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let round = crate::polls::jobs::run_due(db, at)
        .await
        .map_err(fail("closing due polls"))?;
    anyhow::ensure!(round.closed > 0, "the demo consultation: no poll was due");
    Ok(())
}

/// A proposal accepted at `at`, its decision opened a week later and carried by the households,
/// closed by the polls' job a week after that (`at` + 14 days): it then raises money (or is
/// implemented, needing none).
pub(super) async fn decided<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cast: &Cast<'_>,
    author: Option<Uuid>,
    ask: Ask<'_>,
    at: DateTime<Utc>,
) -> anyhow::Result<Uuid> {
    let id = propose(db, cast, author, ask, at).await?;
    accept(db, cast, id, at).await?;
    let opened = at + Duration::days(7);
    let poll = open_decision(db, cast, id, opened).await?;
    carry(db, cast, poll, opened).await?;
    run_polls(db, opened + Duration::days(7)).await?;
    Ok(id)
}

/// Staff request `amount` of the 自治金 for proposal `id` at `at`; the street's administrator and
/// the council member approve it within the hour (two people, two roles: reserved). Its id.
pub(super) async fn allocate<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cast: &Cast<'_>,
    id: Uuid,
    amount: i64,
    at: DateTime<Utc>,
) -> anyhow::Result<Uuid> {
    let x = allocations::create(db, &cast.staff, cast.fund, id, amount, at)
        .await
        .map_err(fail("requesting an allocation"))?;
    for (who, minutes, note) in [
        (&cast.admin, 20, "街道审核：符合自治金使用范围"),
        (&cast.council, 40, "议事会同意拨款"),
    ] {
        let when = at + Duration::minutes(minutes);
        allocations::approve(db, who, x.id, None, Some(note.into()), when)
            .await
            .map_err(fail("approving an allocation"))?;
    }
    Ok(x.id)
}

/// A payee and what is paid for.
pub(super) struct Payment<'a> {
    pub payee: &'a str,
    pub purpose: &'a str,
    pub amount_fen: i64,
}

/// Staff file `pay` under allocation `allocation` at `at`; the administrator and the council
/// member approve it; unless `pending`, staff pay it the next day against an invoice photo. Its
/// id.
pub(super) async fn spend<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cast: &Cast<'_>,
    allocation: Uuid,
    pay: Payment<'_>,
    pending: bool,
    at: DateTime<Utc>,
) -> anyhow::Result<Uuid> {
    let e = expenses::create(
        db,
        &cast.staff,
        expenses::NewExpense {
            account_id: cast.fund,
            amount_fen: pay.amount_fen,
            payee_kind: CounterpartyKind::Business,
            payee_name: pay.payee.into(),
            anonymous: false,
            purpose: pay.purpose.into(),
            proposal_id: None,
            allocation_id: Some(allocation),
            attachment_ids: Vec::new(),
        },
        at,
    )
    .await
    .map_err(fail("filing an expense"))?;
    if pending {
        return Ok(e.id);
    }
    for (who, hours) in [(&cast.admin, 2), (&cast.council, 4)] {
        expenses::approve(db, who, e.id, None, None, at + Duration::hours(hours))
            .await
            .map_err(fail("approving an expense"))?;
    }
    let paid = at + Duration::days(1);
    let invoice = cast.photo(db, &cast.staff, 200, paid).await?;
    let day = crate::funds::service::today(paid);
    expenses::pay(db, &cast.staff, e.id, None, day, vec![invoice], paid)
        .await
        .map_err(fail("paying an expense"))?;
    Ok(e.id)
}
