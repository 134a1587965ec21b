//! The roster as a poll sees it: who is on a roll, built in one `INSERT … SELECT`; which voter
//! keys an account holds; the names a roll view shows; the accounts a roll's notifications go
//! to.
//!
//! These read other domains' tables (territory's `households`, the roster's `residents` and
//! `resident_tags`) on purpose: the roll of a community of thousands is written in one
//! statement, frozen at open, which a chain of calls through two domains could not do. The
//! architecture test lists this file as an allowed cross-domain read, with that reason.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query, SelectStatement, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::platform::error::{AppError, AppResult};
use crate::polls::model::{Eligibility, PollScope, RollStatus, VoterUnit};
use entity::{household, poll, poll_roll, resident, resident_tag};

/// Members this old or older cast for their household (一户一票 by an adult).
pub const ADULT_AGE: u8 = 18;

/// The last birth date of someone `age` years old on `today` (29 February → 28 February).
pub fn born_by(today: NaiveDate, age: u8) -> NaiveDate {
    let year = today.year() - i32::from(age);
    today
        .with_year(year)
        .or_else(|| NaiveDate::from_ymd_opt(year, today.month(), 28))
        .unwrap_or(today)
}

fn h() -> Alias {
    Alias::new("h")
}

fn r() -> Alias {
    Alias::new("r")
}

fn place_column(scope: PollScope) -> household::Column {
    match scope {
        PollScope::Street => household::Column::StreetId,
        PollScope::Community => household::Column::CommunityId,
        PollScope::Compound => household::Column::CompoundId,
        PollScope::Building => household::Column::BuildingId,
    }
}

/// `EXISTS (a current resident of household h carrying one of tags)`, or with `resident`, that
/// resident carrying `tag`.
fn carries(resident_col: SimpleExpr, tags: Vec<String>) -> SimpleExpr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(resident_tag::Entity)
            .and_where(
                Expr::col((resident_tag::Entity, resident_tag::Column::ResidentId))
                    .eq(resident_col),
            )
            .and_where(Expr::col((resident_tag::Entity, resident_tag::Column::Tag)).is_in(tags))
            .to_owned(),
    )
}

/// The households of the poll's place (dwellings, and shops when they count).
fn households_where(q: &mut SelectStatement, scope: PollScope, place: Uuid, e: &Eligibility) {
    q.and_where(Expr::col((h(), place_column(scope))).eq(place));
    if !e.include_shops {
        q.and_where(
            Expr::col((h(), household::Column::Kind)).eq(household::HouseholdKind::Dwelling),
        );
    }
}

