//! Territory, staff identity and role assignments.
//!
//! Scoped tables carry the ids of every level above them (`street_id`, `community_id`, ...), so
//! the scope filter is one indexed condition. Parents are immutable after creation, which keeps
//! those copies true.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn ts(t: TableCreateStatement) -> TableCreateStatement {
    let mut t = t;
    t.col(timestamp_with_time_zone(Alias::new("created_at")))
        .col(timestamp_with_time_zone(Alias::new("updated_at")));
    t
}

fn id() -> ColumnDef {
    uuid(Alias::new("id")).primary_key().to_owned()
}

fn uid(name: &str) -> ColumnDef {
    uuid(Alias::new(name))
}

fn uid_null(name: &str) -> ColumnDef {
    uuid_null(Alias::new(name))
}

fn name_col() -> ColumnDef {
    string_len(Alias::new("name"), 100)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let tables: Vec<(TableCreateStatement, Vec<IndexCreateStatement>)> = vec![
            (
                ts(Table::create()
                    .table(Alias::new("streets"))
                    .col(id())
                    .col(name_col())
                    .to_owned()),
                vec![index("streets", &["name"], true)],
            ),
            (
                ts(Table::create()
                    .table(Alias::new("communities"))
                    .col(id())
                    .col(uid("street_id"))
                    .col(name_col())
                    .foreign_key(&mut fk("communities", "street_id", "streets", false))
                    .to_owned()),
                vec![index("communities", &["street_id", "name"], true)],
            ),
            (
                ts(Table::create()
                    .table(Alias::new("property_companies"))
                    .col(id())
                    .col(uid("street_id"))
                    .col(name_col())
                    .col(string_len_null(Alias::new("contact_phone"), 32))
                    .foreign_key(&mut fk("property_companies", "street_id", "streets", false))
                    .to_owned()),
                vec![index("property_companies", &["street_id", "name"], true)],
            ),
            (
                ts(Table::create()
                    .table(Alias::new("compounds"))
                    .col(id())
                    .col(uid("street_id"))
                    .col(uid("community_id"))
                    .col(uid_null("property_company_id"))
                    .col(name_col())
                    .col(string_len_null(Alias::new("address"), 200))
                    .foreign_key(&mut fk("compounds", "community_id", "communities", false))
                    .foreign_key(&mut fk(
                        "compounds",
                        "property_company_id",
                        "property_companies",
                        false,
                    ))
                    .to_owned()),
                vec![
                    index("compounds", &["community_id", "name"], true),
                    index("compounds", &["street_id"], false),
                    index("compounds", &["property_company_id"], false),
                ],
            ),
            (
                ts(Table::create()
                    .table(Alias::new("grids"))
                    .col(id())
                    .col(uid("street_id"))
                    .col(uid("community_id"))
                    .col(name_col())
                    .foreign_key(&mut fk("grids", "community_id", "communities", false))
                    .to_owned()),
                vec![
                    index("grids", &["community_id", "name"], true),
                    index("grids", &["street_id"], false),
                ],
            ),
            (
                ts(Table::create()
                    .table(Alias::new("buildings"))
                    .col(id())
                    .col(uid("street_id"))
                    .col(uid("community_id"))
                    .col(uid("compound_id"))
                    .col(name_col())
                    .foreign_key(&mut fk("buildings", "compound_id", "compounds", false))
                    .to_owned()),
                vec![
                    index("buildings", &["compound_id", "name"], true),
                    index("buildings", &["community_id"], false),
                    index("buildings", &["street_id"], false),
                ],
            ),
            (
                // A grid covers whole compounds or single buildings: exactly one of the two is set.
                Table::create()
                    .table(Alias::new("grid_areas"))
                    .col(id())
                    .col(uid("grid_id"))
                    .col(uid_null("compound_id"))
                    .col(uid_null("building_id"))
                    .foreign_key(&mut fk("grid_areas", "grid_id", "grids", true))
                    .foreign_key(&mut fk("grid_areas", "compound_id", "compounds", false))
                    .foreign_key(&mut fk("grid_areas", "building_id", "buildings", false))
                    .to_owned(),
                vec![
                    index("grid_areas", &["grid_id"], false),
                    index("grid_areas", &["compound_id"], false),
                    index("grid_areas", &["building_id"], false),
                ],
            ),
            (
                ts(Table::create()
                    .table(Alias::new("households"))
                    .col(id())
                    .col(uid("street_id"))
                    .col(uid("community_id"))
                    .col(uid("compound_id"))
                    .col(uid("building_id"))
                    .col(string_len(Alias::new("unit"), 20))
                    .col(string_len(Alias::new("room"), 20))
                    .foreign_key(&mut fk("households", "building_id", "buildings", false))
                    .to_owned()),
                vec![
                    index("households", &["building_id", "unit", "room"], true),
                    index("households", &["compound_id"], false),
                    index("households", &["community_id"], false),
                    index("households", &["street_id"], false),
                ],
            ),
            (
                ts(Table::create()
                    .table(Alias::new("users"))
                    .col(id())
                    .col(string_len_null(Alias::new("username"), 64))
                    .col(string_len_null(Alias::new("password_hash"), 255))
                    .col(string_len(Alias::new("display_name"), 100))
                    .col(boolean(Alias::new("is_active")))
                    // Deployment-wide administrator (the bootstrap admin): may act on every street.
                    .col(boolean(Alias::new("is_superadmin")))
                    .to_owned()),
                vec![index("users", &["username"], true)],
            ),
            (
                Table::create()
                    .table(Alias::new("role_assignments"))
                    .col(id())
                    .col(uid("user_id"))
                    .col(string_len(Alias::new("role"), 32))
                    .col(string_len(Alias::new("scope_type"), 32))
                    .col(uid("scope_id"))
                    // The street the scope object lies in, so admins' lists filter on one column.
                    .col(uid("street_id"))
                    .col(timestamp_with_time_zone(Alias::new("created_at")))
                    .foreign_key(&mut fk("role_assignments", "user_id", "users", true))
                    .to_owned(),
                vec![
                    index("role_assignments", &["user_id", "role", "scope_id"], true),
                    index("role_assignments", &["scope_id"], false),
                    index("role_assignments", &["street_id"], false),
                ],
            ),
            (
                Table::create()
                    .table(Alias::new("refresh_tokens"))
                    .col(id())
                    .col(uid("user_id"))
                    .col(uid("family_id"))
                    .col(string_len(Alias::new("token_hash"), 64))
                    .col(timestamp_with_time_zone(Alias::new("expires_at")))
                    .col(timestamp_with_time_zone_null(Alias::new("used_at")))
                    .col(timestamp_with_time_zone_null(Alias::new("revoked_at")))
                    .col(timestamp_with_time_zone(Alias::new("created_at")))
                    .foreign_key(&mut fk("refresh_tokens", "user_id", "users", true))
                    .to_owned(),
                vec![
                    index("refresh_tokens", &["token_hash"], true),
                    index("refresh_tokens", &["family_id"], false),
                    index("refresh_tokens", &["user_id"], false),
                ],
            ),
        ];
        for (table, indexes) in tables {
            m.create_table(table).await?;
            for i in indexes {
                m.create_index(i).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "refresh_tokens",
            "role_assignments",
            "users",
            "households",
            "grid_areas",
            "buildings",
            "grids",
            "compounds",
            "property_companies",
            "communities",
            "streets",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
