//! Self-governance funds (自治金): accounts, their ledgers, income and transfers, expense
//! requests and their verbs, reversals, verification and the export. The rules live in
//! `funds::service`, the read models in `funds::query`; these handlers parse, call one of them
//! and answer.

pub mod accounts;
pub mod allocations;
pub mod expenses;
pub mod ledger;

use actix_web::http::header;
use actix_web::HttpResponse;
use serde::Serialize;

use crate::platform::error::{AppError, AppResult, FieldCode};
use crate::platform::http::etag;

/// 200 (or 201) with `body` and the `ETag` of `version`.
pub fn with_etag<T: Serialize>(
    mut res: actix_web::HttpResponseBuilder,
    version: i32,
    body: &T,
) -> HttpResponse {
    res.insert_header((header::ETAG, etag(version))).json(body)
}

/// An amount of one movement: 1 fen to 100 million yuan.
pub fn check_amount(field: &str, fen: i64) -> AppResult<i64> {
    use crate::funds::model::{AMOUNT_MAX, AMOUNT_MIN};
    if (AMOUNT_MIN..=AMOUNT_MAX).contains(&fen) {
        Ok(fen)
    } else {
        Err(AppError::invalid(
            field,
            FieldCode::OutOfRange,
            crate::text!(
                "金额须在 {} 到 {} 分之间",
                "the amount is {} to {} fen",
                AMOUNT_MIN,
                AMOUNT_MAX
            ),
        ))
    }
}

/// Registers this domain's handlers, a literal path before a template that would also match it.
pub fn configure(cfg: &mut impl crate::platform::http::Routes) {
    cfg.service(accounts::list_fund_accounts)
        .service(accounts::create_fund_account)
        .service(accounts::get_fund_account)
        .service(accounts::close_fund_account)
        .service(accounts::verify_fund_account)
        .service(accounts::export_fund_account)
        .service(ledger::list_fund_entries)
        .service(ledger::record_fund_income)
        .service(ledger::transfer_funds)
        .service(ledger::reverse_fund_entry)
        .service(expenses::list_fund_expenses)
        .service(expenses::create_fund_expense)
        .service(expenses::get_fund_expense)
        .service(expenses::approve_fund_expense)
        .service(expenses::reject_fund_expense)
        .service(expenses::pay_fund_expense)
        .service(expenses::cancel_fund_expense)
        .service(allocations::list_account_allocations)
        .service(allocations::list_proposal_allocations)
        .service(allocations::create_fund_allocation)
        .service(allocations::get_fund_allocation)
        .service(allocations::approve_fund_allocation)
        .service(allocations::reject_fund_allocation)
        .service(allocations::release_fund_allocation);
}
