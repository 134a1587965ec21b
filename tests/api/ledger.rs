//! `platform::ledger` against real databases: a scratch pair of tables made by the test (an
//! account table and an entry table following the module's convention, with one domain column,
//! `memo`; and a second pair in the funds' shape, with its own column names and domain columns
//! of every kind), and the library called directly, as a domain's service will call it.

use chrono::{NaiveDate, Utc};
use futures_util::future::join_all;
use linli::platform::ledger::{
    self, Book, Columns, Entry, Field, Kind, LedgerError, Posted, Posting, Problem, Reversal,
    GENESIS,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::sea_query::{Alias, ColumnDef, Expr, Index, Order, Query, SimpleExpr, Table};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
    TransactionTrait,
};
use uuid::Uuid;

use crate::helpers::*;

const ACCOUNTS: &str = "scratch_accounts";
const ENTRIES: &str = "scratch_entries";
const BOOK: Book = Book::new(ACCOUNTS, ENTRIES, &[("memo", Kind::Text)]);

struct Scratch {
    db: DatabaseConnection,
    _database: TestDatabase,
}

/// A fresh database with the scratch tables of `BOOK`; `connections` is the pool size on
/// PostgreSQL (SQLite gets one, as the app does).
async fn scratch(connections: u32) -> Scratch {
    let (url, database) = fresh_database().await;
    let mut opt = ConnectOptions::new(url.clone());
    opt.max_connections(if using_postgres() { connections } else { 1 })
        .sqlx_logging(false);
    let db = Database::connect(opt).await.unwrap();
    make_tables(&db, &BOOK).await;
    Scratch {
        db,
        _database: database,
    }
}

/// The pair of tables `book` describes, as a domain's migration would make them.
async fn make_tables(db: &DatabaseConnection, book: &Book) {
    let b = db.get_database_backend();
    let a = |s: &str| Alias::new(s);
    let c = &book.columns;
    let accounts = Table::create()
        .table(a(book.accounts))
        .col(ColumnDef::new(a("id")).uuid().not_null().primary_key())
        .col(ColumnDef::new(a(c.balance)).big_integer().not_null())
        .col(ColumnDef::new(a(c.last_seq)).big_integer().not_null())
        .col(ColumnDef::new(a(c.last_hash)).string_len(64).not_null())
        .to_owned();
    let mut entries = Table::create()
        .table(a(book.entries))
        .col(ColumnDef::new(a("id")).uuid().not_null().primary_key())
        .col(ColumnDef::new(a("account_id")).uuid().not_null())
        .col(ColumnDef::new(a("seq")).big_integer().not_null())
        .col({
            let mut amount = ColumnDef::new(a(c.amount));
            amount.big_integer().not_null();
            if book.zero.is_none() {
                amount.check(Expr::col(a(c.amount)).ne(0));
            }
            amount
        })
        .col(ColumnDef::new(a(c.balance_after)).big_integer().not_null())
        .col(ColumnDef::new(a(c.reverses_id)).uuid().null().unique_key())
        .col(ColumnDef::new(a("prev_hash")).string_len(64).not_null())
        .col(ColumnDef::new(a("hash")).string_len(64).not_null())
        .col(
            ColumnDef::new(a("created_at"))
                .timestamp_with_time_zone()
                .not_null(),
        )
        .foreign_key(
            sea_orm::sea_query::ForeignKey::create()
                .from(a(book.entries), a("account_id"))
                .to(a(book.accounts), a("id")),
        )
        .to_owned();
    for (name, kind) in book.extra.iter().chain(book.added) {
        let mut col = ColumnDef::new(a(name));
        match kind {
            Kind::Text => col.string_len(200),
            Kind::Int => col.big_integer(),
            Kind::Uuid => col.uuid(),
            Kind::Date => col.date(),
        };
        entries.col(col.null());
    }
    let seq = Index::create()
        .name(format!("{}_account_seq", book.entries))
        .table(a(book.entries))
        .col(a("account_id"))
        .col(a("seq"))
        .unique()
        .to_owned();
    db.execute(b.build(&accounts)).await.unwrap();
    db.execute(b.build(&entries)).await.unwrap();
    db.execute(b.build(&seq)).await.unwrap();
}

async fn open_account(db: &DatabaseConnection) -> Uuid {
    open_in(db, &BOOK).await
}

