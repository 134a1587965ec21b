//! The demo's participation: the demo resident on the roster of their household, and one open
//! poll that the compound's households can vote on now.

use chrono::NaiveDate;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use crate::polls::model::{
    Eligibility, PollScope, Preset, QuestionKind, ResultsVisibility, Rules, Secrecy, Subject,
    VoterUnit,
};
use crate::polls::service::{self as polls, NewPoll, NewQuestion};

/// A secret, one-household-one-vote poll of the compound (居民会议 rules), open for a week from
/// now, its roll drawn from the compound's households at opening.
pub(super) async fn demo_poll<C: ConnectionTrait>(
    db: &C,
    staff: (Uuid, &str),
    compound_id: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<Uuid> {
    let rules = Rules::preset(Preset::ResidentsMeeting)
        .ok_or_else(|| anyhow::anyhow!("the residents' meeting preset is missing"))?;
    let poll = NewPoll {
        scope_type: PollScope::Compound,
        scope_id: compound_id,
        subject_type: Subject::Standalone,
        subject_id: None,
        title: "是否同意在小区东侧加装电动自行车充电棚".into(),
        description: "充电棚拟建于3号楼东侧空地，费用由自治金列支，详见公告栏方案。一户一票，18周岁以上家庭成员均可代表本户投票。".into(),
        secrecy: Secrecy::Secret,
        unit: VoterUnit::Household,
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
            title: "是否同意加装充电棚".into(),
            kind: QuestionKind::YesNoAbstain,
            min_choices: 1,
            max_choices: 1,
            seats: None,
            options: Vec::new(),
        }],
        created_by_name: staff.1.to_string(),
    };
    let id = polls::create_in(db, staff.0, poll, now).await?;
    if !polls::open_in(db, id, now).await? {
        anyhow::bail!("the demo poll did not open");
    }
    Ok(id)
}

/// The demo resident's own roster entry (an adult, so they may vote for their household), bound
/// to their account.
pub(super) async fn demo_roster_entry<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    name: &str,
    household_id: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    roster_entry(db, Some(user_id), name, household_id, now).await?;
    Ok(())
}

/// An adult on the roster of `household_id` (the head of the household), bound to `user_id`
/// when given; their resident id.
pub(super) async fn roster_entry<C: ConnectionTrait>(
    db: &C,
    user_id: Option<Uuid>,
    name: &str,
    household_id: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<Uuid> {
    let id = Uuid::now_v7();
    let h = entity::household::Entity::find_by_id(household_id)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo household missing"))?;
    entity::resident::ActiveModel {
        id: Set(id),
        street_id: Set(h.street_id),
        community_id: Set(h.community_id),
        compound_id: Set(h.compound_id),
        building_id: Set(h.building_id),
        household_id: Set(h.id),
        name: Set(name.to_string()),
        gender: Set(None),
        birth_date: Set(NaiveDate::from_ymd_opt(1978, 5, 1)),
        relation: Set(Some("户主".into())),
        moved_in_on: Set(NaiveDate::from_ymd_opt(2015, 9, 1)),
        moved_out_on: Set(None),
        user_id: Set(user_id),
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
    }
    .insert(db)
    .await?;
    Ok(id)
}
