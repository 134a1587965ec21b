//! Posting an entry and reversing one: the conditional update of the account row, then the
//! insert of the entry, in one savepoint of the caller's transaction.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LockType, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, QueryResult, TransactionTrait, Value};
use uuid::Uuid;

use super::canonical::{entry_hash, Entry};
use super::{Book, Field, LedgerError, ATTEMPTS};
use crate::platform::error::is_unique_violation;

/// A movement to write.
#[derive(Debug, Clone)]
pub struct Posting {
    pub account_id: Uuid,
    /// + in, − out; 0 only for the entries the book's `zero` allows.
    pub amount: i64,
    /// The lowest balance the posting may leave (funds and points spending: `Some(0)`); `None`
    /// for no bound (a points reversal may leave a debt). Checked whatever the amount's sign.
    pub floor: Option<i64>,
    /// Values of the book's `extra` columns, in its order, then of its `added` ones.
    pub fields: Vec<Field>,
    /// When; kept to the millisecond.
    pub at: DateTime<Utc>,
}

/// A reversal to write: the opposite of `entry_id`'s amount, on its account, linked by
/// `reverses_id`.
#[derive(Debug, Clone)]
pub struct Reversal {
    pub entry_id: Uuid,
    /// As [`Posting::floor`] (funds: `Some(0)`, so income already spent cannot be reversed).
    pub floor: Option<i64>,
    /// Values of the book's `extra` and `added` columns for the reversal entry (its kind, the
    /// reason…).
    pub fields: Vec<Field>,
    pub at: DateTime<Utc>,
}

/// The entry written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub id: Uuid,
    pub account_id: Uuid,
    pub seq: i64,
    pub amount: i64,
    pub balance_after: i64,
    pub hash: String,
    /// How many times the conditional update ran (1 when no other writer got in between).
    pub attempts: u32,
}

/// Writes `posting` to its account. On a pool it runs in a transaction of its own, inside a
/// transaction in a savepoint: either way the account row and the entry change together or not
/// at all, and a refusal leaves the caller's transaction usable.
pub async fn post<C>(db: &C, book: &Book, posting: Posting) -> Result<Posted, LedgerError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let fields = shape(book, posting.fields)?;
    if posting.amount == 0 && !book.may_be_zero(&fields) {
        return Err(LedgerError::Invalid("an amount of 0"));
    }
    let txn = db.begin().await?;
    let done = write(
        &txn,
        book,
        Movement {
            account_id: posting.account_id,
            amount: posting.amount,
            floor: posting.floor,
            fields,
            at: posting.at,
            reverses: None,
        },
    )
    .await;
    finish(txn, done).await
}

/// Writes the reversal of `reversal.entry_id`. An entry is reversed at most once
/// ([`LedgerError::AlreadyReversed`], checked in the transaction, with the entry table's UNIQUE
/// `reverses_id` as the backstop); a reversal, and an entry that moved no money, is never
/// reversed ([`LedgerError::NotReversible`]).
pub async fn reverse<C>(db: &C, book: &Book, reversal: Reversal) -> Result<Posted, LedgerError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let fields = shape(book, reversal.fields)?;
    let txn = db.begin().await?;
    let done = async {
        let target = reversed_entry(&txn, book, reversal.entry_id)
            .await?
            .ok_or(LedgerError::NoSuchEntry)?;
        if target.reverses_id.is_some() || target.amount == 0 {
            return Err(LedgerError::NotReversible);
        }
        let amount = target.amount.checked_neg().ok_or(LedgerError::Overflow)?;
        write(
            &txn,
            book,
            Movement {
                account_id: target.account_id,
                amount,
                floor: reversal.floor,
                fields,
                at: reversal.at,
                reverses: Some(reversal.entry_id),
            },
        )
        .await
    }
    .await;
    match finish(txn, done).await {
        // The UNIQUE `reverses_id` stopped a reversal the check above did not see. Whether that
        // was the constraint is read again, now that the savepoint is gone (a failed statement
        // spoils a PostgreSQL transaction until then), rather than guessed from the message.
        Err(LedgerError::Db(e))
            if is_unique_violation(&e) && reversal_exists(db, book, reversal.entry_id).await? =>
        {
            Err(LedgerError::AlreadyReversed)
        }
        other => other,
    }
}

