//! The poll engine as an election uses it (`crate::polls::service`, the contract in the polls
//! helper's notes): the election's poll, its roll, its questions and officers, opening and
//! closing it, its count and its paper/online reconciliation. Elections never touch the poll
//! tables; everything goes through these functions, inside the caller's transaction.
//!

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::elections::model::OfficerRole;
use crate::elections::model::{ElectionScope, Method};
use crate::platform::error::AppResult;
use crate::platform::paging::{Page, PageParams};
use crate::polls::model::Eligibility;
use crate::polls::model::RollStatus;
use crate::polls::model::{
    BoxStatus, OfficerRole as PollOfficer, PollScope, Preset, QuestionKind, ResultsVisibility,
    Secrecy, Status as PollStatus, Subject, VoterUnit,
};
use crate::polls::query::{BoxPlaceView, RollEntry};
use crate::polls::service::engine as polls;
use entity::election;

/// One question of an election's poll: one position.
#[derive(Debug, Clone)]
pub struct Question {
    pub title: String,
    pub seats: i32,
    /// The qualified candidates: label (their name) and candidate id.
    pub options: Vec<(String, Uuid)>,
}

/// A closed poll's count, as an election reads it.
#[derive(Debug, Clone, Default)]
pub struct Count {
    /// Registered voters (E: roll entries eligible or voted).
    pub registered: i64,
    /// Voters who voted (P: online ballots and paper participants).
    pub participants: i64,
    /// Votes per candidate id.
    pub votes: HashMap<Uuid, i64>,
}

/// Paper/online reconciliation of a poll.
#[derive(Debug, Clone, Default)]
pub struct Reconciliation {
    pub online_ballots: i64,
    pub paper_issued: i64,
    pub paper_returned: i64,
    pub roll_voted: i64,
    /// Labels of the paper boxes not yet confirmed by a second teller.
    pub unconfirmed_boxes: Vec<String>,
}

/// Where a poll is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Draft,
    Open,
    Closed,
    Other,
}

/// How a voter stands on an election's roll.
#[derive(Debug, Clone)]
pub struct Standing {
    /// `eligible`, `needs_review`, `voted` or `voted_by_household`; None when not on the roll.
    pub status: Option<String>,
    /// The paper boxes (流动票箱) of the poll, where the voter may vote on paper (voters on
    /// the roll only).
    pub paper_boxes: Vec<BoxPlaceView>,
}

/// Whom a roll entry stands for: a resident (method `direct`) or a household
/// (`household_rep`); its id is the entry's voter key.
#[derive(Debug, Clone, Copy)]
pub enum VoterKey {
    Resident(Uuid),
    Household(Uuid),
}

/// The edit an accepted objection makes.
#[derive(Debug, Clone, Copy)]
pub enum RollEdit {
    Add,
    Strike,
    Admit,
}

fn officer_role(r: OfficerRole) -> PollOfficer {
    match r {
        OfficerRole::Chair => PollOfficer::Chair,
        OfficerRole::Teller => PollOfficer::Teller,
        OfficerRole::Scrutineer => PollOfficer::Scrutineer,
    }
}

fn questions_of(qs: Vec<Question>) -> Vec<polls::NewQuestion> {
    qs.into_iter()
        .map(|q| polls::NewQuestion {
            title: q.title,
            kind: QuestionKind::Candidates,
            min_choices: 0,
            max_choices: q
                .seats
                .min(i32::try_from(q.options.len()).unwrap_or(i32::MAX))
                .max(1),
            seats: Some(q.seats),
            options: q
                .options
                .into_iter()
                .map(|(label, id)| polls::NewOption {
                    label,
                    candidate_id: Some(id),
                })
                .collect(),
        })
        .collect()
}

/// Creates the election's poll in draft (secret; the unit from the method; the roll drawn from
/// the election's node; voters 18 or older), for voting between the election's times.
pub async fn create_poll<C: ConnectionTrait>(
    db: &C,
    by: Uuid,
    by_name: &str,
    e: &election::Model,
    questions: Vec<Question>,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let p = polls::NewPoll {
        scope_type: match e.scope_type {
            ElectionScope::Community => PollScope::Community,
            ElectionScope::Compound => PollScope::Compound,
            ElectionScope::Building => PollScope::Building,
        },
        scope_id: e.scope_id,
        subject_type: Subject::Election,
        subject_id: Some(e.id),
        title: e.title.clone(),
        description: String::new(),
        secrecy: Secrecy::Secret,
        unit: match e.method {
            Method::Direct => VoterUnit::Resident,
            Method::HouseholdRep => VoterUnit::Household,
        },
        eligibility: Eligibility {
            min_age: Some(18),
            ..Eligibility::default()
        },
        preset: Preset::SimpleMajority,
        rules: crate::polls::service::rules_for(Preset::SimpleMajority, None)?,
        results_visibility: ResultsVisibility::AfterClose,
        opens_at: e.voting_starts_at,
        closes_at: e.voting_ends_at,
        questions: questions_of(questions),
        created_by_name: by_name.to_string(),
    };
    polls::create_in(db, by, p, now).await
}

/// Builds the poll's roll from the roster now: its size and the entries held for review.
pub async fn build_roll<C: ConnectionTrait>(
    db: &C,
    poll: Uuid,
    now: DateTime<Utc>,
) -> AppResult<(i64, i64)> {
    let b = polls::build_roll_in(db, poll, now).await?;
    Ok((
        i64::try_from(b.size).unwrap_or(i64::MAX),
        i64::try_from(b.needs_review).unwrap_or(i64::MAX),
    ))
}

