//! Following a notice up: its receipts building by building, and the households of a building
//! it has not reached yet.

use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Actor;
use crate::notices::policy;
use crate::notices::service::{self, audience};
use crate::platform::error::{AppError, AppResult};
use crate::platform::paging::{cut_page, Page, PageParams};
use entity::{notice_household_reach as reach, notice_recipient as recipient};

/// A notice's receipts in one building.
#[derive(Debug, Serialize, ToSchema)]
pub struct BuildingReceipts {
    pub building_id: Uuid,
    pub building_name: String,
    pub recipients: i64,
    pub read: i64,
    pub confirmed: i64,
    pub households_total: i64,
    pub households_reached: i64,
}

/// A notice's receipts: the totals and, per building of its place, who read, confirmed and
/// which households were reached.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeReceipts {
    pub notice_id: Uuid,
    pub recipients_count: i32,
    pub read_count: i32,
    pub confirmed_count: i32,
    pub households_total: i32,
    pub households_reached: i32,
    /// Per building the caller may follow up, by building name.
    pub buildings: Vec<BuildingReceipts>,
}

/// The receipts of a notice, for who follows it up: its writers and staff down their reach see
/// every building; a building leader their own building.
pub async fn receipts<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<NoticeReceipts> {
    let n = service::readable_notice(db, actor, id).await?;
    let follow = policy::follow_up(db, actor, &n).await?;
    let a = service::audience_of(&n)?;
    let mut per: HashMap<Uuid, (Uuid, BuildingReceipts)> = HashMap::new();
    for t in audience::households_per_building(db, &a).await? {
        let mut e = empty_building(t.building_id);
        e.households_total = t.households;
        per.insert(t.building_id, (t.compound_id, e));
    }
    let counts: Vec<(Option<Uuid>, i64, i64, i64)> = recipient::Entity::find()
        .select_only()
        .column(recipient::Column::BuildingId)
        .column_as(Expr::col(recipient::Column::UserId).count(), "n")
        .column_as(Expr::col(recipient::Column::ReadAt).count(), "r")
        .column_as(Expr::col(recipient::Column::ConfirmedAt).count(), "c")
        .filter(recipient::Column::NoticeId.eq(id))
        .group_by(recipient::Column::BuildingId)
        .into_tuple()
        .all(db)
        .await?;
    for (b, count, read, confirmed) in counts {
        if let Some((_, e)) = b.and_then(|b| per.get_mut(&b)) {
            e.recipients = count;
            e.read = read;
            e.confirmed = confirmed;
        }
    }
    let reached: Vec<(Uuid, i64)> = reach::Entity::find()
        .select_only()
        .column(reach::Column::BuildingId)
        .column_as(Expr::col(reach::Column::HouseholdId).count(), "n")
        .filter(reach::Column::NoticeId.eq(id))
        .group_by(reach::Column::BuildingId)
        .into_tuple()
        .all(db)
        .await?;
    for (b, count) in reached {
        if let Some((_, e)) = per.get_mut(&b) {
            e.households_reached = count;
        }
    }
    per.retain(|b, (compound, _)| follow.covers(*compound, *b));
    let names =
        crate::territory::query::place_lookup::building_names(db, per.keys().copied()).await?;
    let mut buildings: Vec<BuildingReceipts> = per
        .into_values()
        .map(|(_, mut e)| {
            e.building_name = names.get(&e.building_id).cloned().unwrap_or_default();
            e
        })
        .collect();
    buildings.sort_by(|x, y| {
        x.building_name
            .cmp(&y.building_name)
            .then(x.building_id.cmp(&y.building_id))
    });
    Ok(NoticeReceipts {
        notice_id: n.id,
        recipients_count: n.recipients_count,
        read_count: n.read_count,
        confirmed_count: n.confirmed_count,
        households_total: n.households_total,
        households_reached: n.households_reached,
        buildings,
    })
}

fn empty_building(b: Uuid) -> BuildingReceipts {
    BuildingReceipts {
        building_id: b,
        building_name: String::new(),
        recipients: 0,
        read: 0,
        confirmed: 0,
        households_total: 0,
        households_reached: 0,
    }
}

/// A household the notice has not reached yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnreachedHousehold {
    pub household_id: Uuid,
    pub unit: String,
    pub room: String,
    /// Its current residents' names, masked (`张*`).
    pub residents: Vec<String>,
}

/// The households of `building_id` the notice addresses and nothing reached yet, by household:
/// for a building leader's round of visits.
pub async fn unreached<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    building_id: Uuid,
    p: PageParams,
) -> AppResult<Page<UnreachedHousehold>> {
    let n = service::readable_notice(db, actor, id).await?;
    let follow = policy::follow_up(db, actor, &n).await?;
    let compound = crate::territory::query::place_lookup::building_compound(db, building_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let under = crate::territory::query::place_lookup::building_under(
        db,
        building_id,
        policy::level_of(n.scope_type),
        n.scope_id,
    )
    .await?;
    if !under || !follow.covers(compound, building_id) {
        return Err(AppError::NotFound);
    }
    let a = service::audience_of(&n)?;
    let rows = audience::unreached(db, id, &a, building_id, p.after, p.limit + 1).await?;
    let (rows, next_cursor) = cut_page(rows, p.limit, |u| u.household_id);
    Ok(Page {
        items: rows
            .into_iter()
            .map(|u| UnreachedHousehold {
                household_id: u.household_id,
                unit: u.unit,
                room: u.room,
                residents: u
                    .names
                    .iter()
                    .map(|n| crate::platform::pii::mask_name(n))
                    .collect(),
            })
            .collect(),
        next_cursor,
    })
}
