//! Who a notice is addressed to, as statements over the roster: the households in its place
//! (shops only when it includes them; with tags, those where someone carries one) and the
//! accounts bound to them.
//!
//! These read other domains' tables (territory's `households`, identity's `role_assignments`
//! and `users`, the roster's `residents` and `resident_tags`) on purpose: publishing writes every
//! recipient in one `INSERT … SELECT`, and a receipt's totals are one grouped count, which
//! calls through three domains' functions could not be. The architecture test lists this file
//! as an allowed cross-domain read, with that reason.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query, SelectStatement};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::access::policy::{Role, ScopeType};
use crate::notices::model::Place;
use crate::platform::error::AppResult;
use entity::{household, notice, notice_recipient, resident, resident_tag, role_assignment, user};

/// What a notice's audience is: its place, whether shops count, and its tags (any of).
#[derive(Debug, Clone)]
pub struct Audience {
    pub place: Place,
    pub place_id: Uuid,
    pub include_shops: bool,
    pub tags: Vec<String>,
}

impl Audience {
    pub fn of(n: &notice::Model, tags: Vec<String>) -> Self {
        Audience {
            place: n.scope_type,
            place_id: n.scope_id,
            include_shops: n.include_shops,
            tags,
        }
    }

    fn household_column(&self) -> household::Column {
        match self.place {
            Place::Street => household::Column::StreetId,
            Place::Community => household::Column::CommunityId,
            Place::Compound => household::Column::CompoundId,
            Place::Building => household::Column::BuildingId,
        }
    }

    /// `h` (an alias of `households`) is in the audience: in the place, a dwelling unless shops
    /// count, and with tags, somewhere a current resident carries one.
    fn households_where(&self, q: &mut SelectStatement, h: &Alias) {
        q.and_where(Expr::col((h.clone(), self.household_column())).eq(self.place_id));
        if !self.include_shops {
            q.and_where(
                Expr::col((h.clone(), household::Column::Kind))
                    .eq(household::HouseholdKind::Dwelling),
            );
        }
        if !self.tags.is_empty() {
            q.and_where(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(resident::Entity)
                    .inner_join(
                        resident_tag::Entity,
                        Expr::col((resident_tag::Entity, resident_tag::Column::ResidentId))
                            .equals((resident::Entity, resident::Column::Id)),
                    )
                    .and_where(
                        Expr::col((resident::Entity, resident::Column::HouseholdId))
                            .equals((h.clone(), household::Column::Id)),
                    )
                    .and_where(
                        Expr::col((resident::Entity, resident::Column::MovedOutOn)).is_null(),
                    )
                    .and_where(
                        Expr::col((resident_tag::Entity, resident_tag::Column::Tag))
                            .is_in(self.tags.iter().cloned()),
                    )
                    .to_owned(),
            ));
        }
    }
}

fn h() -> Alias {
    Alias::new("h")
}