/// A new account of `book`: balance 0, seq 0, at the genesis hash.
async fn open_in(db: &DatabaseConnection, book: &Book) -> Uuid {
    let id = Uuid::now_v7();
    let c = &book.columns;
    let insert = Query::insert()
        .into_table(Alias::new(book.accounts))
        .columns([
            Alias::new("id"),
            Alias::new(c.balance),
            Alias::new(c.last_seq),
            Alias::new(c.last_hash),
        ])
        .values_panic([id.into(), 0i64.into(), 0i64.into(), GENESIS.into()])
        .to_owned();
    db.execute(db.get_database_backend().build(&insert))
        .await
        .unwrap();
    id
}

fn memo(s: &str) -> Vec<Field> {
    vec![Field::Text(Some(s.to_string()))]
}

async fn post<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    account: Uuid,
    amount: i64,
    floor: Option<i64>,
) -> Result<Posted, LedgerError> {
    ledger::post(
        db,
        &BOOK,
        Posting {
            account_id: account,
            amount,
            floor,
            fields: memo(&format!("{amount:+}")),
            at: Utc::now(),
        },
    )
    .await
}

async fn reverse<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    entry: Uuid,
    floor: Option<i64>,
) -> Result<Posted, LedgerError> {
    ledger::reverse(
        db,
        &BOOK,
        Reversal {
            entry_id: entry,
            floor,
            fields: memo("冲正"),
            at: Utc::now(),
        },
    )
    .await
}

/// (balance, last_seq, last_hash)
async fn account_row(db: &DatabaseConnection, id: Uuid) -> (i64, i64, String) {
    let select = Query::select()
        .columns([
            Alias::new("balance"),
            Alias::new("last_seq"),
            Alias::new("last_hash"),
        ])
        .from(Alias::new(ACCOUNTS))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    let row = db
        .query_one(db.get_database_backend().build(&select))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get("", "balance").unwrap(),
        row.try_get("", "last_seq").unwrap(),
        row.try_get("", "last_hash").unwrap(),
    )
}

#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: Uuid,
    seq: i64,
    amount: i64,
    balance_after: i64,
    reverses_id: Option<Uuid>,
    prev_hash: String,
    hash: String,
    memo: Option<String>,
}

/// The account's entries in seq order.
async fn rows(db: &DatabaseConnection, account: Uuid) -> Vec<Row> {
    let select = Query::select()
        .columns(
            [
                "id",
                "seq",
                "amount",
                "balance_after",
                "reverses_id",
                "prev_hash",
                "hash",
                "memo",
            ]
            .map(Alias::new),
        )
        .from(Alias::new(ENTRIES))
        .and_where(Expr::col(Alias::new("account_id")).eq(account))
        .order_by(Alias::new("seq"), Order::Asc)
        .to_owned();
    db.query_all(db.get_database_backend().build(&select))
        .await
        .unwrap()
        .into_iter()
        .map(|r| Row {
            id: r.try_get("", "id").unwrap(),
            seq: r.try_get("", "seq").unwrap(),
            amount: r.try_get("", "amount").unwrap(),
            balance_after: r.try_get("", "balance_after").unwrap(),
            reverses_id: r.try_get("", "reverses_id").unwrap(),
            prev_hash: r.try_get("", "prev_hash").unwrap(),
            hash: r.try_get("", "hash").unwrap(),
            memo: r.try_get("", "memo").unwrap(),
        })
        .collect()
}

/// The account row agrees with its entries: balance = Σ amounts ≥ `floor`, seqs 1..n with no
/// gap, each `balance_after` the running sum, each `prev_hash` the previous hash, and `verify`
/// says ok with the account's head. Returns the entries.
async fn assert_consistent(db: &DatabaseConnection, account: Uuid, floor: i64) -> Vec<Row> {
    let (balance, last_seq, last_hash) = account_row(db, account).await;
    let entries = rows(db, account).await;
    let mut running = 0i64;
    let mut prev = GENESIS.to_string();
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1, "seqs are contiguous");
        running += e.amount;
        assert_eq!(e.balance_after, running, "balance_after at seq {}", e.seq);
        assert_eq!(e.prev_hash, prev, "prev_hash at seq {}", e.seq);
        prev = e.hash.clone();
    }
    assert_eq!(balance, running, "balance = Σ entries");
    assert!(balance >= floor, "balance {balance} below {floor}");
    assert_eq!(last_seq, entries.len() as i64);
    assert_eq!(last_hash, prev);
    let v = ledger::verify(db, &BOOK, account).await.unwrap();
    assert!(v.ok, "{v:?}");
    assert_eq!(v.entries, entries.len() as u64);
    assert_eq!(v.head_hash, last_hash);
    assert_eq!(v.sum, balance);
    assert_eq!((v.first_bad_seq, v.problem), (None, None));
    entries
}

