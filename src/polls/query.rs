//! Polls as screens read them: a page of polls, one poll (with the caller's status and, once
//! visible, the counts), the caller's own polls, the roll for staff, the caller's own ballot
//! (open polls), and the anonymous ballots of a closed secret poll.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::error::{AppError, AppResult, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::paging::{cut_page, Page, PageParams};
use crate::polls::model::{
    self, BoxStatus, Channel, Eligibility, Outcome, PollScope, Preset, QuestionKind,
    ResultsVisibility, RollStatus, Rules, Secrecy, Status, Subject, VoterUnit,
};
use crate::polls::policy;
use crate::polls::service::{casting, engine, roster, tally};
use entity::{ballot_choice, poll, poll_ballot, poll_box, poll_option, poll_question, poll_roll};

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
    let mut q = poll_roll::Entity::find()
        .select_only()
        .column(poll_roll::Column::PollId)
        .filter(poll_roll::Column::VoterKey.is_in(keys))
        .order_by_desc(poll_roll::Column::PollId)
        .limit(p.limit + 1);
    if let Some(after) = p.after {
        q = q.filter(poll_roll::Column::PollId.lt(after));
    }
    let wanted = status.unwrap_or(Status::Open);
    let mut ids: Vec<Uuid> = q.into_tuple().all(db).await?;
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

/// A paper box as its tellers see it.
#[derive(Serialize, ToSchema)]
pub struct PollBoxResponse {
    pub id: Uuid,
    pub poll_id: Uuid,
    pub label: String,
    /// Blank paper ballots given to the box.
    pub issued_count: i32,
    /// Voters marked as handed one.
    pub marked_count: i32,
    pub returned_count: Option<i32>,
    pub status: BoxStatus,
    /// The counts entered (once counted).
    pub counts: Vec<tally::PaperCount>,
}

impl From<poll_box::Model> for PollBoxResponse {
    fn from(b: poll_box::Model) -> Self {
        PollBoxResponse {
            counts: tally::box_counts(&b),
            id: b.id,
            poll_id: b.poll_id,
            label: b.label,
            issued_count: b.issued_count,
            marked_count: b.marked_count,
            returned_count: b.returned_count,
            status: b.status,
        }
    }
}

/// A roll entry as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RollEntry {
    pub voter_key: Uuid,
    pub unit: VoterUnit,
    pub household_id: Uuid,
    pub resident_id: Option<Uuid>,
    pub building_id: Uuid,
    /// The resident's name masked (`张*`), or the household's residents' names masked.
    pub name: String,
    /// The household's unit and room (`1单元 301`).
    pub address: String,
    pub status: RollStatus,
    /// Added while open (counted separately).
    pub late: bool,
    pub added_reason: Option<String>,
    pub struck_reason: Option<String>,
    /// Open polls only: how the entry voted. Never for a secret poll.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// Open polls only: when. Never for a secret poll.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::platform::rfc3339::ms_opt"
    )]
    pub voted_at: Option<DateTime<Utc>>,
}

/// A page of the roll of a poll the caller manages or keeps boxes of, by voter key.
pub async fn roll<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    poll_id: Uuid,
    status: Option<RollStatus>,
    p: PageParams,
) -> AppResult<Page<RollEntry>> {
    let pl = policy::readable_poll(db, actor, poll_id).await?;
    if crate::polls::service::boxes::may_tally(db, actor, &pl)
        .await
        .is_err()
    {
        policy::managed_poll(db, actor, poll_id).await?;
    }
    let mut q = poll_roll::Entity::find()
        .filter(poll_roll::Column::PollId.eq(poll_id))
        .order_by_asc(poll_roll::Column::VoterKey)
        .limit(p.limit + 1);
    if let Some(s) = status {
        q = q.filter(poll_roll::Column::Status.eq(s));
    }
    if let Some(after) = p.after {
        q = q.filter(poll_roll::Column::VoterKey.gt(after));
    }
    let (rows, next_cursor) = cut_page(q.all(db).await?, p.limit, |r| r.voter_key);
    let residents: Vec<Uuid> = rows.iter().filter_map(|r| r.resident_id).collect();
    let households: Vec<Uuid> = rows.iter().map(|r| r.household_id).collect();
    let (names, labels) = roster::labels(db, &residents, &households).await?;
    let open = pl.secrecy == Secrecy::Open;
    let items = rows
        .into_iter()
        .map(|r| {
            let label = labels.get(&r.household_id).cloned().unwrap_or_default();
            let name = match r.resident_id.and_then(|id| names.get(&id)) {
                Some(n) => crate::platform::pii::mask_name(n),
                None => label
                    .names
                    .iter()
                    .map(|n| crate::platform::pii::mask_name(n))
                    .collect::<Vec<_>>()
                    .join("、"),
            };
            RollEntry {
                voter_key: r.voter_key,
                unit: r.unit,
                household_id: r.household_id,
                resident_id: r.resident_id,
                building_id: r.building_id,
                name,
                address: format!("{} {}", label.unit, label.room).trim().to_string(),
                status: r.status,
                late: r.late,
                added_reason: r.added_reason,
                struck_reason: r.struck_reason,
                channel: if open { r.channel } else { None },
                voted_at: if open { r.voted_at } else { None },
            }
        })
        .collect();
    Ok(Page { items, next_cursor })
}

