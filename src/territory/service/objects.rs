//! Creating, changing and deleting the territory's objects. Each write checks the caller's
//! right on the object (or on its parent, when creating), cleans the names it is given, and
//! answers the object as screens show it; a name taken among the parent's children is 409.
//!
//! Parents are fixed at creation (the copies of ancestor ids that make scoping one condition
//! stay true); move something by deleting and recreating it.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, IntoActiveModel, Set};
use uuid::Uuid;

use crate::access::policy::{self, Action, Role, Scoped};
use crate::access::Actor;
use crate::identity::query::role_holders;
use crate::platform::error::{AppError, AppResult, FieldCode, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::text::clean_name;
use crate::territory::model::{leads_shops, CompoundKind, HouseholdKind};
use crate::territory::query::objects::{
    BuildingResponse, CommunityResponse, CompoundResponse, HouseholdResponse, Kind, Object,
    PropertyCompanyResponse, StreetResponse,
};
use crate::territory::service::tree::{self, count};
use entity::{building, community, compound, grid, grid_area, household, property_company, street};

/// Longest name of a territory object.
pub const NAME_MAX: usize = 100;
/// Unit and room, as households store them.
const PART_MAX: usize = 20;

const STREET_TAKEN: Text = Text::fixed("已有同名街道", "a street with this name already exists");
const COMMUNITY_TAKEN: Text = Text::fixed(
    "这个街道里已有同名社区",
    "a community with this name already exists in the street",
);
const COMPANY_TAKEN: Text = Text::fixed(
    "这个街道里已有同名物业公司",
    "a property company with this name already exists in the street",
);
const COMPOUND_TAKEN: Text = Text::fixed(
    "这个社区里已有同名小区",
    "a compound with this name already exists in the community",
);
const BUILDING_TAKEN: Text = Text::fixed(
    "这个小区里已有同名楼栋",
    "a building with this name already exists in the compound",
);
const HOUSEHOLD_TAKEN: Text = Text::fixed(
    "这栋楼里已有相同单元和房号的住户",
    "a household with this unit and room already exists in the building",
);

/// The object `id` the caller is to change: 404 unless they read it, 403 unless they may
/// write it.
async fn writable<R: Object, C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<<R::Entity as EntityTrait>::Model>
where
    <R::Entity as EntityTrait>::Model: Sync,
{
    policy::authorize_object::<R::Entity, C>(db, actor, R::KIND.read(), R::KIND.write(), id).await
}

/// The parent `id` of kind `P` to create an object of kind `child` under: 404 unless the
/// caller reads it, 403 unless they may write the child there.
async fn parent<P: Object, C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    child: Kind,
    id: Uuid,
) -> AppResult<<P::Entity as EntityTrait>::Model>
where
    <P::Entity as EntityTrait>::Model: Sync,
{
    policy::authorize_parent::<P::Entity, C>(db, actor, P::KIND.read(), child.write(), id).await
}

/// Creates a street (deployment administrators only).
pub async fn create_street<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    name: &str,
    now: DateTime<Utc>,
) -> AppResult<StreetResponse> {
    if !actor.is_superadmin {
        return Err(AppError::Forbidden);
    }
    let name = clean_name("name", name, NAME_MAX)?;
    let am = street::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Ok(tree::insert(db, am, &STREET_TAKEN).await?.into())
}

/// Renames a street.
pub async fn update_street<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    name: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<StreetResponse> {
    let mut am = writable::<StreetResponse, C>(db, actor, id)
        .await?
        .into_active_model();
    if let Some(name) = name {
        am.name = Set(clean_name("name", name, NAME_MAX)?);
    }
    am.updated_at = Set(now);
    Ok(tree::update(db, am, &STREET_TAKEN).await?.into())
}

