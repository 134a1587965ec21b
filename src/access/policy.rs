//! The one place that decides who may do what, where.
//!
//! - [`allowed`] is the permission table: `(role, action) -> allowed`. Deny by default.
//! - [`Scope`] is the scope filter: what the caller's assignments reach, for one action, as one
//!   SQL condition on any [`Scoped`] table. Lists filter with it; single objects are looked up
//!   with `id = ? AND <the same condition>`, so the per-object check and the list filter cannot
//!   disagree.
//! - Outside the caller's reach is 404; inside the reach of some role but not of one allowed
//!   the action is 403 ([`authorize_object`]).

use std::collections::BTreeSet;

use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::error::{AppError, AppResult};

pub use entity::role_assignment::{Role, ScopeType};

pub use crate::access::actions::{allowed, reads_upward, Action};

/// Levels of the territory a scoped table can be filtered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Street,
    Community,
    Grid,
    Compound,
    Building,
    Household,
    PropertyCompany,
    /// Rows a user owns (the tickets they filed): the caller's own id.
    Owner,
    /// Content addressed to a place (`scope_id` of an audience-bearing table): the places at and
    /// above the caller's assignments, for a role that [`reads_upward`].
    Audience,
}

/// A table whose rows lie somewhere in the territory. `column(level)` names the column holding
/// the id at that level (the row's own id at its own level), or `None` when the table has none.
pub trait Scoped: EntityTrait {
    fn column(level: Level) -> Option<Self::Column>;
}

/// What a caller reaches for one action: sets of ids per level, or everything.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    everything: bool,
    ids: std::collections::BTreeMap<Level, BTreeSet<Uuid>>,
}

impl Scope {
    pub fn everything() -> Self {
        Scope {
            everything: true,
            ids: Default::default(),
        }
    }

    fn add(&mut self, level: Level, ids: impl IntoIterator<Item = Uuid>) {
        self.ids.entry(level).or_default().extend(ids);
    }

    pub fn is_empty(&self) -> bool {
        !self.everything && self.ids.values().all(|s| s.is_empty())
    }

    /// Whether a row lying at these `(level, id)` places is reached: the in-memory twin of
    /// [`Scope::condition`], for deciding per row what a page may show.
    pub fn contains(&self, at: &[(Level, Uuid)]) -> bool {
        self.everything
            || at
                .iter()
                .any(|(level, id)| self.ids.get(level).is_some_and(|s| s.contains(id)))
    }

    /// The condition selecting exactly the rows of `E` this scope reaches.
    pub fn condition<E: Scoped>(&self) -> Condition {
        self.condition_on(E::column)
    }

    /// [`Scope::condition`] for a table whose columns at each level `column` names: one of
    /// several places a row lies (the two ends of a transfer).
    pub fn condition_on<C: ColumnTrait>(&self, column: impl Fn(Level) -> Option<C>) -> Condition {
        if self.everything {
            return Condition::all();
        }
        let mut any = Condition::any();
        let mut terms = 0;
        for (level, ids) in &self.ids {
            if ids.is_empty() {
                continue;
            }
            if let Some(col) = column(*level) {
                any = any.add(col.is_in(ids.iter().copied()));
                terms += 1;
            }
        }
        if terms == 0 {
            Condition::all().add(never())
        } else {
            any
        }
    }
}

impl Scope {
    /// The same reach as [`Scope::condition`], as separate `column = id` terms whose union it
    /// is: None when the scope is everything. A keyset page can then walk one index per term
    /// (`(column, sort key)`) and merge, instead of sorting every row an OR of terms matches.
    pub fn terms<E: Scoped>(&self) -> Option<Vec<(E::Column, Uuid)>> {
        if self.everything {
            return None;
        }
        let mut out = Vec::new();
        for (level, ids) in &self.ids {
            if let Some(col) = E::column(*level) {
                out.extend(ids.iter().map(|id| (col, *id)));
            }
        }
        Some(out)
    }
}

