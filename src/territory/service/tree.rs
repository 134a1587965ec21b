//! Territory rules shared by its resources: uniqueness, deletion guards, scoped lookups.

use sea_orm::sea_query::SimpleExpr;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait,
    FromQueryResult, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::access::policy::{self, Action, Level, ScopeType, Scoped};
use crate::access::Actor;
use crate::platform::error::ProblemCode;
use crate::platform::error::{is_fk_violation, is_unique_violation, AppError, AppResult};
use crate::platform::lang::Text;
use crate::platform::paging::PageParams;
use entity::{building, community, compound, grid, household, property_company, street};

/// Maps a unique-constraint violation to 409 `already_exists` with `what` as the detail.
pub fn conflict_on_duplicate(what: &Text) -> impl FnOnce(sea_orm::DbErr) -> AppError + '_ {
    move |e| {
        if is_unique_violation(&e) {
            AppError::conflict(ProblemCode::AlreadyExists, what.clone())
        } else {
            e.into()
        }
    }
}

pub async fn insert<A, C>(
    db: &C,
    am: A,
    duplicate: &Text,
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
    duplicate: &Text,
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

/// The Chinese name of what may hang off a territory object.
fn children_zh(what: &str) -> &str {
    match what {
        "binding requests" => "个绑定申请",
        "buildings" => "个楼栋",
        "communities" => "个社区",
        "compounds" => "个小区",
        "grid areas" => "个网格范围",
        "grids" => "个网格",
        "households" => "户",
        "property companies" => "家物业公司",
        "residents" => "位居民",
        "role assignments" => "个角色授权",
        other => other,
    }
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
    user: &Actor,
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
    let assignments = crate::identity::query::counts::role_assignments_on(db, id).await?;
    let mut left: Vec<(&str, u64)> = children.iter().copied().filter(|(_, n)| *n > 0).collect();
    if assignments > 0 {
        left.push(("role assignments", assignments));
    }
    if !left.is_empty() {
        let zh: Vec<String> = left
            .iter()
            .map(|(what, n)| format!("{n} {}", children_zh(what)))
            .collect();
        let en: Vec<String> = left.iter().map(|(what, n)| format!("{n} {what}")).collect();
        return Err(AppError::conflict(
            ProblemCode::HasChildren,
            Text::new(
                format!("下面还有{}，请先删除它们", zh.join("、")),
                format!("still has {}; remove them first", en.join(", ")),
            ),
        ));
    }
    let res = E::delete_many()
        .filter(policy::id_column::<E>().ok_or(AppError::NotFound)?.eq(id))
        .exec(db)
        .await
        .map_err(|e| {
            if is_fk_violation(&e) {
                AppError::conflict(
                    ProblemCode::HasChildren,
                    Text::new(
                        "还有其他记录依赖它，不能删除",
                        "still has dependent records",
                    ),
                )
            } else {
                e.into()
            }
        })?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// One page of the rows of `E` the caller may read, lying under every territory object of
/// `within` (`(level, id)`: the list's parent filters, e.g. `compound_id`) and matching `filter`,
/// in id (creation) order.
pub async fn list_page<E, C>(
    db: &C,
    user: &Actor,
    read: Action,
    within: &[(Level, Uuid)],
    filter: sea_orm::Condition,
    p: PageParams,
) -> AppResult<(Vec<E::Model>, Option<String>)>
where
    E: Scoped,
    C: ConnectionTrait,
{
    list_page_as::<E, E::Model, C>(db, user, read, within, filter, p, None, &[], |m| {
        row_id::<E>(m)
    })
    .await
}

/// [`list_page`] reading `only` these columns of `E` (all when `None`) and `extra` columns
/// (`(expression, alias)`) with every row, as `M`.
#[allow(clippy::too_many_arguments)]
pub async fn list_page_as<E, M, C>(
    db: &C,
    user: &Actor,
    read: Action,
    within: &[(Level, Uuid)],
    filter: sea_orm::Condition,
    p: PageParams,
    only: Option<&[E::Column]>,
    extra: &[(SimpleExpr, &str)],
    id_of: impl Fn(&M) -> Option<Uuid>,
) -> AppResult<(Vec<M>, Option<String>)>
where
    E: Scoped,
    M: FromQueryResult + Send,
    C: ConnectionTrait,
{
    let scope = policy::scope(db, user, read).await?;
    let mut rows = keyset_page_as::<E, M, C>(
        db,
        &scope,
        within,
        filter,
        p.after,
        p.limit + 1,
        only,
        extra,
    )
    .await?;
    let more = rows.len() as u64 > p.limit;
    rows.truncate(p.limit as usize);
    let next = if more {
        rows.last()
            .and_then(id_of)
            .map(crate::platform::paging::encode_cursor)
    } else {
        None
    };
    Ok((rows, next))
}

/// Beyond this many scope terms a page is one query over their OR (sorted by the database)
/// rather than one index range per term.
pub const MAX_MERGED_TERMS: usize = 32;

/// At most `n` rows of `E` within `scope`, under every object of `within`, matching `filter`,
/// with an id after `after`, by id; `only` these columns of `E` (all when `None`) and `extra`.
///
/// Each branch of the page is `<filter> AND <one column> = ? AND id > after ORDER BY id LIMIT n`,
/// which the `(column, id)` index answers as one range read in order that stops after `n` rows.
/// The column is the deepest territory filter, else the scope term's:
///
/// - no filter: one branch per scope term (`street_id = …`, `community_id = …`, …);
/// - a filter (say `compound_id = X`): one branch on `compound_id`; the scope terms at or above
///   it (the caller's street, community) are not conditions on the rows but a check, before the
///   statement, that X lies under one of them (X's [`lineage`], kept in the process); a scope
///   term below it (a building leader's building) is a branch of its own, on `building_id`, if
///   it lies under X. Never two territory columns of one row in one condition: the planner takes
///   them as independent, underestimates how many rows match, and sorts them all instead of
///   reading a page in order.
///
/// Several branches are one statement, the `UNION` of the branches ordered and cut to `n`
/// again, so the database sorts at most `n` rows per branch, never the whole match set.
#[allow(clippy::too_many_arguments)]
pub async fn keyset_page_as<E, M, C>(
    db: &C,
    scope: &policy::Scope,
    within: &[(Level, Uuid)],
    filter: sea_orm::Condition,
    after: Option<Uuid>,
    n: u64,
    only: Option<&[E::Column]>,
    extra: &[(SimpleExpr, &str)],
) -> AppResult<Vec<M>>
where
    E: Scoped,
    M: FromQueryResult + Send,
    C: ConnectionTrait,
{
    use sea_orm::sea_query::{Alias, Asterisk, Order, Query, UnionType};
    use sea_orm::{Condition, IdenStatic, QueryTrait};

    let id_col = policy::id_column::<E>().ok_or(AppError::NotFound)?;
    let no_check = || AppError::internal(anyhow::anyhow!("a territory filter without a table"));
    let mut within = within.to_vec();
    within.sort_by_key(|(level, _)| std::cmp::Reverse(level.depth()));
    // The deepest filter is walked; the others are checks on it.
    let common = filter;
    let walk = match within.first().copied() {
        None => None,
        Some(w) => {
            let col = match (w.0.depth(), E::column(w.0)) {
                (Some(_), Some(col)) => col,
                _ => return Err(no_check()),
            };
            for other in &within[1..] {
                if other.0.depth() == w.0.depth() {
                    if other.1 != w.1 {
                        return Ok(Vec::new());
                    }
                    continue;
                }
                if !lies_under(db, w, *other).await? {
                    return Ok(Vec::new());
                }
            }
            Some((w, col))
        }
    };
    let on = |w: Option<((Level, Uuid), E::Column)>| {
        let mut c = Condition::all();
        if let Some(((_, id), col)) = w {
            c = c.add(col.eq(id));
        }
        c
    };
    let mut branches: Vec<Condition> = Vec::new();
    match scope.leveled_terms::<E>() {
        None => branches.push(on(walk)),
        Some(terms) if terms.is_empty() => return Ok(Vec::new()),
        Some(terms) if terms.len() > MAX_MERGED_TERMS => {
            branches.push(on(walk).add(scope.condition::<E>()))
        }
        Some(terms) => match walk {
            None => branches.extend(
                terms
                    .iter()
                    .map(|(_, col, id)| Condition::all().add(col.eq(*id))),
            ),
            Some((w, _)) => {
                let mut covered = false;
                let mut below = Vec::new();
                for (level, col, id) in terms {
                    match (level.depth(), w.0.depth()) {
                        (Some(t), Some(d)) if t < d => {
                            covered = covered || lies_under(db, w, (level, id)).await?;
                        }
                        (Some(t), Some(d)) if t == d => covered |= id == w.1,
                        (Some(_), Some(_)) => {
                            if lies_under(db, (level, id), w).await? {
                                below.push(Condition::all().add(col.eq(id)));
                            }
                        }
                        _ => branches.push(on(walk).add(col.eq(id))),
                    }
                }
                if covered {
                    branches.push(on(walk));
                } else {
                    branches.extend(below);
                }
            }
        },
    }
    let branch = |cond: Condition| {
        let mut sel = E::find();
        if let Some(only) = only {
            sel = sel.select_only().columns(only.iter().copied());
        }
        for (expr, alias) in extra {
            sel = sel.column_as(expr.clone(), *alias);
        }
        let mut sel = sel
            .filter(common.clone())
            .filter(cond)
            .order_by_asc(id_col)
            .limit(n);
        if let Some(after) = after {
            sel = sel.filter(id_col.gt(after));
        }
        sel
    };
    if branches.len() <= 1 {
        let Some(only) = branches.pop() else {
            return Ok(Vec::new());
        };
        return Ok(branch(only).into_model::<M>().all(db).await?);
    }
    // SQLite accepts no ORDER BY or LIMIT in a member of a compound SELECT: each branch is a
    // subquery in FROM.
    let mut members = branches.into_iter().enumerate().map(|(i, cond)| {
        Query::select()
            .column(Asterisk)
            .from_subquery(branch(cond).into_query(), Alias::new(format!("p{i}")))
            .to_owned()
    });
    let Some(mut union) = members.next() else {
        return Ok(Vec::new());
    };
    for m in members {
        union.union(UnionType::Distinct, m);
    }
    union
        .order_by(Alias::new(id_col.as_str()), Order::Asc)
        .limit(n);
    let stmt = db.get_database_backend().build(&union);
    Ok(E::find()
        .from_raw_sql(stmt)
        .into_model::<M>()
        .all(db)
        .await?)
}

/// Whether the place `lower` lies under `upper` (a shallower level), from its [`lineage`].
async fn lies_under<C: ConnectionTrait>(
    db: &C,
    lower: (Level, Uuid),
    upper: (Level, Uuid),
) -> AppResult<bool> {
    Ok(lineage(db, lower)
        .await?
        .is_some_and(|l| l.at(upper.0) == Some(upper.1)))
}

/// A place and the places above it: its street, community, compound, building and household,
/// as far down as its own level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lineage([Option<Uuid>; 5]);

impl Lineage {
    pub fn at(&self, level: Level) -> Option<Uuid> {
        level.depth().and_then(|d| self.0[d as usize])
    }
}

/// How long a place's lineage is kept. No endpoint moves a place (a compound's community and
/// street are fixed at creation), so a kept lineage is only ever stale after a hand edit of the
/// database; this bounds that.
const LINEAGE_TTL: std::time::Duration = std::time::Duration::from_secs(600);
/// At most this many lineages are kept per process (~100 bytes each); when full, all are dropped.
const LINEAGE_CAPACITY: usize = 50_000;

type LineageMap = std::collections::HashMap<Uuid, (std::time::Instant, Lineage)>;
static LINEAGES: std::sync::Mutex<Option<LineageMap>> = std::sync::Mutex::new(None);

/// The lineage of the place `(level, id)` (community, compound, building or household), by one
/// primary-key read, then kept in this process: a list filtered to a place checks the place lies
/// in the caller's scope here instead of in every page's statement. `None` when the place does
/// not exist (not kept) or its level has no table of its own. Ids are UUIDs, so one map serves
/// every database a process talks to.
pub async fn lineage<C: ConnectionTrait>(
    db: &C,
    (level, id): (Level, Uuid),
) -> AppResult<Option<Lineage>> {
    let now = std::time::Instant::now();
    if let Ok(map) = LINEAGES.lock() {
        if let Some((at, l)) = map.as_ref().and_then(|m| m.get(&id)) {
            if now.duration_since(*at) < LINEAGE_TTL && l.at(level) == Some(id) {
                return Ok(Some(*l));
            }
        }
    }
    let found = match level {
        Level::Community => community::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|c| [Some(c.street_id), Some(id), None, None, None]),
        Level::Compound => compound::Entity::find_by_id(id).one(db).await?.map(|c| {
            [
                Some(c.street_id),
                Some(c.community_id),
                Some(id),
                None,
                None,
            ]
        }),
        Level::Building => building::Entity::find_by_id(id).one(db).await?.map(|b| {
            [
                Some(b.street_id),
                Some(b.community_id),
                Some(b.compound_id),
                Some(id),
                None,
            ]
        }),
        Level::Household => household::Entity::find_by_id(id).one(db).await?.map(|h| {
            [
                Some(h.street_id),
                Some(h.community_id),
                Some(h.compound_id),
                Some(h.building_id),
                Some(id),
            ]
        }),
        _ => None,
    }
    .map(Lineage);
    if let (Some(l), Ok(mut map)) = (found, LINEAGES.lock()) {
        let map = map.get_or_insert_with(Default::default);
        if map.len() >= LINEAGE_CAPACITY {
            map.clear();
        }
        map.insert(id, (now, l));
    }
    Ok(found)
}

fn row_id<E: Scoped>(m: &E::Model) -> Option<Uuid> {
    use sea_orm::ModelTrait;
    let col = policy::id_column::<E>()?;
    match m.get(col) {
        sea_orm::Value::Uuid(Some(u)) => Some(*u),
        _ => None,
    }
}

/// The street a role's scope object lies in, if `a` (role management, or office management for
/// a grant that comes with an office term) reaches it for the caller (else 404).
pub async fn street_of_scope<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    a: Action,
    scope_type: ScopeType,
    id: Uuid,
) -> AppResult<Uuid> {
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