/// Creates a community in the street `street_id`.
pub async fn create_community<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    street_id: Uuid,
    name: &str,
    now: DateTime<Utc>,
) -> AppResult<CommunityResponse> {
    let name = clean_name("name", name, NAME_MAX)?;
    let parent = parent::<StreetResponse, C>(db, actor, Kind::Community, street_id).await?;
    let am = community::ActiveModel {
        id: Set(Uuid::now_v7()),
        street_id: Set(parent.id),
        name: Set(name),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Ok(tree::insert(db, am, &COMMUNITY_TAKEN).await?.into())
}

/// Renames a community.
pub async fn update_community<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    name: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<CommunityResponse> {
    let mut am = writable::<CommunityResponse, C>(db, actor, id)
        .await?
        .into_active_model();
    if let Some(name) = name {
        am.name = Set(clean_name("name", name, NAME_MAX)?);
    }
    am.updated_at = Set(now);
    Ok(tree::update(db, am, &COMMUNITY_TAKEN).await?.into())
}

fn clean_phone(v: Option<&str>) -> AppResult<Option<String>> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let ok = v.len() <= 32
        && v.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-'));
    if ok {
        Ok(Some(v.to_string()))
    } else {
        Err(AppError::invalid(
            "contact_phone",
            FieldCode::Invalid,
            Text::new(
                "联系电话只能包含数字、空格、+ 和 -，最多 32 个字符",
                "digits, spaces, '+' and '-', at most 32 characters",
            ),
        ))
    }
}

/// Registers a property company in the street `street_id`.
pub async fn create_property_company<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    street_id: Uuid,
    name: &str,
    contact_phone: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<PropertyCompanyResponse> {
    let name = clean_name("name", name, NAME_MAX)?;
    let phone = clean_phone(contact_phone)?;
    let parent = parent::<StreetResponse, C>(db, actor, Kind::PropertyCompany, street_id).await?;
    let am = property_company::ActiveModel {
        id: Set(Uuid::now_v7()),
        street_id: Set(parent.id),
        name: Set(name),
        contact_phone: Set(phone),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Ok(tree::insert(db, am, &COMPANY_TAKEN).await?.into())
}

/// Changes a property company: its name, and its contact phone (`Some(None)` clears it).
pub async fn update_property_company<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    name: Option<&str>,
    contact_phone: Option<Option<&str>>,
    now: DateTime<Utc>,
) -> AppResult<PropertyCompanyResponse> {
    let mut am = writable::<PropertyCompanyResponse, C>(db, actor, id)
        .await?
        .into_active_model();
    if let Some(name) = name {
        am.name = Set(clean_name("name", name, NAME_MAX)?);
    }
    if let Some(phone) = contact_phone {
        am.contact_phone = Set(clean_phone(phone)?);
    }
    am.updated_at = Set(now);
    Ok(tree::update(db, am, &COMPANY_TAKEN).await?.into())
}

fn clean_address(v: Option<&str>) -> AppResult<Option<String>> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => clean_name("address", v, 200).map(Some),
    }
}

/// The company must be one the caller can see, in the compound's street. Invisible and
/// non-existent answer alike, so the check reveals nothing.
async fn check_company<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    street_id: Uuid,
    id: Option<Uuid>,
) -> AppResult<()> {
    let Some(id) = id else { return Ok(()) };
    let found = match policy::find_visible::<property_company::Entity, _>(
        db,
        actor,
        Action::PropertyCompanyRead,
        id,
    )
    .await
    {
        Ok(c) => c.street_id == street_id,
        Err(AppError::NotFound) => false,
        Err(e) => return Err(e),
    };
    if found {
        Ok(())
    } else {
        Err(AppError::invalid(
            "property_company_id",
            FieldCode::NotFound,
            Text::new(
                "本街道没有这家物业公司",
                "no such property company in this street",
            ),
        ))
    }
}

/// A compound to create.
#[derive(Debug)]
pub struct NewCompound<'a> {
    pub community_id: Uuid,
    pub name: &'a str,
    pub address: Option<&'a str>,
    /// The property company serving it, of the same street.
    pub property_company_id: Option<Uuid>,
    pub kind: CompoundKind,
}

