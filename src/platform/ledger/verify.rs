//! Recomputing an account's chain from its entries.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, Order, Query};
use sea_orm::{ConnectionTrait, DbErr, QueryResult};
use uuid::Uuid;

use super::canonical::{entry_hash, Entry};
use super::write::account;
use super::{Book, Field, Kind, LedgerError, GENESIS};

/// Entries read per statement, so an account of any length is checked in bounded memory.
const BATCH: u64 = 256;

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Every entry chains to the one before, hashes to what it says, carries the running
    /// balance, and the account row agrees with the last of them.
    pub ok: bool,
    /// Entries read (up to the account's `last_seq`).
    pub entries: u64,
    /// The head of the chain as recomputed here; equals the account's `last_hash` when `ok`.
    pub head_hash: String,
    /// The sum of the entries' amounts.
    pub sum: i64,
    /// The first seq where the chain breaks: an entry that is wrong or missing, or the first
    /// entry beyond the account's head.
    pub first_bad_seq: Option<i64>,
    /// What is wrong first.
    pub problem: Option<Problem>,
}

/// The first thing found wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The entry with this seq is missing.
    Missing,
    /// The entry's amount is 0 (and the book does not allow it for its kind).
    ZeroAmount,
    /// The entry's `prev_hash` is not the previous entry's hash.
    PrevHash,
    /// The entry's `balance_after` is not the running sum.
    BalanceAfter,
    /// The entry does not hash to its `hash`.
    Hash,
    /// There are entries past the account's `last_seq`.
    BeyondHead,
    /// The account's `last_hash` is not the chain's head.
    AccountHead,
    /// The account's `balance` is not the sum of its entries.
    AccountBalance,
}

/// Recomputes the chain of `account_id` in seq order, `BATCH` entries at a time (keyset on seq),
/// up to the account's `last_seq` as read first, so entries committed meanwhile do not count
/// against it.
pub async fn verify<C: ConnectionTrait>(
    db: &C,
    book: &Book,
    account_id: Uuid,
) -> Result<Verification, LedgerError> {
    let acc = account(db, book, account_id, false)
        .await?
        .ok_or(LedgerError::NoSuchAccount)?;
    let mut head = GENESIS.to_string();
    let mut sum: i64 = 0;
    let mut last: i64 = 0;
    let mut entries: u64 = 0;
    let mut bad: Option<(i64, Problem)> = None;
    loop {
        let rows = batch(db, book, account_id, last, acc.last_seq).await?;
        for row in &rows {
            let (entry, prev_hash, hash) = read(row, book)?;
            entries += 1;
            let running = sum.checked_add(entry.amount);
            if bad.is_none() {
                bad = if entry.seq != last + 1 {
                    Some((last + 1, Problem::Missing))
                } else if entry.amount == 0 && !book.may_be_zero(&entry.fields) {
                    Some((entry.seq, Problem::ZeroAmount))
                } else if prev_hash != head {
                    Some((entry.seq, Problem::PrevHash))
                } else if running != Some(entry.balance_after) {
                    Some((entry.seq, Problem::BalanceAfter))
                } else if entry_hash(&prev_hash, &entry) != hash {
                    Some((entry.seq, Problem::Hash))
                } else {
                    None
                };
            }
            sum = running.unwrap_or(sum);
            head = entry_hash(&head, &entry);
            last = entry.seq;
        }
        if (rows.len() as u64) < BATCH {
            break;
        }
    }
    if bad.is_none() && last < acc.last_seq {
        bad = Some((last + 1, Problem::Missing));
    }
    if bad.is_none() {
        if let Some(first) = beyond_head(db, book, account_id, acc.last_seq).await? {
            // A posting commits its entry and the account row together, so an entry past the
            // head is only legitimate if the row has moved on since it was read.
            let now = account(db, book, account_id, false)
                .await?
                .ok_or(LedgerError::NoSuchAccount)?;
            if now.last_seq < first {
                bad = Some((first, Problem::BeyondHead));
            }
        }
    }
    let (first_bad_seq, problem) = match bad {
        Some((seq, p)) => (Some(seq), Some(p)),
        None if acc.last_hash != head => (None, Some(Problem::AccountHead)),
        None if acc.balance != sum => (None, Some(Problem::AccountBalance)),
        None => (None, None),
    };
    Ok(Verification {
        ok: problem.is_none(),
        entries,
        head_hash: head,
        sum,
        first_bad_seq,
        problem,
    })
}