/// Writes the roll of `p` from the roster as of `today`, in one statement; returns how many
/// entries it wrote. Entries already there stay as they are.
///
/// - unit `resident`: every current resident (not moved out) of a household of the place,
///   carrying any of `tags_any` and all of `tags_all`; with `min_age`, born on or before the
///   day that age was reached, and those without a birth date listed `needs_review` (unless
///   `include_needs_review`), never dropped. `voter_key` = the resident's id.
/// - unit `household`: every household of the place with a current resident (with `tags_any`:
///   one carrying a tag). `voter_key` = the household's id.
pub async fn write_roll<C: ConnectionTrait>(
    db: &C,
    p: &poll::Model,
    e: &Eligibility,
    today: NaiveDate,
) -> AppResult<u64> {
    let mut select = Query::select();
    let current = |q: &mut SelectStatement| {
        q.and_where(Expr::col((r(), resident::Column::MovedOutOn)).is_null());
    };
    match p.unit {
        VoterUnit::Resident => {
            let status: SimpleExpr = match e.min_age {
                Some(_) if !e.include_needs_review => Expr::case(
                    Expr::col((r(), resident::Column::BirthDate)).is_null(),
                    Expr::val(RollStatus::NeedsReview.to_value()),
                )
                .finally(Expr::val(RollStatus::Eligible.to_value()))
                .into(),
                _ => Expr::val(RollStatus::Eligible.to_value()).into(),
            };
            select
                .expr(Expr::val(p.id))
                .expr(Expr::col((r(), resident::Column::Id)))
                .expr(Expr::val(VoterUnit::Resident.to_value()))
                .expr(Expr::col((r(), resident::Column::HouseholdId)))
                .expr(Expr::col((r(), resident::Column::Id)))
                .expr(Expr::col((h(), household::Column::BuildingId)))
                .expr(status)
                .from_as(resident::Entity, r())
                .join_as(
                    sea_orm::JoinType::InnerJoin,
                    household::Entity,
                    h(),
                    Expr::col((h(), household::Column::Id))
                        .equals((r(), resident::Column::HouseholdId)),
                );
            current(&mut select);
            if let Some(age) = e.min_age {
                select.and_where(
                    Expr::col((r(), resident::Column::BirthDate))
                        .is_null()
                        .or(Expr::col((r(), resident::Column::BirthDate))
                            .lte(born_by(today, u8::try_from(age).unwrap_or(0)))),
                );
            }
            let me = Expr::col((r(), resident::Column::Id)).into();
            if !e.tags_any.is_empty() {
                select.and_where(carries(me, e.tags_any.clone()));
            }
            for t in &e.tags_all {
                select.and_where(carries(
                    Expr::col((r(), resident::Column::Id)).into(),
                    vec![t.clone()],
                ));
            }
        }
        VoterUnit::Household => {
            let mut member = Query::select();
            member
                .expr(Expr::val(1))
                .from_as(resident::Entity, r())
                .and_where(
                    Expr::col((r(), resident::Column::HouseholdId))
                        .equals((h(), household::Column::Id)),
                );
            current(&mut member);
            if !e.tags_any.is_empty() {
                member.and_where(carries(
                    Expr::col((r(), resident::Column::Id)).into(),
                    e.tags_any.clone(),
                ));
            }
            select
                .expr(Expr::val(p.id))
                .expr(Expr::col((h(), household::Column::Id)))
                .expr(Expr::val(VoterUnit::Household.to_value()))
                .expr(Expr::col((h(), household::Column::Id)))
                .expr(Expr::val(Option::<Uuid>::None))
                .expr(Expr::col((h(), household::Column::BuildingId)))
                .expr(Expr::val(RollStatus::Eligible.to_value()))
                .from_as(household::Entity, h())
                .and_where(Expr::exists(member));
        }
    }
    households_where(&mut select, p.scope_type, p.scope_id, e);
    select.expr(Expr::val(false)).expr(Expr::val(1));
    let mut insert = Query::insert();
    insert
        .into_table(poll_roll::Entity)
        .columns([
            poll_roll::Column::PollId,
            poll_roll::Column::VoterKey,
            poll_roll::Column::Unit,
            poll_roll::Column::HouseholdId,
            poll_roll::Column::ResidentId,
            poll_roll::Column::BuildingId,
            poll_roll::Column::Status,
            poll_roll::Column::Late,
            poll_roll::Column::Version,
        ])
        .select_from(select)
        .map_err(AppError::internal)?
        .on_conflict(
            OnConflict::columns([poll_roll::Column::PollId, poll_roll::Column::VoterKey])
                .do_nothing()
                .to_owned(),
        );
    let res = db.execute(db.get_database_backend().build(&insert)).await?;
    Ok(res.rows_affected())
}

use sea_orm::ActiveEnum as _;

/// One roster entry a voter key stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub voter_key: Uuid,
    pub household_id: Uuid,
    pub resident_id: Option<Uuid>,
    pub building_id: Uuid,
}

/// The roster entry of a resident (unit `resident`) or household (unit `household`) if it is a
/// current one of the poll's place (shops only when they count). None otherwise.
pub async fn entry_in_place<C: ConnectionTrait>(
    db: &C,
    p: &poll::Model,
    e: &Eligibility,
    key: Uuid,
) -> AppResult<Option<Entry>> {
    let mut q = Query::select();
    match p.unit {
        VoterUnit::Resident => {
            q.expr_as(Expr::col((r(), resident::Column::Id)), Alias::new("rid"))
                .expr_as(Expr::col((h(), household::Column::Id)), Alias::new("hid"))
                .expr_as(
                    Expr::col((h(), household::Column::BuildingId)),
                    Alias::new("bid"),
                )
                .from_as(resident::Entity, r())
                .join_as(
                    sea_orm::JoinType::InnerJoin,
                    household::Entity,
                    h(),
                    Expr::col((h(), household::Column::Id))
                        .equals((r(), resident::Column::HouseholdId)),
                )
                .and_where(Expr::col((r(), resident::Column::Id)).eq(key))
                .and_where(Expr::col((r(), resident::Column::MovedOutOn)).is_null());
        }
        VoterUnit::Household => {
            q.expr_as(Expr::val(Option::<Uuid>::None), Alias::new("rid"))
                .expr_as(Expr::col((h(), household::Column::Id)), Alias::new("hid"))
                .expr_as(
                    Expr::col((h(), household::Column::BuildingId)),
                    Alias::new("bid"),
                )
                .from_as(household::Entity, h())
                .and_where(Expr::col((h(), household::Column::Id)).eq(key));
        }
    }
    households_where(&mut q, p.scope_type, p.scope_id, e);
    let Some(row) = db.query_one(db.get_database_backend().build(&q)).await? else {
        return Ok(None);
    };
    Ok(Some(Entry {
        voter_key: key,
        household_id: row.try_get("", "hid")?,
        resident_id: row.try_get("", "rid")?,
        building_id: row.try_get("", "bid")?,
    }))
}

