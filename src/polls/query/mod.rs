//! Polls as screens read them: a page of polls, one poll (with the caller's status and, once
//! visible, the counts), the caller's own polls, the roll for staff, the caller's own ballot
//! (open polls), and the anonymous ballots of a closed secret poll.

mod ballots;
mod roll;

pub use ballots::{anonymous_ballots, my_ballot, results, AnonymousBallot, ChoiceView};
pub use roll::{box_places, roll, roll_page, BoxPlaceView, PollBoxResponse, RollEntry};

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::error::AppResult;
use crate::platform::paging::{cut_page, Page, PageParams};
use crate::polls::model::{
    self, Eligibility, Outcome, PollScope, Preset, QuestionKind, ResultsVisibility, RollStatus,
    Rules, Secrecy, Status, Subject, VoterUnit,
};
use crate::polls::policy;
use crate::polls::service::{casting, engine, roster, tally};
use entity::{poll, poll_option, poll_question, poll_roll};

/// Where the caller stands in a poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = PollMyStatus)]
pub enum MyStatus {
    /// Not on the roll (or struck; or, by household, not an adult member).
    NotOnRoll,
    /// On the roll, may vote (while the poll is open).
    Eligible,
    /// On the roll without a birth date: staff must confirm it first.
    NeedsReview,
    /// Voted.
    Voted,
    /// By household: the household has voted (by another member, or it does not say who).
    VotedByHousehold,
}

/// A poll in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct PollSummary {
    pub id: Uuid,
    pub scope_type: PollScope,
    pub scope_id: Uuid,
    pub street_id: Uuid,
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub subject_type: Subject,
    pub subject_id: Option<Uuid>,
    pub title: String,
    pub secrecy: Secrecy,
    pub unit: VoterUnit,
    pub status: Status,
    /// `草稿`, `待开始`, `投票中`, `已结束`, `已取消`.
    pub status_label: String,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub opens_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub closes_at: DateTime<Utc>,
    pub roll_size: Option<i32>,
    /// Turnout so far: ballots cast online (shown live, also for secret polls).
    pub ballots_cast: i32,
    /// Paper ballots handed out (流动票箱).
    pub paper_issued: i32,
    pub outcome: Option<Outcome>,
    /// Only in `/me/polls` (and one poll): where the caller stands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_status: Option<MyStatus>,
}

impl PollSummary {
    fn of(p: &poll::Model, my_status: Option<MyStatus>) -> Self {
        PollSummary {
            id: p.id,
            scope_type: p.scope_type,
            scope_id: p.scope_id,
            street_id: p.street_id,
            community_id: p.community_id,
            compound_id: p.compound_id,
            building_id: p.building_id,
            subject_type: p.subject_type,
            subject_id: p.subject_id,
            title: p.title.clone(),
            secrecy: p.secrecy,
            unit: p.unit,
            status: p.status,
            status_label: model::status_label(p.status).to_string(),
            opens_at: p.opens_at,
            closes_at: p.closes_at,
            roll_size: p.roll_size,
            ballots_cast: p.ballots_cast,
            paper_issued: p.paper_issued,
            outcome: p.outcome,
            my_status,
        }
    }
}

/// An option as a poll shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PollOptionView)]
pub struct OptionView {
    pub id: Uuid,
    pub label: String,
    pub candidate_id: Option<Uuid>,
    pub is_abstain: bool,
    /// Votes, only once visible: after close (the latest tally), or live for an open poll with
    /// `results_visibility = live`. Never before close for a secret poll, for anyone.
    pub votes: Option<i32>,
}

/// A question as a poll shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PollQuestionView)]
pub struct QuestionView {
    pub id: Uuid,
    pub title: String,
    pub kind: QuestionKind,
    pub min_choices: i32,
    pub max_choices: i32,
    pub seats: Option<i32>,
    pub options: Vec<OptionView>,
}

/// One poll, as its screen shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PollResponse {
    #[serde(flatten)]
    pub summary: PollSummary,
    pub description: String,
    pub eligibility: Eligibility,
    pub preset: Preset,
    pub rules: Rules,
    pub results_visibility: ResultsVisibility,
    /// SHA-256 over the sorted voter keys when the roll froze (see the README for the exact
    /// definition).
    pub roll_sha256: Option<String>,
    /// Voters added while open (counted separately).
    pub late_additions: i32,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub opened_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_by_name: String,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    pub version: i32,
    pub questions: Vec<QuestionView>,
}