#[tokio::test]
async fn income_then_spending_keeps_balances_seqs_and_the_chain() {
    let s = scratch(2).await;
    let acct = open_account(&s.db).await;
    let mut hashes = Vec::new();
    for (amount, after) in [(100, 100), (-30, 70), (5, 75), (-75, 0)] {
        let p = post(&s.db, acct, amount, Some(0)).await.unwrap();
        assert_eq!((p.amount, p.balance_after, p.attempts), (amount, after, 1));
        assert_eq!(p.account_id, acct);
        hashes.push(p.hash);
    }
    let entries = assert_consistent(&s.db, acct, 0).await;
    assert_eq!(
        entries.iter().map(|e| e.balance_after).collect::<Vec<_>>(),
        [100, 70, 75, 0]
    );
    assert_eq!(
        entries.iter().map(|e| e.hash.clone()).collect::<Vec<_>>(),
        hashes
    );
    assert_eq!(entries[2].memo.as_deref(), Some("+5"));
    assert!(entries.iter().all(|e| e.reverses_id.is_none()));
    // Every id is a v7, so entries sort by time of writing.
    assert!(entries.iter().all(|e| e.id.get_version_num() == 7));
    let v = ledger::verify(&s.db, &BOOK, acct).await.unwrap();
    assert_eq!(v.head_hash, hashes[3]);
    // A new account verifies empty, at the genesis hash.
    let empty = open_account(&s.db).await;
    let v = ledger::verify(&s.db, &BOOK, empty).await.unwrap();
    assert!(v.ok && v.entries == 0 && v.head_hash == GENESIS, "{v:?}");
}

#[tokio::test]
async fn spending_beyond_the_balance_with_a_floor_is_insufficient_and_changes_nothing() {
    let s = scratch(2).await;
    let acct = open_account(&s.db).await;
    post(&s.db, acct, 10, Some(0)).await.unwrap();
    let before = account_row(&s.db, acct).await;
    assert!(matches!(
        post(&s.db, acct, -11, Some(0)).await,
        Err(LedgerError::Insufficient)
    ));
    assert_eq!(account_row(&s.db, acct).await, before);
    assert_eq!(rows(&s.db, acct).await.len(), 1);
    // Exactly to the floor is allowed; one more is not.
    assert_eq!(
        post(&s.db, acct, -10, Some(0)).await.unwrap().balance_after,
        0
    );
    assert!(matches!(
        post(&s.db, acct, -1, Some(0)).await,
        Err(LedgerError::Insufficient)
    ));
    // A floor below zero is an overdraft limit.
    assert_eq!(
        post(&s.db, acct, -5, Some(-5)).await.unwrap().balance_after,
        -5
    );
    assert_consistent(&s.db, acct, -5).await;
    // The caller's mistakes are refused before anything is written.
    assert!(matches!(
        post(&s.db, acct, 0, None).await,
        Err(LedgerError::Invalid(_))
    ));
    for fields in [
        vec![Field::Int(Some(1))],
        vec![],
        [memo("a"), memo("b")].concat(),
    ] {
        let posting = Posting {
            account_id: acct,
            amount: 1,
            floor: None,
            fields,
            at: Utc::now(),
        };
        let shapeless = ledger::post(&s.db, &BOOK, posting).await;
        assert!(
            matches!(shapeless, Err(LedgerError::Invalid(_))),
            "{shapeless:?}"
        );
    }
    assert!(matches!(
        post(&s.db, Uuid::now_v7(), 1, None).await,
        Err(LedgerError::NoSuchAccount)
    ));
    assert!(matches!(
        post(&s.db, acct, i64::MIN, None).await,
        Err(LedgerError::Overflow)
    ));
    assert!(matches!(
        ledger::verify(&s.db, &BOOK, Uuid::now_v7()).await,
        Err(LedgerError::NoSuchAccount)
    ));
    assert_eq!(rows(&s.db, acct).await.len(), 3);
}

