//! Closing a poll of 5,000 voters: opening it (the roll frozen from the roster in one
//! INSERT … SELECT, its hash), casting ballots through the engine, and closing it (the tally,
//! the results and the outcome in the close transaction).
//!
//!     cargo bench --bench poll_close                      # SQLite
//!     BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench poll_close
//!
//! (`--profile dev` measures the debug build, as the README's figures say when they are.)
//!
//! The server starts in-process on a fresh database (migrated, with its admin); the roster is
//! then written straight into the tables, as an import would leave it: one compound, one
//! building, `BENCH_VOTERS` (default 5,000) households with one adult each, each bound to an
//! account. The poll is secret, one resident one vote, one yes/no/abstain question (居民会议
//! rules). `BENCH_BALLOTS` (default 3,000) residents cast through `casting::cast`, the function
//! `POST /polls/{id}/ballots` calls, one after another. Each phase is timed on its own; the close
//! is one transaction, as the verb and the job run it.

use std::time::Instant;

use chrono::{Duration, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use uuid::Uuid;

#[path = "common/mod.rs"]
mod common;
use common::{backend, env_or, start};

use linli::access::actor::Assignment;
use linli::access::policy::Role;
use linli::access::{Actor, ScopeType};
use linli::polls::model::{
    Eligibility, PollScope, Preset, QuestionKind, ResultsVisibility, Rules, Secrecy, Subject,
    VoterUnit,
};
use linli::polls::service::casting::{self, Answer};
use linli::polls::service::engine::{self, NewPoll, NewQuestion};

/// Writes `n` households of `building`, one adult resident each bound to a new account:
/// (household, account) pairs.
async fn roster(
    db: &DatabaseConnection,
    place: &common::Place,
    building: Uuid,
    n: u64,
) -> anyhow::Result<Vec<(Uuid, Uuid)>> {
    let now = Utc::now();
    let mut out = Vec::new();
    let ids: Vec<(Uuid, Uuid, Uuid)> = (0..n)
        .map(|_| (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()))
        .collect();
    for (c, chunk) in ids.chunks(500).enumerate() {
        let homes = chunk
            .iter()
            .enumerate()
            .map(|(i, (h, _, _))| entity::household::ActiveModel {
                id: Set(*h),
                street_id: Set(place.street),
                community_id: Set(place.community),
                compound_id: Set(place.compound),
                building_id: Set(building),
                unit: Set("1单元".into()),
                room: Set(format!("{}", c * 500 + i + 1)),
                kind: Set(linli::territory::model::HouseholdKind::Dwelling),
                created_at: Set(now),
                updated_at: Set(now),
            });
        entity::household::Entity::insert_many(homes)
            .exec(db)
            .await?;
        let users = chunk.iter().map(|(_, u, _)| entity::user::ActiveModel {
            id: Set(*u),
            username: Set(Some(format!("voter-{}", u.simple()))),
            password_hash: Set(None),
            display_name: Set("居民".into()),
            is_active: Set(true),
            is_superadmin: Set(false),
            wechat_openid: Set(None),
            wechat_unionid: Set(None),
            phone_cipher: Set(None),
            phone_key_id: Set(None),
            phone_hash: Set(None),
            phone_masked: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        });
        entity::user::Entity::insert_many(users).exec(db).await?;
        let people = chunk.iter().map(|(h, u, r)| entity::resident::ActiveModel {
            id: Set(*r),
            street_id: Set(place.street),
            community_id: Set(place.community),
            compound_id: Set(place.compound),
            building_id: Set(building),
            household_id: Set(*h),
            name: Set("王建国".into()),
            gender: Set(None),
            birth_date: Set(NaiveDate::from_ymd_opt(1970, 1, 1)),
            relation: Set(Some("户主".into())),
            moved_in_on: Set(None),
            moved_out_on: Set(None),
            user_id: Set(Some(*u)),
            created_at: Set(now),
            updated_at: Set(now),
            phone_cipher: Set(None),
            phone_key_id: Set(None),
            phone_hash: Set(None),
            phone_masked: Set(None),
            id_number_cipher: Set(None),
            id_number_key_id: Set(None),
            id_number_hash: Set(None),
            id_number_masked: Set(None),
            tags_joined: Set(None),
        });
        entity::resident::Entity::insert_many(people)
            .exec(db)
            .await?;
        out.extend(chunk.iter().map(|(h, u, _)| (*h, *u)));
    }
    Ok(out)
}

fn resident(user: Uuid, household: Uuid) -> Actor {
    Actor::new(
        user,
        vec![Assignment {
            id: Uuid::nil(),
            role: Role::Resident,
            scope_type: ScopeType::Household,
            scope_id: household,
            valid_until: None,
            source_term_id: None,
        }],
    )
}

fn ms(d: std::time::Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let voters = env_or("BENCH_VOTERS", 5_000);
    let ballots = env_or("BENCH_BALLOTS", 3_000).min(voters);
    let s = start(&[]).await?;
    let place = s.place(1).await?;
    let db = Database::connect(s.db_url.as_str()).await?;
    let t = Instant::now();
    let people = roster(&db, &place, place.buildings[0], voters).await?;
    println!(
        "{}: roster of {voters} written in {}",
        backend(),
        ms(t.elapsed())
    );

    let now = Utc::now();
    let rules = Rules::preset(Preset::ResidentsMeeting)
        .ok_or_else(|| anyhow::anyhow!("no residents' meeting preset"))?;
    let poll = NewPoll {
        scope_type: PollScope::Compound,
        scope_id: place.compound,
        subject_type: Subject::Standalone,
        subject_id: None,
        title: "是否同意加装电梯".into(),
        description: String::new(),
        secrecy: Secrecy::Secret,
        unit: VoterUnit::Resident,
        eligibility: Eligibility {
            min_age: Some(18),
            ..Eligibility::default()
        },
        preset: Preset::ResidentsMeeting,
        rules,
        results_visibility: ResultsVisibility::AfterClose,
        opens_at: now,
        closes_at: now + Duration::days(7),
        questions: vec![NewQuestion {
            title: "是否同意".into(),
            kind: QuestionKind::YesNoAbstain,
            min_choices: 1,
            max_choices: 1,
            seats: None,
            options: Vec::new(),
        }],
        created_by_name: "社工".into(),
    };
    let id = engine::create_in(&db, people[0].1, poll, now).await?;

    let t = Instant::now();
    let txn = db.begin().await?;
    anyhow::ensure!(
        engine::open_in(&txn, id, now).await?,
        "the poll did not open"
    );
    txn.commit().await?;
    let open = t.elapsed();
    let state = engine::status_in(&db, id).await?;
    anyhow::ensure!(
        state.roll_size == Some(voters as i32),
        "roll {:?}",
        state.roll_size
    );

    let question = entity::poll_question::Entity::find()
        .filter(entity::poll_question::Column::PollId.eq(id))
        .one(&db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the poll has no question"))?;
    let options: Vec<Uuid> = entity::poll_option::Entity::find()
        .filter(entity::poll_option::Column::QuestionId.eq(question.id))
        .order_by_asc(entity::poll_option::Column::Position)
        .all(&db)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    let t = Instant::now();
    for (i, (household, user)) in people.iter().take(ballots as usize).enumerate() {
        let answer = Answer {
            question_id: question.id,
            // Yes, no, yes, abstain, …
            option_ids: vec![options[[0, 1, 0, 2][i % 4] % options.len()]],
            scores: None,
        };
        casting::cast(
            &db,
            &resident(*user, *household),
            id,
            vec![answer],
            now + Duration::minutes(1),
        )
        .await
        .map_err(|e| anyhow::anyhow!("cast {i}: {e}"))?;
    }
    let cast = t.elapsed();

    let t = Instant::now();
    let txn = db.begin().await?;
    anyhow::ensure!(
        engine::close_in(&txn, id, now + Duration::minutes(2), None).await?,
        "the poll did not close"
    );
    txn.commit().await?;
    let close = t.elapsed();
    let r = engine::results_in(&db, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no results after close"))?;
    anyhow::ensure!(
        r.participants == ballots as i32 && r.eligible == voters as i32,
        "tally: P={} E={}",
        r.participants,
        r.eligible
    );
    println!(
        "{}: open (roll of {voters} frozen, hashed) {} | {ballots} casts {} ({:.1} ms each) | \
         close (tally, results, outcome {:?}) {}",
        backend(),
        ms(open),
        ms(cast),
        cast.as_secs_f64() * 1000.0 / ballots as f64,
        r.outcome,
        ms(close)
    );
    s.cleanup();
    Ok(())
}