/// Whether per-option counts of `p` may be shown now.
fn counts_visible(p: &poll::Model) -> bool {
    p.status == Status::Closed
        || (p.status == Status::Open
            && p.secrecy == Secrecy::Open
            && p.results_visibility == ResultsVisibility::Live)
}

/// Where `user` stands in `p` (None before the roll exists).
pub async fn my_status<C: ConnectionTrait>(
    db: &C,
    p: &poll::Model,
    user: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Option<MyStatus>> {
    if !matches!(p.status, Status::Open | Status::Closed) {
        return Ok(None);
    }
    let entry = casting::voter_key_of(db, p, user, now).await?;
    Ok(Some(status_of(p, entry.as_ref(), user)))
}

/// Where `user` stands on the roll of poll `poll_id` as soon as it exists: an election's roll is
/// built (and published for objections) while its poll is still a draft. None before the roll
/// is built.
pub async fn roll_standing<C: ConnectionTrait>(
    db: &C,
    poll_id: Uuid,
    user: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Option<MyStatus>> {
    let p = crate::polls::service::engine::load(db, poll_id).await?;
    if p.roll_built_at.is_none() && !matches!(p.status, Status::Open | Status::Closed) {
        return Ok(None);
    }
    let entry = casting::voter_key_of(db, &p, user, now).await?;
    Ok(Some(status_of(&p, entry.as_ref(), user)))
}

fn status_of(p: &poll::Model, entry: Option<&poll_roll::Model>, user: Uuid) -> MyStatus {
    match entry.map(|e| (e.status, e.cast_by_user_id)) {
        None | Some((RollStatus::Struck, _)) => MyStatus::NotOnRoll,
        Some((RollStatus::Eligible, _)) => MyStatus::Eligible,
        Some((RollStatus::NeedsReview, _)) => MyStatus::NeedsReview,
        Some((RollStatus::Voted, by)) => {
            if p.unit == VoterUnit::Household && by != Some(user) {
                MyStatus::VotedByHousehold
            } else {
                MyStatus::Voted
            }
        }
    }
}

/// The response for poll `p` read by `actor`.
pub async fn respond<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    p: poll::Model,
    now: DateTime<Utc>,
) -> AppResult<PollResponse> {
    let questions = poll_question::Entity::find()
        .filter(poll_question::Column::PollId.eq(p.id))
        .order_by_asc(poll_question::Column::Position)
        .all(db)
        .await?;
    let options = poll_option::Entity::find()
        .filter(poll_option::Column::PollId.eq(p.id))
        .order_by_asc(poll_option::Column::Position)
        .all(db)
        .await?;
    let votes: Option<HashMap<Uuid, i32>> = if !counts_visible(&p) {
        None
    } else if p.status == Status::Closed {
        Some(
            engine::results_in(db, p.id)
                .await?
                .map(|r| {
                    r.questions
                        .into_iter()
                        .flat_map(|q| q.options.into_iter().map(|o| (o.option_id, o.votes)))
                        .collect()
                })
                .unwrap_or_default(),
        )
    } else {
        Some(tally::live_votes(db, &p).await?)
    };
    let questions = questions
        .into_iter()
        .map(|q| QuestionView {
            options: options
                .iter()
                .filter(|o| o.question_id == q.id)
                .map(|o| OptionView {
                    id: o.id,
                    label: o.label.clone(),
                    candidate_id: o.candidate_id,
                    is_abstain: o.is_abstain,
                    votes: votes.as_ref().map(|v| v.get(&o.id).copied().unwrap_or(0)),
                })
                .collect(),
            id: q.id,
            title: q.title,
            kind: q.kind,
            min_choices: q.min_choices,
            max_choices: q.max_choices,
            seats: q.seats,
        })
        .collect();
    let mine = my_status(db, &p, actor.id, now).await?;
    Ok(PollResponse {
        summary: PollSummary::of(&p, mine),
        description: p.description.clone(),
        eligibility: engine::eligibility_of(&p)?,
        preset: p.preset,
        rules: Rules::of(&p),
        results_visibility: p.results_visibility,
        roll_sha256: p.roll_sha256.clone(),
        late_additions: p.late_additions,
        opened_at: p.opened_at,
        closed_at: p.closed_at,
        close_reason: p.close_reason.clone(),
        cancel_reason: p.cancel_reason.clone(),
        created_by_name: p.created_by_name.clone(),
        created_at: p.created_at,
        version: p.version,
        questions,
    })
}

/// One poll the caller may read (404 otherwise).
pub async fn get<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<PollResponse> {
    let p = policy::readable_poll(db, actor, id).await?;
    respond(db, actor, p, now).await
}

/// Filters of a page of polls.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub status: Option<Status>,
    pub community_id: Option<Uuid>,
    pub scope_id: Option<Uuid>,
    pub subject_type: Option<Subject>,
}

