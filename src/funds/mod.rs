//! Self-governance funds (自治金, 协商资金): accounts on a community or a compound, income,
//! transfers between accounts, expense requests approved by two people of different roles and
//! paid against an invoice, reversals instead of edits, and a public, append-only,
//! hash-chained ledger (kept by `platform::ledger`) that residents read with public names and
//! anyone may verify. Every movement is one transaction with conditional updates of the account
//! row, so the balance never goes negative and never drops below what is reserved.

pub mod http;
pub mod model;
pub mod policy;
pub mod query;
pub mod service;
