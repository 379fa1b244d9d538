//! The PostgreSQL backend. The SQL stays within what PostgreSQL-compatible distributed
//! engines (CockroachDB, YugabyteDB, Citus) run: small transactions, text and bigint
//! columns, keys that start with the device id, `ON CONFLICT`, `RETURNING`,
//! `SELECT … FOR UPDATE`; every transaction is retried on a serialization failure
//! (SQLSTATE 40001) or a deadlock (40P01), which those engines report routinely.
//!
//! Only the dialect (`?n` becomes `$n`), the connection pool and the retries live here;
//! the station's algorithms run over [`Tx`].

use std::borrow::Cow;
use std::time::Duration;

use async_trait::async_trait;
use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Transaction};
use tokio_postgres::Statement;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::postgres_tls::{self, SslMode};
use tokio::sync::watch;

use super::sql::{Backend, Mode, Row, Tx, TxFuture, Value, publish_feed};
use super::{Result, StorageError};
use crate::migrations::create_table_sql;

pub struct PostgresStorage {
    pool: Pool,
    /// The feed's last station seq as this process committed it ([`Backend::feed_watch`]).
    feed: watch::Sender<u64>,
}

fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => with_causes(e),
    }
}

/// An error with the errors under it: tokio-postgres says only "error performing TLS
/// handshake" and keeps why (a certificate for another name) in its source.
pub(super) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

fn db(e: tokio_postgres::Error) -> StorageError {
    StorageError::Database(describe(&e))
}

/// Serialization failure or deadlock: the whole transaction runs again.
fn retryable(e: &tokio_postgres::Error) -> bool {
    e.code().is_some_and(|c| {
        *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    })
}

const RETRIES: u32 = 20;

/// How long one host of the URL gets to answer a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl PostgresStorage {
    /// `url` as libpq reads it: `sslmode` and `sslrootcert` (docs/postgres.md), several
    /// hosts with `target_session_attrs=read-write` for a primary with standbys.
    pub async fn connect(url: &str) -> Result<PostgresStorage> {
        let options = postgres_tls::connect_options(url)
            .map_err(|e| StorageError::Invalid(format!("database_url: {e}")))?;
        let mut config = options.config;
        // Several hosts are tried in turn: one that drops packets must not hold the
        // station for the operating system's minutes-long connect timeout.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let remote = config.get_hosts().iter().any(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => !is_loopback(name),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(_) => false,
        });
        if remote && options.mode != SslMode::VerifyFull {
            tracing::warn!(
                "database_url reaches PostgreSQL over the network without sslmode=verify-full: \
                 whoever is on the path can read or pose as the database (docs/postgres.md)"
            );
        }
        let manager = Manager::from_config(
            config,
            options.tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(16)
            .build()
            .map_err(|e| StorageError::Database(e.to_string()))?;
        let storage = PostgresStorage {
            pool,
            feed: watch::Sender::new(0),
        };
        storage.migrate().await?;
        let head = storage
            .transact(Mode::Read, |tx| Box::pin(crate::feed::head(tx)))
            .await?;
        storage.feed.send_replace(head);
        Ok(storage)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|e| {
            let why = match &e {
                deadpool_postgres::PoolError::Backend(e) => describe(e),
                other => with_causes(other),
            };
            StorageError::Database(format!("cannot connect: {why}"))
        })
    }

    async fn migrate(&self) -> Result<()> {
        let client = self.client().await?;
        client.batch_execute(create_table_sql()).await.map_err(db)?;
        self.transact(Mode::Write, |tx| Box::pin(crate::migrations::apply(tx)))
            .await
    }
}

