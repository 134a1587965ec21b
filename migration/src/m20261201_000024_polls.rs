//! Polls (participation design §A3): one engine for stand-alone votes, proposal decisions and
//! evaluations, and elections.
//!
//! - `polls` carries its place like every audience-bearing table (`scope_type`, `scope_id` and the
//!   ancestor ids), its rules as integer fractions, and the counters the casting transaction
//!   bumps (`ballots_cast`, `paper_issued`): the conditional update of that row is what
//!   serialises a cast with the close.
//! - `poll_roll` is the frozen voter roll, one row per voter key (a resident, or a household in
//!   household mode). `voted_at` and `cast_by_user_id` are only ever filled for open polls.
//! - Secret ballot, Level 1: `poll_ballots` has a random (v4) id, no timestamp, no sequence, and a
//!   `voter_key` that stays null for secret polls; `ballot_choices` has no timestamp either.
//! - `poll_tallies` is append-only (close, paper, recount); `poll_results` holds the latest
//!   tally's counts per option.

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
    ColumnDef::new(a(name))
        .integer()
        .not_null()
        .default(0)
        .to_owned()
}

fn uuid(name: &str, null: bool) -> ColumnDef {
    let mut c = ColumnDef::new(a(name));
    c.uuid();
    if null {
        c.null();
    } else {
        c.not_null();
    }
    c
}

fn text(name: &str, len: u32, null: bool) -> ColumnDef {
    let mut c = ColumnDef::new(a(name));
    c.string_len(len);
    if null {
        c.null();
    } else {
        c.not_null();
    }
    c
}

