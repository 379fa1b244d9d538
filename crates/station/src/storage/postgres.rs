//! The PostgreSQL backend. The SQL stays within what PostgreSQL-compatible distributed
//! engines (CockroachDB, YugabyteDB, Citus) run: small transactions, text and bigint
//! columns, keys that start with the device id, `ON CONFLICT`, `RETURNING`,
//! `SELECT … FOR UPDATE`; every transaction is retried on a serialization failure
//! (SQLSTATE 40001) or a deadlock (40P01), which those engines report routinely.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use lifebridge_domain::entities::{Appointment, EntityKind};
use lifebridge_protocol::ingest::{entry_digest, plan};
use lifebridge_protocol::records::{LocalChange, RemoteRecord};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row, Transaction};
use uuid::Uuid;

use lifebridge_domain::cold_chain::Manifest;
use lifebridge_domain::handoff::{DeskScan, HandoffRecord};

use super::{
    Counts, DeviceRecord, DonorState, FeedItem, LeaseNeed, ManifestRow, PullPage, PushOutcome,
    ReceiptRow, Result, STAFF_COLUMNS, StaffRow, StatisticsSources, Storage, StorageError,
    StoredEntry, clamp, derive_feed, lease_count, lease_item, lease_range, own_record_skipped,
    parse_clocks, parse_hlc, parse_kind, parse_time, parse_uuid,
};
use crate::migrations::{MIGRATIONS, check_applied, checksum, create_table_sql};

pub struct PostgresStorage {
    pool: Pool,
}

/// Why one attempt of a transaction failed.
enum Fail {
    /// Serialization failure or deadlock: run the whole transaction again.
    Retry,
    Stop(StorageError),
}

impl From<tokio_postgres::Error> for Fail {
    fn from(e: tokio_postgres::Error) -> Fail {
        match e.code() {
            Some(c)
                if *c == SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == SqlState::T_R_DEADLOCK_DETECTED =>
            {
                Fail::Retry
            }
            _ => Fail::Stop(StorageError::Database(describe(&e))),
        }
    }
}

impl From<StorageError> for Fail {
    fn from(e: StorageError) -> Fail {
        Fail::Stop(e)
    }
}

impl From<serde_json::Error> for Fail {
    fn from(e: serde_json::Error) -> Fail {
        Fail::Stop(e.into())
    }
}

fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

type Attempt<T> = std::result::Result<T, Fail>;

const RETRIES: u32 = 20;

