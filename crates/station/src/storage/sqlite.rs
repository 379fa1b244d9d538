//! The default backend: one SQLite file in the data folder (WAL, `synchronous=FULL`, so
//! an acknowledged push survives a power cut). One connection behind a mutex: SQLite
//! has one writer anyway, and the station's load is a few dozen vehicles.
//!
//! Only the dialect, the connection and the locking live here; the station's
//! algorithms run over [`Tx`]. Every transaction runs on a blocking thread: the
//! algorithm is an async function, but this backend's [`Tx`] never waits, so the
//! future completes in one poll there.

use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use async_trait::async_trait;
use rusqlite::Connection;
use rusqlite::types::{ToSqlOutput, ValueRef};

use tokio::sync::watch;

use super::sql::{Backend, Mode, Row, Tx, TxFuture, Value, publish_feed};
use super::{Result, StorageError};
use crate::{feed, migrations};

pub struct SqliteStorage {
    conn: Arc<Mutex<Connection>>,
    /// The feed's last station seq (see [`Backend::feed_watch`]).
    feed: watch::Sender<u64>,
}

impl SqliteStorage {
    pub fn open(path: &Path) -> Result<SqliteStorage> {
        let mut conn = Connection::open(path)?;
        configure(&conn, path)?;
        migrate(&mut conn)?;
        let (head, _) = in_transaction(&mut conn, "BEGIN", |tx| Box::pin(feed::head(tx)))?;
        Ok(SqliteStorage {
            conn: Arc::new(Mutex::new(conn)),
            feed: watch::Sender::new(head),
        })
    }
}

/// Pages SQLite keeps in memory per connection: 64 MiB (`cache_size` is in KiB when
/// negative). SQLite's default, 2 MiB, is smaller than one large push batch, so a batch
/// spilled dirty pages into the WAL mid-transaction and read them back; a station
/// machine has the memory.
pub const CACHE_KIB: i64 = 64 * 1024;

/// The settings every station connection runs with — and the replication benchmark's
/// bare-insert baseline, so the two are measured on the same footing: write-ahead
/// logging, `synchronous=FULL` (an acknowledged push survives a power cut), the page
/// cache above, a busy timeout, and a statement cache large enough that no statement
/// the algorithms use is parsed twice.
pub fn configure(conn: &Connection, path: &Path) -> Result<()> {
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StorageError::Database(format!(
            "could not switch {} to write-ahead logging (journal mode is {mode})",
            path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

#[async_trait]
impl Backend for SqliteStorage {
    async fn transact<T, F>(&self, mode: Mode, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'a> Fn(&'a mut dyn Tx) -> TxFuture<'a, T> + Send + Sync + 'static,
    {
        let conn = self.conn.clone();
        let feed = self.feed.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StorageError::Database("a database task panicked".into()))?;
            // A writer takes the write lock at BEGIN, so what it reads stays true until
            // it commits (the role `FOR UPDATE` plays on PostgreSQL).
            let begin = match mode {
                Mode::Write => "BEGIN IMMEDIATE",
                Mode::Read => "BEGIN",
            };
            let (value, appended) = in_transaction(&mut guard, begin, work)?;
            // Told while the connection is still held, so listeners see heads in order.
            publish_feed(&feed, appended);
            Ok(value)
        })
        .await
        .map_err(|e| StorageError::Database(format!("database task failed: {e}")))?
    }

    fn feed_watch(&self) -> watch::Receiver<u64> {
        self.feed.subscribe()
    }
}

/// Brings the schema up to date ([`migrations::apply`]) in one transaction.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    in_transaction(conn, "BEGIN IMMEDIATE", |tx| {
        Box::pin(migrations::apply(tx))
    })
    .map(|((), _)| ())
}

/// Runs `work` between `begin` and `COMMIT`; a failed transaction leaves nothing. Also
/// returns the feed's last seq when the committed work appended to it.
fn in_transaction<T>(
    conn: &mut Connection,
    begin: &str,
    work: impl for<'a> FnOnce(&'a mut dyn Tx) -> TxFuture<'a, T>,
) -> Result<(T, Option<u64>)> {
    conn.execute_batch(begin)?;
    let mut tx = SqliteTx {
        conn: &mut *conn,
        appended: None,
    };
    let done = run_now(work(&mut tx));
    let appended = tx.appended;
    let result = done.and_then(|v| {
        conn.execute_batch("COMMIT")
            .map(|()| (v, appended))
            .map_err(Into::into)
    });
    if result.is_err() && !conn.is_autocommit() {
        // A failed rollback leaves the connection in a transaction, which the next
        // BEGIN reports.
        let _ = conn.execute_batch("ROLLBACK");
    }
    result
}

/// Polls a future that never waits to completion.
fn run_now<T>(future: impl Future<Output = Result<T>>) -> Result<T> {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(v) => v,
        Poll::Pending => Err(StorageError::Database(
            "a SQLite transaction waited for something; it must not".into(),
        )),
    }
}

struct SqliteTx<'a> {
    conn: &'a mut Connection,
    /// Where this transaction moved the feed's counter to, if it did.
    appended: Option<u64>,
}

/// SQLite's side of the one dialect: its write lock is taken at `BEGIN IMMEDIATE`, so
/// the row locks PostgreSQL needs (a `FOR UPDATE` that ends the statement) are dropped.
fn dialect(sql: &str) -> &str {
    sql.trim_end().strip_suffix(" FOR UPDATE").unwrap_or(sql)
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
        })
    }
}

fn read_row(row: &rusqlite::Row<'_>, columns: usize) -> Result<Row> {
    let mut values = Vec::with_capacity(columns);
    for i in 0..columns {
        values.push(match row.get_ref(i)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(v) => Value::Int(v),
            ValueRef::Text(t) => Value::Text(
                std::str::from_utf8(t)
                    .map_err(|e| StorageError::Corrupt(format!("column {i}: {e}")))?
                    .to_owned(),
            ),
            other => {
                return Err(StorageError::Corrupt(format!(
                    "column {i} holds a {:?}; the station stores only text and integers",
                    other.data_type()
                )));
            }
        });
    }
    Ok(Row(values))
}

fn rows_of(stmt: &mut rusqlite::Statement<'_>, params: &[Value]) -> Result<Vec<Row>> {
    let columns = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(read_row(row, columns)?);
    }
    Ok(out)
}

#[async_trait]
impl Tx for SqliteTx<'_> {
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let mut stmt = self.conn.prepare_cached(dialect(sql))?;
        Ok(stmt.execute(rusqlite::params_from_iter(params))? as u64)
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        rows_of(&mut *self.conn.prepare_cached(dialect(sql))?, params)
    }

    async fn execute_once(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let mut stmt = self.conn.prepare(dialect(sql))?;
        Ok(stmt.execute(rusqlite::params_from_iter(params))? as u64)
    }

    async fn query_once(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        rows_of(&mut self.conn.prepare(dialect(sql))?, params)
    }

    async fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.conn.execute_batch(sql)?)
    }

    fn feed_appended(&mut self, last: u64) {
        self.appended = Some(last);
    }
}
