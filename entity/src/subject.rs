//! What a row of the platform's shared tables (timeline, outbox) is about.

use sea_orm::entity::prelude::*;

/// The kind of thing a timeline entry or a notification concerns; with its id, a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SubjectType {
    /// A ticket (诉求).
    #[sea_orm(string_value = "ticket")]
    Ticket,
    /// A resident's transfer between communities (迁入/迁出).
    #[sea_orm(string_value = "resident_transfer")]
    ResidentTransfer,
    /// A notice (公告).
    #[sea_orm(string_value = "notice")]
    Notice,
    /// A poll (投票).
    #[sea_orm(string_value = "poll")]
    Poll,
    /// An entry of a fund account (自治金台账): its receipts.
    #[sea_orm(string_value = "fund_entry")]
    FundEntry,
    /// A fund expense request: its invoices (发票).
    #[sea_orm(string_value = "fund_expense")]
    FundExpense,
    /// A proposal (议题): its photos, its notifications.
    #[sea_orm(string_value = "proposal")]
    Proposal,
    /// A progress update of a proposal: its photos.
    #[sea_orm(string_value = "proposal_update")]
    ProposalUpdate,
}