#[tokio::test]
async fn a_reversal_happens_once_and_a_reversal_is_not_reversible() {
    let s = scratch(2).await;
    let acct = open_account(&s.db).await;
    let income = post(&s.db, acct, 50, None).await.unwrap();
    let undo = reverse(&s.db, income.id, Some(0)).await.unwrap();
    assert_eq!((undo.amount, undo.balance_after, undo.seq), (-50, 0, 2));
    let before = account_row(&s.db, acct).await;
    // Refused as reversed already, with or without a floor the reversal would also cross.
    for floor in [None, Some(0)] {
        let again = reverse(&s.db, income.id, floor).await;
        assert!(
            matches!(again, Err(LedgerError::AlreadyReversed)),
            "{again:?}"
        );
    }
    assert!(matches!(
        reverse(&s.db, undo.id, None).await,
        Err(LedgerError::NotReversible)
    ));
    assert!(matches!(
        reverse(&s.db, Uuid::now_v7(), None).await,
        Err(LedgerError::NoSuchEntry)
    ));
    assert_eq!(account_row(&s.db, acct).await, before);
    let entries = assert_consistent(&s.db, acct, 0).await;
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].reverses_id, Some(income.id));
    assert_eq!(entries[1].memo.as_deref(), Some("冲正"));
}

#[tokio::test]
async fn reversing_income_already_spent_is_insufficient_with_a_floor_and_a_debt_without() {
    let s = scratch(2).await;
    let acct = open_account(&s.db).await;
    let income = post(&s.db, acct, 20, Some(0)).await.unwrap();
    post(&s.db, acct, -15, Some(0)).await.unwrap();
    let before = account_row(&s.db, acct).await;
    assert!(matches!(
        reverse(&s.db, income.id, Some(0)).await,
        Err(LedgerError::Insufficient)
    ));
    assert_eq!(account_row(&s.db, acct).await, before);
    assert_eq!(rows(&s.db, acct).await.len(), 2);
    // Points: a reversal without a floor may leave a debt …
    let undo = reverse(&s.db, income.id, None).await.unwrap();
    assert_eq!(undo.balance_after, -15);
    // … which blocks spending until repaid.
    assert!(matches!(
        post(&s.db, acct, -1, Some(0)).await,
        Err(LedgerError::Insufficient)
    ));
    assert_consistent(&s.db, acct, -15).await;
}

#[tokio::test]
async fn a_refusal_inside_the_callers_transaction_leaves_it_usable() {
    let s = scratch(2).await;
    let acct = open_account(&s.db).await;
    let txn = s.db.begin().await.unwrap();
    let income = post(&txn, acct, 30, Some(0)).await.unwrap();
    reverse(&txn, income.id, Some(0)).await.unwrap();
    assert!(matches!(
        reverse(&txn, income.id, Some(0)).await,
        Err(LedgerError::AlreadyReversed)
    ));
    assert!(matches!(
        post(&txn, acct, -1, Some(0)).await,
        Err(LedgerError::Insufficient)
    ));
    post(&txn, acct, 7, Some(0)).await.unwrap();
    txn.commit().await.unwrap();
    let entries = assert_consistent(&s.db, acct, 0).await;
    assert_eq!(
        entries.iter().map(|e| e.amount).collect::<Vec<_>>(),
        [30, -30, 7]
    );
    // And a caller that rolls back takes the postings with it.
    let txn = s.db.begin().await.unwrap();
    post(&txn, acct, 100, None).await.unwrap();
    txn.rollback().await.unwrap();
    assert_eq!(account_row(&s.db, acct).await.0, 7);
    assert_consistent(&s.db, acct, 0).await;
}

/// What twenty writers do at once.
#[derive(Clone, Copy)]
enum Race {
    /// Spend 1 with a floor of 0 from the account.
    Spend(Uuid),
    /// Reverse the entry with a floor of 0.
    Reverse(Uuid),
}

/// Twenty writers at once, each in its own transaction; returns (successes, the refusals that
/// are `refusal`, all answers).
async fn twenty_at_once(
    db: &DatabaseConnection,
    race: Race,
    refusal: fn(&LedgerError) -> bool,
) -> (usize, usize, Vec<Result<Posted, LedgerError>>) {
    let results: Vec<_> = join_all((0..20).map(|_| {
        let db = db.clone();
        tokio::spawn(async move {
            let txn = db.begin().await.unwrap();
            let r = match race {
                Race::Spend(acct) => post(&txn, acct, -1, Some(0)).await,
                Race::Reverse(entry) => reverse(&txn, entry, Some(0)).await,
            };
            txn.commit().await.unwrap();
            r
        })
    }))
    .await
    .into_iter()
    .map(|r| r.unwrap())
    .collect();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| r.as_ref().is_err_and(refusal))
        .count();
    (ok, refused, results)
}

