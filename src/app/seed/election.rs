//! The demo's finished building-leader election (楼组长推选) of 候潮府小区 1幢, run through the
//! elections service and the poll engine as staff would run it, at the times it would have run:
//! the roll published forty days ago, two candidates, voting fifteen days ago (the demo resident
//! online, four households on paper at a 流动票箱 counted by one teller and confirmed by a
//! second), two officers certifying, and the results published thirteen days ago, which start
//! the winner's three-year office term.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::access::actor::Assignment;
use crate::access::policy::Role;
use crate::access::Actor;
use crate::elections::model::{
    CandidateStatus, ElectionBody, ElectionScope, Method, NominationKind, OfficerRole,
};
use crate::elections::service::{self as elections, count, people, verbs};
use crate::platform::cache::SharedCache;
use crate::polls::service::boxes::{self, BoxPlace};
use crate::polls::service::casting::{self, Answer};
use crate::polls::service::tally::PaperCount;

/// A seeded account: user id, display name, role, the scope of the role.
pub(super) type Account<'a> = (Uuid, &'a str, Role, Uuid);

pub(super) fn actor(a: &Account) -> Actor {
    let (id, display, role, scope_id) = *a;
    let mut actor = Actor::new(
        id,
        vec![Assignment {
            id: Uuid::nil(),
            role,
            scope_type: role.scope_type(),
            scope_id,
            valid_until: None,
            source_term_id: None,
        }],
    );
    actor.display_name = display.into();
    actor
}

fn fail(what: &str) -> impl Fn(crate::platform::error::AppError) -> anyhow::Error + '_ {
    move |e| anyhow::anyhow!("the demo election: {what}: {e}")
}

