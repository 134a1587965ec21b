//! Elections (选举, 推选; participation design §A4): an election of a body (居委会, 楼组长, 街面长,
//! 议事会, 邻里大管家) on one node of the territory, its positions and seats, its officers, its
//! candidates and their joint nominators, and the objections to its voter roll. The roll itself,
//! the ballots and the tally are the election's poll's (`poll_id`, the poll engine's tables).
//!
//! - The rules (validity, winning, runoff share, contest, women, timeline, nominators) are
//!   columns of the election: policy a community sets per election, defaulted from §A4.1.
//! - `candidates` is unique on `(election_id, resident_id)`: one position per person per
//!   election. `election_officers` is keyed `(election_id, user_id)`.
//! - A page of elections walks `(street_id | community_id | compound_id | building_id |
//!   scope_id, id)`; the close job walks `(status, voting_ends_at)`.

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

fn int(name: &str) -> ColumnDef {
    ColumnDef::new(a(name)).integer().not_null().to_owned()
}

fn flag(name: &str) -> ColumnDef {
    ColumnDef::new(a(name)).boolean().not_null().to_owned()
}

const ELECTIONS: &str = "elections";

pub(crate) fn election_indexes() -> [IndexCreateStatement; 7] {
    [
        index(ELECTIONS, &["street_id", "id"], false),
        index(ELECTIONS, &["community_id", "id"], false),
        index(ELECTIONS, &["compound_id", "id"], false),
        index(ELECTIONS, &["building_id", "id"], false),
        index(ELECTIONS, &["scope_id", "id"], false),
        index(ELECTIONS, &["status", "voting_ends_at"], false),
        index(ELECTIONS, &["poll_id"], false),
    ]
}

/// The `elections` table; with `poll_fk`, its `poll_id` references `polls` (migration 028
/// rebuilds the table so on SQLite, which cannot add a foreign key to a table).
pub(crate) fn elections_table(poll_fk: bool) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(a(ELECTIONS))
        .col(ColumnDef::new(a("id")).uuid().not_null().primary_key())
        .col(ColumnDef::new(a("street_id")).uuid().not_null())
        .col(ColumnDef::new(a("community_id")).uuid().not_null())
        .col(ColumnDef::new(a("compound_id")).uuid().null())
        .col(ColumnDef::new(a("building_id")).uuid().null())
        .col(ColumnDef::new(a("scope_type")).string_len(16).not_null())
        .col(ColumnDef::new(a("scope_id")).uuid().not_null())
        .col(ColumnDef::new(a("body")).string_len(32).not_null())
        .col(ColumnDef::new(a("title")).string_len(80).not_null())
        .col(ColumnDef::new(a("method")).string_len(16).not_null())
        .col(int("term_years"))
        .col(ColumnDef::new(a("term_starts_on")).date().null())
        .col(int("validity_num"))
        .col(int("validity_den"))
        .col(flag("validity_strict"))
        .col(int("win_num"))
        .col(int("win_den"))
        .col(flag("win_strict"))
        .col(int("runoff_min_num"))
        .col(int("runoff_min_den"))
        .col(flag("contested"))
        .col(int("min_women"))
        .col(int("roll_publish_days"))
        .col(int("candidates_publish_days"))
        .col(int("joint_nominators_min"))
        .col(ColumnDef::new(a("status")).string_len(24).not_null())
        // The poll engine's poll (its roll, ballots and tally); set at publish-roll, replaced
        // by a runoff's poll.
        .col(ColumnDef::new(a("poll_id")).uuid().null())
        .col(at("voting_starts_at", false))
        .col(at("voting_ends_at", false))
        .col(ColumnDef::new(a("certified_by_1")).uuid().null())
        .col(ColumnDef::new(a("certified_by_2")).uuid().null())
        .col(at("certified_at", true))
        .col(at("published_at", true))
        // Why it was voided or cancelled.
        .col(ColumnDef::new(a("end_reason")).string_len(500).null())
        // The position a runoff is for, while one runs.
        .col(ColumnDef::new(a("runoff_position_id")).uuid().null())
        .col(int("version"))
        .col(ColumnDef::new(a("created_by")).uuid().not_null())
        .col(at("created_at", false))
        .col(at("updated_at", false));
    if poll_fk {
        t.foreign_key(&mut fk(ELECTIONS, "poll_id", "polls", false));
    }
    t.to_owned()
}

async fn elections(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(elections_table(false)).await?;
    for i in election_indexes() {
        m.create_index(i).await?;
    }
    Ok(())
}