/// Twenty spendings of 1 from a balance of 10: exactly ten are written and ten are refused as
/// insufficient. Twenty reversals of one entry: exactly one is written. Either way the balance
/// never crosses 0 and the chain verifies.
#[tokio::test]
async fn concurrent_writers_never_cross_the_floor_and_reverse_an_entry_once() {
    let s = scratch(8).await;
    let spent = open_account(&s.db).await;
    post(&s.db, spent, 10, Some(0)).await.unwrap();
    let reversed = open_account(&s.db).await;
    let income = post(&s.db, reversed, 40, Some(0)).await.unwrap();
    let insufficient: fn(&LedgerError) -> bool = |e| matches!(e, LedgerError::Insufficient);
    let again: fn(&LedgerError) -> bool = |e| matches!(e, LedgerError::AlreadyReversed);
    for (acct, race, refusal, expected, entries) in [
        (spent, Race::Spend(spent), insufficient, (10, 10), 11),
        (reversed, Race::Reverse(income.id), again, (1, 19), 2),
    ] {
        let (ok, refused, results) = twenty_at_once(&s.db, race, refusal).await;
        assert_eq!((ok, refused), expected, "{results:?}");
        assert_eq!(assert_consistent(&s.db, acct, 0).await.len(), entries);
        assert_eq!(account_row(&s.db, acct).await.0, 0);
    }
}