fn flag(name: &str) -> ColumnDef {
    ColumnDef::new(a(name)).boolean().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a("polls"))
                .col(uuid("id", false).primary_key())
                .col(uuid("street_id", false))
                .col(uuid("community_id", true))
                .col(uuid("compound_id", true))
                .col(uuid("building_id", true))
                .col(text("scope_type", 16, false))
                .col(uuid("scope_id", false))
                .col(text("subject_type", 24, false))
                .col(uuid("subject_id", true))
                .col(text("title", 80, false))
                .col(ColumnDef::new(a("description")).text().not_null())
                .col(text("secrecy", 8, false))
                .col(text("unit", 16, false))
                // JSON {min_age, tags_any, tags_all, include_shops, include_needs_review}.
                .col(ColumnDef::new(a("eligibility")).text().not_null())
                .col(text("preset", 24, false))
                .col(int("quorum_num"))
                .col(int("quorum_den"))
                .col(flag("quorum_strict"))
                .col(int("threshold_num"))
                .col(int("threshold_den"))
                .col(flag("threshold_strict"))
                .col(text("threshold_base", 16, false))
                .col(flag("abstain_in_quorum"))
                .col(flag("abstain_in_threshold_base"))
                .col(text("results_visibility", 16, false))
                .col(at("opens_at", false))
                .col(at("closes_at", false))
                .col(text("status", 16, false))
                // When the roll was built from the roster (at open, or earlier by an election's
                // publish-roll); opening builds it only when this is null.
                .col(at("roll_built_at", true))
                .col(ColumnDef::new(a("roll_size")).integer().null())
                .col(text("roll_sha256", 64, true))
                .col(int("late_additions"))
                .col(int("ballots_cast"))
                .col(int("paper_issued"))
                .col(uuid("latest_tally_id", true))
                .col(text("outcome", 16, true))
                .col(at("opened_at", true))
                .col(at("closed_at", true))
                .col(text("close_reason", 500, true))
                .col(text("cancel_reason", 500, true))
                .col(ColumnDef::new(a("version")).integer().not_null().default(1))
                .col(uuid("created_by", false))
                .col(ColumnDef::new(a("created_by_name")).string().not_null())
                .col(at("created_at", false))
                .col(at("updated_at", false))
                .foreign_key(&mut fk("polls", "street_id", "streets", false))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("poll_questions"))
                .col(uuid("id", false).primary_key())
                .col(uuid("poll_id", false))
                .col(int("position"))
                .col(text("title", 80, false))
                .col(text("kind", 24, false))
                .col(int("min_choices"))
                .col(int("max_choices"))
                .col(ColumnDef::new(a("seats")).integer().null())
                .foreign_key(&mut fk("poll_questions", "poll_id", "polls", true))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("poll_options"))
                .col(uuid("id", false).primary_key())
                .col(uuid("poll_id", false))
                .col(uuid("question_id", false))
                .col(int("position"))
                .col(text("label", 50, false))
                .col(uuid("candidate_id", true))
                .col(flag("is_abstain"))
                .foreign_key(&mut fk(
                    "poll_options",
                    "question_id",
                    "poll_questions",
                    true,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("poll_roll"))
                .col(uuid("poll_id", false))
                .col(uuid("voter_key", false))
                .col(text("unit", 16, false))
                .col(uuid("household_id", false))
                .col(uuid("resident_id", true))
                .col(uuid("building_id", false))
                .col(text("status", 16, false))
                .col(text("channel", 16, true))
                // Open polls only: who cast and when. Always null for secret polls.
                .col(uuid("cast_by_user_id", true))
                .col(at("voted_at", true))
                .col(flag("late"))
                .col(text("added_reason", 500, true))
                .col(uuid("added_by", true))
                .col(text("struck_reason", 500, true))
                .col(uuid("struck_by", true))
                .col(ColumnDef::new(a("version")).integer().not_null().default(1))
                .primary_key(Index::create().col(a("poll_id")).col(a("voter_key")))
                .foreign_key(&mut fk("poll_roll", "poll_id", "polls", true))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("poll_boxes"))
                .col(uuid("id", false).primary_key())
                .col(uuid("poll_id", false))
                .col(text("label", 30, false))
                .col(int("issued_count"))
                .col(int("marked_count"))
                .col(ColumnDef::new(a("returned_count")).integer().null())
                // JSON [{option_id, votes}] as the first teller entered them.
                .col(ColumnDef::new(a("counts")).text().null())
                .col(text("status", 16, false))
                .col(uuid("entered_by", true))
                .col(uuid("confirmed_by", true))
                .col(at("created_at", false))
                .foreign_key(&mut fk("poll_boxes", "poll_id", "polls", true))
                .to_owned(),
        )
        .await?;
        // Level 1 of the secret ballot: no timestamp, no sequence, v4 ids, no voter for secret
        // polls (see the module comment).
        m.create_table(
            Table::create()
                .table(a("poll_ballots"))
                .col(uuid("id", false).primary_key())
                .col(uuid("poll_id", false))
                .col(uuid("voter_key", true))
                .col(text("source", 16, false))
                .col(uuid("box_id", true))
                .foreign_key(&mut fk("poll_ballots", "poll_id", "polls", true))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("ballot_choices"))
                .col(uuid("ballot_id", false))
                .col(uuid("question_id", false))
                .col(uuid("option_id", false))
                .col(
                    ColumnDef::new(a("score"))
                        .small_integer()
                        .not_null()
                        .default(1),
                )
                .primary_key(
                    Index::create()
                        .col(a("ballot_id"))
                        .col(a("question_id"))
                        .col(a("option_id")),
                )
                .foreign_key(&mut fk("ballot_choices", "ballot_id", "poll_ballots", true))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("poll_tallies"))
                .col(uuid("id", false).primary_key())
                .col(uuid("poll_id", false))
                .col(text("kind", 16, false))
                // JSON {question_id: {option_id: n, "blank": n}}.
                .col(ColumnDef::new(a("counts")).text().not_null())
                .col(int("participants"))
                .col(int("eligible"))
                .col(int("abstentions"))
                .col(flag("quorum_met"))
                .col(text("outcome", 16, false))
                .col(uuid("by_user_id", true))
                .col(uuid("second_user_id", true))
                .col(text("reason", 500, true))
                .col(uuid("supersedes_id", true))
                .col(at("created_at", false))
                .foreign_key(&mut fk("poll_tallies", "poll_id", "polls", true))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("poll_results"))
                .col(uuid("poll_id", false))
                .col(uuid("question_id", false))
                .col(uuid("option_id", false))
                .col(uuid("tally_id", false))
                .col(int("votes"))
                .col(int("rank"))
                .col(ColumnDef::new(a("elected")).boolean().null())
                .primary_key(
                    Index::create()
                        .col(a("poll_id"))
                        .col(a("question_id"))
                        .col(a("option_id")),
                )
                .foreign_key(&mut fk("poll_results", "poll_id", "polls", true))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("poll_officers"))
                .col(uuid("poll_id", false))
                .col(uuid("user_id", false))
                .col(text("role", 16, false))
                .primary_key(Index::create().col(a("poll_id")).col(a("user_id")))
                .foreign_key(&mut fk("poll_officers", "poll_id", "polls", true))
                .foreign_key(&mut fk("poll_officers", "user_id", "users", true))
                .to_owned(),
        )
        .await?;
        for i in [
            index("polls", &["scope_id", "id"], false),
            index("polls", &["street_id", "id"], false),
            index("polls", &["community_id", "id"], false),
            index("polls", &["compound_id", "id"], false),
            index("polls", &["building_id", "id"], false),
            index("polls", &["status", "opens_at"], false),
            index("polls", &["status", "closes_at"], false),
            index("polls", &["subject_type", "subject_id"], false),
            index("poll_questions", &["poll_id", "position"], false),
            index("poll_options", &["question_id", "position"], false),
            index("poll_options", &["poll_id"], false),
            index("poll_roll", &["poll_id", "status", "voter_key"], false),
            index("poll_roll", &["voter_key", "poll_id"], false),
            index("poll_roll", &["household_id"], false),
            index("poll_roll", &["resident_id"], false),
            index("poll_boxes", &["poll_id", "id"], false),
            index("poll_ballots", &["poll_id"], false),
            index("poll_tallies", &["poll_id", "id"], false),
        ] {
            m.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "poll_officers",
            "poll_results",
            "poll_tallies",
            "ballot_choices",
            "poll_ballots",
            "poll_boxes",
            "poll_roll",
            "poll_options",
            "poll_questions",
            "polls",
        ] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        Ok(())
    }
}