/// Writes the recipients of notice `notice_id` in one statement: every active account bound to
/// a household of the audience (with tags: bound as a resident who carries one), once; returns
/// how many were written. Accounts already listed are left as they are.
pub async fn write_recipients<C: ConnectionTrait>(
    db: &C,
    notice_id: Uuid,
    sort_key: Uuid,
    a: &Audience,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let ra = role_assignment::Entity;
    let mut select = Query::select();
    select
        .expr(Expr::val(notice_id))
        .expr(Expr::col((ra, role_assignment::Column::UserId)))
        .expr(Expr::val(sort_key))
        .expr(Expr::col((h(), household::Column::Id)))
        .expr(Expr::col((h(), household::Column::BuildingId)))
        .expr(Expr::val(false))
        .expr(Expr::val(now))
        .from(ra)
        .join_as(
            sea_orm::JoinType::InnerJoin,
            household::Entity,
            h(),
            Expr::col((h(), household::Column::Id)).equals((ra, role_assignment::Column::ScopeId)),
        )
        .inner_join(
            user::Entity,
            Expr::col((user::Entity, user::Column::Id))
                .equals((ra, role_assignment::Column::UserId)),
        )
        .and_where(Expr::col((ra, role_assignment::Column::Role)).eq(Role::Resident))
        .and_where(Expr::col((ra, role_assignment::Column::ScopeType)).eq(ScopeType::Household))
        .and_where(Expr::col((user::Entity, user::Column::IsActive)).eq(true))
        .and_where(
            Expr::col((ra, role_assignment::Column::ValidUntil))
                .is_null()
                .or(Expr::col((ra, role_assignment::Column::ValidUntil)).gt(now)),
        );
    let mut audience = a.clone();
    if !a.tags.is_empty() {
        // The account's own resident row carries the tag, not just someone of its household.
        select.and_where(Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(resident::Entity)
                .inner_join(
                    resident_tag::Entity,
                    Expr::col((resident_tag::Entity, resident_tag::Column::ResidentId))
                        .equals((resident::Entity, resident::Column::Id)),
                )
                .and_where(
                    Expr::col((resident::Entity, resident::Column::UserId))
                        .equals((ra, role_assignment::Column::UserId)),
                )
                .and_where(
                    Expr::col((resident::Entity, resident::Column::HouseholdId))
                        .equals((h(), household::Column::Id)),
                )
                .and_where(
                    Expr::col((resident_tag::Entity, resident_tag::Column::Tag))
                        .is_in(a.tags.iter().cloned()),
                )
                .to_owned(),
        ));
        audience.tags.clear();
    }
    audience.households_where(&mut select, &h());
    let mut insert = Query::insert();
    insert
        .into_table(notice_recipient::Entity)
        .columns([
            notice_recipient::Column::NoticeId,
            notice_recipient::Column::UserId,
            notice_recipient::Column::SortKey,
            notice_recipient::Column::HouseholdId,
            notice_recipient::Column::BuildingId,
            notice_recipient::Column::IsRead,
            notice_recipient::Column::CreatedAt,
        ])
        .select_from(select)
        .map_err(crate::platform::error::AppError::internal)?
        .on_conflict(
            OnConflict::columns([
                notice_recipient::Column::NoticeId,
                notice_recipient::Column::UserId,
            ])
            .do_nothing()
            .to_owned(),
        );
    let res = db.execute(db.get_database_backend().build(&insert)).await?;
    Ok(res.rows_affected())
}

/// Households of the audience in one building.
#[derive(Debug, Clone, Copy)]
pub struct BuildingCount {
    pub building_id: Uuid,
    pub compound_id: Uuid,
    pub households: i64,
}

/// How many households the audience counts per building.
pub async fn households_per_building<C: ConnectionTrait>(
    db: &C,
    a: &Audience,
) -> AppResult<Vec<BuildingCount>> {
    let mut q = Query::select();
    q.expr_as(
        Expr::col((h(), household::Column::BuildingId)),
        Alias::new("building_id"),
    )
    .expr_as(
        Expr::col((h(), household::Column::CompoundId)),
        Alias::new("compound_id"),
    )
    .expr_as(
        Expr::col((h(), household::Column::Id)).count(),
        Alias::new("n"),
    )
    .from_as(household::Entity, h())
    .group_by_col((h(), household::Column::BuildingId))
    .group_by_col((h(), household::Column::CompoundId));
    a.households_where(&mut q, &h());
    let rows = db.query_all(db.get_database_backend().build(&q)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(BuildingCount {
            building_id: r.try_get("", "building_id")?,
            compound_id: r.try_get("", "compound_id")?,
            households: r.try_get("", "n")?,
        });
    }
    Ok(out)
}

/// A household of the audience not yet reached, with its residents' names (to be masked).
#[derive(Debug, Clone)]
pub struct Unreached {
    pub household_id: Uuid,
    pub unit: String,
    pub room: String,
    pub names: Vec<String>,
}