struct Movement {
    account_id: Uuid,
    amount: i64,
    floor: Option<i64>,
    fields: Vec<(&'static str, Field)>,
    at: DateTime<Utc>,
    reverses: Option<Uuid>,
}

/// The account row as the ledger sees it.
pub(super) struct Account {
    pub balance: i64,
    pub last_seq: i64,
    pub last_hash: String,
}

async fn finish<T>(
    txn: DatabaseTransaction,
    done: Result<T, LedgerError>,
) -> Result<T, LedgerError> {
    match done {
        Ok(v) => {
            txn.commit().await?;
            Ok(v)
        }
        Err(e) => {
            txn.rollback().await?;
            Err(e)
        }
    }
}

/// Pairs the values with the book's extra and added columns, checking their number and kinds;
/// the added columns that hold no value are left out (they are neither hashed nor written).
fn shape(book: &Book, fields: Vec<Field>) -> Result<Vec<(&'static str, Field)>, LedgerError> {
    if fields.len() != book.extra.len() + book.added.len() {
        return Err(LedgerError::Invalid(
            "the fields do not match the book's extra columns",
        ));
    }
    let extra = book.extra.len();
    book.extra
        .iter()
        .chain(book.added)
        .zip(fields)
        .enumerate()
        .filter(|(i, (_, f))| *i < extra || !f.is_null())
        .map(|(_, ((name, kind), f))| {
            if f.kind() == *kind {
                Ok((*name, f))
            } else {
                Err(LedgerError::Invalid("a field of the wrong kind"))
            }
        })
        .collect()
}

async fn write(txn: &DatabaseTransaction, book: &Book, m: Movement) -> Result<Posted, LedgerError> {
    let c = &book.columns;
    let backend = txn.get_database_backend();
    // The hash covers what the database keeps: milliseconds on either backend.
    let at = DateTime::from_timestamp_millis(m.at.timestamp_millis()).unwrap_or(m.at);
    let mut seen = account(txn, book, m.account_id, false)
        .await?
        .ok_or(LedgerError::NoSuchAccount)?;
    for attempt in 1..=ATTEMPTS {
        if let Some(target) = m.reverses {
            if reversal_exists(txn, book, target).await? {
                return Err(LedgerError::AlreadyReversed);
            }
        }
        let entry = Entry {
            id: Uuid::now_v7(),
            account_id: m.account_id,
            seq: seen.last_seq.checked_add(1).ok_or(LedgerError::Overflow)?,
            amount: m.amount,
            balance_after: seen
                .balance
                .checked_add(m.amount)
                .ok_or(LedgerError::Overflow)?,
            reverses_id: m.reverses,
            created_at: at,
            fields: m.fields.clone(),
        };
        let hash = entry_hash(&seen.last_hash, &entry);
        let mut update = Query::update();
        update
            .table(Alias::new(book.accounts))
            .value(
                Alias::new(c.balance),
                Expr::col(Alias::new(c.balance)).add(m.amount),
            )
            .value(
                Alias::new(c.last_seq),
                Expr::col(Alias::new(c.last_seq)).add(1i64),
            )
            .value(Alias::new(c.last_hash), hash.clone())
            .and_where(Expr::col(Alias::new("id")).eq(m.account_id))
            .and_where(Expr::col(Alias::new(c.last_seq)).eq(seen.last_seq));
        if let Some(floor) = m.floor {
            update.and_where(Expr::col(Alias::new(c.balance)).add(m.amount).gte(floor));
        }
        let updated = txn.execute(backend.build(&update)).await?.rows_affected();
        if updated == 1 {
            insert(txn, book, &entry, &seen.last_hash, &hash).await?;
            return Ok(Posted {
                id: entry.id,
                account_id: entry.account_id,
                seq: entry.seq,
                amount: entry.amount,
                balance_after: entry.balance_after,
                hash,
                attempts: attempt,
            });
        }
        // Nothing updated: read the row again (locking it on PostgreSQL, so the next try cannot
        // lose the same way) and tell a moved seq from a crossed floor.
        let now = account(txn, book, m.account_id, true)
            .await?
            .ok_or(LedgerError::NoSuchAccount)?;
        if now.last_seq == seen.last_seq {
            if let Some(floor) = m.floor {
                let after = now
                    .balance
                    .checked_add(m.amount)
                    .ok_or(LedgerError::Overflow)?;
                if after < floor {
                    return Err(LedgerError::Insufficient);
                }
            }
        }
        seen = now;
    }
    Err(LedgerError::Contended)
}

pub(super) async fn account<C: ConnectionTrait>(
    db: &C,
    book: &Book,
    id: Uuid,
    lock: bool,
) -> Result<Option<Account>, DbErr> {
    let c = &book.columns;
    let mut select = Query::select();
    select
        .expr_as(Expr::col(Alias::new(c.balance)), Alias::new("balance"))
        .expr_as(Expr::col(Alias::new(c.last_seq)), Alias::new("last_seq"))
        .expr_as(Expr::col(Alias::new(c.last_hash)), Alias::new("last_hash"))
        .from(Alias::new(book.accounts))
        .and_where(Expr::col(Alias::new("id")).eq(id));
    if lock {
        // Ignored by SQLite, whose one writer needs no row lock.
        select.lock(LockType::Update);
    }
    let row = db
        .query_one(db.get_database_backend().build(&select))
        .await?;
    row.map(|r| {
        Ok(Account {
            balance: r.try_get("", "balance")?,
            last_seq: r.try_get("", "last_seq")?,
            last_hash: r.try_get("", "last_hash")?,
        })
    })
    .transpose()
}

struct Target {
    account_id: Uuid,
    amount: i64,
    reverses_id: Option<Uuid>,
}

async fn reversed_entry(
    txn: &DatabaseTransaction,
    book: &Book,
    id: Uuid,
) -> Result<Option<Target>, DbErr> {
    let c = &book.columns;
    let select = Query::select()
        .column(Alias::new("account_id"))
        .expr_as(Expr::col(Alias::new(c.amount)), Alias::new("amount"))
        .expr_as(
            Expr::col(Alias::new(c.reverses_id)),
            Alias::new("reverses_id"),
        )
        .from(Alias::new(book.entries))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    let row: Option<QueryResult> = txn
        .query_one(txn.get_database_backend().build(&select))
        .await?;
    row.map(|r| {
        Ok(Target {
            account_id: r.try_get("", "account_id")?,
            amount: r.try_get("", "amount")?,
            reverses_id: r.try_get("", "reverses_id")?,
        })
    })
    .transpose()
}

async fn reversal_exists<C: ConnectionTrait>(
    db: &C,
    book: &Book,
    target: Uuid,
) -> Result<bool, DbErr> {
    let select = Query::select()
        .expr(Expr::val(1i64))
        .from(Alias::new(book.entries))
        .and_where(Expr::col(Alias::new(book.columns.reverses_id)).eq(target))
        .limit(1)
        .to_owned();
    Ok(db
        .query_one(db.get_database_backend().build(&select))
        .await?
        .is_some())
}

async fn insert(
    txn: &DatabaseTransaction,
    book: &Book,
    e: &Entry,
    prev_hash: &str,
    hash: &str,
) -> Result<(), DbErr> {
    let c = &book.columns;
    let mut columns = vec![
        Alias::new("id"),
        Alias::new("account_id"),
        Alias::new("seq"),
        Alias::new(c.amount),
        Alias::new(c.balance_after),
        Alias::new(c.reverses_id),
        Alias::new("prev_hash"),
        Alias::new("hash"),
        Alias::new("created_at"),
    ];
    let mut values: Vec<SimpleExpr> = vec![
        e.id.into(),
        e.account_id.into(),
        e.seq.into(),
        e.amount.into(),
        e.balance_after.into(),
        e.reverses_id.into(),
        prev_hash.into(),
        hash.into(),
        e.created_at.into(),
    ];
    for (name, field) in &e.fields {
        columns.push(Alias::new(*name));
        values.push(SimpleExpr::Value(value(field)));
    }
    let insert = Query::insert()
        .into_table(Alias::new(book.entries))
        .columns(columns)
        .values(values)
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .to_owned();
    txn.execute(txn.get_database_backend().build(&insert))
        .await?;
    Ok(())
}

fn value(field: &Field) -> Value {
    match field.clone() {
        Field::Text(v) => v.into(),
        Field::Int(v) => v.into(),
        Field::Uuid(v) => v.into(),
        Field::Date(v) => v.into(),
    }
}