/// A page of the polls the caller may read, newest first: one walk of `(column, id)` backwards
/// per branch of the caller's reach, at most a page each, merged.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    f: Filters,
    p: PageParams,
) -> AppResult<Page<PollSummary>> {
    let mut filter = Condition::all();
    if let Some(v) = f.status {
        filter = filter.add(poll::Column::Status.eq(v));
    }
    if let Some(v) = f.community_id {
        filter = filter.add(poll::Column::CommunityId.eq(v));
    }
    if let Some(v) = f.scope_id {
        filter = filter.add(poll::Column::ScopeId.eq(v));
    }
    if let Some(v) = f.subject_type {
        filter = filter.add(poll::Column::SubjectType.eq(v));
    }
    if let Some(after) = p.after {
        filter = filter.add(poll::Column::Id.lt(after));
    }
    let branches = policy::readable_branches(db, actor)
        .await?
        .unwrap_or_else(|| vec![Condition::all()]);
    let mut rows: Vec<poll::Model> = Vec::new();
    for b in branches {
        rows.extend(
            poll::Entity::find()
                .filter(filter.clone())
                .filter(b)
                .order_by_desc(poll::Column::Id)
                .limit(p.limit + 1)
                .all(db)
                .await?,
        );
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.id));
    rows.dedup_by_key(|r| r.id);
    let (rows, next_cursor) = cut_page(rows, p.limit, |r| r.id);
    Ok(Page {
        items: rows.iter().map(|r| PollSummary::of(r, None)).collect(),
        next_cursor,
    })
}

/// A page of the polls whose roll lists the caller (their resident entries, or households they
/// belong to), newest first, with where they stand; `status` open by default.
pub async fn mine<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    status: Option<Status>,
    p: PageParams,
    now: DateTime<Utc>,
) -> AppResult<Page<PollSummary>> {
    let bound = roster::bound_to(db, actor.id).await?;
    let mut keys: Vec<Uuid> = bound.iter().map(|b| b.resident_id).collect();
    keys.extend(bound.iter().map(|b| b.household_id));
    keys.sort();
    keys.dedup();
    if keys.is_empty() {
        return Ok(Page {
            items: Vec::new(),
            next_cursor: None,
        });
    }
    // One walk of `(voter_key, poll_id)` backwards per key (an account holds a few: its
    // resident entries and their households), at most a page each, merged.
    let wanted = status.unwrap_or(Status::Open);
    let mut ids: Vec<Uuid> = Vec::new();
    for key in keys {
        let mut q = poll_roll::Entity::find()
            .select_only()
            .column(poll_roll::Column::PollId)
            .filter(poll_roll::Column::VoterKey.eq(key))
            .order_by_desc(poll_roll::Column::PollId)
            .limit(p.limit + 1);
        if let Some(after) = p.after {
            q = q.filter(poll_roll::Column::PollId.lt(after));
        }
        ids.extend(q.into_tuple::<Uuid>().all(db).await?);
    }
    ids.sort_by_key(|i| std::cmp::Reverse(*i));
    ids.dedup();
    let (ids, next_cursor) = cut_page(ids, p.limit, |i| *i);
    let polls = poll::Entity::find()
        .filter(poll::Column::Id.is_in(ids.clone()))
        .filter(poll::Column::Status.eq(wanted))
        .order_by_desc(poll::Column::Id)
        .all(db)
        .await?;
    let mut items = Vec::with_capacity(polls.len());
    for pl in polls {
        let s = my_status(db, &pl, actor.id, now).await?;
        items.push(PollSummary::of(&pl, s));
    }
    Ok(Page { items, next_cursor })
}