impl Scope {
    /// [`Scope::terms`] with the level of each term.
    pub fn leveled_terms<E: Scoped>(&self) -> Option<Vec<(Level, E::Column, Uuid)>> {
        if self.everything {
            return None;
        }
        let mut out = Vec::new();
        for (level, ids) in &self.ids {
            if let Some(col) = E::column(*level) {
                out.extend(ids.iter().map(|id| (*level, col, *id)));
            }
        }
        Some(out)
    }
}

impl Level {
    /// How deep in the territory tree the level lies (street 0 … household 4); `None` for the
    /// levels beside it (grids, property companies, owners).
    pub fn depth(self) -> Option<u8> {
        match self {
            Level::Street => Some(0),
            Level::Community => Some(1),
            Level::Compound => Some(2),
            Level::Building => Some(3),
            Level::Household => Some(4),
            Level::Grid | Level::PropertyCompany | Level::Owner | Level::Audience => None,
        }
    }
}

fn never() -> SimpleExpr {
    Expr::val(1).eq(0)
}

/// Resolves what `user` reaches for `action`: the union over the assignments whose role allows
/// it. Grids and property companies expand to the compounds and buildings they cover.
pub async fn scope<C: ConnectionTrait>(db: &C, user: &Actor, action: Action) -> AppResult<Scope> {
    if user.is_superadmin {
        return Ok(Scope::everything());
    }
    let mut s = Scope::default();
    if action == Action::TicketRead {
        s.add(Level::Owner, [user.id]);
    }
    for a in user.roles.iter().filter(|a| allowed(a.role, action)) {
        if reads_upward(a.role, action) {
            let above = upward(db, a.scope_type, a.scope_id).await?;
            s.add(Level::Audience, above.into_iter().map(|(_, id)| id));
        }
        match a.scope_type {
            ScopeType::Street => s.add(Level::Street, [a.scope_id]),
            ScopeType::Community => s.add(Level::Community, [a.scope_id]),
            ScopeType::Compound => s.add(Level::Compound, [a.scope_id]),
            ScopeType::Building => s.add(Level::Building, [a.scope_id]),
            ScopeType::Household => s.add(Level::Household, [a.scope_id]),
            ScopeType::Grid => {
                use entity::grid_area::{Column, Entity};
                s.add(Level::Grid, [a.scope_id]);
                let areas: Vec<(Option<Uuid>, Option<Uuid>)> = Entity::find()
                    .select_only()
                    .column(Column::CompoundId)
                    .column(Column::BuildingId)
                    .filter(Column::GridId.eq(a.scope_id))
                    .into_tuple()
                    .all(db)
                    .await?;
                s.add(Level::Compound, areas.iter().filter_map(|(c, _)| *c));
                s.add(Level::Building, areas.iter().filter_map(|(_, b)| *b));
            }
            ScopeType::PropertyCompany => {
                use entity::compound::{Column, Entity};
                s.add(Level::PropertyCompany, [a.scope_id]);
                if action.by_assignment_only() {
                    continue;
                }
                let compounds: Vec<Uuid> = Entity::find()
                    .select_only()
                    .column(Column::Id)
                    .filter(Column::PropertyCompanyId.eq(a.scope_id))
                    .into_tuple()
                    .all(db)
                    .await?;
                s.add(Level::Compound, compounds);
            }
        }
    }
    Ok(s)
}

