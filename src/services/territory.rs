//! Territory rules shared by its resources: uniqueness, deletion guards, scoped lookups.

use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::auth::policy::{self, Action, ScopeType, Scoped};
use crate::auth::AuthUser;
use crate::error::{is_fk_violation, is_unique_violation, AppError, AppResult};
use crate::routes::PageParams;
use entity::{
    building, community, compound, grid, household, property_company, role_assignment, street,
};

/// Maps a unique-constraint violation to 409 with `what` as the detail.
pub fn conflict_on_duplicate(what: &str) -> impl FnOnce(sea_orm::DbErr) -> AppError + '_ {
    move |e| {
        if is_unique_violation(&e) {
            AppError::Conflict(what.to_string())
        } else {
            e.into()
        }
    }
}

pub async fn insert<A, C>(
    db: &C,
    am: A,
    duplicate: &str,
) -> AppResult<<A::Entity as EntityTrait>::Model>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    C: ConnectionTrait,
{
    am.insert(db)
        .await
        .map_err(conflict_on_duplicate(duplicate))
}

pub async fn update<A, C>(
    db: &C,
    am: A,
    duplicate: &str,
) -> AppResult<<A::Entity as EntityTrait>::Model>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    C: ConnectionTrait,
{
    am.update(db)
        .await
        .map_err(conflict_on_duplicate(duplicate))
}

/// How many rows of `E` have `col = id`.
pub async fn count<E, C>(db: &C, col: E::Column, id: Uuid) -> AppResult<u64>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    Ok(E::find().filter(col.eq(id)).count(db).await?)
}

/// Deletes the object `id` of `E` after the caller's right to do so and its children are checked:
/// anything that still hangs off it (children, or role assignments on it) is 409.
pub async fn delete_checked<E, C>(
    db: &C,
    user: &AuthUser,
    read: Action,
    write: Action,
    id: Uuid,
    children: &[(&str, u64)],
) -> AppResult<()>
where
    E: Scoped,
    E::Model: Sync,
    C: ConnectionTrait,
{
    policy::authorize_object::<E, C>(db, user, read, write, id).await?;
    let assignments =
        count::<role_assignment::Entity, C>(db, role_assignment::Column::ScopeId, id).await?;
    let mut left: Vec<String> = children
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{n} {what}"))
        .collect();
    if assignments > 0 {
        left.push(format!("{assignments} role assignments"));
    }
    if !left.is_empty() {
        return Err(AppError::HasChildren(format!(
            "still has {}; remove them first",
            left.join(", ")
        )));
    }
    let res = E::delete_many()
        .filter(policy::id_column::<E>().ok_or(AppError::NotFound)?.eq(id))
        .exec(db)
        .await
        .map_err(|e| {
            if is_fk_violation(&e) {
                AppError::HasChildren("still has dependent records".into())
            } else {
                e.into()
            }
        })?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// One page of the rows of `E` the caller may read, matching `filter`, in id (creation) order.
pub async fn list_page<E, C>(
    db: &C,
    user: &AuthUser,
    read: Action,
    filter: sea_orm::Condition,
    p: PageParams,
) -> AppResult<(Vec<E::Model>, Option<String>)>
where
    E: Scoped,
    C: ConnectionTrait,
{
    let scope = policy::scope(db, user, read).await?;
    let id_col = policy::id_column::<E>().ok_or(AppError::NotFound)?;
    let mut sel = E::find()
        .filter(scope.condition::<E>())
        .filter(filter)
        .order_by_asc(id_col);
    if let Some(after) = p.after {
        sel = sel.filter(id_col.gt(after));
    }
    let mut rows = sel.limit(p.limit + 1).all(db).await?;
    let more = rows.len() as u64 > p.limit;
    rows.truncate(p.limit as usize);
    let next = if more {
        rows.last()
            .and_then(|m| row_id::<E>(m))
            .map(crate::routes::encode_cursor)
    } else {
        None
    };
    Ok((rows, next))
}

fn row_id<E: Scoped>(m: &E::Model) -> Option<Uuid> {
    use sea_orm::ModelTrait;
    let col = policy::id_column::<E>()?;
    match m.get(col) {
        sea_orm::Value::Uuid(Some(u)) => Some(*u),
        _ => None,
    }
}

/// The street a role's scope object lies in, if the caller may manage roles there (else 404).
pub async fn street_of_scope<C: ConnectionTrait>(
    db: &C,
    user: &AuthUser,
    scope_type: ScopeType,
    id: Uuid,
) -> AppResult<Uuid> {
    let a = Action::RoleManage;
    Ok(match scope_type {
        ScopeType::Street => {
            policy::find_visible::<street::Entity, C>(db, user, a, id)
                .await?
                .id
        }
        ScopeType::Community => {
            policy::find_visible::<community::Entity, C>(db, user, a, id)
                .await?
                .street_id
        }
        ScopeType::Grid => {
            policy::find_visible::<grid::Entity, C>(db, user, a, id)
                .await?
                .street_id
        }
        ScopeType::Compound => {
            policy::find_visible::<compound::Entity, C>(db, user, a, id)
                .await?
                .street_id
        }
        ScopeType::Building => {
            policy::find_visible::<building::Entity, C>(db, user, a, id)
                .await?
                .street_id
        }
        ScopeType::Household => {
            policy::find_visible::<household::Entity, C>(db, user, a, id)
                .await?
                .street_id
        }
        ScopeType::PropertyCompany => {
            policy::find_visible::<property_company::Entity, C>(db, user, a, id)
                .await?
                .street_id
        }
    })
}