/// A roster row bound to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    pub resident_id: Uuid,
    pub household_id: Uuid,
    pub birth_date: Option<NaiveDate>,
}

/// The current roster rows bound to `user` (a resident of one or more households).
pub async fn bound_to<C: ConnectionTrait>(db: &C, user: Uuid) -> AppResult<Vec<Bound>> {
    let rows: Vec<(Uuid, Uuid, Option<NaiveDate>)> = resident::Entity::find()
        .select_only()
        .column(resident::Column::Id)
        .column(resident::Column::HouseholdId)
        .column(resident::Column::BirthDate)
        .filter(resident::Column::UserId.eq(user))
        .filter(resident::Column::MovedOutOn.is_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(resident_id, household_id, birth_date)| Bound {
            resident_id,
            household_id,
            birth_date,
        })
        .collect())
}

/// What a roll view shows of an entry: the resident's name (to be masked) or the household's
/// unit and room with its residents' names.
#[derive(Debug, Clone, Default)]
pub struct Label {
    pub unit: String,
    pub room: String,
    pub names: Vec<String>,
}

/// The labels of `residents` (by resident id) and `households` (by household id).
pub async fn labels<C: ConnectionTrait>(
    db: &C,
    residents: &[Uuid],
    households: &[Uuid],
) -> AppResult<(HashMap<Uuid, String>, HashMap<Uuid, Label>)> {
    let mut names = HashMap::new();
    if !residents.is_empty() {
        let rows: Vec<(Uuid, String)> = resident::Entity::find()
            .select_only()
            .column(resident::Column::Id)
            .column(resident::Column::Name)
            .filter(resident::Column::Id.is_in(residents.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        names.extend(rows);
    }
    let mut out: HashMap<Uuid, Label> = HashMap::new();
    if !households.is_empty() {
        let rows: Vec<(Uuid, String, String)> = household::Entity::find()
            .select_only()
            .column(household::Column::Id)
            .column(household::Column::Unit)
            .column(household::Column::Room)
            .filter(household::Column::Id.is_in(households.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        for (id, unit, room) in rows {
            out.insert(
                id,
                Label {
                    unit,
                    room,
                    names: Vec::new(),
                },
            );
        }
        let members: Vec<(Uuid, String)> = resident::Entity::find()
            .select_only()
            .column(resident::Column::HouseholdId)
            .column(resident::Column::Name)
            .filter(resident::Column::HouseholdId.is_in(households.iter().copied()))
            .filter(resident::Column::MovedOutOn.is_null())
            .into_tuple()
            .all(db)
            .await?;
        for (hid, name) in members {
            if let Some(l) = out.get_mut(&hid) {
                l.names.push(name);
            }
        }
    }
    Ok((names, out))
}

/// The accounts bound to the roll of `poll_id` (entries not struck), once each, in one
/// statement: the residents themselves (unit `resident`), or every current member of the
/// households (unit `household`).
pub async fn accounts_on_roll<C: ConnectionTrait>(
    db: &C,
    poll_id: Uuid,
    unit: VoterUnit,
) -> AppResult<Vec<Uuid>> {
    let roll = Alias::new("pr");
    let join_on = match unit {
        VoterUnit::Resident => Expr::col((r(), resident::Column::Id))
            .equals((roll.clone(), poll_roll::Column::VoterKey)),
        VoterUnit::Household => Expr::col((r(), resident::Column::HouseholdId))
            .equals((roll.clone(), poll_roll::Column::VoterKey)),
    };
    let q = Query::select()
        .distinct()
        .expr_as(
            Expr::col((r(), resident::Column::UserId)),
            Alias::new("user_id"),
        )
        .from_as(poll_roll::Entity, roll.clone())
        .join_as(sea_orm::JoinType::InnerJoin, resident::Entity, r(), join_on)
        .and_where(Expr::col((roll.clone(), poll_roll::Column::PollId)).eq(poll_id))
        .and_where(Expr::col((roll, poll_roll::Column::Status)).ne(RollStatus::Struck.to_value()))
        .and_where(Expr::col((r(), resident::Column::UserId)).is_not_null())
        .and_where(Expr::col((r(), resident::Column::MovedOutOn)).is_null())
        .to_owned();
    let rows = db.query_all(db.get_database_backend().build(&q)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(row.try_get::<Uuid>("", "user_id")?);
    }
    out.sort();
    out.dedup();
    Ok(out)
}