/// Edits the roll for an accepted objection.
pub async fn edit_roll<C: ConnectionTrait>(
    db: &C,
    poll: Uuid,
    edit: RollEdit,
    voter: VoterKey,
    reason: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let key = match voter {
        VoterKey::Resident(k) | VoterKey::Household(k) => k,
    };
    match edit {
        RollEdit::Add => {
            let r = match voter {
                VoterKey::Resident(k) => polls::VoterRef::Resident(k),
                VoterKey::Household(k) => polls::VoterRef::Household(k),
            };
            polls::add_voter_in(db, poll, r, reason, by, now)
                .await
                .map(|_| ())
        }
        RollEdit::Strike => polls::strike_voter_in(db, poll, key, reason, by, now).await,
        RollEdit::Admit => polls::admit_voter_in(db, poll, key, by, now).await,
    }
}

/// Sets the questions and officers of the poll and opens it now; false when it was not in
/// draft or scheduled.
pub async fn open<C: ConnectionTrait>(
    db: &C,
    poll: Uuid,
    questions: Vec<Question>,
    officers: Vec<(Uuid, OfficerRole)>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    polls::set_questions_in(db, poll, questions_of(questions)).await?;
    polls::set_officers_in(
        db,
        poll,
        officers
            .into_iter()
            .map(|(u, r)| (u, officer_role(r)))
            .collect(),
    )
    .await?;
    let opened = polls::open_in(db, poll, now).await?;
    if opened {
        crate::polls::service::notify::opened(db, poll, now).await?;
    }
    Ok(opened)
}

/// Closes the poll now and tallies it; false when it was not open.
pub async fn close<C: ConnectionTrait>(db: &C, poll: Uuid, now: DateTime<Utc>) -> AppResult<bool> {
    let closed = polls::close_in(db, poll, now, None).await?;
    if closed {
        crate::polls::service::notify::result_out(db, poll, now).await?;
    }
    Ok(closed)
}

/// Cancels the poll with its election (before voting, while the poll is a draft), with the
/// election's reason; false when the poll was not cancellable (already cancelled).
pub async fn cancel<C: ConnectionTrait>(
    db: &C,
    poll: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    polls::cancel_in(db, poll, reason, now).await
}

/// Where the poll is.
pub async fn phase<C: ConnectionTrait>(db: &C, poll: Uuid) -> AppResult<Phase> {
    Ok(match polls::status_in(db, poll).await?.status {
        PollStatus::Draft | PollStatus::Scheduled => Phase::Draft,
        PollStatus::Open => Phase::Open,
        PollStatus::Closed => Phase::Closed,
        _ => Phase::Other,
    })
}

/// The closed poll's count (None before close).
pub async fn count<C: ConnectionTrait>(db: &C, poll: Uuid) -> AppResult<Option<Count>> {
    let Some(r) = polls::results_in(db, poll).await? else {
        return Ok(None);
    };
    let mut votes = HashMap::new();
    for q in &r.questions {
        for o in &q.options {
            if let Some(c) = o.candidate_id {
                *votes.entry(c).or_insert(0) += i64::from(o.votes);
            }
        }
    }
    Ok(Some(Count {
        registered: i64::from(r.eligible),
        participants: i64::from(r.participants),
        votes,
    }))
}

/// The frozen roll's size and hash and the latest tally's id (None before close).
pub async fn roll_facts<C: ConnectionTrait>(
    db: &C,
    poll: Uuid,
) -> AppResult<(Option<i32>, Option<String>, Option<Uuid>)> {
    let s = polls::status_in(db, poll).await?;
    Ok((s.roll_size, s.roll_sha256, s.latest_tally_id))
}

/// The poll's paper/online reconciliation.
pub async fn reconciliation<C: ConnectionTrait>(db: &C, poll: Uuid) -> AppResult<Reconciliation> {
    let r = polls::reconciliation_in(db, poll).await?;
    Ok(Reconciliation {
        online_ballots: r.online_ballots,
        paper_issued: r.paper_issued,
        paper_returned: r
            .boxes
            .iter()
            .map(|b| i64::from(b.returned_count.unwrap_or(0)))
            .sum(),
        roll_voted: r.roll_voted,
        unconfirmed_boxes: r
            .boxes
            .iter()
            .filter(|b| b.status != BoxStatus::Confirmed)
            .map(|b| b.label.clone())
            .collect(),
    })
}

/// How the account `user` stands on the poll's roll, as soon as the roll is built (published
/// for objections before voting): None before the roll exists; `not_on_roll` when the account
/// is on no entry.
pub async fn standing<C: ConnectionTrait>(
    db: &C,
    poll: Uuid,
    user: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Option<Standing>> {
    let Some(status) = crate::polls::query::roll_standing(db, poll, user, now).await? else {
        return Ok(None);
    };
    let name = serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let on_roll = name != "not_on_roll";
    Ok(Some(Standing {
        status: on_roll.then_some(name),
        paper_boxes: if on_roll {
            crate::polls::query::box_places(db, poll).await?
        } else {
            Vec::new()
        },
    }))
}

/// A page of the poll's roll, by voter key (names masked; never how or when a voter of this
/// secret poll voted).
pub async fn roll<C: ConnectionTrait>(
    db: &C,
    poll: Uuid,
    status: Option<RollStatus>,
    p: PageParams,
) -> AppResult<Page<RollEntry>> {
    crate::polls::query::roll_page(db, poll, status, p).await
}
