//! The poll engine as an election uses it (`crate::polls::service`, the contract in the polls
//! helper's notes): the election's poll, its roll, its questions and officers, opening and
//! closing it, its count and its paper/online reconciliation. Elections never touch the poll
//! tables; everything goes through these functions, inside the caller's transaction.
//!
//! Until the poll engine is merged into this branch every function answers 409 `guard_failed`
//! with the guard `poll` and code `unavailable`: the election steps that need a poll are
//! refused, never faked.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::elections::model::OfficerRole;
use crate::platform::error::{AppError, AppResult, FieldCode};
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
    /// `eligible`, `voted`, `struck` or `needs_review`.
    pub status: String,
    /// The paper box (流动票箱) serving the voter, if any.
    pub paper_box: Option<String>,
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

fn unavailable() -> AppError {
    AppError::GuardFailed(vec![crate::elections::service::unmet(
        "poll",
        FieldCode::Unavailable,
        "投票功能尚未启用，暂不能进行这一步".to_string(),
        "the poll engine is not available in this build; this step cannot run".to_string(),
    )])
}

/// Creates the election's poll in draft (secret; the unit from the method; the roll drawn from
/// the election's node), for voting between the election's times.
pub async fn create_poll<C: ConnectionTrait>(
    _db: &C,
    _by: Uuid,
    _by_name: &str,
    _e: &election::Model,
    _questions: Vec<Question>,
    _now: DateTime<Utc>,
) -> AppResult<Uuid> {
    Err(unavailable())
}

/// Builds the poll's roll from the roster now: its size and the entries held for review.
pub async fn build_roll<C: ConnectionTrait>(
    _db: &C,
    _poll: Uuid,
    _now: DateTime<Utc>,
) -> AppResult<(i64, i64)> {
    Err(unavailable())
}

/// Edits the roll for an accepted objection.
pub async fn edit_roll<C: ConnectionTrait>(
    _db: &C,
    _poll: Uuid,
    _edit: RollEdit,
    _voter: VoterKey,
    _reason: &str,
    _by: Uuid,
    _now: DateTime<Utc>,
) -> AppResult<()> {
    Err(unavailable())
}

/// Sets the questions and officers of the poll and opens it now; false when it was not in
/// draft or scheduled.
pub async fn open<C: ConnectionTrait>(
    _db: &C,
    _poll: Uuid,
    _questions: Vec<Question>,
    _officers: Vec<(Uuid, OfficerRole)>,
    _now: DateTime<Utc>,
) -> AppResult<bool> {
    Err(unavailable())
}

/// Closes the poll now and tallies it; false when it was not open.
pub async fn close<C: ConnectionTrait>(
    _db: &C,
    _poll: Uuid,
    _now: DateTime<Utc>,
) -> AppResult<bool> {
    Err(unavailable())
}

/// Where the poll is.
pub async fn phase<C: ConnectionTrait>(_db: &C, _poll: Uuid) -> AppResult<Phase> {
    Err(unavailable())
}

/// The closed poll's count (None before close).
pub async fn count<C: ConnectionTrait>(_db: &C, _poll: Uuid) -> AppResult<Option<Count>> {
    Err(unavailable())
}

/// The poll's paper/online reconciliation.
pub async fn reconciliation<C: ConnectionTrait>(_db: &C, _poll: Uuid) -> AppResult<Reconciliation> {
    Err(unavailable())
}

/// How the account `user` stands on the poll's roll (None: not on it).
pub async fn standing<C: ConnectionTrait>(
    _db: &C,
    _poll: Uuid,
    _user: Uuid,
    _now: DateTime<Utc>,
) -> AppResult<Option<Standing>> {
    Err(unavailable())
}