/// The place `(scope_type, id)` and every place above it in the territory, with their levels
/// (a grid: its community and street; a household: its building and above), by one primary-key
/// read; empty when the place no longer exists, and for a property company (it serves places,
/// it lies in none).
async fn upward<C: ConnectionTrait>(
    db: &C,
    scope_type: ScopeType,
    id: Uuid,
) -> AppResult<Vec<(Level, Uuid)>> {
    use entity::{building, community, compound, grid, household};
    use Level as L;
    Ok(match scope_type {
        ScopeType::Street => vec![(L::Street, id)],
        ScopeType::PropertyCompany => Vec::new(),
        ScopeType::Community => community::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|c| vec![(L::Community, id), (L::Street, c.street_id)])
            .unwrap_or_default(),
        ScopeType::Compound => compound::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|c| {
                vec![
                    (L::Compound, id),
                    (L::Community, c.community_id),
                    (L::Street, c.street_id),
                ]
            })
            .unwrap_or_default(),
        ScopeType::Building => building::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|b| {
                vec![
                    (L::Building, id),
                    (L::Compound, b.compound_id),
                    (L::Community, b.community_id),
                    (L::Street, b.street_id),
                ]
            })
            .unwrap_or_default(),
        // Nothing is addressed to one household: its building and what lies above.
        ScopeType::Household => household::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|h| {
                vec![
                    (L::Building, h.building_id),
                    (L::Compound, h.compound_id),
                    (L::Community, h.community_id),
                    (L::Street, h.street_id),
                ]
            })
            .unwrap_or_default(),
        ScopeType::Grid => grid::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|g| vec![(L::Community, g.community_id), (L::Street, g.street_id)])
            .unwrap_or_default(),
    })
}

/// Every place at and above the caller's assignments (their household's building, compound,
/// community and street; a leader's patch and what lies above it): where what is addressed *to*
/// them, or held *for* them (the offices of their building, compound and community), lies.
/// Property companies add none.
pub async fn places_above<C: ConnectionTrait>(db: &C, user: &Actor) -> AppResult<Vec<Uuid>> {
    let mut out = BTreeSet::new();
    for a in &user.roles {
        out.extend(
            upward(db, a.scope_type, a.scope_id)
                .await?
                .into_iter()
                .map(|(_, id)| id),
        );
    }
    Ok(out.into_iter().collect())
}

impl Scope {
    /// The places whose content the audience reach reads ([`Level::Audience`]).
    pub fn audience(&self) -> Vec<Uuid> {
        self.ids(Level::Audience)
    }

    /// The ids the scope reaches at `level` (empty for everything: ask [`Scope::is_everything`]).
    pub fn ids(&self, level: Level) -> Vec<Uuid> {
        self.ids
            .get(&level)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Whether the scope is everything (a superadmin).
    pub fn is_everything(&self) -> bool {
        self.everything
    }
}

/// The streets an action reaches: every street, or these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Streets {
    All,
    Some(BTreeSet<Uuid>),
}

impl Streets {
    pub fn contains(&self, street: Uuid) -> bool {
        match self {
            Streets::All => true,
            Streets::Some(s) => s.contains(&street),
        }
    }
}

/// The streets `user`'s assignments that allow `action` lie in: for settings kept per street
/// (the content-check keyword list) that staff below the street act on. One primary-key
/// lookup per assignment; a property company's streets are those of the compounds it serves.
pub async fn streets<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    action: Action,
) -> AppResult<Streets> {
    if user.is_superadmin {
        return Ok(Streets::All);
    }
    let mut out = BTreeSet::new();
    for a in user.roles.iter().filter(|a| allowed(a.role, action)) {
        use entity::compound;
        let found: Vec<Uuid> = match a.scope_type {
            // A property company's streets are those of the compounds it serves.
            ScopeType::PropertyCompany => {
                compound::Entity::find()
                    .select_only()
                    .column(compound::Column::StreetId)
                    .filter(compound::Column::PropertyCompanyId.eq(a.scope_id))
                    .into_tuple()
                    .all(db)
                    .await?
            }
            _ => upward(db, a.scope_type, a.scope_id)
                .await?
                .into_iter()
                .filter(|(level, _)| *level == Level::Street)
                .map(|(_, id)| id)
                .collect(),
        };
        out.extend(found);
    }
    Ok(Streets::Some(out))
}

