//! Grids: a community's division for grid managers, covering whole compounds and single
//! buildings of that community. A grid and its coverage are written in one transaction.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set,
    TransactionTrait,
};
use uuid::Uuid;

use crate::access::policy::{self, Action};
use crate::access::Actor;
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError};
use crate::platform::text::clean_name;
use crate::territory::query::grids::{respond_loaded, GridResponse};
use crate::territory::query::objects::Kind;
use crate::territory::service::objects::{delete_object, NAME_MAX};
use crate::territory::service::tree;
use entity::{building, community, compound, grid, grid_area};

/// How many compounds plus buildings one grid may cover.
pub const MAX_AREAS: usize = 500;

const DUPLICATE: crate::platform::lang::Text = crate::platform::lang::Text::fixed(
    "这个社区里已有同名网格",
    "a grid with this name already exists in the community",
);

/// Checks that the areas exist in `community_id`, then replaces the grid's areas with them.
async fn set_areas<C: ConnectionTrait>(
    db: &C,
    grid_id: Uuid,
    community_id: Uuid,
    compounds: Option<&[Uuid]>,
    buildings: Option<&[Uuid]>,
) -> AppResult<()> {
    let total = compounds.map_or(0, <[Uuid]>::len) + buildings.map_or(0, <[Uuid]>::len);
    if total > MAX_AREAS {
        return Err(AppError::Validation(vec![FieldError::of(
            "compound_ids",
            FieldCode::TooMany,
            crate::text!(
                "一个网格最多覆盖 {MAX_AREAS} 个小区和楼栋",
                "a grid covers at most {MAX_AREAS} compounds and buildings"
            ),
        )
        .with_limit(MAX_AREAS)]));
    }
    if let Some(ids) = compounds {
        let ids: BTreeSet<Uuid> = ids.iter().copied().collect();
        let found = compound::Entity::find()
            .filter(compound::Column::Id.is_in(ids.iter().copied()))
            .filter(compound::Column::CommunityId.eq(community_id))
            .count(db)
            .await?;
        if found as usize != ids.len() {
            return Err(AppError::invalid(
                "compound_ids",
                FieldCode::NotFound,
                crate::platform::lang::Text::new(
                    "有小区不存在，或不属于该网格所在的社区",
                    "every compound must exist in the grid's community",
                ),
            ));
        }
        grid_area::Entity::delete_many()
            .filter(grid_area::Column::GridId.eq(grid_id))
            .filter(grid_area::Column::CompoundId.is_not_null())
            .exec(db)
            .await?;
        insert_areas(db, grid_id, ids.into_iter().map(|c| (Some(c), None))).await?;
    }
    if let Some(ids) = buildings {
        let ids: BTreeSet<Uuid> = ids.iter().copied().collect();
        let found = building::Entity::find()
            .filter(building::Column::Id.is_in(ids.iter().copied()))
            .filter(building::Column::CommunityId.eq(community_id))
            .count(db)
            .await?;
        if found as usize != ids.len() {
            return Err(AppError::invalid(
                "building_ids",
                FieldCode::NotFound,
                crate::platform::lang::Text::new(
                    "有楼栋不存在，或不属于该网格所在的社区",
                    "every building must exist in the grid's community",
                ),
            ));
        }
        grid_area::Entity::delete_many()
            .filter(grid_area::Column::GridId.eq(grid_id))
            .filter(grid_area::Column::BuildingId.is_not_null())
            .exec(db)
            .await?;
        insert_areas(db, grid_id, ids.into_iter().map(|b| (None, Some(b)))).await?;
    }
    Ok(())
}

async fn insert_areas<C: ConnectionTrait>(
    db: &C,
    grid_id: Uuid,
    areas: impl Iterator<Item = (Option<Uuid>, Option<Uuid>)>,
) -> AppResult<()> {
    let models: Vec<grid_area::ActiveModel> = areas
        .map(|(c, b)| grid_area::ActiveModel {
            id: Set(Uuid::now_v7()),
            grid_id: Set(grid_id),
            compound_id: Set(c),
            building_id: Set(b),
        })
        .collect();
    if !models.is_empty() {
        grid_area::Entity::insert_many(models).exec(db).await?;
    }
    Ok(())
}

/// Creates a grid in the community `community_id`, covering compounds and buildings of that
/// community.
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    community_id: Uuid,
    name: &str,
    compound_ids: &[Uuid],
    building_ids: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<GridResponse> {
    let name = clean_name("name", name, NAME_MAX)?;
    let parent = policy::authorize_parent::<community::Entity, _>(
        db,
        actor,
        Action::CommunityRead,
        Action::GridWrite,
        community_id,
    )
    .await?;
    let txn = db.begin().await?;
    let m = tree::insert(
        &txn,
        grid::ActiveModel {
            id: Set(Uuid::now_v7()),
            street_id: Set(parent.street_id),
            community_id: Set(parent.id),
            name: Set(name),
            created_at: Set(now),
            updated_at: Set(now),
        },
        &DUPLICATE,
    )
    .await?;
    set_areas(
        &txn,
        m.id,
        parent.id,
        Some(compound_ids),
        Some(building_ids),
    )
    .await?;
    let r = respond_loaded(&txn, m).await?;
    txn.commit().await?;
    Ok(r)
}

/// Changes a grid: its name, and the compounds or buildings it covers (each list replaces the
/// one it names).
pub async fn update<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    name: Option<&str>,
    compound_ids: Option<&[Uuid]>,
    building_ids: Option<&[Uuid]>,
    now: DateTime<Utc>,
) -> AppResult<GridResponse> {
    let m = policy::authorize_object::<grid::Entity, _>(
        db,
        actor,
        Action::GridRead,
        Action::GridWrite,
        id,
    )
    .await?;
    let community_id = m.community_id;
    let mut am = m.into_active_model();
    if let Some(name) = name {
        am.name = Set(clean_name("name", name, NAME_MAX)?);
    }
    am.updated_at = Set(now);
    let txn = db.begin().await?;
    let m = tree::update(&txn, am, &DUPLICATE).await?;
    set_areas(&txn, m.id, community_id, compound_ids, building_ids).await?;
    let r = respond_loaded(&txn, m).await?;
    txn.commit().await?;
    Ok(r)
}

/// Deletes a grid (its coverage goes with it) that has no role assignments left.
pub async fn delete<C: ConnectionTrait>(db: &C, actor: &Actor, id: Uuid) -> AppResult<()> {
    delete_object::<grid::Entity, C>(db, actor, Kind::Grid, id).await
}
