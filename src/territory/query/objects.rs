//! The territory's objects as screens show them (streets, communities, property companies,
//! compounds, buildings, households), and the list and get every one of them answers alike.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::policy::{self, Action, Level, Scoped};
use crate::access::Actor;
use crate::platform::error::AppResult;
use crate::platform::paging::{Page, PageParams};
use crate::territory::model::{CompoundKind, HouseholdKind};
use crate::territory::service::tree;
use entity::{building, community, compound, household, property_company, street};

/// Which object of the territory a response shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Street,
    Community,
    PropertyCompany,
    Compound,
    Grid,
    Building,
    Household,
}

impl Kind {
    /// What reads an object of this kind.
    pub fn read(self) -> Action {
        match self {
            Kind::Street => Action::StreetRead,
            Kind::Community => Action::CommunityRead,
            Kind::PropertyCompany => Action::PropertyCompanyRead,
            Kind::Compound => Action::CompoundRead,
            Kind::Grid => Action::GridRead,
            Kind::Building => Action::BuildingRead,
            Kind::Household => Action::HouseholdRead,
        }
    }

    /// What changes or deletes an object of this kind.
    pub fn write(self) -> Action {
        match self {
            Kind::Street => Action::StreetWrite,
            Kind::Community => Action::CommunityWrite,
            Kind::PropertyCompany => Action::PropertyCompanyWrite,
            Kind::Compound => Action::CompoundWrite,
            Kind::Grid => Action::GridWrite,
            Kind::Building => Action::BuildingWrite,
            Kind::Household => Action::HouseholdWrite,
        }
    }
}

/// A response showing one row of a territory table as it is.
pub trait Object: From<<Self::Entity as EntityTrait>::Model> + ToSchema {
    type Entity: Scoped;
    const KIND: Kind;
}

/// One page of the objects the caller may read, under every territory object of `within`
/// (the list's parent filters), in creation order.
pub async fn list<R: Object, C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    within: &[(Level, Uuid)],
    p: PageParams,
) -> AppResult<Page<R>> {
    list_where::<R, C>(db, actor, within, Condition::all(), p).await
}

async fn list_where<R: Object, C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    within: &[(Level, Uuid)],
    filter: Condition,
    p: PageParams,
) -> AppResult<Page<R>> {
    let (rows, next_cursor) =
        tree::list_page::<R::Entity, C>(db, actor, R::KIND.read(), within, filter, p).await?;
    Ok(Page {
        items: rows.into_iter().map(R::from).collect(),
        next_cursor,
    })
}

/// The compounds the caller may read, of a community and served by a property company when
/// given.
pub async fn list_compounds<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    community_id: Option<Uuid>,
    property_company_id: Option<Uuid>,
    p: PageParams,
) -> AppResult<Page<CompoundResponse>> {
    let mut filter = Condition::all();
    let mut within = Vec::new();
    if let Some(c) = community_id {
        within.push((Level::Community, c));
    }
    if let Some(c) = property_company_id {
        filter = filter.add(compound::Column::PropertyCompanyId.eq(c));
    }
    list_where::<CompoundResponse, C>(db, actor, &within, filter, p).await
}

/// The kind of compound `id`; None when there is no such compound.
pub async fn compound_kind<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> AppResult<Option<CompoundKind>> {
    Ok(compound::Entity::find_by_id(id)
        .select_only()
        .column(compound::Column::Kind)
        .into_tuple()
        .one(db)
        .await?)
}

/// An object the caller may read, else 404.
pub async fn get<R: Object, C: ConnectionTrait>(db: &C, actor: &Actor, id: Uuid) -> AppResult<R> {
    policy::find_visible::<R::Entity, C>(db, actor, R::KIND.read(), id)
        .await
        .map(R::from)
}

macro_rules! object {
    ($response:ty, $table:ident, $kind:ident) => {
        impl Object for $response {
            type Entity = $table::Entity;
            const KIND: Kind = Kind::$kind;
        }
    };
}

object!(StreetResponse, street, Street);
object!(CommunityResponse, community, Community);
object!(PropertyCompanyResponse, property_company, PropertyCompany);
object!(CompoundResponse, compound, Compound);
object!(BuildingResponse, building, Building);
object!(HouseholdResponse, household, Household);

#[derive(Serialize, ToSchema)]
pub struct StreetResponse {
    pub id: Uuid,
    pub name: String,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

impl From<street::Model> for StreetResponse {
    fn from(m: street::Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CommunityResponse {
    pub id: Uuid,
    pub street_id: Uuid,
    pub name: String,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

impl From<community::Model> for CommunityResponse {
    fn from(m: community::Model) -> Self {
        Self {
            id: m.id,
            street_id: m.street_id,
            name: m.name,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PropertyCompanyResponse {
    pub id: Uuid,
    pub street_id: Uuid,
    pub name: String,
    pub contact_phone: Option<String>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

impl From<property_company::Model> for PropertyCompanyResponse {
    fn from(m: property_company::Model) -> Self {
        Self {
            id: m.id,
            street_id: m.street_id,
            name: m.name,
            contact_phone: m.contact_phone,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CompoundResponse {
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub property_company_id: Option<Uuid>,
    pub name: String,
    pub address: Option<String>,
    pub kind: CompoundKind,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

impl From<compound::Model> for CompoundResponse {
    fn from(m: compound::Model) -> Self {
        Self {
            id: m.id,
            street_id: m.street_id,
            community_id: m.community_id,
            property_company_id: m.property_company_id,
            name: m.name,
            address: m.address,
            kind: m.kind,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct BuildingResponse {
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Uuid,
    pub name: String,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

impl From<building::Model> for BuildingResponse {
    fn from(m: building::Model) -> Self {
        Self {
            id: m.id,
            street_id: m.street_id,
            community_id: m.community_id,
            compound_id: m.compound_id,
            name: m.name,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct HouseholdResponse {
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub compound_id: Uuid,
    pub building_id: Uuid,
    /// Empty when the building has no units.
    pub unit: String,
    pub room: String,
    pub kind: HouseholdKind,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub updated_at: DateTime<Utc>,
}

impl From<household::Model> for HouseholdResponse {
    fn from(m: household::Model) -> Self {
        Self {
            id: m.id,
            street_id: m.street_id,
            community_id: m.community_id,
            compound_id: m.compound_id,
            building_id: m.building_id,
            unit: m.unit,
            room: m.room,
            kind: m.kind,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}