/// One choice of a ballot.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = PollBallotChoice)]
pub struct ChoiceView {
    pub question_id: Uuid,
    pub option_id: Uuid,
    /// 1, or a rating's score.
    pub score: i32,
}

/// The caller's own ballot in an open (not secret) poll; 404 for a secret poll, or when they
/// have no online ballot.
pub async fn my_ballot<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    poll_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Vec<ChoiceView>> {
    let p = policy::readable_poll(db, actor, poll_id).await?;
    if p.secrecy == Secrecy::Secret {
        return Err(AppError::NotFound);
    }
    let entry = casting::voter_key_of(db, &p, actor.id, now)
        .await?
        .ok_or(AppError::NotFound)?;
    let ballot = poll_ballot::Entity::find()
        .filter(poll_ballot::Column::PollId.eq(poll_id))
        .filter(poll_ballot::Column::VoterKey.eq(entry.voter_key))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    choices_of(db, &[ballot.id])
        .await
        .map(|mut m| m.remove(&ballot.id).unwrap_or_default())
}

async fn choices_of<C: ConnectionTrait>(
    db: &C,
    ballots: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<ChoiceView>>> {
    let mut out: HashMap<Uuid, Vec<ChoiceView>> = HashMap::new();
    for chunk in ballots.chunks(1000) {
        for c in ballot_choice::Entity::find()
            .filter(ballot_choice::Column::BallotId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            out.entry(c.ballot_id).or_default().push(ChoiceView {
                question_id: c.question_id,
                option_id: c.option_id,
                score: i32::from(c.score),
            });
        }
    }
    for v in out.values_mut() {
        v.sort_by_key(|c| (c.question_id, c.option_id));
    }
    Ok(out)
}

/// One anonymous ballot.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnonymousBallot {
    pub choices: Vec<ChoiceView>,
}

/// The anonymous online ballots of a closed secret poll in which at least
/// `model::PUBLISH_BALLOTS_MIN` took part, in random order, for a public recount. Ballot ids,
/// voters and any order of casting are left out.
pub async fn anonymous_ballots<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    poll_id: Uuid,
) -> AppResult<Vec<AnonymousBallot>> {
    use rand::seq::SliceRandom;
    let p = policy::readable_poll(db, actor, poll_id).await?;
    let participants = engine::count_status(db, poll_id, &[RollStatus::Voted]).await?;
    if p.secrecy != Secrecy::Secret
        || p.status != Status::Closed
        || participants < i64::from(model::PUBLISH_BALLOTS_MIN)
    {
        return Err(AppError::conflict(
            ProblemCode::WrongStatus,
            crate::text!(
                "只有已结束、至少 {} 人参加的无记名投票才公开匿名选票",
                "only a closed secret poll with at least {} participants publishes its ballots",
                model::PUBLISH_BALLOTS_MIN
            ),
        ));
    }
    let ids: Vec<Uuid> = poll_ballot::Entity::find()
        .select_only()
        .column(poll_ballot::Column::Id)
        .filter(poll_ballot::Column::PollId.eq(poll_id))
        .into_tuple()
        .all(db)
        .await?;
    let mut by_ballot = choices_of(db, &ids).await?;
    let mut out: Vec<AnonymousBallot> = ids
        .iter()
        .map(|id| AnonymousBallot {
            choices: by_ballot.remove(id).unwrap_or_default(),
        })
        .collect();
    out.shuffle(&mut rand::thread_rng());
    Ok(out)
}

/// The results of a poll the caller may read, once closed; 409 before (never per-option counts
/// of a poll still open through this route, whoever asks).
pub async fn results<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    poll_id: Uuid,
) -> AppResult<tally::PollResults> {
    let p = policy::readable_poll(db, actor, poll_id).await?;
    if p.status != Status::Closed {
        return Err(AppError::conflict(
            ProblemCode::WrongStatus,
            Text::new("投票结束后才公布结果", "results are published after close"),
        ));
    }
    engine::results_in(db, poll_id)
        .await?
        .ok_or(AppError::NotFound)
}
