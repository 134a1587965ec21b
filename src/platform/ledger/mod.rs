//! The one append-only ledger with reversals, for the money and points the domains keep
//! (the self-governance funds, 自治金, and the points of the covenants, 积分). It knows no domain
//! and owns no table: a domain describes its pair of tables with a [`Book`] and calls [`post`],
//! [`reverse`] and [`verify`] on its own connection or transaction.
//!
//! # The table convention
//!
//! An **account** table, one row per account, with at least (names as in [`Columns::STANDARD`];
//! a book may rename them, e.g. `balance_fen`):
//!
//! | column      | type        | meaning                                                      |
//! |-------------|-------------|--------------------------------------------------------------|
//! | `id`        | uuid PK     |                                                              |
//! | `balance`   | bigint      | the sum of the account's entries; starts at 0                |
//! | `last_seq`  | bigint      | the seq of the newest entry; starts at 0                     |
//! | `last_hash` | char(64)    | the hash of the newest entry; starts at [`GENESIS`]          |
//!
//! An **entry** table, one row per movement, never updated or deleted:
//!
//! | column          | type             | meaning                                              |
//! |-----------------|------------------|------------------------------------------------------|
//! | `id`            | uuid PK (v7)     | made here                                            |
//! | `account_id`    | uuid             |                                                      |
//! | `seq`           | bigint           | 1, 2, 3, … per account; UNIQUE (`account_id`, `seq`) |
//! | `amount`        | bigint, ≠ 0      | + in, − out (0 only where [`Book::zero`] allows it)  |
//! | `balance_after` | bigint           | the account's balance once this entry is counted     |
//! | `reverses_id`   | uuid NULL UNIQUE | the entry this one reverses                          |
//! | `prev_hash`     | char(64)         | the previous entry's hash ([`GENESIS`] for seq 1)    |
//! | `hash`          | char(64)         | see below                                            |
//! | `created_at`    | timestamptz      | kept to the millisecond                              |
//!
//! plus the domain's own columns (kind, memo, proposal_id, public_name, …), declared in the
//! book's `extra` in a fixed order. They are written with the entry and covered by its hash.
//!
//! # How an entry is written
//!
//! In one savepoint inside the caller's transaction (or one transaction of its own on a pool):
//! read the account (`last_seq` = *seen*), then one conditional update
//! `SET balance = balance + :amount, last_seq = last_seq + 1, last_hash = :hash
//!  WHERE id = :id AND last_seq = :seen [AND balance + :amount >= :floor]`, then the insert of
//! the entry with `seq = seen + 1` and `prev_hash` = the hash seen. Zero rows updated means
//! either another writer moved `last_seq` (re-read, try again, at most [`ATTEMPTS`] times, then
//! [`LedgerError::Contended`]) or the floor would be crossed ([`LedgerError::Insufficient`]);
//! which one is decided by re-reading the row, never by guessing. The re-read locks the row on
//! PostgreSQL (`FOR UPDATE`), so a writer that lost once waits its turn instead of losing again;
//! on SQLite the one writer serialises everything anyway. Run at READ COMMITTED (the default):
//! a stricter isolation turns a lost race into a serialization error (`LedgerError::Db`).
//!
//! A domain that has more to say about the account row (funds: `status = 'active'`,
//! `reserved_fen`, `version`) makes its own conditional update of that row in the same
//! transaction before posting; that also takes the row's lock. A movement between two accounts
//! (a transfer) is two postings in one transaction, made in the order of the accounts' ids, so
//! two transfers in opposite directions wait for each other instead of deadlocking.
//!
//! # The hash
//!
//! `hash = hex(sha256(prev_hash ‖ canonical))`, `prev_hash` as its 64 ASCII hex digits and
//! `canonical` the entry without its hash, written by [`canonical`]: see there for the exact
//! bytes. Nothing in it depends on the database backend.

mod canonical;
mod verify;
mod write;

pub use canonical::{canonical, entry_hash, Entry};
pub use verify::{verify, Problem, Verification};
pub use write::{post, reverse, Posted, Posting, Reversal};

use chrono::NaiveDate;
use uuid::Uuid;

/// The `prev_hash` of an account's first entry, and a new account's `last_hash`.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How many times a posting reads the account and tries its conditional update before it
/// answers [`LedgerError::Contended`] (the first try and three more).
pub const ATTEMPTS: u32 = 4;

