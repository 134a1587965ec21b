//! The roll of an election as its staff read it, and a resident's own elections: whether they
//! are on the roll (from the published roll, before voting opens too), where the paper boxes
//! (流动票箱) are, and how their objections stand.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{respond, ElectionResponse, ObjectionResponse};
use crate::access::Actor;
use crate::elections::engine;
use crate::elections::model::Status;
use crate::elections::policy as election_policy;
use crate::elections::service::people::is_officer;
use crate::platform::error::{AppError, AppResult, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::paging::{Page, PageParams};
use crate::polls::model::RollStatus;
use crate::polls::query::{BoxPlaceView, RollEntry};
use entity::{election, roll_objection};

/// Election `id` if the caller runs it: readable (else 404), and staff within reach or one of
/// its officers (else 403).
pub async fn run_by<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    id: Uuid,
) -> AppResult<election::Model> {
    let e = election_policy::find_readable(db, caller, id).await?;
    if election_policy::may_manage(db, caller, &e).await? || is_officer(db, e.id, caller.id).await?
    {
        Ok(e)
    } else {
        Err(AppError::Forbidden)
    }
}

/// A page of election `id`'s voter roll, by voter key, for those who run it (staff within reach,
/// its officers): names masked, the status of each entry, never how or when anyone voted (the
/// poll is secret). From `publish-roll` on: before voting it is the published roll objections
/// edit; 409 `wrong_status` while a draft has none.
pub async fn roll<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    id: Uuid,
    status: Option<RollStatus>,
    p: PageParams,
) -> AppResult<Page<RollEntry>> {
    let e = run_by(db, caller, id).await?;
    let Some(poll) = e.poll_id else {
        return Err(AppError::conflict(
            ProblemCode::WrongStatus,
            Text::new("选民名单尚未公布", "the voter roll is not published yet"),
        ));
    };
    engine::roll(db, poll, status, p).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyElectionResponse {
    pub election: ElectionResponse,
    /// Whether I am on the voter roll, from `publish-roll` on (the published roll before voting
    /// opens); null while there is no roll yet.
    pub on_roll: Option<bool>,
    /// My entry's status (null when not on the roll): `eligible`, `needs_review` (staff must
    /// confirm my birth date), `voted`, or `voted_by_household` (another member voted for the
    /// household).
    pub roll_status: Option<String>,
    /// Where I may vote on paper: the election's paper boxes (流动票箱) with where and when
    /// they are. Empty when I am not on the roll or there is no box.
    pub paper_boxes: Vec<BoxPlaceView>,
    /// The objections to the roll I filed in this election, oldest first, with their decision.
    pub objections: Vec<ObjectionResponse>,
}

/// The elections of the places above the caller's home (the most recent 20 past their draft),
/// newest first, with how the caller stands on each roll, the paper boxes and their objections.
pub async fn mine<C: ConnectionTrait>(
    db: &C,
    caller: &Actor,
    now: DateTime<Utc>,
) -> AppResult<Vec<MyElectionResponse>> {
    let rows = election::Entity::find()
        .filter(election_policy::readable(db, caller).await?)
        .filter(election::Column::Status.ne(Status::Draft))
        .order_by_desc(election::Column::Id)
        .limit(20)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|e| e.id).collect();
    let mut objections: Vec<roll_objection::Model> = roll_objection::Entity::find()
        .filter(roll_objection::Column::ElectionId.is_in(ids))
        .filter(roll_objection::Column::ByUserId.eq(caller.id))
        .order_by_asc(roll_objection::Column::Id)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for e in rows {
        let standing = match e.poll_id {
            Some(p) => engine::standing(db, p, caller.id, now).await?,
            None => None,
        };
        let (mine, rest): (Vec<_>, Vec<_>) =
            objections.into_iter().partition(|o| o.election_id == e.id);
        objections = rest;
        out.push(MyElectionResponse {
            on_roll: standing.as_ref().map(|s| s.status.is_some()),
            roll_status: standing.as_ref().and_then(|s| s.status.clone()),
            paper_boxes: standing.map(|s| s.paper_boxes).unwrap_or_default(),
            objections: mine.into_iter().map(ObjectionResponse::from).collect(),
            election: respond(db, e).await?,
        });
    }
    Ok(out)
}