/// Creates a compound in its community, served by a property company of the same street when
/// one is named.
pub async fn create_compound<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    new: NewCompound<'_>,
    now: DateTime<Utc>,
) -> AppResult<CompoundResponse> {
    let NewCompound {
        community_id,
        name,
        address,
        property_company_id,
        kind,
    } = new;
    let name = clean_name("name", name, NAME_MAX)?;
    let address = clean_address(address)?;
    let parent = parent::<CommunityResponse, C>(db, actor, Kind::Compound, community_id).await?;
    check_company(db, actor, parent.street_id, property_company_id).await?;
    let am = compound::ActiveModel {
        id: Set(Uuid::now_v7()),
        street_id: Set(parent.street_id),
        community_id: Set(parent.id),
        property_company_id: Set(property_company_id),
        name: Set(name),
        address: Set(address),
        kind: Set(kind),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Ok(tree::insert(db, am, &COMPOUND_TAKEN).await?.into())
}

/// What a compound's change says; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct CompoundChange<'a> {
    pub name: Option<&'a str>,
    pub address: Option<Option<&'a str>>,
    pub property_company_id: Option<Option<Uuid>>,
    pub kind: Option<CompoundKind>,
}

/// Changes a compound: name, address, serving property company, kind. A compound its street
/// leaders lead stays `street_front` or `mixed` while they hold the role there.
pub async fn update_compound<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    change: CompoundChange<'_>,
    now: DateTime<Utc>,
) -> AppResult<CompoundResponse> {
    let CompoundChange {
        name,
        address,
        property_company_id,
        kind,
    } = change;
    let m = writable::<CompoundResponse, C>(db, actor, id).await?;
    if let Some(kind) = kind {
        if !leads_shops(kind) && m.kind != kind {
            let leaders = role_holders::holders(db, Role::StreetLeader, &[id])
                .await?
                .len();
            if leaders > 0 {
                return Err(AppError::conflict(
                    ProblemCode::CompoundHasStreetLeaders,
                    Text::new(
                        format!("这个小区有 {leaders} 位街面长，请先撤销他们的角色再改为住宅小区"),
                        format!(
                            "{leaders} street leaders lead this compound; revoke their role \
                             before making it residential"
                        ),
                    ),
                ));
            }
        }
    }
    let street_id = m.street_id;
    let mut am = m.into_active_model();
    if let Some(name) = name {
        am.name = Set(clean_name("name", name, NAME_MAX)?);
    }
    if let Some(address) = address {
        am.address = Set(clean_address(address)?);
    }
    if let Some(company) = property_company_id {
        check_company(db, actor, street_id, company).await?;
        am.property_company_id = Set(company);
    }
    if let Some(kind) = kind {
        am.kind = Set(kind);
    }
    am.updated_at = Set(now);
    Ok(tree::update(db, am, &COMPOUND_TAKEN).await?.into())
}

/// Creates a building in the compound `compound_id`.
pub async fn create_building<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    compound_id: Uuid,
    name: &str,
    now: DateTime<Utc>,
) -> AppResult<BuildingResponse> {
    let name = clean_name("name", name, NAME_MAX)?;
    let parent = parent::<CompoundResponse, C>(db, actor, Kind::Building, compound_id).await?;
    let am = building::ActiveModel {
        id: Set(Uuid::now_v7()),
        street_id: Set(parent.street_id),
        community_id: Set(parent.community_id),
        compound_id: Set(parent.id),
        name: Set(name),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Ok(tree::insert(db, am, &BUILDING_TAKEN).await?.into())
}

/// Renames a building.
pub async fn update_building<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    name: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<BuildingResponse> {
    let mut am = writable::<BuildingResponse, C>(db, actor, id)
        .await?
        .into_active_model();
    if let Some(name) = name {
        am.name = Set(clean_name("name", name, NAME_MAX)?);
    }
    am.updated_at = Set(now);
    Ok(tree::update(db, am, &BUILDING_TAKEN).await?.into())
}

fn clean_unit(v: Option<&str>) -> AppResult<String> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(String::new()),
        Some(v) => clean_name("unit", v, PART_MAX),
    }
}