async fn positions(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table(a("election_positions"))
            .col(ColumnDef::new(a("id")).uuid().not_null().primary_key())
            .col(ColumnDef::new(a("election_id")).uuid().not_null())
            .col(int("sort"))
            .col(ColumnDef::new(a("position")).string_len(80).not_null())
            .col(ColumnDef::new(a("title")).string_len(320).not_null())
            .col(int("seats"))
            .col(int("min_candidates"))
            // Seats still open after the first count (a runoff fills them).
            .col(int("seats_filled"))
            .foreign_key(&mut fk(
                "election_positions",
                "election_id",
                ELECTIONS,
                true,
            ))
            .to_owned(),
    )
    .await?;
    m.create_index(index("election_positions", &["election_id", "sort"], false))
        .await
}

async fn officers(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table(a("election_officers"))
            .col(ColumnDef::new(a("election_id")).uuid().not_null())
            .col(ColumnDef::new(a("user_id")).uuid().not_null())
            .col(ColumnDef::new(a("role")).string_len(16).not_null())
            .col(ColumnDef::new(a("display_name")).string_len(400).not_null())
            .col(at("created_at", false))
            .primary_key(Index::create().col(a("election_id")).col(a("user_id")))
            .foreign_key(&mut fk("election_officers", "election_id", ELECTIONS, true))
            .foreign_key(&mut fk("election_officers", "user_id", "users", false))
            .to_owned(),
    )
    .await
}

async fn candidates(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table(a("candidates"))
            .col(ColumnDef::new(a("id")).uuid().not_null().primary_key())
            .col(ColumnDef::new(a("election_id")).uuid().not_null())
            .col(ColumnDef::new(a("position_id")).uuid().not_null())
            .col(ColumnDef::new(a("resident_id")).uuid().not_null())
            .col(ColumnDef::new(a("user_id")).uuid().null())
            .col(ColumnDef::new(a("display_name")).string_len(400).not_null())
            .col(ColumnDef::new(a("gender")).string_len(16).null())
            .col(ColumnDef::new(a("statement")).string_len(2000).not_null())
            .col(ColumnDef::new(a("photo_attachment_id")).uuid().null())
            .col(
                ColumnDef::new(a("nomination_kind"))
                    .string_len(16)
                    .not_null(),
            )
            .col(int("nominators_count"))
            .col(ColumnDef::new(a("status")).string_len(16).not_null())
            .col(ColumnDef::new(a("reason")).string_len(2000).null())
            .col(ColumnDef::new(a("votes")).integer().null())
            .col(ColumnDef::new(a("rank")).integer().null())
            .col(ColumnDef::new(a("created_by")).uuid().not_null())
            .col(at("created_at", false))
            .col(at("updated_at", false))
            .foreign_key(&mut fk("candidates", "election_id", ELECTIONS, true))
            .foreign_key(&mut fk(
                "candidates",
                "position_id",
                "election_positions",
                true,
            ))
            .to_owned(),
    )
    .await?;
    m.create_index(index("candidates", &["election_id", "resident_id"], true))
        .await?;
    m.create_index(index("candidates", &["election_id", "id"], false))
        .await?;
    m.create_index(index("candidates", &["user_id"], false))
        .await
}

async fn nominators(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table(a("candidate_nominators"))
            .col(ColumnDef::new(a("candidate_id")).uuid().not_null())
            .col(ColumnDef::new(a("resident_id")).uuid().not_null())
            .col(at("created_at", false))
            .primary_key(Index::create().col(a("candidate_id")).col(a("resident_id")))
            .foreign_key(&mut fk(
                "candidate_nominators",
                "candidate_id",
                "candidates",
                true,
            ))
            .to_owned(),
    )
    .await
}

async fn objections(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table(a("roll_objections"))
            .col(ColumnDef::new(a("id")).uuid().not_null().primary_key())
            .col(ColumnDef::new(a("election_id")).uuid().not_null())
            .col(ColumnDef::new(a("by_user_id")).uuid().not_null())
            .col(ColumnDef::new(a("resident_id")).uuid().not_null())
            .col(ColumnDef::new(a("kind")).string_len(16).not_null())
            .col(ColumnDef::new(a("reason")).string_len(2000).not_null())
            .col(ColumnDef::new(a("status")).string_len(16).not_null())
            .col(ColumnDef::new(a("decided_by")).uuid().null())
            .col(ColumnDef::new(a("decision_note")).string_len(2000).null())
            .col(at("decided_at", true))
            .col(at("created_at", false))
            .foreign_key(&mut fk("roll_objections", "election_id", ELECTIONS, true))
            .to_owned(),
    )
    .await?;
    m.create_index(index(
        "roll_objections",
        &["election_id", "status", "id"],
        false,
    ))
    .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        elections(m).await?;
        positions(m).await?;
        officers(m).await?;
        candidates(m).await?;
        nominators(m).await?;
        objections(m).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "roll_objections",
            "candidate_nominators",
            "candidates",
            "election_officers",
            "election_positions",
            ELECTIONS,
        ] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        Ok(())
    }
}