/// The lost-writer path, made to happen: B reads the account while A's posting holds the row,
/// its conditional update waits for A and then matches no row (the seq moved), so it reads
/// again and writes on the second attempt. PostgreSQL only (SQLite has one writer).
#[tokio::test]
async fn a_writer_that_loses_the_race_reads_again_and_writes_next() {
    if postgres_base().is_none() {
        return;
    }
    let s = scratch(4).await;
    let acct = open_account(&s.db).await;
    post(&s.db, acct, 10, Some(0)).await.unwrap();
    let a = s.db.begin().await.unwrap();
    post(&a, acct, -3, Some(0)).await.unwrap();
    let db = s.db.clone();
    let b = tokio::spawn(async move {
        let txn = db.begin().await.unwrap();
        let r = post(&txn, acct, -4, Some(0)).await;
        txn.commit().await.unwrap();
        r
    });
    // Wait until B's update is blocked on A's row lock.
    let waiting = Statement::from_string(
        DbBackend::Postgres,
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    let mut blocked = false;
    for _ in 0..500 {
        let n: i64 =
            s.db.query_one(waiting.clone())
                .await
                .unwrap()
                .unwrap()
                .try_get("", "n")
                .unwrap();
        if n == 1 {
            blocked = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(blocked, "B never waited for A");
    a.commit().await.unwrap();
    let posted = b.await.unwrap().unwrap();
    assert_eq!(
        (posted.attempts, posted.seq, posted.balance_after),
        (2, 3, 3)
    );
    assert_consistent(&s.db, acct, 0).await;
}

async fn exec(db: &DatabaseConnection, stmt: &impl sea_orm::StatementBuilder) {
    db.execute(db.get_database_backend().build(stmt))
        .await
        .unwrap();
}

/// `UPDATE table SET sets WHERE cond`, behind the ledger's back.
async fn overwrite(db: &DatabaseConnection, table: &str, sets: &[(&str, i64)], cond: SimpleExpr) {
    let mut update = Query::update();
    update.table(Alias::new(table)).and_where(cond);
    for (column, value) in sets {
        update.value(Alias::new(*column), *value);
    }
    exec(db, &update).await;
}

#[tokio::test]
async fn tampering_with_entries_or_the_account_makes_verify_fail_at_the_first_bad_seq() {
    let s = scratch(2).await;
    let mut accounts = Vec::new();
    for _ in 0..6 {
        let acct = open_account(&s.db).await;
        for amount in [50, -10, 20, -5, 7] {
            post(&s.db, acct, amount, Some(0)).await.unwrap();
        }
        accounts.push(acct);
    }
    let [changed, deleted, deleted_last, inserted, rehashed, balance] = accounts[..] else {
        unreachable!()
    };
    let entry = |acct: Uuid, seq: i64| {
        Expr::col(Alias::new("account_id"))
            .eq(acct)
            .and(Expr::col(Alias::new("seq")).eq(seq))
    };
    // An amount changed in place.
    overwrite(&s.db, ENTRIES, &[("amount", -1)], entry(changed, 2)).await;
    // An entry in the middle deleted, and the last one deleted.
    for (acct, seq) in [(deleted, 3), (deleted_last, 5)] {
        exec(
            &s.db,
            &Query::delete()
                .from_table(Alias::new(ENTRIES))
                .and_where(entry(acct, seq))
                .to_owned(),
        )
        .await;
    }
    // An entry appended behind the ledger's back, chained and hashed correctly but with the
    // account row left alone.
    let (_, _, head) = account_row(&s.db, inserted).await;
    let forged = Entry {
        id: Uuid::now_v7(),
        account_id: inserted,
        seq: 6,
        amount: 1000,
        balance_after: 1062,
        reverses_id: None,
        created_at: chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap(),
        fields: vec![("memo", Field::Text(None))],
    };
    exec(
        &s.db,
        &Query::insert()
            .into_table(Alias::new(ENTRIES))
            .columns(
                [
                    "id",
                    "account_id",
                    "seq",
                    "amount",
                    "balance_after",
                    "prev_hash",
                    "hash",
                    "created_at",
                ]
                .map(Alias::new),
            )
            .values_panic([
                forged.id.into(),
                inserted.into(),
                6i64.into(),
                1000i64.into(),
                1062i64.into(),
                head.clone().into(),
                ledger::entry_hash(&head, &forged).into(),
                forged.created_at.into(),
            ])
            .to_owned(),
    )
    .await;
    // An amount and its balance_after changed together, so only the hash can tell.
    let both = [("amount", 8), ("balance_after", 63)];
    overwrite(&s.db, ENTRIES, &both, entry(rehashed, 5)).await;
    // The account's balance changed, the entries left alone.
    let id = Expr::col(Alias::new("id")).eq(balance);
    overwrite(&s.db, ACCOUNTS, &[("balance", 1_000_000)], id).await;
    let expect = [
        (changed, Some(2), Problem::BalanceAfter),
        (deleted, Some(3), Problem::Missing),
        (deleted_last, Some(5), Problem::Missing),
        (inserted, Some(6), Problem::BeyondHead),
        (rehashed, Some(5), Problem::Hash),
        (balance, None, Problem::AccountBalance),
    ];
    for (acct, seq, problem) in expect {
        let v = ledger::verify(&s.db, &BOOK, acct).await.unwrap();
        assert!(!v.ok, "{v:?}");
        assert_eq!((v.first_bad_seq, v.problem), (seq, Some(problem)), "{v:?}");
    }
    // An untouched account beside them still verifies.
    let clean = open_account(&s.db).await;
    post(&s.db, clean, 1, None).await.unwrap();
    assert_consistent(&s.db, clean, 0).await;
}

/// A few hundred postings and reversals chosen by a seeded generator, each answer checked
/// against a model of the account; afterwards the row, the entries and `verify` agree. More
/// entries than `verify` reads in one batch, so the keyset paging is crossed too.
#[tokio::test]
async fn a_random_sequence_of_postings_and_reversals_keeps_balance_equal_to_the_entries() {
    let s = scratch(2).await;
    let acct = open_account(&s.db).await;
    let mut rng = StdRng::seed_from_u64(20261130);
    let mut balance = 0i64;
    // (id, amount, is a reversal, reversed)
    let mut written: Vec<(Uuid, i64, bool, bool)> = Vec::new();
    let mut counts = [0usize; 4];
    for _ in 0..400 {
        match rng.gen_range(0..10) {
            0..=3 => {
                let amount = rng.gen_range(1..=100);
                let p = post(&s.db, acct, amount, Some(0)).await.unwrap();
                balance += amount;
                assert_eq!(p.balance_after, balance);
                written.push((p.id, amount, false, false));
                counts[0] += 1;
            }
            4..=6 => {
                let amount = -rng.gen_range(1..=120);
                let r = post(&s.db, acct, amount, Some(0)).await;
                if balance + amount < 0 {
                    assert!(matches!(r, Err(LedgerError::Insufficient)), "{r:?}");
                    counts[3] += 1;
                } else {
                    let p = r.unwrap();
                    balance += amount;
                    assert_eq!(p.balance_after, balance);
                    written.push((p.id, amount, false, false));
                    counts[1] += 1;
                }
            }
            _ if !written.is_empty() => {
                let i = rng.gen_range(0..written.len());
                let (id, amount, is_reversal, reversed) = written[i];
                let floor = rng.gen_bool(0.8).then_some(0);
                let r = reverse(&s.db, id, floor).await;
                if is_reversal {
                    assert!(matches!(r, Err(LedgerError::NotReversible)), "{r:?}");
                } else if reversed {
                    assert!(matches!(r, Err(LedgerError::AlreadyReversed)), "{r:?}");
                } else if floor.is_some_and(|f| balance - amount < f) {
                    assert!(matches!(r, Err(LedgerError::Insufficient)), "{r:?}");
                    counts[3] += 1;
                } else {
                    let p = r.unwrap();
                    balance -= amount;
                    assert_eq!(p.balance_after, balance);
                    written[i].3 = true;
                    written.push((p.id, -amount, true, false));
                    counts[2] += 1;
                }
            }
            _ => {}
        }
    }
    // The seed exercises every path, and enough entries to need more than one batch.
    assert!(counts.iter().all(|&n| n > 10), "{counts:?}");
    assert!(written.len() > 256, "{}", written.len());
    let entries = assert_consistent(&s.db, acct, i64::MIN).await;
    assert_eq!(entries.len(), written.len());
    assert_eq!(account_row(&s.db, acct).await.0, balance);
    assert_eq!(
        entries.iter().map(|e| e.id).collect::<Vec<_>>(),
        written.iter().map(|w| w.0).collect::<Vec<_>>()
    );
}

/// A book in the funds' shape: its own column names, and domain columns of every kind.
const FUNDS: Book = Book {
    accounts: "scratch_fund_accounts",
    entries: "scratch_fund_entries",
    columns: Columns {
        balance: "balance_fen",
        last_seq: "last_seq",
        last_hash: "last_hash",
        amount: "amount_fen",
        balance_after: "balance_after_fen",
        reverses_id: "reverses_entry_id",
    },
    extra: &[
        ("kind", Kind::Text),
        ("proposal_id", Kind::Uuid),
        ("occurred_on", Kind::Date),
        ("minutes", Kind::Int),
        ("public_name", Kind::Text),
    ],
    added: &[],
    zero: None,
};

/// What is written under a book's own names reads back the same on either database (uuids,
/// dates, integers, text and NULLs), so its chain verifies; and a domain column is covered by
/// the hash.
#[tokio::test]
async fn a_book_with_its_own_column_names_and_fields_of_every_kind_verifies() {
    let s = scratch(2).await;
    make_tables(&s.db, &FUNDS).await;
    let acct = open_in(&s.db, &FUNDS).await;
    let proposal = Uuid::now_v7();
    let day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let fields = |kind: &str, full: bool| {
        vec![
            Field::Text(Some(kind.into())),
            Field::Uuid(full.then_some(proposal)),
            Field::Date(full.then_some(day)),
            Field::Int(full.then_some(90)),
            Field::Text(full.then(|| "王**".to_string())),
        ]
    };
    let posting = |amount: i64, kind: &str, full: bool| Posting {
        account_id: acct,
        amount,
        floor: Some(0),
        fields: fields(kind, full),
        at: Utc::now(),
    };
    let income = ledger::post(&s.db, &FUNDS, posting(50_000, "allocation", true))
        .await
        .unwrap();
    ledger::post(&s.db, &FUNDS, posting(-12_345, "expense", false))
        .await
        .unwrap();
    let undo = |kind: &str| Reversal {
        entry_id: income.id,
        floor: Some(0),
        fields: fields(kind, false),
        at: Utc::now(),
    };
    let spent = ledger::reverse(&s.db, &FUNDS, undo("reversal")).await;
    assert!(matches!(spent, Err(LedgerError::Insufficient)), "{spent:?}");
    ledger::post(&s.db, &FUNDS, posting(12_345, "refund", true))
        .await
        .unwrap();
    let reversal = ledger::reverse(&s.db, &FUNDS, undo("reversal"))
        .await
        .unwrap();
    assert_eq!((reversal.seq, reversal.balance_after), (4, 0));
    let v = ledger::verify(&s.db, &FUNDS, acct).await.unwrap();
    assert!(v.ok && v.entries == 4 && v.sum == 0, "{v:?}");
    assert_eq!(v.head_hash, reversal.hash);
    // The fields are stored as given.
    let select = Query::select()
        .columns(
            [
                "kind",
                "proposal_id",
                "occurred_on",
                "minutes",
                "public_name",
                "reverses_entry_id",
            ]
            .map(Alias::new),
        )
        .from(Alias::new(FUNDS.entries))
        .and_where(Expr::col(Alias::new("seq")).is_in([1i64, 4]))
        .order_by(Alias::new("seq"), Order::Asc)
        .to_owned();
    let stored =
        s.db.query_all(s.db.get_database_backend().build(&select))
            .await
            .unwrap();
    let first = &stored[0];
    assert_eq!(first.try_get::<String>("", "kind").unwrap(), "allocation");
    assert_eq!(first.try_get::<Uuid>("", "proposal_id").unwrap(), proposal);
    assert_eq!(first.try_get::<NaiveDate>("", "occurred_on").unwrap(), day);
    assert_eq!(first.try_get::<i64>("", "minutes").unwrap(), 90);
    assert_eq!(first.try_get::<String>("", "public_name").unwrap(), "王**");
    let last = &stored[1];
    assert_eq!(last.try_get::<String>("", "kind").unwrap(), "reversal");
    assert_eq!(
        last.try_get::<Option<Uuid>>("", "reverses_entry_id")
            .unwrap(),
        Some(income.id)
    );
    assert_eq!(last.try_get::<Option<i64>>("", "minutes").unwrap(), None);
    // A domain column changed behind the ledger's back breaks the chain at its entry.
    let moved = Query::update()
        .table(Alias::new(FUNDS.entries))
        .value(
            Alias::new("occurred_on"),
            NaiveDate::from_ymd_opt(2026, 12, 1),
        )
        .and_where(Expr::col(Alias::new("seq")).eq(3i64))
        .to_owned();
    exec(&s.db, &moved).await;
    let v = ledger::verify(&s.db, &FUNDS, acct).await.unwrap();
    assert_eq!(
        (v.ok, v.first_bad_seq, v.problem),
        (false, Some(3), Some(Problem::Hash))
    );
}

/// A book before and after a column was added to its entries (and entries of amount 0 allowed
/// for one kind): the same tables, the later book's view.
const EARLY: Book = Book::new("later_accounts", "later_entries", &[("memo", Kind::Text)]);
const LATER: Book = Book {
    added: &[("freed", Kind::Int)],
    zero: Some(("memo", "release")),
    ..EARLY
};

/// Entries written before a column was added keep their hashes (the column is hashed only when
/// it holds a value); an amount of 0 is posted and verified only for the kind the book allows,
/// never reversed; setting the added column on an old entry breaks the chain there.
#[tokio::test]
async fn a_column_added_later_leaves_older_hashes_alone_and_zero_is_only_for_its_kind() {
    let s = scratch(1).await;
    make_tables(&s.db, &LATER).await;
    let acct = open_in(&s.db, &LATER).await;
    let posting = |amount: i64, book: &Book, memo: &str, freed: Option<i64>| {
        let mut fields = vec![Field::Text(Some(memo.to_string()))];
        if !book.added.is_empty() {
            fields.push(Field::Int(freed));
        }
        Posting {
            account_id: acct,
            amount,
            floor: Some(0),
            fields,
            at: Utc::now(),
        }
    };
    for amount in [5_000, -1_000] {
        ledger::post(&s.db, &EARLY, posting(amount, &EARLY, "old", None))
            .await
            .unwrap();
    }
    let early = ledger::verify(&s.db, &EARLY, acct).await.unwrap();
    let later = ledger::verify(&s.db, &LATER, acct).await.unwrap();
    assert!(early.ok && later.ok, "{later:?}");
    assert_eq!(early.head_hash, later.head_hash);
    // Amount 0: the release kind only.
    let refused = ledger::post(&s.db, &LATER, posting(0, &LATER, "expense", None)).await;
    assert!(
        matches!(refused, Err(LedgerError::Invalid(_))),
        "{refused:?}"
    );
    let zero = ledger::post(&s.db, &LATER, posting(0, &LATER, "release", Some(700)))
        .await
        .unwrap();
    assert_eq!((zero.seq, zero.balance_after), (3, 4_000));
    ledger::post(&s.db, &LATER, posting(300, &LATER, "new", None))
        .await
        .unwrap();
    let v = ledger::verify(&s.db, &LATER, acct).await.unwrap();
    assert!(v.ok && v.entries == 4 && v.sum == 4_300, "{v:?}");
    // The book before does not know the zero kind.
    let v = ledger::verify(&s.db, &EARLY, acct).await.unwrap();
    assert_eq!(
        (v.first_bad_seq, v.problem),
        (Some(3), Some(Problem::ZeroAmount))
    );
    let undo = ledger::reverse(
        &s.db,
        &LATER,
        Reversal {
            entry_id: zero.id,
            floor: Some(0),
            fields: vec![Field::Text(Some("reversal".into())), Field::Int(None)],
            at: Utc::now(),
        },
    )
    .await;
    assert!(matches!(undo, Err(LedgerError::NotReversible)), "{undo:?}");
    // The added column set on an entry written before it: the chain breaks there.
    s.db.execute_unprepared("UPDATE later_entries SET freed = 1 WHERE seq = 1")
        .await
        .unwrap();
    let v = ledger::verify(&s.db, &LATER, acct).await.unwrap();
    assert_eq!((v.first_bad_seq, v.problem), (Some(1), Some(Problem::Hash)));
}
