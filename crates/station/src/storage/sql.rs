//! The storage primitives every station algorithm is written over: one transaction
//! ([`Tx`]) that executes SQL and returns rows of plain [`Value`]s, and the backend
//! that runs such a transaction ([`Backend`]).
//!
//! SQL is written once, in SQLite's `?n` placeholder style; the PostgreSQL backend
//! translates it to `$n`. `FOR UPDATE` ends a statement where PostgreSQL must lock a row;
//! the SQLite backend drops it (its transactions take the single write lock up front).
//! Everything else the station writes is SQL both engines run as is.

use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;

use super::{Result, StorageError};

/// A value bound to or read from a statement: the station's columns are text and
/// integers only (booleans are stored as 0/1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}

impl From<u32> for Value {
    fn from(v: u32) -> Value {
        Value::Int(i64::from(v))
    }
}

impl From<u8> for Value {
    fn from(v: u8) -> Value {
        Value::Int(i64::from(v))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Int(i64::from(v))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}

impl From<uuid::Uuid> for Value {
    fn from(v: uuid::Uuid) -> Value {
        Value::Text(v.to_string())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// Builds a parameter list: `params![a, b, c]`.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => {
        &[$($crate::storage::sql::Value::from($v)),*][..]
    };
}

/// One result row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn cell(&self, i: usize) -> Result<&Value> {
        self.0
            .get(i)
            .ok_or_else(|| StorageError::Corrupt(format!("a result row has no column {i}")))
    }

    pub fn int(&self, i: usize) -> Result<i64> {
        match self.cell(i)? {
            Value::Int(v) => Ok(*v),
            other => Err(StorageError::Corrupt(format!(
                "column {i} is {other:?}, not an integer"
            ))),
        }
    }

    /// A non-negative counter or seq (anything negative reads as 0).
    pub fn count(&self, i: usize) -> Result<u64> {
        Ok(u64::try_from(self.int(i)?).unwrap_or(0))
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.cell(i)? {
            Value::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    pub fn str(&self, i: usize) -> Result<&str> {
        match self.cell(i)? {
            Value::Text(v) => Ok(v),
            other => Err(StorageError::Corrupt(format!(
                "column {i} is {other:?}, not text"
            ))),
        }
    }

    pub fn opt_str(&self, i: usize) -> Result<Option<&str>> {
        match self.cell(i)? {
            Value::Null => Ok(None),
            _ => self.str(i).map(Some),
        }
    }

    /// Moves a text column out of the row.
    pub fn text(&mut self, i: usize) -> Result<String> {
        self.str(i)?;
        match self.0.get_mut(i) {
            Some(Value::Text(v)) => Ok(std::mem::take(v)),
            _ => Err(StorageError::Corrupt(format!("column {i} is not text"))),
        }
    }

    pub fn opt_text(&mut self, i: usize) -> Result<Option<String>> {
        match self.cell(i)? {
            Value::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }
}

/// One open transaction. Its methods on SQLite never wait (the backend runs the whole
/// algorithm on a blocking thread); on PostgreSQL they are real round trips.
#[async_trait]
pub trait Tx: Send {
    /// Rows written, updated or deleted.
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64>;
    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;

    /// As [`Tx::execute`], for a statement whose text is made for this call (a list of
    /// this length, the last partial chunk): not kept prepared.
    async fn execute_once(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.execute(sql, params).await
    }

    /// As [`Tx::query`], for a statement whose text is made for this call.
    async fn query_once(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        self.query(sql, params).await
    }

    /// Runs a script of statements without parameters (a migration).
    async fn batch(&mut self, sql: &str) -> Result<()>;

    /// The feed's counter reached `last` in this transaction ([`crate::feed::append`]):
    /// once it commits, the backend tells [`Backend::feed_watch`]'s listeners.
    fn feed_appended(&mut self, _last: u64) {}

    async fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    async fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row> {
        self.query_opt(sql, params)
            .await?
            .ok_or_else(|| StorageError::Database(format!("no row from {sql}")))
    }

    /// Inserts many rows with multi-row `INSERT`s: `head` is `INSERT INTO t (a, b, …)`,
    /// `values` holds `cols` values per row in order, `tail` follows the `VALUES` list
    /// (an `ON CONFLICT` clause, or empty). Statements of a full chunk are identical, so
    /// each backend prepares them once.
    async fn insert_rows(
        &mut self,
        head: &str,
        cols: usize,
        values: Vec<Value>,
        tail: &str,
    ) -> Result<()> {
        let cols = cols.max(1);
        let mut rest = values;
        while !rest.is_empty() {
            let take = rest.len().min(ROWS_PER_STATEMENT * cols);
            let tail_values = rest.split_off(take);
            let chunk = std::mem::replace(&mut rest, tail_values);
            let sql = format!(
                "{head} VALUES {} {tail}",
                values_list(chunk.len() / cols, cols)
            );
            if chunk.len() == ROWS_PER_STATEMENT * cols {
                self.execute(&sql, &chunk).await?;
            } else {
                self.execute_once(&sql, &chunk).await?;
            }
        }
        Ok(())
    }
}

/// Rows per multi-row `INSERT`: few statements, far below both engines' parameter limits
/// (SQLite 32,766, PostgreSQL 65,535).
pub const ROWS_PER_STATEMENT: usize = 500;

/// `(?1, ?2, …), (?n+1, …)` for `rows` rows of `cols` columns.
fn placeholders(rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 6);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 1..=cols {
            if c > 1 {
                out.push_str(", ");
            }
            out.push('?');
            out.push_str(&(r * cols + c).to_string());
        }
        out.push(')');
    }
    out
}

