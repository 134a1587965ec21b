//! Elections as screens read them: one election with its positions and officers, pages of
//! elections within the caller's reach, the candidates (public by nature: name, statement,
//! photo; never a phone or ID number), the objections, the results once published, and a
//! resident's own elections.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Actor;
use crate::elections::engine;
use crate::elections::model::{
    self, CandidateStatus, ElectionBody, ElectionScope, Method, NominationKind, ObjectionKind,
    ObjectionStatus, OfficerRole, Rules, Status,
};
use crate::elections::policy as election_policy;
use crate::elections::service::verbs::positions;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http::{Page, PageParams};
use crate::platform::paging::page_of;
use entity::{candidate, election, election_officer, election_position, roll_objection};

mod views;
pub use views::{mine, roll, run_by, MyElectionResponse};

/// An election as the services return it (what [`respond`] answers).
pub type Election = election::Model;

#[derive(Debug, Serialize, ToSchema)]
pub struct PositionResponse {
    pub id: Uuid,
    /// 主任, 副主任, 委员, 楼组长 …
    pub position: String,
    pub title: String,
    pub seats: i32,
    /// Qualified candidates needed before the candidates may be published (more than `seats`
    /// when the election is contested).
    pub min_candidates: i32,
    /// Seats filled by a count so far.
    pub seats_filled: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfficerResponse {
    pub user_id: Uuid,
    pub display_name: String,
    pub role: OfficerRole,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ElectionResponse {
    pub id: Uuid,
    pub scope_type: ElectionScope,
    pub scope_id: Uuid,
    pub community_id: Uuid,
    pub body: ElectionBody,
    pub title: String,
    pub method: Method,
    pub term_years: i32,
    pub term_starts_on: Option<NaiveDate>,
    pub rules: Rules,
    pub status: Status,
    /// The status in words (选民名单已公布, 投票中 …).
    pub status_label: String,
    /// The poll the voting runs in (its roll, boxes and turnout are read through /polls).
    pub poll_id: Option<Uuid>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub voting_starts_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub voting_ends_at: DateTime<Utc>,
    pub positions: Vec<PositionResponse>,
    pub officers: Vec<OfficerResponse>,
    /// Officers who certified the count so far (0, 1 or 2).
    pub certifications: i32,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub certified_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub published_at: Option<DateTime<Utc>>,
    /// Why it was voided or cancelled.
    pub end_reason: Option<String>,
    /// The position a runoff (另行选举) is running for.
    pub runoff_position_id: Option<Uuid>,
    pub version: i32,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

/// Election `e` as answered, with its positions and officers.
pub async fn respond<C: ConnectionTrait>(
    db: &C,
    e: election::Model,
) -> AppResult<ElectionResponse> {
    let mut v = respond_all(db, vec![e]).await?;
    v.pop().ok_or(AppError::NotFound)
}

/// Elections `rows` as answered, their positions and officers read in one statement each.
pub async fn respond_all<C: ConnectionTrait>(
    db: &C,
    rows: Vec<election::Model>,
) -> AppResult<Vec<ElectionResponse>> {
    let ids: Vec<Uuid> = rows.iter().map(|e| e.id).collect();
    let mut ps = election_position::Entity::find()
        .filter(election_position::Column::ElectionId.is_in(ids.clone()))
        .order_by_asc(election_position::Column::ElectionId)
        .order_by_asc(election_position::Column::Sort)
        .all(db)
        .await?;
    let mut os = election_officer::Entity::find()
        .filter(election_officer::Column::ElectionId.is_in(ids))
        .order_by_asc(election_officer::Column::CreatedAt)
        .order_by_asc(election_officer::Column::UserId)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|e| {
            let (mine, rest): (Vec<_>, Vec<_>) = ps.drain(..).partition(|p| p.election_id == e.id);
            ps = rest;
            let (officers, rest): (Vec<_>, Vec<_>) =
                os.drain(..).partition(|o| o.election_id == e.id);
            os = rest;
            shape(e, mine, officers)
        })
        .collect())
}

fn shape(
    e: election::Model,
    ps: Vec<election_position::Model>,
    os: Vec<election_officer::Model>,
) -> ElectionResponse {
    ElectionResponse {
        rules: Rules::of(&e),
        status_label: model::status_label(e.status).to_string(),
        positions: ps.into_iter().map(position).collect(),
        officers: os.into_iter().map(officer).collect(),
        certifications: i32::from(e.certified_by_1.is_some())
            + i32::from(e.certified_by_2.is_some()),
        id: e.id,
        scope_type: e.scope_type,
        scope_id: e.scope_id,
        community_id: e.community_id,
        body: e.body,
        title: e.title,
        method: e.method,
        term_years: e.term_years,
        term_starts_on: e.term_starts_on,
        status: e.status,
        poll_id: e.poll_id,
        voting_starts_at: e.voting_starts_at,
        voting_ends_at: e.voting_ends_at,
        certified_at: e.certified_at,
        published_at: e.published_at,
        end_reason: e.end_reason,
        runoff_position_id: e.runoff_position_id,
        version: e.version,
        created_at: e.created_at,
    }
}

fn position(p: election_position::Model) -> PositionResponse {
    PositionResponse {
        id: p.id,
        position: p.position,
        title: p.title,
        seats: p.seats,
        min_candidates: p.min_candidates,
        seats_filled: p.seats_filled,
    }
}

pub fn officer(o: election_officer::Model) -> OfficerResponse {
    OfficerResponse {
        user_id: o.user_id,
        display_name: o.display_name,
        role: o.role,
    }
}

/// Election `id`, if the caller may read it.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    id: Uuid,
) -> AppResult<ElectionResponse> {
    let e = election_policy::find_readable(db, caller, id).await?;
    respond(db, e).await
}