/// A domain's pair of tables.
#[derive(Debug, Clone, Copy)]
pub struct Book {
    /// The account table.
    pub accounts: &'static str,
    /// The entry table.
    pub entries: &'static str,
    pub columns: Columns,
    /// The domain's own entry columns, in the order the hash covers them.
    pub extra: &'static [(&'static str, Kind)],
    /// Columns added to the entry table after entries were written: hashed after `extra`, in
    /// this order, and only when they hold a value, so the entries written before them (where
    /// they are NULL) keep their canonical bytes and their hashes. Setting one on an old entry,
    /// or clearing it on a new one, changes what its hash covers, so either shows in [`verify`].
    /// A posting gives their values after `extra`'s.
    pub added: &'static [(&'static str, Kind)],
    /// The entries that may carry an amount of 0 (they record something besides money: the
    /// funds' release of a reservation): those whose text column `.0` holds `.1`. `None`: no
    /// entry may (the convention's `amount ≠ 0`).
    pub zero: Option<(&'static str, &'static str)>,
}

impl Book {
    /// A book whose tables use the standard column names.
    pub const fn new(
        accounts: &'static str,
        entries: &'static str,
        extra: &'static [(&'static str, Kind)],
    ) -> Self {
        Self {
            accounts,
            entries,
            columns: Columns::STANDARD,
            extra,
            added: &[],
            zero: None,
        }
    }

    /// Whether an entry with these fields may carry an amount of 0 (see [`Book::zero`]).
    pub fn may_be_zero(&self, fields: &[(&'static str, Field)]) -> bool {
        self.zero.is_some_and(|(column, value)| {
            fields
                .iter()
                .any(|(n, f)| *n == column && *f == Field::Text(Some(value.to_string())))
        })
    }
}

/// The names of the convention's columns in a book's tables (the account's `id` and the entry's
/// `id`, `account_id`, `seq`, `prev_hash`, `hash` and `created_at` keep their names).
#[derive(Debug, Clone, Copy)]
pub struct Columns {
    /// Account: the running balance.
    pub balance: &'static str,
    /// Account: the newest entry's seq.
    pub last_seq: &'static str,
    /// Account: the newest entry's hash.
    pub last_hash: &'static str,
    /// Entry: the signed amount.
    pub amount: &'static str,
    /// Entry: the balance once it is counted.
    pub balance_after: &'static str,
    /// Entry: the entry it reverses.
    pub reverses_id: &'static str,
}

impl Columns {
    pub const STANDARD: Columns = Columns {
        balance: "balance",
        last_seq: "last_seq",
        last_hash: "last_hash",
        amount: "amount",
        balance_after: "balance_after",
        reverses_id: "reverses_id",
    };
}

/// The type of a domain's own entry column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Uuid,
    Date,
}

/// The value of a domain's own entry column (NULL is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Text(Option<String>),
    Int(Option<i64>),
    Uuid(Option<Uuid>),
    Date(Option<NaiveDate>),
}

impl Field {
    /// NULL.
    pub fn is_null(&self) -> bool {
        matches!(
            self,
            Field::Text(None) | Field::Int(None) | Field::Uuid(None) | Field::Date(None)
        )
    }

    pub fn kind(&self) -> Kind {
        match self {
            Field::Text(_) => Kind::Text,
            Field::Int(_) => Kind::Int,
            Field::Uuid(_) => Kind::Uuid,
            Field::Date(_) => Kind::Date,
        }
    }
}

/// Why a posting, a reversal or a verification did not happen. Domains answer these with their
/// own codes (funds: 409 `insufficient_funds`; points: `insufficient_points`).
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The balance would fall below the posting's floor; nothing was written.
    #[error("the balance would fall below the floor")]
    Insufficient,
    /// The entry has been reversed already.
    #[error("the entry has been reversed already")]
    AlreadyReversed,
    /// The entry is itself a reversal, or moved no money (an amount of 0).
    #[error("a reversal cannot be reversed")]
    NotReversible,
    #[error("no such account")]
    NoSuchAccount,
    #[error("no such entry")]
    NoSuchEntry,
    /// Other writers moved the account every time this one tried.
    #[error("the account kept changing; try again")]
    Contended,
    /// The balance, the amount or the seq would leave the range of `i64`.
    #[error("the amount is out of range")]
    Overflow,
    /// The caller broke the book's shape (a zero amount, fields not as `extra` declares).
    #[error("invalid posting: {0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}
