//! Notices (公告, participation design §B1): addressed to one node of the territory (`scope_type`,
//! `scope_id`, with the usual ancestor ids so staff's downward scope filters them like any other
//! row), optionally to residents carrying some tags; published once, when the recipients are
//! written in one statement; read and confirmed by each recipient once; households reached by a
//! member's read or a leader's offline visit, call or board posting, counted once each.
//!
//! - `notice_recipients.sort_key` is a v7 id drawn at publication, shared by all the notice's
//!   recipients: a resident's list walks `(user_id, is_read, sort_key)` newest publication first,
//!   unread before read, without a sort.
//! - A page of notices walks `(street_id | community_id | compound_id | building_id | scope_id,
//!   id)` backwards, one range per term of the reader's reach, and merges.
//! - `notice_household_reach` holds one row per reached household (PRIMARY KEY), whichever came
//!   first: a read (`how = read`) or an offline record (`visit|phone|board`); inserting it is what
//!   decides whether `households_reached` grows.

use sea_orm_migration::prelude::*;

use crate::util::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(name: &str) -> Alias {
    Alias::new(name)
}

fn at(name: &str, null: bool) -> ColumnDef {
    let mut c = ColumnDef::new(a(name));
    c.timestamp_with_time_zone();
    if null {
        c.null();
    } else {
        c.not_null();
    }
    c
}

fn count(name: &str) -> ColumnDef {
    ColumnDef::new(a(name))
        .integer()
        .not_null()
        .default(0)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a("notices"))
                .col(ColumnDef::new(a("id")).uuid().not_null().primary_key())
                .col(ColumnDef::new(a("street_id")).uuid().not_null())
                .col(ColumnDef::new(a("community_id")).uuid().null())
                .col(ColumnDef::new(a("compound_id")).uuid().null())
                .col(ColumnDef::new(a("building_id")).uuid().null())
                .col(ColumnDef::new(a("scope_type")).string_len(16).not_null())
                .col(ColumnDef::new(a("scope_id")).uuid().not_null())
                // JSON array of tags; empty: every resident in scope.
                .col(ColumnDef::new(a("audience_tags")).text().not_null())
                .col(ColumnDef::new(a("include_shops")).boolean().not_null())
                .col(ColumnDef::new(a("category")).string_len(16).not_null())
                .col(ColumnDef::new(a("title")).string_len(50).not_null())
                .col(ColumnDef::new(a("body")).text().not_null())
                .col(ColumnDef::new(a("priority")).string_len(16).not_null())
                .col(
                    ColumnDef::new(a("requires_confirmation"))
                        .boolean()
                        .not_null(),
                )
                .col(at("publish_at", true))
                .col(at("expires_at", true))
                .col(at("pinned_until", true))
                .col(ColumnDef::new(a("status")).string_len(16).not_null())
                .col(ColumnDef::new(a("review_label")).string_len(64).null())
                .col(ColumnDef::new(a("review_note")).string_len(500).null())
                .col(ColumnDef::new(a("sort_key")).uuid().null())
                .col(count("recipients_count"))
                .col(count("read_count"))
                .col(count("confirmed_count"))
                .col(count("households_total"))
                .col(count("households_reached"))
                .col(ColumnDef::new(a("created_by")).uuid().not_null())
                .col(ColumnDef::new(a("created_by_name")).string().not_null())
                .col(ColumnDef::new(a("published_by")).uuid().null())
                .col(ColumnDef::new(a("published_by_name")).string().null())
                .col(at("published_at", true))
                .col(at("withdrawn_at", true))
                .col(ColumnDef::new(a("withdrawn_reason")).string_len(500).null())
                .col(ColumnDef::new(a("version")).integer().not_null().default(1))
                .col(at("created_at", false))
                .col(at("updated_at", false))
                .foreign_key(&mut fk("notices", "street_id", "streets", false))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("notice_recipients"))
                .col(ColumnDef::new(a("notice_id")).uuid().not_null())
                .col(ColumnDef::new(a("user_id")).uuid().not_null())
                .col(ColumnDef::new(a("sort_key")).uuid().not_null())
                .col(ColumnDef::new(a("household_id")).uuid().null())
                .col(ColumnDef::new(a("building_id")).uuid().null())
                .col(ColumnDef::new(a("is_read")).boolean().not_null())
                .col(at("read_at", true))
                .col(at("confirmed_at", true))
                .col(at("created_at", false))
                .primary_key(Index::create().col(a("notice_id")).col(a("user_id")))
                .foreign_key(&mut fk("notice_recipients", "notice_id", "notices", true))
                .foreign_key(&mut fk("notice_recipients", "user_id", "users", true))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("notice_household_reach"))
                .col(ColumnDef::new(a("notice_id")).uuid().not_null())
                .col(ColumnDef::new(a("household_id")).uuid().not_null())
                .col(ColumnDef::new(a("building_id")).uuid().not_null())
                .col(ColumnDef::new(a("how")).string_len(16).not_null())
                .col(ColumnDef::new(a("by_user_id")).uuid().null())
                .col(ColumnDef::new(a("note")).string_len(200).null())
                .col(at("created_at", false))
                .primary_key(Index::create().col(a("notice_id")).col(a("household_id")))
                .foreign_key(&mut fk(
                    "notice_household_reach",
                    "notice_id",
                    "notices",
                    true,
                ))
                .foreign_key(&mut fk(
                    "notice_household_reach",
                    "household_id",
                    "households",
                    true,
                ))
                .to_owned(),
        )
        .await?;
        for i in [
            index("notices", &["scope_id", "id"], false),
            index("notices", &["street_id", "id"], false),
            index("notices", &["community_id", "id"], false),
            index("notices", &["compound_id", "id"], false),
            index("notices", &["building_id", "id"], false),
            index("notices", &["status", "publish_at"], false),
            index("notices", &["status", "community_id", "id"], false),
            index(
                "notice_recipients",
                &["user_id", "is_read", "sort_key"],
                false,
            ),
            index("notice_recipients", &["notice_id", "building_id"], false),
            index(
                "notice_household_reach",
                &["notice_id", "building_id"],
                false,
            ),
        ] {
            m.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["notice_household_reach", "notice_recipients", "notices"] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        Ok(())
    }
}
