//! A fund's typed values, its limits, its book (the ledger's view of its tables) and the names
//! residents see.

use crate::platform::ledger::{Book, Columns, Kind as F};
use crate::platform::pii;

pub use entity::fund_account::{Kind as AccountKind, Place, Status as AccountStatus};
pub use entity::fund_allocation::Status as AllocationStatus;
pub use entity::fund_entry::{CounterpartyKind, Kind as EntryKind};
pub use entity::fund_expense::Status as ExpenseStatus;
pub use entity::fund_expense_approval::Decision;

/// The smallest and largest amount of one movement, in fen (1 fen to 100 million yuan).
pub const AMOUNT_MIN: i64 = 1;
pub const AMOUNT_MAX: i64 = 10_000_000_000;
/// Characters of an account's name.
pub const NAME_MAX: usize = 40;
/// Characters of a counterparty's or payee's name (and so of a public name).
pub const PARTY_MAX: usize = 50;
/// Characters of a memo or a purpose.
pub const MEMO_MAX: usize = 200;
/// Characters of a reason (rejecting, reversing) or an approval note.
pub const REASON_MAX: usize = 500;
/// What residents see for a resident who gave anonymously.
pub const ANONYMOUS: &str = "匿名居民";
/// At most this many entries in one export (a street's account over many years stays far below).
pub const EXPORT_MAX_ROWS: u64 = 50_000;

/// The funds' pair of tables as `platform::ledger` sees them. The order of `extra` is the order
/// the hash covers the domain's columns in: every stored hash depends on it, so it is never
/// reordered, and a column added to it (which changes every entry's canonical bytes) needs a
/// new canonical version. Columns added since go to `added`, hashed only when they hold a value:
/// `released_fen` (migration 034), the reservation a `release` entry freed. A `release` entry
/// is the one kind with an amount of 0: it frees reserved money and leaves the balance as it is.
pub const BOOK: Book = Book {
    accounts: "fund_accounts",
    entries: "fund_entries",
    columns: Columns {
        balance: "balance_fen",
        last_seq: "last_seq",
        last_hash: "last_hash",
        amount: "amount_fen",
        balance_after: "balance_after_fen",
        reverses_id: "reverses_entry_id",
    },
    extra: &[
        ("kind", F::Text),
        ("street_id", F::Uuid),
        ("community_id", F::Uuid),
        ("compound_id", F::Uuid),
        ("proposal_id", F::Uuid),
        ("pledge_id", F::Uuid),
        ("expense_id", F::Uuid),
        ("allocation_id", F::Uuid),
        ("counter_account_id", F::Uuid),
        ("counterparty_kind", F::Text),
        ("counterparty_name", F::Text),
        ("public_name", F::Text),
        ("memo", F::Text),
        ("occurred_on", F::Date),
        ("recorded_by", F::Uuid),
        ("recorded_by_name", F::Text),
        ("approved_by_1", F::Uuid),
        ("approved_by_2", F::Uuid),
    ],
    added: &[("released_fen", F::Int)],
    zero: Some(("kind", "release")),
};

/// What residents see of a counterparty: organisations and government by name; a person
/// masked (`王*`), or `匿名居民` when they chose to give anonymously.
pub fn public_name(kind: CounterpartyKind, name: &str, anonymous: bool) -> String {
    match kind {
        CounterpartyKind::Government
        | CounterpartyKind::Organization
        | CounterpartyKind::Business
            if !anonymous =>
        {
            name.to_string()
        }
        _ if anonymous => ANONYMOUS.to_string(),
        _ => pii::mask_name(name),
    }
}

pub fn account_kind_label(k: AccountKind) -> &'static str {
    match k {
        AccountKind::SelfGovernance => "自治金",
        AccountKind::Consultation => "协商资金",
        AccountKind::Crowdfund => "众筹资金",
        AccountKind::Grant => "专项补助",
    }
}

pub fn account_status_label(s: AccountStatus) -> &'static str {
    match s {
        AccountStatus::Active => "使用中",
        AccountStatus::Frozen => "已冻结",
        AccountStatus::Closed => "已关闭",
    }
}

pub fn entry_kind_label(k: EntryKind) -> &'static str {
    match k {
        EntryKind::Allocation => "上级拨付",
        EntryKind::Contribution => "捐赠",
        EntryKind::TransferIn => "转入",
        EntryKind::TransferOut => "转出",
        EntryKind::Expense => "支出",
        EntryKind::Refund => "退款",
        EntryKind::Release => "释放预留",
        EntryKind::Reversal => "冲正",
    }
}

pub fn expense_status_label(s: ExpenseStatus) -> &'static str {
    match s {
        ExpenseStatus::Submitted => "待审批",
        ExpenseStatus::Approved => "已批准",
        ExpenseStatus::Paid => "已支付",
        ExpenseStatus::Rejected => "已驳回",
        ExpenseStatus::Cancelled => "已撤销",
    }
}

pub fn allocation_status_label(s: AllocationStatus) -> &'static str {
    match s {
        AllocationStatus::Requested => "待审批",
        AllocationStatus::Approved => "已拨付",
        AllocationStatus::Released => "已释放",
        AllocationStatus::Rejected => "已驳回",
    }
}

/// `12345` → `123.45` (yuan, for the export's readers).
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// The Chinese name of the role someone approved in.
pub fn role_label(r: crate::access::Role) -> &'static str {
    use crate::access::Role::*;
    match r {
        Admin => "街道管理员",
        CommunityStaff => "社区工作人员",
        GridManager => "网格员",
        PropertyStaff => "物业人员",
        CouncilMember => "议事会成员",
        BuildingLeader => "楼组长",
        StreetLeader => "街面长",
        Resident => "居民",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_are_masked_or_anonymous_and_organisations_named() {
        use CounterpartyKind::*;
        assert_eq!(
            public_name(Government, "上城区民政局", false),
            "上城区民政局"
        );
        assert_eq!(public_name(Organization, "爱心基金会", false), "爱心基金会");
        assert_eq!(public_name(Resident, "王小明", false), "王*");
        assert_eq!(public_name(Other, "李四", false), "李*");
        assert_eq!(public_name(Resident, "王小明", true), ANONYMOUS);
        assert_eq!(public_name(Business, "某公司", true), ANONYMOUS);
    }

    #[test]
    fn fen_read_as_yuan() {
        assert_eq!(yuan(12345), "123.45");
        assert_eq!(yuan(-5), "-0.05");
        assert_eq!(yuan(0), "0.00");
    }
}