/// Runs `$body` (which uses the transaction `$tx`) until it commits, retrying on
/// serialization failures with a short randomized pause.
macro_rules! with_retry {
    ($self:ident, |$tx:ident| $body:expr) => {{
        let mut attempt = 0u32;
        loop {
            let result: Attempt<_> = async {
                let mut client = $self.client().await?;
                let $tx = client.transaction().await?;
                let value = $body;
                $tx.commit().await?;
                Ok(value)
            }
            .await;
            match result {
                Ok(v) => break Ok(v),
                Err(Fail::Stop(e)) => break Err(e),
                Err(Fail::Retry) if attempt < RETRIES => {
                    attempt += 1;
                    let pause = rand::random::<u64>() % (5 * u64::from(attempt)) + 1;
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
                Err(Fail::Retry) => {
                    break Err(StorageError::Database(format!(
                        "gave up after {RETRIES} serialization failures"
                    )));
                }
            }
        }
    }};
}

fn staff_row(r: &tokio_postgres::Row) -> Result<StaffRow> {
    Ok(StaffRow {
        staff_id: parse_uuid(r.get(0))?,
        name: r.get(1),
        role: r.get(2),
        pin_hash: r.get(3),
        created_at: r.get(4),
        active: r.get::<_, i32>(5) != 0,
    })
}

impl PostgresStorage {
    pub async fn connect(url: &str) -> Result<PostgresStorage> {
        let config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StorageError::Invalid(format!("database_url: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(16)
            .build()
            .map_err(|e| StorageError::Database(e.to_string()))?;
        let storage = PostgresStorage { pool };
        storage.migrate().await?;
        Ok(storage)
    }

    async fn client(&self) -> std::result::Result<deadpool_postgres::Object, Fail> {
        self.pool
            .get()
            .await
            .map_err(|e| Fail::Stop(StorageError::Database(format!("cannot connect: {e}"))))
    }

    async fn migrate(&self) -> Result<()> {
        let client = self.client().await.map_err(stop)?;
        client
            .batch_execute(create_table_sql())
            .await
            .map_err(|e| StorageError::Database(describe(&e)))?;
        with_retry!(self, |tx| {
            let rows = tx
                .query("SELECT version, sha256 FROM station_migration", &[])
                .await?;
            let applied: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            check_applied(&applied)?;
            for m in MIGRATIONS {
                if applied.iter().any(|(v, _)| *v == m.version) {
                    continue;
                }
                tx.batch_execute(m.sql).await?;
                tx.execute(
                    "INSERT INTO station_migration (version, name, sha256, applied_at) VALUES ($1, $2, $3, $4)",
                    &[&m.version, &m.name, &checksum(m.sql), &Utc::now().to_rfc3339()],
                )
                .await?;
            }
            tx.execute(
                "INSERT INTO station_meta (key, value) VALUES ('station_id', $1) ON CONFLICT (key) DO NOTHING",
                &[&Uuid::now_v7().to_string()],
            )
            .await?;
        })
    }
}

fn stop(f: Fail) -> StorageError {
    match f {
        Fail::Stop(e) => e,
        Fail::Retry => StorageError::Database("serialization failure".into()),
    }
}

fn to_device(r: &Row) -> Result<DeviceRecord> {
    Ok(DeviceRecord {
        device_id: parse_uuid(r.get(0))?,
        name: r.get(1),
        enrolled_at: r.get(2),
        revoked_at: r.get(3),
        held_seq: u64::try_from(r.get::<_, i64>(4)).unwrap_or(0),
    })
}

const DEVICE_COLS: &str = "device_id, name, enrolled_at, revoked_at, held_seq";

async fn station_id(tx: &Transaction<'_>) -> Attempt<Uuid> {
    let row = tx
        .query_one(
            "SELECT value FROM station_meta WHERE key = 'station_id'",
            &[],
        )
        .await?;
    Ok(parse_uuid(row.get(0))?)
}

async fn insert_feed(tx: &Transaction<'_>, items: &[FeedItem]) -> Attempt<i64> {
    if items.is_empty() {
        return Ok(0);
    }
    let n = items.len() as i64;
    // Taking the counter locks its row until commit, so feed order is commit order.
    let last: i64 = tx
        .query_one(
            "UPDATE station_counter SET value = value + $1 WHERE name = 'feed' RETURNING value",
            &[&n],
        )
        .await?
        .get(0);
    for (c, chunk) in items.chunks(ROWS_PER_STATEMENT).enumerate() {
        let mut values: Vec<Box<dyn ToSql + Sync + Send>> = Vec::with_capacity(chunk.len() * 8);
        for (i, item) in chunk.iter().enumerate() {
            let clocks = item
                .field_clocks
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?;
            values.push(Box::new(last - n + 1 + (c * ROWS_PER_STATEMENT + i) as i64));
            values.push(Box::new(item.kind.as_str()));
            values.push(Box::new(item.record_id.to_string()));
            values.push(Box::new(item.origin_device.to_string()));
            values.push(Box::new(item.target_device.map(|d| d.to_string())));
            values.push(Box::new(item.hlc.to_string()));
            values.push(Box::new(item.body.clone()));
            values.push(Box::new(clocks));
        }
        let sql = format!(
            "INSERT INTO feed (station_seq, kind, record_id, origin_device, target_device, hlc, body, field_clocks)
             VALUES {}",
            placeholders(chunk.len(), 8)
        );
        tx.execute(&sql, &params(&values)).await?;
    }
    Ok(last)
}

/// Rows per multi-row `INSERT`: few round trips, far below the 65,535-parameter limit.
const ROWS_PER_STATEMENT: usize = 500;

/// `($1, $2, …), ($n+1, …)` for `rows` rows of `cols` columns.
fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn params(values: &[Box<dyn ToSql + Sync + Send>]) -> Vec<&(dyn ToSql + Sync)> {
    values
        .iter()
        .map(|v| v.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

const MANIFEST_COLS: &str = "manifest_id, device_id, site_name, dispatched_at, replicated_body, qr_body, qr_matches, first_seen_at";

fn to_manifest_row(r: &Row) -> Result<ManifestRow> {
    Ok(ManifestRow {
        manifest_id: parse_uuid(r.get(0))?,
        device_id: parse_uuid(r.get(1))?,
        site_name: r.get(2),
        dispatched_at: r.get(3),
        replicated_body: r.get(4),
        qr_body: r.get(5),
        qr_matches: r.get::<_, Option<i32>>(6).map(|v| v != 0),
        first_seen_at: r.get(7),
    })
}

async fn load_manifest(tx: &Transaction<'_>, id: Uuid, lock: bool) -> Attempt<Option<ManifestRow>> {
    let sql = format!(
        "SELECT {MANIFEST_COLS} FROM manifest WHERE manifest_id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let row = tx.query_opt(&sql, &[&id.to_string()]).await?;
    Ok(row.as_ref().map(to_manifest_row).transpose()?)
}

async fn save_manifest(tx: &Transaction<'_>, row: &ManifestRow) -> Attempt<()> {
    tx.execute(
        &format!(
            "INSERT INTO manifest ({MANIFEST_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (manifest_id) DO UPDATE SET replicated_body = excluded.replicated_body,
                 qr_body = excluded.qr_body, qr_matches = excluded.qr_matches"
        ),
        &[
            &row.manifest_id.to_string(),
            &row.device_id.to_string(),
            &row.site_name,
            &row.dispatched_at,
            &row.replicated_body,
            &row.qr_body,
            &row.qr_matches.map(i32::from),
            &row.first_seen_at,
        ],
    )
    .await?;
    Ok(())
}

fn db(e: tokio_postgres::Error) -> StorageError {
    StorageError::Database(describe(&e))
}

async fn push_attempt(
    tx: &Transaction<'_>,
    device_id: Uuid,
    entries: &[LocalChange],
    now: DateTime<Utc>,
) -> Attempt<PushOutcome> {
    let dev = device_id.to_string();
    // Locks this device's row: two copies of one request (a retrying proxy) apply one
    // after the other, and the second finds everything held.
    let Some(row) = tx
        .query_opt(
            "SELECT held_seq FROM device WHERE device_id = $1 AND revoked_at IS NULL FOR UPDATE",
            &[&dev],
        )
        .await?
    else {
        return Err(StorageError::Invalid(format!("device {device_id} is not enrolled")).into());
    };
    let held = u64::try_from(row.get::<_, i64>(0)).unwrap_or(0);
    let mut digests = BTreeMap::new();
    if let Some(first) = entries.first()
        && first.seq <= held
    {
        let rows = tx
            .query(
                "SELECT seq, digest FROM change_entry WHERE device_id = $1 AND seq >= $2 AND seq <= $3",
                &[&dev, &(first.seq as i64), &(held as i64)],
            )
            .await?;
        for r in rows {
            digests.insert(r.get::<_, i64>(0) as u64, r.get::<_, String>(1));
        }
    }
    let plan = plan(held, entries, &digests).map_err(StorageError::from)?;
    let new = &entries[plan.new_from..];
    if new.is_empty() {
        return Ok(PushOutcome {
            held_seq: held,
            stored: 0,
        });
    }
    let received = now.to_rfc3339();
    for chunk in new.chunks(ROWS_PER_STATEMENT) {
        let mut values: Vec<Box<dyn ToSql + Sync + Send>> = Vec::with_capacity(chunk.len() * 9);
        for entry in chunk {
            values.push(Box::new(dev.clone()));
            values.push(Box::new(entry.seq as i64));
            values.push(Box::new(entry.hlc.to_string()));
            values.push(Box::new(entry.entity.as_str()));
            values.push(Box::new(entry.entity_id.to_string()));
            values.push(Box::new(entry.body.clone()));
            values.push(Box::new(
                entry
                    .field_clocks
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()?,
            ));
            values.push(Box::new(entry_digest(entry)));
            values.push(Box::new(received.clone()));
        }
        let sql = format!(
            "INSERT INTO change_entry (device_id, seq, hlc, entity, entity_id, body, field_clocks, digest, received_at)
             VALUES {}",
            placeholders(chunk.len(), 9)
        );
        tx.execute(&sql, &params(&values)).await?;
    }
    // Every donor this batch touches, locked and loaded in one statement.
    let donor_ids: Vec<String> = new
        .iter()
        .filter(|e| e.entity == EntityKind::Donor)
        .map(|e| e.entity_id.to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut donors: BTreeMap<Uuid, DonorState> = BTreeMap::new();
    if !donor_ids.is_empty() {
        let rows = tx
            .query(
                "SELECT donor_id, body, field_clocks, hlc FROM donor_state
                 WHERE donor_id = ANY($1) ORDER BY donor_id FOR UPDATE",
                &[&donor_ids],
            )
            .await?;
        for row in rows {
            donors.insert(
                parse_uuid(row.get(0))?,
                DonorState {
                    body: row.get(1),
                    field_clocks: serde_json::from_str(row.get(2))?,
                    hlc: parse_hlc(row.get(3))?,
                },
            );
        }
    }
    let mut changed: std::collections::BTreeSet<Uuid> = std::collections::BTreeSet::new();
    let mut feed = Vec::new();
    for entry in new {
        let (item, state) = derive_feed(
            device_id,
            entry,
            donors
                .get(&entry.entity_id)
                .filter(|_| entry.entity == EntityKind::Donor),
        );
        if let Some(state) = state {
            donors.insert(entry.entity_id, state);
            changed.insert(entry.entity_id);
        }
        feed.extend(item);
    }
    let changed: Vec<(&Uuid, &DonorState)> = donors
        .iter()
        .filter(|(id, _)| changed.contains(id))
        .collect();
    for chunk in changed.chunks(ROWS_PER_STATEMENT) {
        let mut values: Vec<Box<dyn ToSql + Sync + Send>> = Vec::with_capacity(chunk.len() * 4);
        for (id, state) in chunk {
            values.push(Box::new(id.to_string()));
            values.push(Box::new(state.body.clone()));
            values.push(Box::new(serde_json::to_string(&state.field_clocks)?));
            values.push(Box::new(state.hlc.to_string()));
        }
        let sql = format!(
            "INSERT INTO donor_state (donor_id, body, field_clocks, hlc) VALUES {}
             ON CONFLICT (donor_id) DO UPDATE SET body = excluded.body,
                 field_clocks = excluded.field_clocks, hlc = excluded.hlc",
            placeholders(chunk.len(), 4)
        );
        tx.execute(&sql, &params(&values)).await?;
    }
    for entry in new {
        if let Some(manifest) = super::pushed_manifest(entry) {
            let held = load_manifest(tx, manifest.id, true).await?;
            let row = super::merge_manifest(held, &manifest, &entry.body, false, now);
            save_manifest(tx, &row).await?;
        }
    }
    insert_feed(tx, &feed).await?;
    tx.execute(
        "UPDATE device SET held_seq = $2 WHERE device_id = $1",
        &[&dev, &(plan.held_after as i64)],
    )
    .await?;
    Ok(PushOutcome {
        held_seq: plan.held_after,
        stored: new.len() as u32,
    })
}

async fn lease_attempt(
    tx: &Transaction<'_>,
    device_id: Uuid,
    after: u64,
    need: &LeaseNeed,
) -> Attempt<()> {
    let dev = device_id.to_string();
    let in_flight: i64 = tx
        .query_one(
            "SELECT COALESCE(SUM(last_seq - first_seq + 1), 0)::BIGINT FROM din_lease
             WHERE device_id = $1 AND station_seq > $2",
            &[&dev, &clamp(after)],
        )
        .await?
        .get(0);
    let count = lease_count(
        &need.policy,
        need.unused,
        u64::try_from(in_flight).unwrap_or(0),
    );
    if count == 0 {
        return Ok(());
    }
    let facility = need.policy.facility.as_str();
    let year = i32::from(need.year);
    tx.execute(
        "INSERT INTO din_counter (facility, year, next_seq) VALUES ($1, $2, $3)
         ON CONFLICT (facility, year) DO NOTHING",
        &[&facility, &year, &i64::from(need.policy.start_sequence)],
    )
    .await?;
    let next: i64 = tx
        .query_one(
            "UPDATE din_counter SET next_seq = next_seq + $3 WHERE facility = $1 AND year = $2
             RETURNING next_seq - $3",
            &[&facility, &year, &i64::from(count)],
        )
        .await?
        .get(0);
    let range = lease_range(&need.policy.facility, need.year, next as u64, count)?;
    let lease_id = Uuid::now_v7();
    let item = lease_item(
        station_id(tx).await?,
        device_id,
        lease_id,
        range.clone(),
        need.now,
    )?;
    let seq = insert_feed(tx, std::slice::from_ref(&item)).await?;
    tx.execute(
        "INSERT INTO din_lease (device_id, lease_id, facility, year, first_seq, last_seq, station_seq, granted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &dev,
            &lease_id.to_string(),
            &facility,
            &year,
            &i64::from(range.first()),
            &i64::from(range.last()),
            &seq,
            &need.now.to_rfc3339(),
        ],
    )
    .await?;
    tracing::info!(%device_id, facility, year = need.year, first = range.first(), last = range.last(), "leased DIN range");
    Ok(())
}

#[async_trait]
impl Storage for PostgresStorage {
    async fn station_id(&self) -> Result<Uuid> {
        with_retry!(self, |tx| station_id(&tx).await?)
    }

    async fn ping(&self) -> Result<()> {
        let client = self.client().await.map_err(stop)?;
        client
            .query_one("SELECT 1", &[])
            .await
            .map_err(|e| StorageError::Database(describe(&e)))?;
        Ok(())
    }

    async fn create_enrollment(
        &self,
        name: &str,
        code_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        with_retry!(self, |tx| {
            tx.execute(
                "INSERT INTO enrollment (code_hash, name, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                &[&code_hash, &name, &now.to_rfc3339(), &expires_at.to_rfc3339()],
            )
            .await?;
        })
    }

    async fn redeem_enrollment(
        &self,
        code_hash: &str,
        device_id: Uuid,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DeviceRecord>> {
        let dev = device_id.to_string();
        let at = now.to_rfc3339();
        let outcome: Result<Option<DeviceRecord>> = with_retry!(self, |tx| {
            let row = tx
                .query_opt(
                    "UPDATE enrollment SET used_at = $2, device_id = $3
                     WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
                     RETURNING name",
                    &[&code_hash, &at, &dev],
                )
                .await?;
            match row {
                None => None,
                Some(row) => {
                    let name: String = row.get(0);
                    let inserted = tx
                        .execute(
                            "INSERT INTO device (device_id, name, token_hash, enrolled_at) VALUES ($1, $2, $3, $4)
                             ON CONFLICT (device_id) DO NOTHING",
                            &[&dev, &name, &token_hash, &at],
                        )
                        .await?;
                    if inserted == 0 {
                        // Roll back: the code stays unused.
                        return Err(Fail::Stop(StorageError::Invalid("already enrolled".into())));
                    }
                    Some(DeviceRecord {
                        device_id,
                        name,
                        enrolled_at: at.clone(),
                        revoked_at: None,
                        held_seq: 0,
                    })
                }
            }
        });
        match outcome {
            Err(StorageError::Invalid(why)) if why == "already enrolled" => Ok(None),
            other => other,
        }
    }

    async fn device_by_token(&self, token_hash: &str) -> Result<Option<DeviceRecord>> {
        let client = self.client().await.map_err(stop)?;
        let row = client
            .query_opt(
                &format!(
                    "SELECT {DEVICE_COLS} FROM device WHERE token_hash = $1 AND revoked_at IS NULL"
                ),
                &[&token_hash],
            )
            .await
            .map_err(|e| StorageError::Database(describe(&e)))?;
        row.as_ref().map(to_device).transpose()
    }

    async fn devices(&self) -> Result<Vec<DeviceRecord>> {
        let client = self.client().await.map_err(stop)?;
        let rows = client
            .query(
                &format!("SELECT {DEVICE_COLS} FROM device ORDER BY enrolled_at"),
                &[],
            )
            .await
            .map_err(|e| StorageError::Database(describe(&e)))?;
        rows.iter().map(to_device).collect()
    }

    async fn revoke_device(
        &self,
        id_or_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DeviceRecord>> {
        let at = now.to_rfc3339();
        let row = with_retry!(self, |tx| {
            tx.query_opt(
                &format!(
                    "UPDATE device SET revoked_at = $2
                     WHERE (device_id = $1 OR name = $1) AND revoked_at IS NULL
                     RETURNING {DEVICE_COLS}"
                ),
                &[&id_or_name, &at],
            )
            .await?
        })?;
        row.as_ref().map(to_device).transpose()
    }

    async fn push(
        &self,
        device_id: Uuid,
        entries: &[LocalChange],
        now: DateTime<Utc>,
    ) -> Result<PushOutcome> {
        with_retry!(self, |tx| push_attempt(&tx, device_id, entries, now)
            .await?)
    }

    async fn pull(
        &self,
        device_id: Uuid,
        after: u64,
        limit: u32,
        lease: Option<LeaseNeed>,
    ) -> Result<PullPage> {
        if let Some(need) = &lease {
            with_retry!(self, |tx| lease_attempt(&tx, device_id, after, need)
                .await?)?;
        }
        let client = self.client().await.map_err(stop)?;
        let dev = device_id.to_string();
        let rows = client
            .query(
                "SELECT station_seq, kind, record_id, origin_device, hlc, body, field_clocks
                 FROM feed WHERE station_seq > $1 AND (target_device IS NULL OR target_device = $2)
                 ORDER BY station_seq LIMIT $3",
                &[&clamp(after), &dev, &(i64::from(limit) + 1)],
            )
            .await
            .map_err(|e| StorageError::Database(describe(&e)))?;
        let more = rows.len() > limit as usize;
        let mut cursor = after;
        let mut records = Vec::new();
        for r in rows.iter().take(limit as usize) {
            cursor = r.get::<_, i64>(0) as u64;
            let kind = parse_kind(r.get(1))?;
            let origin = parse_uuid(r.get(3))?;
            if origin == device_id && own_record_skipped(kind) {
                continue;
            }
            records.push(RemoteRecord {
                kind,
                id: parse_uuid(r.get(2))?,
                origin_device: origin,
                hlc: parse_hlc(r.get(4))?,
                body: r.get(5),
                field_clocks: parse_clocks(r.get::<_, Option<&str>>(6))?,
            });
        }
        Ok(PullPage {
            records,
            cursor,
            more,
        })
    }

    async fn publish_reference(
        &self,
        kind: &str,
        version: &str,
        document: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let body = document.to_string();
        let at = now.to_rfc3339();
        with_retry!(self, |tx| {
            let inserted = tx
                .execute(
                    "INSERT INTO reference_document (kind, version, body, published_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (kind, version) DO NOTHING",
                    &[&kind, &version, &body, &at],
                )
                .await?;
            if inserted > 0 {
                let station = station_id(&tx).await?;
                let item = super::reference_item(station, kind, version, document, now)?;
                insert_feed(&tx, &[item]).await?;
            }
            inserted > 0
        })
    }

    async fn publish_appointments(
        &self,
        appointments: &[Appointment],
        now: DateTime<Utc>,
    ) -> Result<u32> {
        with_retry!(self, |tx| {
            let station = station_id(&tx).await?;
            let held = tx.query(super::APPOINTMENT_FEED_SQL, &[]).await?;
            let held = held.into_iter().map(|r| (r.get(0), r.get(1)));
            let items = super::changed_appointment_items(held, appointments, station, now)?;
            insert_feed(&tx, &items).await?;
            u32::try_from(items.len()).unwrap_or(u32::MAX)
        })
    }

    async fn appointments_on(&self, date: NaiveDate) -> Result<Vec<Appointment>> {
        let client = self.client().await.map_err(stop)?;
        let rows = client
            .query(super::APPOINTMENT_FEED_SQL, &[])
            .await
            .map_err(|e| StorageError::Database(describe(&e)))?;
        super::latest_appointments(rows.into_iter().map(|r| (r.get(0), r.get(1))), date)
    }

    async fn counts(&self) -> Result<Counts> {
        let client = self.client().await.map_err(stop)?;
        let row = client
            .query_one(
                "SELECT (SELECT COUNT(*) FROM device WHERE revoked_at IS NULL),
                        (SELECT COUNT(*) FROM device WHERE revoked_at IS NOT NULL),
                        (SELECT COUNT(*) FROM change_entry),
                        (SELECT COUNT(*) FROM feed),
                        (SELECT COUNT(*) FROM donor_state),
                        (SELECT COUNT(*) FROM din_lease)",
                &[],
            )
            .await
            .map_err(|e| StorageError::Database(describe(&e)))?;
        let n = |i: usize| u64::try_from(row.get::<_, i64>(i)).unwrap_or(0);
        Ok(Counts {
            devices: n(0),
            revoked_devices: n(1),
            change_entries: n(2),
            feed_records: n(3),
            donors: n(4),
            din_leases: n(5),
        })
    }

    async fn entries(&self, device_id: Uuid) -> Result<Vec<StoredEntry>> {
        let client = self.client().await.map_err(stop)?;
        let rows = client
            .query(
                "SELECT seq, digest FROM change_entry WHERE device_id = $1 ORDER BY seq",
                &[&device_id.to_string()],
            )
            .await
            .map_err(|e| StorageError::Database(describe(&e)))?;
        Ok(rows
            .iter()
            .map(|r| StoredEntry {
                seq: r.get::<_, i64>(0) as u64,
                digest: r.get(1),
            })
            .collect())
    }

    async fn donor(&self, donor_id: Uuid) -> Result<Option<String>> {
        let client = self.client().await.map_err(stop)?;
        let row = client
            .query_opt(
                "SELECT body FROM donor_state WHERE donor_id = $1",
                &[&donor_id.to_string()],
            )
            .await
            .map_err(|e| StorageError::Database(describe(&e)))?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn put_manifest_qr(
        &self,
        manifest: &Manifest,
        now: DateTime<Utc>,
    ) -> Result<ManifestRow> {
        let body = serde_json::to_string(manifest)?;
        with_retry!(self, |tx| {
            let held = load_manifest(&tx, manifest.id, true).await?;
            let row = super::merge_manifest(held, manifest, &body, true, now);
            save_manifest(&tx, &row).await?;
            row
        })
    }

    async fn manifest_row(&self, manifest_id: Uuid) -> Result<Option<ManifestRow>> {
        with_retry!(self, |tx| load_manifest(&tx, manifest_id, false).await?)
    }

    async fn manifest_rows(&self, limit: u32) -> Result<Vec<ManifestRow>> {
        let client = self.client().await.map_err(stop)?;
        let rows = client
            .query(
                &format!(
                    "SELECT {MANIFEST_COLS} FROM manifest ORDER BY dispatched_at DESC, manifest_id LIMIT $1"
                ),
                &[&i64::from(limit)],
            )
            .await
            .map_err(db)?;
        rows.iter().map(to_manifest_row).collect()
    }

    async fn add_staff(&self, staff: &StaffRow) -> Result<bool> {
        with_retry!(self, |tx| {
            let n = tx
                .execute(
                    "INSERT INTO station_staff (staff_id, name, role, pin_hash, created_at, active)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
                    &[
                        &staff.staff_id.to_string(),
                        &staff.name,
                        &staff.role,
                        &staff.pin_hash,
                        &staff.created_at,
                        &i32::from(staff.active),
                    ],
                )
                .await?;
            if n > 0
                && let Some(item) = super::staff_item(
                    station_id(&tx).await?,
                    staff,
                    parse_time(&staff.created_at)?,
                )?
            {
                insert_feed(&tx, &[item]).await?;
            }
            n > 0
        })
    }

    async fn staff_by_name(&self, name: &str) -> Result<Option<StaffRow>> {
        let client = self.client().await.map_err(stop)?;
        let row = client
            .query_opt(
                &format!("SELECT {STAFF_COLUMNS} FROM station_staff WHERE name = $1"),
                &[&name],
            )
            .await
            .map_err(db)?;
        row.as_ref().map(staff_row).transpose()
    }

    async fn staff_list(&self) -> Result<Vec<StaffRow>> {
        let client = self.client().await.map_err(stop)?;
        let rows = client
            .query(
                &format!("SELECT {STAFF_COLUMNS} FROM station_staff ORDER BY name"),
                &[],
            )
            .await
            .map_err(db)?;
        rows.iter().map(staff_row).collect()
    }

    async fn update_staff(&self, staff: &StaffRow, now: DateTime<Utc>) -> Result<bool> {
        with_retry!(self, |tx| {
            let n = tx
                .execute(
                    "UPDATE station_staff SET pin_hash = $2, active = $3, role = $4 WHERE staff_id = $1",
                    &[
                        &staff.staff_id.to_string(),
                        &staff.pin_hash,
                        &i32::from(staff.active),
                        &staff.role,
                    ],
                )
                .await?;
            if n > 0
                && let Some(item) = super::staff_item(station_id(&tx).await?, staff, now)?
            {
                insert_feed(&tx, &[item]).await?;
            }
            n > 0
        })
    }

    async fn open_receipt(&self, receipt: &ReceiptRow) -> Result<()> {
        let client = self.client().await.map_err(stop)?;
        client
            .execute(
                "INSERT INTO receipt (receipt_id, manifest_ids, opened_by, opened_at) VALUES ($1, $2, $3, $4)",
                &[
                    &receipt.receipt_id.to_string(),
                    &serde_json::to_string(&receipt.manifest_ids)?,
                    &receipt.opened_by.to_string(),
                    &receipt.opened_at.to_rfc3339(),
                ],
            )
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn receipt(&self, receipt_id: Uuid) -> Result<Option<ReceiptRow>> {
        let client = self.client().await.map_err(stop)?;
        let id = receipt_id.to_string();
        let Some(row) = client
            .query_opt(
                "SELECT manifest_ids, opened_by, opened_at, signed_at FROM receipt WHERE receipt_id = $1",
                &[&id],
            )
            .await
            .map_err(db)?
        else {
            return Ok(None);
        };
        let scans = client
            .query(
                "SELECT din, box_code, scanned_at, piece, manual FROM desk_scan WHERE receipt_id = $1
                 ORDER BY scanned_at, scan_id",
                &[&id],
            )
            .await
            .map_err(db)?
            .iter()
            .map(|r| {
                let din: String = r.get(0);
                Ok(DeskScan {
                    din: din.parse().map_err(|e| {
                        StorageError::Corrupt(format!("desk scan DIN {din:?}: {e}"))
                    })?,
                    box_code: r.get(1),
                    scanned_at: parse_time(r.get(2))?,
                    piece: super::parse_piece(r.get::<_, Option<&str>>(3))?,
                    manual: super::parse_manual(r.get::<_, Option<&str>>(4))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(ReceiptRow {
            receipt_id,
            manifest_ids: serde_json::from_str(row.get(0))?,
            opened_by: parse_uuid(row.get(1))?,
            opened_at: parse_time(row.get(2))?,
            signed_at: row.get(3),
            scans,
        }))
    }

    async fn add_desk_scan(
        &self,
        receipt_id: Uuid,
        scan_id: Uuid,
        scan: &DeskScan,
        scanned_by: Uuid,
    ) -> Result<bool> {
        let at = scan
            .scanned_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let piece = super::piece_text(scan)?;
        let manual = super::manual_text(scan)?;
        with_retry!(self, |tx| {
            let open = tx
                .query_opt(
                    "SELECT signed_at FROM receipt WHERE receipt_id = $1 FOR UPDATE",
                    &[&receipt_id.to_string()],
                )
                .await?
                .map(|r| r.get::<_, Option<String>>(0));
            if matches!(open, Some(None)) {
                tx.execute(
                    "INSERT INTO desk_scan (receipt_id, scan_id, din, box_code, scanned_at, scanned_by, piece, manual)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[
                        &receipt_id.to_string(),
                        &scan_id.to_string(),
                        &scan.din.as_str(),
                        &scan.box_code,
                        &at,
                        &scanned_by.to_string(),
                        &piece,
                        &manual,
                    ],
                )
                .await?;
                true
            } else {
                false
            }
        })
    }

    async fn sign_receipt(&self, receipt_id: Uuid, record: &HandoffRecord) -> Result<bool> {
        let signed_at = record.signed_at.to_rfc3339();
        let body = serde_json::to_string(record)?;
        with_retry!(self, |tx| {
            let n = tx
                .execute(
                    "UPDATE receipt SET signed_at = $2 WHERE receipt_id = $1 AND signed_at IS NULL",
                    &[&receipt_id.to_string(), &signed_at],
                )
                .await?;
            if n > 0 {
                tx.execute(
                    "INSERT INTO handoff (handoff_id, receipt_id, signed_at, body) VALUES ($1, $2, $3, $4)",
                    &[&record.id.to_string(), &receipt_id.to_string(), &signed_at, &body],
                )
                .await?;
                let station = station_id(&tx).await?;
                insert_feed(&tx, &super::handoff_items(station, record)?).await?;
            }
            n > 0
        })
    }

    async fn handoff_of(&self, receipt_id: Uuid) -> Result<Option<String>> {
        let client = self.client().await.map_err(stop)?;
        let row = client
            .query_opt(
                "SELECT body FROM handoff WHERE receipt_id = $1",
                &[&receipt_id.to_string()],
            )
            .await
            .map_err(db)?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn statistics_sources(&self) -> Result<StatisticsSources> {
        let client = self.client().await.map_err(stop)?;
        let mut latest = BTreeMap::new();
        for entity in ["donation", "screening", "drive"] {
            let rows = client
                .query(
                    "SELECT entity_id, body FROM change_entry WHERE entity = $1 ORDER BY device_id, seq",
                    &[&entity],
                )
                .await
                .map_err(db)?;
            latest.insert(
                entity,
                super::latest_bodies(
                    rows.iter()
                        .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1))),
                ),
            );
        }
        let donors = client
            .query("SELECT body FROM donor_state ORDER BY donor_id", &[])
            .await
            .map_err(db)?
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect();
        let mut take = |k: &str| latest.remove(k).unwrap_or_default();
        Ok(StatisticsSources {
            donations: take("donation"),
            screenings: take("screening"),
            drives: take("drive"),
            donors,
        })
    }

    async fn latest_reference(&self, kind: &str) -> Result<Option<String>> {
        let client = self.client().await.map_err(stop)?;
        let row = client
            .query_opt(
                "SELECT body FROM reference_document WHERE kind = $1
                 ORDER BY published_at DESC, version DESC LIMIT 1",
                &[&kind],
            )
            .await
            .map_err(db)?;
        Ok(row.map(|r| r.get(0)))
    }
}