/// Creates a household (单元 blank for buildings without units, 房号) in the building
/// `building_id`.
pub async fn create_household<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    building_id: Uuid,
    unit: Option<&str>,
    room: &str,
    kind: HouseholdKind,
    now: DateTime<Utc>,
) -> AppResult<HouseholdResponse> {
    let unit = clean_unit(unit)?;
    let room = clean_name("room", room, PART_MAX)?;
    let parent = parent::<BuildingResponse, C>(db, actor, Kind::Household, building_id).await?;
    let am = household::ActiveModel {
        id: Set(Uuid::now_v7()),
        street_id: Set(parent.street_id),
        community_id: Set(parent.community_id),
        compound_id: Set(parent.compound_id),
        building_id: Set(parent.id),
        unit: Set(unit),
        room: Set(room),
        kind: Set(kind),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Ok(tree::insert(db, am, &HOUSEHOLD_TAKEN).await?.into())
}

/// Changes a household's unit, room or kind.
pub async fn update_household<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    unit: Option<&str>,
    room: Option<&str>,
    kind: Option<HouseholdKind>,
    now: DateTime<Utc>,
) -> AppResult<HouseholdResponse> {
    let mut am = writable::<HouseholdResponse, C>(db, actor, id)
        .await?
        .into_active_model();
    if let Some(unit) = unit {
        am.unit = Set(clean_unit(Some(unit))?);
    }
    if let Some(room) = room {
        am.room = Set(clean_name("room", room, PART_MAX)?);
    }
    if let Some(kind) = kind {
        am.kind = Set(kind);
    }
    am.updated_at = Set(now);
    Ok(tree::update(db, am, &HOUSEHOLD_TAKEN).await?.into())
}

/// What still hangs off the object `id` of `kind`, by what it is (besides role assignments,
/// which [`tree::delete_checked`] counts for every kind).
async fn children<C: ConnectionTrait>(
    db: &C,
    kind: Kind,
    id: Uuid,
) -> AppResult<Vec<(&'static str, u64)>> {
    Ok(match kind {
        Kind::Street => vec![
            (
                "communities",
                count::<community::Entity, _>(db, community::Column::StreetId, id).await?,
            ),
            (
                "property companies",
                count::<property_company::Entity, _>(db, property_company::Column::StreetId, id)
                    .await?,
            ),
        ],
        Kind::Community => vec![
            (
                "compounds",
                count::<compound::Entity, _>(db, compound::Column::CommunityId, id).await?,
            ),
            (
                "grids",
                count::<grid::Entity, _>(db, grid::Column::CommunityId, id).await?,
            ),
        ],
        Kind::PropertyCompany => vec![(
            "compounds served",
            count::<compound::Entity, _>(db, compound::Column::PropertyCompanyId, id).await?,
        )],
        Kind::Compound => vec![
            (
                "buildings",
                count::<building::Entity, _>(db, building::Column::CompoundId, id).await?,
            ),
            (
                "grid areas",
                count::<grid_area::Entity, _>(db, grid_area::Column::CompoundId, id).await?,
            ),
        ],
        Kind::Grid => Vec::new(),
        Kind::Building => vec![
            (
                "households",
                count::<household::Entity, _>(db, household::Column::BuildingId, id).await?,
            ),
            (
                "grid areas",
                count::<grid_area::Entity, _>(db, grid_area::Column::BuildingId, id).await?,
            ),
        ],
        Kind::Household => vec![
            (
                "residents",
                crate::residents::query::counts::residents_in_household(db, id).await?,
            ),
            (
                "binding requests",
                crate::identity::query::counts::binding_requests_for_household(db, id).await?,
            ),
        ],
    })
}

/// Deletes the object `id` of table `E` (of `kind`) when nothing hangs off it any more:
/// 404 unless the caller reads it, 403 unless they may write it, 409 while it has children.
pub async fn delete_object<E, C>(db: &C, actor: &Actor, kind: Kind, id: Uuid) -> AppResult<()>
where
    E: Scoped,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let children = children(db, kind, id).await?;
    tree::delete_checked::<E, C>(db, actor, kind.read(), kind.write(), id, &children).await
}

/// [`delete_object`] for the object a response of type `R` shows.
pub async fn delete<R: Object, C: ConnectionTrait>(db: &C, actor: &Actor, id: Uuid) -> AppResult<()>
where
    <R::Entity as EntityTrait>::Model: Sync,
{
    delete_object::<R::Entity, C>(db, actor, R::KIND, id).await
}
