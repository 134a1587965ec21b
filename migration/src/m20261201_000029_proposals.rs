//! The six-step consultation (提议决筹办评; participation design §A1.3, §A6, §A7): per-community
//! consultation policies, proposals with their revisions, household supports, their own timeline
//! (`proposal_events`, free-text `kind` so the funds and pledges services can append entries of
//! their own words), progress updates, milestones, acceptance verdicts and the targets (money,
//! labour, materials) the pledges raise against.
//!
//! - The `*_fen` and `*_minutes` caches of `proposals` are CHECKed ≥ 0; the proposals service
//!   writes only `budget_fen` and `labour_goal_minutes`, the funds and pledges services the rest,
//!   in the transaction of their ledger entry.
//! - `proposal_supports` has the household as part of its key: one support per household, however
//!   many members press 附议 at once.
//! - `decision_poll_id`/`evaluation_poll_id` point at `polls` without a foreign key (a poll is
//!   never deleted; the proposal is found from the poll by `polls.subject_id`).

use sea_orm_migration::prelude::*;

use crate::util::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(name: &str) -> Alias {
    Alias::new(name)
}

fn col(name: &str) -> ColumnDef {
    ColumnDef::new(a(name))
}

fn null(mut c: ColumnDef, null: bool) -> ColumnDef {
    if null {
        c.null();
    } else {
        c.not_null();
    }
    c
}

fn at(name: &str, n: bool) -> ColumnDef {
    let mut c = col(name);
    c.timestamp_with_time_zone();
    null(c, n)
}

fn day(name: &str, n: bool) -> ColumnDef {
    let mut c = col(name);
    c.date();
    null(c, n)
}

fn uuid(name: &str, n: bool) -> ColumnDef {
    let mut c = col(name);
    c.uuid();
    null(c, n)
}

fn text(name: &str, len: u32, n: bool) -> ColumnDef {
    let mut c = col(name);
    c.string_len(len);
    null(c, n)
}

fn long(name: &str, n: bool) -> ColumnDef {
    let mut c = col(name);
    c.text();
    null(c, n)
}

fn int(name: &str, default: i32) -> ColumnDef {
    col(name).integer().not_null().default(default).to_owned()
}

