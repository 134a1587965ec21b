//! The names a page of tickets refers to by id — category, community, compound, building,
//! household (unit and room), property company (with its public contact phone), handler, and
//! the tickets on the other side of a merge — fetched in ONE statement (a `UNION ALL` of
//! primary-key lookups), whatever the page size. Screens show names, not ids; a resident reading
//! their own ticket gets them here without reading the territory (which would be 404 for them).

use std::collections::{BTreeSet, HashMap};

use sea_orm::sea_query::{
    Alias, Expr, Iden, IntoIden, Query, SelectStatement, SimpleExpr, SubQueryStatement, UnionType,
};
use sea_orm::{ActiveEnum, ConnectionTrait, EntityName};
use uuid::Uuid;

use crate::platform::error::AppResult;
use crate::tickets::model::Status;
use entity::{
    building, community, compound, household, property_company, ticket, ticket_category, user,
};

/// The ids to look up.
#[derive(Debug, Default)]
pub struct Wanted {
    pub categories: BTreeSet<Uuid>,
    pub communities: BTreeSet<Uuid>,
    pub compounds: BTreeSet<Uuid>,
    pub buildings: BTreeSet<Uuid>,
    pub households: BTreeSet<Uuid>,
    pub companies: BTreeSet<Uuid>,
    pub users: BTreeSet<Uuid>,
    pub tickets: BTreeSet<Uuid>,
}

impl Wanted {
    /// What `t` refers to (not the tickets of a merge: add those where they are shown).
    pub fn add(&mut self, t: &ticket::Model) {
        self.categories.insert(t.category_id);
        self.communities.insert(t.community_id);
        self.compounds.insert(t.compound_id);
        self.buildings.extend(t.building_id);
        self.households.extend(t.household_id);
        self.companies.extend(t.assigned_company_id);
        self.users.extend(t.handler_user_id);
    }
}

/// A household's place: its unit and room, and its building's name.
#[derive(Debug, Clone, Default)]
pub struct HouseholdPlace {
    pub unit: String,
    pub room: String,
    pub building_name: String,
}

#[derive(Debug, Clone, Default)]
pub struct Company {
    pub name: String,
    pub contact_phone: Option<String>,
}

/// Another ticket as far as a merge shows it: what it is about and where it stands.
#[derive(Debug, Clone)]
pub struct TicketRef {
    pub title: String,
    pub status: Status,
}

#[derive(Debug, Default)]
pub struct Names {
    pub categories: HashMap<Uuid, String>,
    pub communities: HashMap<Uuid, String>,
    pub compounds: HashMap<Uuid, String>,
    pub buildings: HashMap<Uuid, String>,
    pub households: HashMap<Uuid, HouseholdPlace>,
    pub companies: HashMap<Uuid, Company>,
    pub users: HashMap<Uuid, String>,
    pub tickets: HashMap<Uuid, TicketRef>,
}

#[derive(Clone, Copy)]
enum Kind {
    Category,
    Community,
    Compound,
    Building,
    Household,
    Company,
    User,
    Ticket,
}

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::Category,
        Kind::Community,
        Kind::Compound,
        Kind::Building,
        Kind::Household,
        Kind::Company,
        Kind::User,
        Kind::Ticket,
    ];

    fn tag(self) -> &'static str {
        match self {
            Kind::Category => "category",
            Kind::Community => "community",
            Kind::Compound => "compound",
            Kind::Building => "building",
            Kind::Household => "household",
            Kind::Company => "company",
            Kind::User => "user",
            Kind::Ticket => "ticket",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.tag() == s)
    }
}

fn null() -> SimpleExpr {
    Expr::val(Option::<String>::None).into()
}

fn col(table: impl IntoIden, c: impl Iden + 'static) -> SimpleExpr {
    Expr::col((table.into_iden(), c.into_iden())).into()
}

/// `SELECT '<kind>' AS k, id, a, b, c FROM <table> WHERE id IN (ids)`; None for no ids.
fn part<T>(
    kind: Kind,
    table: T,
    ids: &BTreeSet<Uuid>,
    [a, b, c]: [SimpleExpr; 3],
) -> Option<SelectStatement>
where
    T: EntityName + Iden + Copy + 'static,
{
    if ids.is_empty() {
        return None;
    }
    let q = Query::select()
        .expr_as(Expr::val(kind.tag()), Alias::new("k"))
        .expr_as(col(table, Alias::new("id")), Alias::new("id"))
        .expr_as(a, Alias::new("a"))
        .expr_as(b, Alias::new("b"))
        .expr_as(c, Alias::new("c"))
        .from(table)
        .and_where(Expr::col((table, Alias::new("id"))).is_in(ids.iter().copied()))
        .to_owned();
    Some(q)
}