/// A page of the audience's households in `building_id` that no read and no offline record
/// reached, by household id.
pub async fn unreached<C: ConnectionTrait>(
    db: &C,
    notice_id: Uuid,
    a: &Audience,
    building_id: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<Vec<Unreached>> {
    use entity::notice_household_reach as reach;
    let mut q = Query::select();
    q.expr_as(Expr::col((h(), household::Column::Id)), Alias::new("id"))
        .expr_as(
            Expr::col((h(), household::Column::Unit)),
            Alias::new("unit"),
        )
        .expr_as(
            Expr::col((h(), household::Column::Room)),
            Alias::new("room"),
        )
        .from_as(household::Entity, h())
        .and_where(Expr::col((h(), household::Column::BuildingId)).eq(building_id))
        .and_where(
            Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(reach::Entity)
                    .and_where(Expr::col((reach::Entity, reach::Column::NoticeId)).eq(notice_id))
                    .and_where(
                        Expr::col((reach::Entity, reach::Column::HouseholdId))
                            .equals((h(), household::Column::Id)),
                    )
                    .to_owned(),
            )
            .not(),
        )
        .order_by((h(), household::Column::Id), sea_orm::Order::Asc)
        .limit(limit);
    if let Some(after) = after {
        q.and_where(Expr::col((h(), household::Column::Id)).gt(after));
    }
    a.households_where(&mut q, &h());
    let rows = db.query_all(db.get_database_backend().build(&q)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(Unreached {
            household_id: r.try_get("", "id")?,
            unit: r.try_get("", "unit")?,
            room: r.try_get("", "room")?,
            names: Vec::new(),
        });
    }
    if out.is_empty() {
        return Ok(out);
    }
    let ids: Vec<Uuid> = out.iter().map(|u| u.household_id).collect();
    let names = Query::select()
        .column(resident::Column::HouseholdId)
        .column(resident::Column::Name)
        .from(resident::Entity)
        .and_where(Expr::col(resident::Column::HouseholdId).is_in(ids))
        .and_where(Expr::col(resident::Column::MovedOutOn).is_null())
        .order_by(resident::Column::Id, sea_orm::Order::Asc)
        .to_owned();
    for r in db
        .query_all(db.get_database_backend().build(&names))
        .await?
    {
        let hid: Uuid = r.try_get("", "household_id")?;
        let name: String = r.try_get("", "name")?;
        if let Some(u) = out.iter_mut().find(|u| u.household_id == hid) {
            u.names.push(name);
        }
    }
    Ok(out)
}

/// The household of the audience `user_id` is bound to as a resident, if any (a reader who
/// was not a recipient when the notice was published: they moved in, or bound later).
pub async fn household_of_reader<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    a: &Audience,
) -> AppResult<Option<(Uuid, Uuid)>> {
    let ra = role_assignment::Entity;
    let mut q = Query::select();
    q.expr_as(Expr::col((h(), household::Column::Id)), Alias::new("id"))
        .expr_as(
            Expr::col((h(), household::Column::BuildingId)),
            Alias::new("building_id"),
        )
        .from(ra)
        .join_as(
            sea_orm::JoinType::InnerJoin,
            household::Entity,
            h(),
            Expr::col((h(), household::Column::Id)).equals((ra, role_assignment::Column::ScopeId)),
        )
        .and_where(Expr::col((ra, role_assignment::Column::UserId)).eq(user_id))
        .and_where(Expr::col((ra, role_assignment::Column::Role)).eq(Role::Resident))
        .and_where(Expr::col((ra, role_assignment::Column::ScopeType)).eq(ScopeType::Household))
        .limit(1);
    let mut untagged = a.clone();
    untagged.tags.clear();
    untagged.households_where(&mut q, &h());
    let row = db.query_one(db.get_database_backend().build(&q)).await?;
    Ok(match row {
        Some(r) => Some((r.try_get("", "id")?, r.try_get("", "building_id")?)),
        None => None,
    })
}

/// Whether the household `id` belongs to the audience (for an offline record); with its
/// building and compound.
pub async fn household_in_audience<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    a: &Audience,
) -> AppResult<Option<(Uuid, Uuid)>> {
    let mut q = Query::select();
    q.expr_as(
        Expr::col((h(), household::Column::BuildingId)),
        Alias::new("building_id"),
    )
    .expr_as(
        Expr::col((h(), household::Column::CompoundId)),
        Alias::new("compound_id"),
    )
    .from_as(household::Entity, h())
    .and_where(Expr::col((h(), household::Column::Id)).eq(id));
    a.households_where(&mut q, &h());
    let row = db.query_one(db.get_database_backend().build(&q)).await?;
    Ok(match row {
        Some(r) => Some((r.try_get("", "building_id")?, r.try_get("", "compound_id")?)),
        None => None,
    })
}