/// Runs the election. `staff` runs it (the community's staff); `chair` and `teller` count the
/// paper box, `chair` and `scrutineer` certify; `voter` is the demo resident of `households[0]`;
/// `candidates` are the residents standing (the first wins); `households` are the building's
/// households with an adult on the roster.
#[allow(clippy::too_many_arguments)]
pub(super) async fn demo_election(
    db: &DatabaseConnection,
    cache: &SharedCache,
    staff: &Account<'_>,
    officers: [&Account<'_>; 3],
    voter: &Account<'_>,
    building_id: Uuid,
    candidates: [Uuid; 2],
    households: &[Uuid],
    now: DateTime<Utc>,
) -> anyhow::Result<Uuid> {
    let staff = actor(staff);
    let [chair, teller, scrutineer] = officers.map(actor);
    let at = |days: i64| now - Duration::days(days);
    let e = elections::create(
        db,
        &staff,
        elections::NewElection {
            scope_type: ElectionScope::Building,
            scope_id: building_id,
            body: ElectionBody::BuildingLeader,
            title: "候潮府1幢楼组长推选".into(),
            method: Method::HouseholdRep,
            term_years: 3,
            term_starts_on: None,
            voting_starts_at: at(15),
            voting_ends_at: at(14),
            rules: None,
            positions: vec![elections::NewPosition {
                position: "楼组长".into(),
                title: None,
                seats: 1,
                min_candidates: None,
            }],
        },
        at(41),
    )
    .await
    .map_err(fail("creating it"))?;
    let id = e.id;
    for (who, role) in [
        (&chair, OfficerRole::Chair),
        (&teller, OfficerRole::Teller),
        (&scrutineer, OfficerRole::Scrutineer),
    ] {
        people::add_officer(db, &staff, id, who.id, role, at(41))
            .await
            .map_err(fail("appointing an officer"))?;
    }
    let step = |verb, days| {
        let staff = &staff;
        async move { verbs::run(db, staff, id, None, verb, at(days)).await }
    };
    step(verbs::Verb::PublishRoll, 40)
        .await
        .map_err(fail("publishing the roll"))?;
    step(verbs::Verb::OpenNominations, 33)
        .await
        .map_err(fail("opening nominations"))?;
    let position = verbs::positions(db, id).await?[0].id;
    let mut standing = Vec::new();
    for (resident, statement) in candidates.into_iter().zip([
        "在本楼居住二十年，愿意为邻居跑腿办事，楼道卫生和加装电梯的事我来张罗。",
        "退休教师，时间充裕，愿意协助楼组做好邻里互助和老人关爱。",
    ]) {
        let c = people::nominate(
            db,
            &staff,
            id,
            people::Nomination {
                position_id: position,
                resident_id: Some(resident),
                statement: statement.into(),
                photo_attachment_id: None,
                kind: Some(NominationKind::Group),
            },
            at(32),
        )
        .await
        .map_err(fail("nominating"))?;
        people::decide(db, &staff, c.id, CandidateStatus::Qualified, None, at(31))
            .await
            .map_err(fail("qualifying"))?;
        standing.push(c.id);
    }
    step(verbs::Verb::PublishCandidates, 30)
        .await
        .map_err(fail("publishing the candidates"))?;
    step(verbs::Verb::OpenVoting, 15)
        .await
        .map_err(fail("opening the vote"))?;
    let poll = crate::elections::query::get(db, &staff, id)
        .await
        .map_err(fail("reading it"))?
        .poll_id
        .ok_or_else(|| anyhow::anyhow!("the demo election has no poll"))?;
    let question = entity::poll_question::Entity::find()
        .filter(entity::poll_question::Column::PollId.eq(poll))
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo election's ballot has no question"))?;
    let options = entity::poll_option::Entity::find()
        .filter(entity::poll_option::Column::QuestionId.eq(question.id))
        .order_by_asc(entity::poll_option::Column::Position)
        .all(db)
        .await?;
    let option_of = |candidate: Uuid| {
        options
            .iter()
            .find(|o| o.candidate_id == Some(candidate))
            .map(|o| o.id)
            .ok_or_else(|| anyhow::anyhow!("a candidate is missing from the ballot"))
    };
    let (first, second) = (option_of(standing[0])?, option_of(standing[1])?);
    // The demo resident votes online for the first candidate.
    let voting = at(15) + Duration::hours(2);
    casting::cast(
        db,
        &actor(voter),
        poll,
        vec![Answer {
            question_id: question.id,
            option_ids: vec![first],
            scores: None,
        }],
        voting,
    )
    .await
    .map_err(fail("casting online"))?;
    // Four more households vote on paper at the 流动票箱.
    let paper: Vec<Uuid> = households.iter().skip(1).take(4).copied().collect();
    let b = boxes::create_box(
        db,
        &chair,
        poll,
        "流动票箱1".into(),
        i32::try_from(paper.len()).unwrap_or(0),
        BoxPlace {
            location: Some("1幢1单元门厅".into()),
            schedule: Some("投票日 9:00–11:00，行动不便的居民可预约上门".into()),
        },
        voting,
    )
    .await
    .map_err(fail("opening the paper box"))?;
    for h in &paper {
        boxes::mark_voter(db, &chair, b.id, *h, voting + Duration::minutes(30))
            .await
            .map_err(fail("handing a paper ballot"))?;
    }
    step(verbs::Verb::CloseVoting, 14)
        .await
        .map_err(fail("closing the vote"))?;
    let counts = vec![
        PaperCount {
            option_id: first,
            votes: 3,
        },
        PaperCount {
            option_id: second,
            votes: 1,
        },
    ];
    let returned = i32::try_from(paper.len()).unwrap_or(0);
    boxes::enter_counts(db, &chair, b.id, counts.clone(), returned)
        .await
        .map_err(fail("entering the box's counts"))?;
    boxes::confirm_counts(
        db,
        &teller,
        b.id,
        counts,
        returned,
        at(14) + Duration::hours(1),
    )
    .await
    .map_err(fail("confirming the box's counts"))?;
    for who in [&chair, &scrutineer] {
        count::certify(db, who, id, None, at(14) + Duration::hours(2))
            .await
            .map_err(fail("certifying"))?;
    }
    count::publish_results(db, cache, &staff, id, None, at(13))
        .await
        .map_err(fail("publishing the results"))?;
    Ok(id)
}
