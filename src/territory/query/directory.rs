//! The territory as a resident who is not bound yet may see it, to pick their home: names of
//! communities, compounds and buildings, and the unit and room of households. Never who lives
//! anywhere, and never anything else of a household.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::error::AppResult;
use crate::platform::paging::{page_of as page, Page, PageParams};
use entity::{building, community, compound, household, street};

#[derive(Serialize, ToSchema)]
pub struct DirectoryCommunity {
    pub id: Uuid,
    pub name: String,
    pub street_id: Uuid,
    pub street_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct DirectoryPlace {
    pub id: Uuid,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct DirectoryHousehold {
    pub id: Uuid,
    /// 单元, e.g. `2`.
    pub unit: String,
    /// 房号, e.g. `301`.
    pub room: String,
}

/// One page of communities, optionally of one street and with `q` in the name; with each its
/// street's name.
pub async fn communities<C: ConnectionTrait>(
    db: &C,
    street_id: Option<Uuid>,
    q: Option<&str>,
    p: PageParams,
) -> AppResult<Page<DirectoryCommunity>> {
    let mut sel = community::Entity::find().order_by_asc(community::Column::Id);
    if let Some(s) = street_id {
        sel = sel.filter(community::Column::StreetId.eq(s));
    }
    if let Some(q) = q {
        sel = sel.filter(crate::platform::text::column_contains(
            community::Column::Name,
            q,
        ));
    }
    if let Some(a) = p.after {
        sel = sel.filter(community::Column::Id.gt(a));
    }
    let rows = sel.limit(p.limit + 1).all(db).await?;
    let street_ids: Vec<Uuid> = rows.iter().map(|c| c.street_id).collect();
    let streets: std::collections::HashMap<Uuid, String> = street::Entity::find()
        .filter(street::Column::Id.is_in(street_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    Ok(page(
        rows,
        p.limit,
        |c| c.id,
        |c| DirectoryCommunity {
            id: c.id,
            name: c.name,
            street_id: c.street_id,
            street_name: streets.get(&c.street_id).cloned().unwrap_or_default(),
        },
    ))
}

/// One page of the compounds of a community.
pub async fn compounds<C: ConnectionTrait>(
    db: &C,
    community_id: Uuid,
    p: PageParams,
) -> AppResult<Page<DirectoryPlace>> {
    let mut sel = compound::Entity::find()
        .filter(compound::Column::CommunityId.eq(community_id))
        .order_by_asc(compound::Column::Id);
    if let Some(a) = p.after {
        sel = sel.filter(compound::Column::Id.gt(a));
    }
    let rows = sel.limit(p.limit + 1).all(db).await?;
    Ok(page(
        rows,
        p.limit,
        |c| c.id,
        |c| DirectoryPlace {
            id: c.id,
            name: c.name,
        },
    ))
}

/// One page of the buildings of a compound.
pub async fn buildings<C: ConnectionTrait>(
    db: &C,
    compound_id: Uuid,
    p: PageParams,
) -> AppResult<Page<DirectoryPlace>> {
    let mut sel = building::Entity::find()
        .filter(building::Column::CompoundId.eq(compound_id))
        .order_by_asc(building::Column::Id);
    if let Some(a) = p.after {
        sel = sel.filter(building::Column::Id.gt(a));
    }
    let rows = sel.limit(p.limit + 1).all(db).await?;
    Ok(page(
        rows,
        p.limit,
        |b| b.id,
        |b| DirectoryPlace {
            id: b.id,
            name: b.name,
        },
    ))
}

/// One page of the households of a building: unit and room, never who lives there.
pub async fn households<C: ConnectionTrait>(
    db: &C,
    building_id: Uuid,
    p: PageParams,
) -> AppResult<Page<DirectoryHousehold>> {
    let mut sel = household::Entity::find()
        .filter(household::Column::BuildingId.eq(building_id))
        .order_by_asc(household::Column::Id);
    if let Some(a) = p.after {
        sel = sel.filter(household::Column::Id.gt(a));
    }
    let rows = sel.limit(p.limit + 1).all(db).await?;
    Ok(page(
        rows,
        p.limit,
        |h| h.id,
        |h| DirectoryHousehold {
            id: h.id,
            unit: h.unit,
            room: h.room,
        },
    ))
}