#[async_trait]
impl Backend for PostgresStorage {
    async fn transact<T, F>(&self, _mode: Mode, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'a> Fn(&'a mut dyn Tx) -> TxFuture<'a, T> + Send + Sync + 'static,
    {
        let mut attempt = 0u32;
        loop {
            let mut client = self.client().await?;
            let tx = match client.transaction().await {
                Ok(tx) => tx,
                // A pooled connection whose server went away (a failover) before the pool
                // noticed: nothing ran, so another connection takes the work.
                Err(e) if e.is_closed() && attempt < RETRIES => {
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(db(e)),
            };
            let mut pg = PgTx {
                tx: &tx,
                retry: false,
                appended: None,
            };
            let result = work(&mut pg).await;
            let retry = pg.retry;
            let appended = pg.appended;
            let result = match result {
                Ok(v) => match tx.commit().await {
                    Ok(()) => {
                        publish_feed(&self.feed, appended);
                        Ok(v)
                    }
                    Err(e) if retryable(&e) => Err((true, db(e))),
                    Err(e) => Err((false, db(e))),
                },
                // Dropping the transaction rolls it back.
                Err(e) => Err((retry, e)),
            };
            match result {
                Ok(v) => return Ok(v),
                Err((true, _)) if attempt < RETRIES => {
                    attempt += 1;
                    let pause = rand::random::<u64>() % (5 * u64::from(attempt)) + 1;
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
                Err((true, e)) => {
                    return Err(StorageError::Database(format!(
                        "gave up after {RETRIES} tries: {e}"
                    )));
                }
                Err((false, e)) => return Err(e),
            }
        }
    }

    fn feed_watch(&self) -> watch::Receiver<u64> {
        self.feed.subscribe()
    }
}

struct PgTx<'a> {
    tx: &'a Transaction<'a>,
    /// Set when a statement failed in a way that asks for the transaction to be retried.
    retry: bool,
    /// Where this attempt moved the feed's counter to, if it did.
    appended: Option<u64>,
}

impl PgTx<'_> {
    fn fail(&mut self, e: tokio_postgres::Error) -> StorageError {
        // A connection lost inside the transaction never committed it: the server rolls
        // back what it had, so the work can run again on another connection.
        if retryable(&e) || e.is_closed() {
            self.retry = true;
        }
        db(e)
    }

    async fn statement(&mut self, sql: &str, cached: bool) -> Result<Statement> {
        let sql = dialect(sql);
        let prepared = if cached {
            self.tx.prepare_cached(&sql).await
        } else {
            self.tx.prepare(&sql).await
        };
        prepared.map_err(|e| self.fail(e))
    }

    async fn run(&mut self, sql: &str, params: &[Value], cached: bool) -> Result<u64> {
        let stmt = self.statement(sql, cached).await?;
        let refs = refs(params);
        let n = self.tx.execute(&stmt, &refs).await;
        n.map_err(|e| self.fail(e))
    }

    async fn rows(&mut self, sql: &str, params: &[Value], cached: bool) -> Result<Vec<Row>> {
        let stmt = self.statement(sql, cached).await?;
        let refs = refs(params);
        let rows = self.tx.query(&stmt, &refs).await;
        rows.map_err(|e| self.fail(e))?
            .iter()
            .map(read_row)
            .collect()
    }
}

fn refs(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// PostgreSQL's side of the one dialect: `?n` placeholders become `$n` (the station's
/// SQL has no `?` anywhere else).
fn dialect(sql: &str) -> Cow<'_, str> {
    if sql.contains('?') {
        sql.replace('?', "$").into()
    } else {
        sql.into()
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT8 => v.to_sql(ty, out),
                _ => Err(format!("an integer bound to a {ty} parameter").into()),
            },
            Value::Text(v) => match *ty {
                Type::INT2 | Type::INT4 | Type::INT8 => {
                    Err(format!("text bound to a {ty} parameter").into())
                }
                _ => v.as_str().to_sql(ty, out),
            },
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(
            *ty,
            Type::INT2 | Type::INT4 | Type::INT8 | Type::TEXT | Type::VARCHAR | Type::BPCHAR
        )
    }

    to_sql_checked!();
}

fn read_row(row: &tokio_postgres::Row) -> Result<Row> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let value = match *column.type_() {
            Type::INT2 => row.try_get::<_, Option<i16>>(i).map(|v| v.map(i64::from)),
            Type::INT4 => row.try_get::<_, Option<i32>>(i).map(|v| v.map(i64::from)),
            Type::INT8 => row.try_get::<_, Option<i64>>(i),
            _ => {
                let text = row.try_get::<_, Option<String>>(i).map_err(db)?;
                values.push(text.map_or(Value::Null, Value::Text));
                continue;
            }
        };
        values.push(value.map_err(db)?.map_or(Value::Null, Value::Int));
    }
    Ok(Row(values))
}

#[async_trait]
impl Tx for PgTx<'_> {
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.run(sql, params, true).await
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        self.rows(sql, params, true).await
    }

    async fn execute_once(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.run(sql, params, false).await
    }

    async fn query_once(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        self.rows(sql, params, false).await
    }

    async fn batch(&mut self, sql: &str) -> Result<()> {
        let done = self.tx.batch_execute(sql).await;
        done.map_err(|e| self.fail(e))
    }

    fn feed_appended(&mut self, last: u64) {
        self.appended = Some(last);
    }
}