async fn batch<C: ConnectionTrait>(
    db: &C,
    book: &Book,
    account_id: Uuid,
    after: i64,
    up_to: i64,
) -> Result<Vec<QueryResult>, DbErr> {
    let c = &book.columns;
    let mut select = Query::select();
    select
        .columns([
            Alias::new("id"),
            Alias::new("account_id"),
            Alias::new("seq"),
        ])
        .expr_as(Expr::col(Alias::new(c.amount)), Alias::new("amount"))
        .expr_as(
            Expr::col(Alias::new(c.balance_after)),
            Alias::new("balance_after"),
        )
        .expr_as(
            Expr::col(Alias::new(c.reverses_id)),
            Alias::new("reverses_id"),
        )
        .columns([
            Alias::new("prev_hash"),
            Alias::new("hash"),
            Alias::new("created_at"),
        ])
        .columns(
            book.extra
                .iter()
                .chain(book.added)
                .map(|(name, _)| Alias::new(*name)),
        )
        .from(Alias::new(book.entries))
        .and_where(Expr::col(Alias::new("account_id")).eq(account_id))
        .and_where(Expr::col(Alias::new("seq")).gt(after))
        .and_where(Expr::col(Alias::new("seq")).lte(up_to))
        .order_by(Alias::new("seq"), Order::Asc)
        .limit(BATCH);
    db.query_all(db.get_database_backend().build(&select)).await
}

/// The lowest seq past `head`, if any entry is there.
async fn beyond_head<C: ConnectionTrait>(
    db: &C,
    book: &Book,
    account_id: Uuid,
    head: i64,
) -> Result<Option<i64>, DbErr> {
    let select = Query::select()
        .column(Alias::new("seq"))
        .from(Alias::new(book.entries))
        .and_where(Expr::col(Alias::new("account_id")).eq(account_id))
        .and_where(Expr::col(Alias::new("seq")).gt(head))
        .order_by(Alias::new("seq"), Order::Asc)
        .limit(1)
        .to_owned();
    db.query_one(db.get_database_backend().build(&select))
        .await?
        .map(|r| r.try_get("", "seq"))
        .transpose()
}

fn read(row: &QueryResult, book: &Book) -> Result<(Entry, String, String), DbErr> {
    let mut fields = Vec::with_capacity(book.extra.len() + book.added.len());
    for (i, (name, kind)) in book.extra.iter().chain(book.added).enumerate() {
        let f = match kind {
            Kind::Text => Field::Text(row.try_get::<Option<String>>("", name)?),
            Kind::Int => Field::Int(row.try_get::<Option<i64>>("", name)?),
            Kind::Uuid => Field::Uuid(row.try_get::<Option<Uuid>>("", name)?),
            Kind::Date => Field::Date(row.try_get::<Option<NaiveDate>>("", name)?),
        };
        // An added column is hashed only when it holds a value (see `Book::added`).
        if i < book.extra.len() || !f.is_null() {
            fields.push((*name, f));
        }
    }
    let entry = Entry {
        id: row.try_get("", "id")?,
        account_id: row.try_get("", "account_id")?,
        seq: row.try_get("", "seq")?,
        amount: row.try_get("", "amount")?,
        balance_after: row.try_get("", "balance_after")?,
        reverses_id: row.try_get("", "reverses_id")?,
        created_at: row.try_get::<DateTime<Utc>>("", "created_at")?,
        fields,
    };
    Ok((
        entry,
        row.try_get("", "prev_hash")?,
        row.try_get("", "hash")?,
    ))
}