/// Whether the caller may do `action` at all, anywhere (for actions not tied to an object).
pub fn can_anywhere(user: &Actor, action: Action) -> bool {
    user.is_superadmin || user.roles.iter().any(|a| allowed(a.role, action))
}

/// Loads the object `id` of `E` if `read` reaches it, else 404.
pub async fn find_visible<E, C>(db: &C, user: &Actor, read: Action, id: Uuid) -> AppResult<E::Model>
where
    E: Scoped,
    C: ConnectionTrait,
{
    let s = scope(db, user, read).await?;
    find_in::<E, C>(db, &s, id).await?.ok_or(AppError::NotFound)
}

async fn find_in<E, C>(db: &C, s: &Scope, id: Uuid) -> AppResult<Option<E::Model>>
where
    E: Scoped,
    C: ConnectionTrait,
{
    let Some(id_col) = id_column::<E>() else {
        return Ok(None);
    };
    Ok(E::find()
        .filter(id_col.eq(id))
        .filter(s.condition::<E>())
        .one(db)
        .await?)
}

/// The column holding a table's own id: its (single-column) primary key.
pub fn id_column<E: Scoped>() -> Option<E::Column> {
    use sea_orm::{Iterable, PrimaryKeyToColumn};
    E::PrimaryKey::iter().next().map(|k| k.into_column())
}

/// Whether `action` reaches the object `id` of `E` for `user` (no 404/403 distinction).
pub async fn reaches<E, C>(db: &C, user: &Actor, action: Action, id: Uuid) -> AppResult<bool>
where
    E: Scoped,
    E::Model: Sync,
    C: ConnectionTrait,
{
    if !can_anywhere(user, action) && action != Action::TicketRead {
        return Ok(false);
    }
    let s = scope(db, user, action).await?;
    Ok(match id_column::<E>() {
        Some(id_col) => {
            E::find()
                .filter(id_col.eq(id))
                .filter(s.condition::<E>())
                .count(db)
                .await?
                > 0
        }
        None => false,
    })
}

/// For an action on one existing object: 404 unless `read` reaches it, 403 unless `action` does.
pub async fn authorize_object<E, C>(
    db: &C,
    user: &Actor,
    read: Action,
    action: Action,
    id: Uuid,
) -> AppResult<E::Model>
where
    E: Scoped,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let model = find_visible::<E, C>(db, user, read, id).await?;
    let s = scope(db, user, action).await?;
    let reached = match id_column::<E>() {
        Some(id_col) => {
            E::find()
                .filter(id_col.eq(id))
                .filter(s.condition::<E>())
                .count(db)
                .await?
                > 0
        }
        None => false,
    };
    if reached {
        Ok(model)
    } else {
        Err(AppError::Forbidden)
    }
}

/// For creating a child under `parent_id` of table `P`: the parent must be visible to the caller
/// (`parent_read`, else 404) and reached by `action` (else 403).
pub async fn authorize_parent<P, C>(
    db: &C,
    user: &Actor,
    parent_read: Action,
    action: Action,
    parent_id: Uuid,
) -> AppResult<P::Model>
where
    P: Scoped,
    P::Model: Sync,
    C: ConnectionTrait,
{
    authorize_object::<P, C>(db, user, parent_read, action, parent_id).await
}

/// Declares which column of a table holds its place at each level (`Scoped`); each domain's
/// `policy` declares its own tables.
macro_rules! scoped {
    ($entity:path, $($level:ident => $col:ident),+ $(,)?) => {
        impl Scoped for $entity {
            fn column(level: Level) -> Option<Self::Column> {
                #[allow(unused_imports)]
                use sea_orm::EntityTrait as _;
                type Col = <$entity as EntityTrait>::Column;
                match level {
                    $(Level::$level => Some(Col::$col),)+
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        }
    };
}

pub(crate) use scoped;

scoped!(entity::audit_event::Entity, Street => StreetId, Community => CommunityId);
scoped!(entity::notification::Entity, Street => StreetId, Community => CommunityId);