/// The `VALUES` list of a multi-row insert, made once per column count: the list for
/// fewer rows is a prefix of the one for [`ROWS_PER_STATEMENT`] rows, so every push
/// slices it instead of formatting thousands of numbers again.
fn values_list(rows: usize, cols: usize) -> String {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    /// Per column count: the full list and where each row's group ends.
    type Lists = HashMap<usize, (String, Vec<usize>)>;
    static LISTS: OnceLock<Mutex<Lists>> = OnceLock::new();
    if rows == 0 || rows > ROWS_PER_STATEMENT {
        return placeholders(rows, cols);
    }
    let Ok(mut lists) = LISTS.get_or_init(Default::default).lock() else {
        return placeholders(rows, cols);
    };
    let (full, ends) = lists.entry(cols).or_insert_with(|| {
        let full = placeholders(ROWS_PER_STATEMENT, cols);
        let ends = full
            .match_indices(')')
            .map(|(i, _)| i + 1)
            .collect::<Vec<_>>();
        (full, ends)
    });
    match ends.get(rows - 1) {
        Some(&end) => full[..end].to_owned(),
        None => placeholders(rows, cols),
    }
}

/// `?first, ?first+1, …` for an `IN (…)` list of `n` values.
pub fn list(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub type TxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// Whether a transaction writes (SQLite takes the write lock at `BEGIN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Read,
    Write,
}

/// A database the station algorithms run on: it owns connection handling, locking and
/// retries, and nothing else.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Runs `work` in one transaction and commits when it returns `Ok`; an `Err` rolls
    /// back. `work` may run more than once (PostgreSQL retries a serialization failure or
    /// a deadlock), so it must not have effects outside the transaction.
    async fn transact<T, F>(&self, mode: Mode, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'a> Fn(&'a mut dyn Tx) -> TxFuture<'a, T> + Send + Sync + 'static;

    /// The last station seq of the feed, as committed by this process: it moves right
    /// after each commit that appended to the feed (what `/v1/events` streams). Writers
    /// in another process (the admin commands) are not seen; devices pull those at their
    /// periodic sync.
    fn feed_watch(&self) -> tokio::sync::watch::Receiver<u64>;
}

/// Tells `feed`'s listeners that a committed transaction moved the feed to `last`.
pub fn publish_feed(feed: &tokio::sync::watch::Sender<u64>, last: Option<u64>) {
    if let Some(last) = last {
        feed.send_if_modified(|head| {
            let moved = last > *head;
            *head = (*head).max(last);
            moved
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_lists_are_the_formatted_ones() {
        assert_eq!(placeholders(2, 2), "(?1, ?2), (?3, ?4)");
        for cols in [1, 4, 9] {
            for rows in [1, 2, 37, ROWS_PER_STATEMENT, ROWS_PER_STATEMENT + 1] {
                assert_eq!(values_list(rows, cols), placeholders(rows, cols));
            }
        }
    }
}