fn fen(name: &str) -> ColumnDef {
    col(name).big_integer().not_null().default(0).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let c = |n: &str| Expr::col(a(n));
        m.create_table(
            Table::create()
                .table(a("consultation_policies"))
                .col(uuid("community_id", false).primary_key())
                .col(int("min_supporters", 5))
                .col(int("support_window_days", 30))
                .col(int("min_deliberation_days", 7))
                .col(text("decision_preset", 32, false))
                .col(int("poll_days", 7))
                .col(int("evaluation_days", 14))
                .col(int("review_after_days", 90))
                .col(int("max_proposals_per_day", 3))
                .col(int("comments_per_hour", 20))
                .col(int("reports_to_hide", 3))
                .col(
                    col("spending_poll_above_fen")
                        .big_integer()
                        .not_null()
                        .default(500_000i64),
                )
                .col(int("version", 1))
                .col(uuid("updated_by", true))
                .col(at("updated_at", false))
                .check(c("min_supporters").gte(0))
                .check(c("spending_poll_above_fen").gte(0))
                .foreign_key(&mut fk(
                    "consultation_policies",
                    "community_id",
                    "communities",
                    true,
                ))
                .to_owned(),
        )
        .await?;
        let mut p = Table::create();
        p.table(a("proposals"))
            .col(uuid("id", false).primary_key())
            .col(uuid("street_id", false))
            .col(uuid("community_id", false))
            .col(uuid("compound_id", true))
            .col(uuid("building_id", true))
            .col(text("scope_type", 16, false))
            .col(uuid("scope_id", false))
            .col(text("title", 50, false))
            .col(long("body", false))
            .col(text("category", 20, false))
            .col(text("tier", 16, true))
            .col(text("step", 16, false))
            .col(col("on_hold").boolean().not_null().default(false))
            .col(uuid("source_ticket_id", true))
            .col(text("channel", 16, false))
            .col(uuid("author_user_id", true))
            .col(uuid("author_resident_id", true))
            .col(uuid("author_household_id", true))
            .col(text("author_display", 40, false))
            .col(uuid("created_by", false))
            .col(int("supporters_count", 0))
            .col(at("support_deadline", false))
            .col(at("deliberation_ends_at", true))
            .col(int("current_revision", 1))
            .col(col("frozen_revision").integer().null())
            .col(uuid("decision_poll_id", true))
            .col(uuid("evaluation_poll_id", true))
            .col(fen("budget_fen"))
            .col(fen("allocated_fen"))
            .col(fen("received_fen"))
            .col(fen("spent_fen"))
            .col(fen("pledged_money_fen"))
            .col(int("labour_goal_minutes", 0))
            .col(int("labour_done_minutes", 0))
            .col(uuid("lead_user_id", true))
            .col(uuid("lead_resident_id", true))
            .col(text("lead_display", 40, true))
            .col(col("progress_pct").small_integer().not_null().default(0))
            .col(at("started_at", true))
            .col(at("completed_at", true))
            .col(at("closed_at", true))
            .col(col("satisfaction_pct").small_integer().null())
            .col(col("rating_avg_x100").integer().null())
            .col(col("evaluation_answers").integer().null())
            .col(day("review_on", true))
            .col(at("review_due_at", true))
            .col(at("review_notified_at", true))
            .col(col("golden").boolean().not_null().default(false))
            .col(uuid("merged_into_id", true))
            .col(uuid("referred_ticket_id", true))
            .col(text("reason", 500, true))
            .col(text("idempotency_key", 255, true))
            .col(at("activity_at", false))
            .col(int("version", 1))
            .col(at("created_at", false))
            .col(at("updated_at", false));
        for f in [
            "budget_fen",
            "allocated_fen",
            "received_fen",
            "spent_fen",
            "pledged_money_fen",
            "labour_goal_minutes",
            "labour_done_minutes",
            "supporters_count",
        ] {
            p.check(c(f).gte(0));
        }
        p.check(c("progress_pct").gte(0))
            .check(c("progress_pct").lte(100))
            .foreign_key(&mut fk("proposals", "street_id", "streets", false))
            .foreign_key(&mut fk("proposals", "community_id", "communities", false));
        m.create_table(p.to_owned()).await?;
        m.create_table(
            Table::create()
                .table(a("proposal_revisions"))
                .col(uuid("proposal_id", false))
                .col(col("n").integer().not_null())
                .col(text("title", 50, false))
                .col(long("body", false))
                .col(fen("budget_fen"))
                .col(long("targets", true))
                .col(text("sha256", 64, false))
                .col(uuid("created_by", false))
                .col(text("created_by_name", 100, false))
                .col(at("created_at", false))
                .primary_key(Index::create().col(a("proposal_id")).col(a("n")))
                .foreign_key(&mut fk(
                    "proposal_revisions",
                    "proposal_id",
                    "proposals",
                    true,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("proposal_supports"))
                .col(uuid("proposal_id", false))
                .col(uuid("household_id", false))
                .col(uuid("user_id", false))
                .col(at("created_at", false))
                .primary_key(Index::create().col(a("proposal_id")).col(a("household_id")))
                .foreign_key(&mut fk(
                    "proposal_supports",
                    "proposal_id",
                    "proposals",
                    true,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("proposal_events"))
                .col(uuid("id", false).primary_key())
                .col(uuid("proposal_id", false))
                .col(uuid("street_id", false))
                .col(uuid("community_id", false))
                .col(uuid("actor_user_id", true))
                .col(text("actor_name", 100, true))
                .col(text("kind", 40, false))
                .col(text("from_step", 16, true))
                .col(text("to_step", 16, true))
                .col(text("note", 1000, true))
                .col(at("created_at", false))
                .foreign_key(&mut fk("proposal_events", "proposal_id", "proposals", true))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("proposal_updates"))
                .col(uuid("id", false).primary_key())
                .col(uuid("proposal_id", false))
                .col(text("kind", 16, false))
                .col(col("progress_pct").small_integer().null())
                .col(text("note", 1000, false))
                .col(uuid("author_user_id", false))
                .col(text("author_name", 100, false))
                .col(int("photos", 0))
                .col(at("created_at", false))
                .foreign_key(&mut fk(
                    "proposal_updates",
                    "proposal_id",
                    "proposals",
                    true,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("proposal_milestones"))
                .col(uuid("id", false).primary_key())
                .col(uuid("proposal_id", false))
                .col(col("position").integer().not_null())
                .col(text("title", 50, false))
                .col(day("planned_on", true))
                .col(day("done_on", true))
                .foreign_key(&mut fk(
                    "proposal_milestones",
                    "proposal_id",
                    "proposals",
                    true,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("proposal_acceptances"))
                .col(uuid("proposal_id", false))
                .col(uuid("user_id", false))
                .col(text("user_name", 100, false))
                .col(col("round").integer().not_null().default(1))
                .col(text("verdict", 8, false))
                .col(text("note", 500, true))
                .col(at("created_at", false))
                .primary_key(
                    Index::create()
                        .col(a("proposal_id"))
                        .col(a("round"))
                        .col(a("user_id")),
                )
                .foreign_key(&mut fk(
                    "proposal_acceptances",
                    "proposal_id",
                    "proposals",
                    true,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("proposal_targets"))
                .col(uuid("id", false).primary_key())
                .col(uuid("proposal_id", false))
                .col(col("position").integer().not_null())
                .col(text("kind", 16, false))
                .col(text("item", 40, true))
                .col(col("quantity").integer().null())
                .col(text("unit", 10, true))
                .col(col("amount_fen").big_integer().null())
                .col(col("minutes").integer().null())
                .check(c("amount_fen").gte(0))
                .check(c("minutes").gte(0))
                .check(c("quantity").gte(0))
                .foreign_key(&mut fk(
                    "proposal_targets",
                    "proposal_id",
                    "proposals",
                    true,
                ))
                .to_owned(),
        )
        .await?;
        for i in [
            index("proposals", &["scope_id", "step", "id"], false),
            index("proposals", &["community_id", "step", "id"], false),
            index("proposals", &["community_id", "id"], false),
            index("proposals", &["street_id", "id"], false),
            index("proposals", &["compound_id", "id"], false),
            index("proposals", &["building_id", "id"], false),
            index("proposals", &["lead_user_id"], false),
            index("proposals", &["author_user_id", "id"], false),
            index("proposals", &["review_due_at"], false),
            index("proposals", &["created_by", "created_at"], false),
            index("proposals", &["created_by", "idempotency_key"], true),
            index("proposal_supports", &["user_id"], false),
            index("proposal_events", &["proposal_id", "id"], false),
            index("proposal_updates", &["proposal_id", "id"], false),
            index("proposal_milestones", &["proposal_id", "position"], true),
            index("proposal_targets", &["proposal_id", "position"], true),
        ] {
            m.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "proposal_targets",
            "proposal_acceptances",
            "proposal_milestones",
            "proposal_updates",
            "proposal_events",
            "proposal_supports",
            "proposal_revisions",
            "proposals",
            "consultation_policies",
        ] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        Ok(())
    }
}