/// Filters of the election list.
#[derive(Debug, Default, Clone)]
pub struct ElectionFilter {
    pub community_id: Option<Uuid>,
    pub scope_id: Option<Uuid>,
    pub status: Option<Status>,
    pub body: Option<ElectionBody>,
}

/// A page of the elections the caller may read, newest first: one walk of a `(column, id)`
/// index per branch of the caller's reach, merged.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    f: ElectionFilter,
    p: PageParams,
) -> AppResult<Page<ElectionResponse>> {
    let branches = match election_policy::branches(db, caller).await? {
        Some(b) => b,
        None => vec![sea_orm::Condition::all()],
    };
    let mut rows: Vec<election::Model> = Vec::new();
    for b in branches {
        let mut q = election::Entity::find().filter(b);
        if let Some(v) = f.community_id {
            q = q.filter(election::Column::CommunityId.eq(v));
        }
        if let Some(v) = f.scope_id {
            q = q.filter(election::Column::ScopeId.eq(v));
        }
        if let Some(v) = f.status {
            q = q.filter(election::Column::Status.eq(v));
        }
        if let Some(v) = f.body {
            q = q.filter(election::Column::Body.eq(v));
        }
        if let Some(after) = p.after {
            q = q.filter(election::Column::Id.lt(after));
        }
        rows.extend(
            q.order_by_desc(election::Column::Id)
                .limit(p.limit + 1)
                .all(db)
                .await?,
        );
    }
    rows.sort_by_key(|e| std::cmp::Reverse(e.id));
    rows.dedup_by_key(|e| e.id);
    let (rows, next_cursor) = crate::platform::paging::cut_page(rows, p.limit, |e| e.id);
    Ok(Page {
        items: respond_all(db, rows).await?,
        next_cursor,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateResponse {
    pub id: Uuid,
    pub election_id: Uuid,
    pub position_id: Uuid,
    /// The position's name (主任, 楼组长 …).
    pub position: String,
    /// The candidate's name (candidates are public: name and statement, never a phone or ID
    /// number).
    pub display_name: String,
    pub gender: Option<crate::residents::model::Gender>,
    pub statement: String,
    pub photo_attachment_id: Option<Uuid>,
    pub nomination_kind: NominationKind,
    pub nominators_count: i32,
    pub status: CandidateStatus,
    /// Why disqualified or withdrawn.
    pub reason: Option<String>,
    /// Votes and rank of the last count (once written).
    pub votes: Option<i32>,
    pub rank: Option<i32>,
}

pub fn candidate_view(c: candidate::Model, position: String) -> CandidateResponse {
    CandidateResponse {
        id: c.id,
        election_id: c.election_id,
        position_id: c.position_id,
        position,
        display_name: c.display_name,
        gender: c.gender,
        statement: c.statement,
        photo_attachment_id: c.photo_attachment_id,
        nomination_kind: c.nomination_kind,
        nominators_count: c.nominators_count,
        status: c.status,
        reason: c.reason,
        votes: c.votes,
        rank: c.rank,
    }
}

/// Candidate `c` with its position's name.
pub async fn candidate_of<C: ConnectionTrait>(
    db: &C,
    c: candidate::Model,
) -> AppResult<CandidateResponse> {
    let name = election_position::Entity::find_by_id(c.position_id)
        .one(db)
        .await?
        .map(|p| p.position)
        .unwrap_or_default();
    Ok(candidate_view(c, name))
}

/// A page of the candidates of election `id` (by nomination order): to those who run it at any
/// time; to its readers once nominations are open.
pub async fn candidates<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    id: Uuid,
    p: PageParams,
) -> AppResult<Page<CandidateResponse>> {
    let e = election_policy::find_readable(db, caller, id).await?;
    let staff = election_policy::may_manage(db, caller, &e).await?;
    if !staff && matches!(e.status, Status::Draft | Status::RollPublished) {
        return Ok(Page {
            items: Vec::new(),
            next_cursor: None,
        });
    }
    let mut q = candidate::Entity::find().filter(candidate::Column::ElectionId.eq(e.id));
    if let Some(after) = p.after {
        q = q.filter(candidate::Column::Id.gt(after));
    }
    let rows = q
        .order_by_asc(candidate::Column::Id)
        .limit(p.limit + 1)
        .all(db)
        .await?;
    let names: std::collections::HashMap<Uuid, String> = positions(db, e.id)
        .await?
        .into_iter()
        .map(|p| (p.id, p.position))
        .collect();
    Ok(page_of(
        rows,
        p.limit,
        |c| c.id,
        |c| {
            let name = names.get(&c.position_id).cloned().unwrap_or_default();
            candidate_view(c, name)
        },
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionResponse {
    pub id: Uuid,
    pub election_id: Uuid,
    pub resident_id: Uuid,
    pub kind: ObjectionKind,
    pub reason: String,
    pub status: ObjectionStatus,
    pub decision_note: Option<String>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms_opt")]
    pub decided_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

impl From<roll_objection::Model> for ObjectionResponse {
    fn from(o: roll_objection::Model) -> Self {
        ObjectionResponse {
            id: o.id,
            election_id: o.election_id,
            resident_id: o.resident_id,
            kind: o.kind,
            reason: o.reason,
            status: o.status,
            decision_note: o.decision_note,
            decided_at: o.decided_at,
            created_at: o.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResultPositionResponse {
    pub position_id: Uuid,
    pub position: String,
    pub seats: i32,
    /// The candidates by rank, with votes and whether elected.
    pub candidates: Vec<CandidateResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ElectionResultsResponse {
    pub election_id: Uuid,
    pub status: Status,
    /// Registered voters (E).
    pub registered: i64,
    /// Voters who voted (P).
    pub participants: i64,
    /// Whether the turnout met the validity rule.
    pub validity_met: bool,
    pub positions: Vec<ResultPositionResponse>,
}

/// The published results of election `id` (404 before publication).
pub async fn results<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    id: Uuid,
) -> AppResult<ElectionResultsResponse> {
    let e = election_policy::find_readable(db, caller, id).await?;
    if !matches!(e.status, Status::Published | Status::Void) || e.poll_id.is_none() {
        return Err(AppError::NotFound);
    }
    let count = match e.poll_id {
        Some(p) => engine::count(db, p).await?.unwrap_or_default(),
        None => engine::Count::default(),
    };
    let all = candidate::Entity::find()
        .filter(candidate::Column::ElectionId.eq(e.id))
        .filter(candidate::Column::Status.is_in([
            CandidateStatus::Elected,
            CandidateStatus::NotElected,
            CandidateStatus::Runoff,
        ]))
        .order_by_asc(candidate::Column::Rank)
        .order_by_asc(candidate::Column::Id)
        .all(db)
        .await?;
    let rules = Rules::of(&e);
    let positions = positions(db, e.id)
        .await?
        .into_iter()
        .map(|p| ResultPositionResponse {
            position_id: p.id,
            seats: p.seats,
            candidates: all
                .iter()
                .filter(|c| c.position_id == p.id)
                .cloned()
                .map(|c| candidate_view(c, p.position.clone()))
                .collect(),
            position: p.position,
        })
        .collect();
    Ok(ElectionResultsResponse {
        election_id: e.id,
        status: e.status,
        registered: count.registered,
        participants: count.participants,
        validity_met: model::valid(&rules, count.registered, count.participants),
        positions,
    })
}
