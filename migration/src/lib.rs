//! The only way the schema changes. Every migration runs on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod lock;
mod m20261122_000001_foundation;
mod m20261122_000002_idempotency;
mod m20261122_000003_residents;
mod m20261130_000004_tickets;
mod m20261130_000005_ticket_page_indexes;
mod m20261130_000006_security;
mod m20261130_000007_login_failures;
mod m20261130_000008_list_page_indexes;
mod m20261130_000009_attachment_thumbnails;
mod m20261130_000010_public_tags;
mod m20261130_000011_ticket_location;
mod m20261130_000012_inbox;
mod m20261130_000013_resident_transfers;
mod m20261130_000014_timeline_facts;
mod m20261130_000015_notification_subjects;
mod m20261130_000016_timeline_subjects;
mod m20261130_000017_territory_kinds;
mod m20261130_000018_attachment_subjects;
mod m20261130_000019_gender_values;
mod m20261130_000020_resident_tags_joined;
mod m20261201_000021_office_terms;
mod m20261201_000022_content_keywords;
mod m20261201_000023_notices;
mod m20261201_000024_polls;
mod m20261201_000025_elections;
mod m20261201_000027_funds;
mod m20261201_000028_election_poll_link;
mod m20261201_000029_proposals;
mod m20261201_000030_comments;
mod m20261201_000031_pledges;
mod m20261201_000032_user_page_indexes;
mod m20261201_000034_fund_releases;
mod m20261201_000035_proposal_scope_index;
mod m20261201_000036_proposal_cancel_cosign;
mod util;

pub use lock::{up_exclusive, ADVISORY_LOCK_KEY};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_foundation::Migration),
            Box::new(m20261122_000002_idempotency::Migration),
            Box::new(m20261122_000003_residents::Migration),
            Box::new(m20261130_000004_tickets::Migration),
            Box::new(m20261130_000005_ticket_page_indexes::Migration),
            Box::new(m20261130_000006_security::Migration),
            Box::new(m20261130_000007_login_failures::Migration),
            Box::new(m20261130_000008_list_page_indexes::Migration),
            Box::new(m20261130_000009_attachment_thumbnails::Migration),
            Box::new(m20261130_000010_public_tags::Migration),
            Box::new(m20261130_000011_ticket_location::Migration),
            Box::new(m20261130_000012_inbox::Migration),
            Box::new(m20261130_000013_resident_transfers::Migration),
            Box::new(m20261130_000014_timeline_facts::Migration),
            Box::new(m20261130_000015_notification_subjects::Migration),
            Box::new(m20261130_000016_timeline_subjects::Migration),
            Box::new(m20261130_000017_territory_kinds::Migration),
            Box::new(m20261130_000018_attachment_subjects::Migration),
            Box::new(m20261130_000019_gender_values::Migration),
            Box::new(m20261130_000020_resident_tags_joined::Migration),
            Box::new(m20261201_000021_office_terms::Migration),
            Box::new(m20261201_000022_content_keywords::Migration),
            Box::new(m20261201_000023_notices::Migration),
            Box::new(m20261201_000024_polls::Migration),
            Box::new(m20261201_000025_elections::Migration),
            Box::new(m20261201_000027_funds::Migration),
            Box::new(m20261201_000028_election_poll_link::Migration),
            Box::new(m20261201_000029_proposals::Migration),
            Box::new(m20261201_000030_comments::Migration),
            Box::new(m20261201_000031_pledges::Migration),
            Box::new(m20261201_000032_user_page_indexes::Migration),
            Box::new(m20261201_000034_fund_releases::Migration),
            Box::new(m20261201_000035_proposal_scope_index::Migration),
            Box::new(m20261201_000036_proposal_cancel_cosign::Migration),
        ]
    }
}