/// [`part`] for a table of which only the name is wanted.
fn named<T>(
    kind: Kind,
    table: T,
    ids: &BTreeSet<Uuid>,
    name: impl Iden + 'static,
) -> Option<SelectStatement>
where
    T: EntityName + Iden + Copy + 'static,
{
    part(kind, table, ids, [col(table, name), null(), null()])
}

/// Looks up everything `w` names in one statement (none when it names nothing).
pub async fn lookup<C: ConnectionTrait>(db: &C, w: &Wanted) -> AppResult<Names> {
    let building_of_household = SimpleExpr::SubQuery(
        None,
        Box::new(SubQueryStatement::SelectStatement(
            Query::select()
                .expr(col(building::Entity, building::Column::Name))
                .from(building::Entity)
                .and_where(
                    Expr::col((building::Entity, building::Column::Id))
                        .equals((household::Entity, household::Column::BuildingId)),
                )
                .to_owned(),
        )),
    );
    let parts: Vec<SelectStatement> = [
        named(
            Kind::Category,
            ticket_category::Entity,
            &w.categories,
            ticket_category::Column::Name,
        ),
        named(
            Kind::Community,
            community::Entity,
            &w.communities,
            community::Column::Name,
        ),
        named(
            Kind::Compound,
            compound::Entity,
            &w.compounds,
            compound::Column::Name,
        ),
        named(
            Kind::Building,
            building::Entity,
            &w.buildings,
            building::Column::Name,
        ),
        part(
            Kind::Household,
            household::Entity,
            &w.households,
            [
                col(household::Entity, household::Column::Unit),
                col(household::Entity, household::Column::Room),
                building_of_household,
            ],
        ),
        part(
            Kind::Company,
            property_company::Entity,
            &w.companies,
            [
                col(property_company::Entity, property_company::Column::Name),
                col(
                    property_company::Entity,
                    property_company::Column::ContactPhone,
                ),
                null(),
            ],
        ),
        named(
            Kind::User,
            user::Entity,
            &w.users,
            user::Column::DisplayName,
        ),
        part(
            Kind::Ticket,
            ticket::Entity,
            &w.tickets,
            [
                col(ticket::Entity, ticket::Column::Title),
                col(ticket::Entity, ticket::Column::Status),
                null(),
            ],
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut parts = parts.into_iter();
    let Some(mut q) = parts.next() else {
        return Ok(Names::default());
    };
    for p in parts {
        q.union(UnionType::All, p);
    }
    let rows = db.query_all(db.get_database_backend().build(&q)).await?;
    let mut out = Names::default();
    for r in rows {
        let k: String = r.try_get("", "k")?;
        let id: Uuid = r.try_get("", "id")?;
        let a: Option<String> = r.try_get("", "a")?;
        let b: Option<String> = r.try_get("", "b")?;
        let c: Option<String> = r.try_get("", "c")?;
        let a = a.unwrap_or_default();
        match Kind::parse(&k) {
            Some(Kind::Category) => {
                out.categories.insert(id, a);
            }
            Some(Kind::Community) => {
                out.communities.insert(id, a);
            }
            Some(Kind::Compound) => {
                out.compounds.insert(id, a);
            }
            Some(Kind::Building) => {
                out.buildings.insert(id, a);
            }
            Some(Kind::Household) => {
                out.households.insert(
                    id,
                    HouseholdPlace {
                        unit: a,
                        room: b.unwrap_or_default(),
                        building_name: c.unwrap_or_default(),
                    },
                );
            }
            Some(Kind::Company) => {
                out.companies.insert(
                    id,
                    Company {
                        name: a,
                        contact_phone: b,
                    },
                );
            }
            Some(Kind::User) => {
                out.users.insert(id, a);
            }
            Some(Kind::Ticket) => {
                if let Some(status) = b.and_then(|b| Status::try_from_value(&b).ok()) {
                    out.tickets.insert(id, TicketRef { title: a, status });
                }
            }
            None => {}
        }
    }
    Ok(out)
}
