//! The default backend: one SQLite file in the data folder (WAL, `synchronous=FULL`, so
//! an acknowledged push survives a power cut). One connection behind a mutex: SQLite
//! has one writer anyway, and the station's load is a few dozen vehicles.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use lifebridge_domain::entities::Appointment;
use lifebridge_protocol::ingest::{entry_digest, plan};
use lifebridge_protocol::records::{LocalChange, RemoteRecord};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use uuid::Uuid;

use lifebridge_domain::cold_chain::Manifest;
use lifebridge_domain::handoff::{DeskScan, HandoffRecord};

use super::{
    Counts, DeviceRecord, DonorState, FeedItem, LeaseNeed, ManifestRow, PullPage, PushOutcome,
    ReceiptRow, Result, STAFF_COLUMNS, StaffRow, StatisticsSources, Storage, StorageError,
    StoredEntry, clamp, derive_feed, lease_count, lease_item, lease_range, own_record_skipped,
    parse_clocks, parse_hlc, parse_kind, parse_time, parse_uuid,
};
use crate::migrations;

pub struct SqliteStorage {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteStorage {
    pub fn open(path: &Path) -> Result<SqliteStorage> {
        let mut conn = Connection::open(path)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StorageError::Database(format!(
                "could not switch {} to write-ahead logging (journal mode is {mode})",
                path.display()
            )));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        migrations::apply_sqlite(&mut conn)?;
        Ok(SqliteStorage {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StorageError::Database("a database task panicked".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StorageError::Database(format!("database task failed: {e}")))?
    }
}

fn device_row(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(String, String, String, Option<String>, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_device(row: (String, String, String, Option<String>, i64)) -> Result<DeviceRecord> {
    Ok(DeviceRecord {
        device_id: parse_uuid(&row.0)?,
        name: row.1,
        enrolled_at: row.2,
        revoked_at: row.3,
        held_seq: u64::try_from(row.4).unwrap_or(0),
    })
}

const DEVICE_COLS: &str = "device_id, name, enrolled_at, revoked_at, held_seq";

fn station_id(conn: &Connection) -> Result<Uuid> {
    let id: String = conn.query_row(
        "SELECT value FROM station_meta WHERE key = 'station_id'",
        [],
        |r| r.get(0),
    )?;
    parse_uuid(&id)
}

fn appointment_rows(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(super::APPOINTMENT_FEED_SQL)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn insert_feed(tx: &Connection, items: &[FeedItem]) -> Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    let n = items.len() as i64;
    let last: i64 = tx.query_row(
        "UPDATE station_counter SET value = value + ?1 WHERE name = 'feed' RETURNING value",
        [n],
        |r| r.get(0),
    )?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO feed (station_seq, kind, record_id, origin_device, target_device, hlc,
                           body, field_clocks)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for (i, item) in items.iter().enumerate() {
        stmt.execute((
            last - n + 1 + i as i64,
            item.kind.as_str(),
            item.record_id.to_string(),
            item.origin_device.to_string(),
            item.target_device.map(|d| d.to_string()),
            item.hlc.to_string(),
            &item.body,
            item.field_clocks
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?,
        ))?;
    }
    Ok(())
}

fn push_tx(
    conn: &mut Connection,
    device_id: Uuid,
    entries: &[LocalChange],
    now: DateTime<Utc>,
) -> Result<PushOutcome> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let dev = device_id.to_string();
    let held: Option<i64> = tx
        .query_row(
            "SELECT held_seq FROM device WHERE device_id = ?1 AND revoked_at IS NULL",
            [&dev],
            |r| r.get(0),
        )
        .optional()?;
    let Some(held) = held else {
        return Err(StorageError::Invalid(format!(
            "device {device_id} is not enrolled"
        )));
    };
    let held = u64::try_from(held).unwrap_or(0);
    let mut digests = BTreeMap::new();
    if let Some(first) = entries.first()
        && first.seq <= held
    {
        let mut stmt = tx.prepare_cached(
            "SELECT seq, digest FROM change_entry WHERE device_id = ?1 AND seq >= ?2 AND seq <= ?3",
        )?;
        let rows = stmt.query_map((&dev, first.seq as i64, held as i64), |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (seq, digest) = row?;
            digests.insert(seq as u64, digest);
        }
    }
    let plan = plan(held, entries, &digests)?;
    let new = &entries[plan.new_from..];
    if new.is_empty() {
        return Ok(PushOutcome {
            held_seq: held,
            stored: 0,
        });
    }
    let received = now.to_rfc3339();
    let mut feed = Vec::new();
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO change_entry (device_id, seq, hlc, entity, entity_id, body,
                                       field_clocks, digest, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for entry in new {
            insert.execute((
                &dev,
                entry.seq as i64,
                entry.hlc.to_string(),
                entry.entity.as_str(),
                entry.entity_id.to_string(),
                &entry.body,
                entry
                    .field_clocks
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()?,
                entry_digest(entry),
                &received,
            ))?;
            let donor = if entry.entity == lifebridge_domain::entities::EntityKind::Donor {
                load_donor(&tx, entry.entity_id)?
            } else {
                None
            };
            let (item, state) = derive_feed(device_id, entry, donor.as_ref());
            if let Some(state) = state {
                tx.execute(
                    "INSERT INTO donor_state (donor_id, body, field_clocks, hlc)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (donor_id) DO UPDATE SET body = excluded.body,
                         field_clocks = excluded.field_clocks, hlc = excluded.hlc",
                    (
                        entry.entity_id.to_string(),
                        &state.body,
                        serde_json::to_string(&state.field_clocks)?,
                        state.hlc.to_string(),
                    ),
                )?;
            }
            feed.extend(item);
            if let Some(manifest) = super::pushed_manifest(entry) {
                let held = load_manifest(&tx, manifest.id)?;
                let row = super::merge_manifest(held, &manifest, &entry.body, false, now);
                save_manifest(&tx, &row)?;
            }
        }
    }
    insert_feed(&tx, &feed)?;
    tx.execute(
        "UPDATE device SET held_seq = ?2 WHERE device_id = ?1",
        (&dev, plan.held_after as i64),
    )?;
    tx.commit()?;
    Ok(PushOutcome {
        held_seq: plan.held_after,
        stored: new.len() as u32,
    })
}

const MANIFEST_COLS: &str = "manifest_id, device_id, site_name, dispatched_at, replicated_body, qr_body, qr_matches, first_seen_at";

/// A `manifest` row as read, before parsing.
type ManifestCols = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    String,
);

fn manifest_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<ManifestCols> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn to_manifest_row(row: ManifestCols) -> Result<ManifestRow> {
    Ok(ManifestRow {
        manifest_id: parse_uuid(&row.0)?,
        device_id: parse_uuid(&row.1)?,
        site_name: row.2,
        dispatched_at: row.3,
        replicated_body: row.4,
        qr_body: row.5,
        qr_matches: row.6.map(|v| v != 0),
        first_seen_at: row.7,
    })
}

fn load_manifest(tx: &Connection, id: Uuid) -> Result<Option<ManifestRow>> {
    tx.query_row(
        &format!("SELECT {MANIFEST_COLS} FROM manifest WHERE manifest_id = ?1"),
        [id.to_string()],
        manifest_from,
    )
    .optional()?
    .map(to_manifest_row)
    .transpose()
}

fn save_manifest(tx: &Connection, row: &ManifestRow) -> Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO manifest ({MANIFEST_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (manifest_id) DO UPDATE SET replicated_body = excluded.replicated_body,
                 qr_body = excluded.qr_body, qr_matches = excluded.qr_matches"
        ),
        (
            row.manifest_id.to_string(),
            row.device_id.to_string(),
            &row.site_name,
            &row.dispatched_at,
            &row.replicated_body,
            &row.qr_body,
            row.qr_matches.map(i64::from),
            &row.first_seen_at,
        ),
    )?;
    Ok(())
}

type StaffColumns = (String, String, String, String, String, bool);

fn staff_row((id, name, role, pin_hash, created_at, active): StaffColumns) -> Result<StaffRow> {
    Ok(StaffRow {
        staff_id: parse_uuid(&id)?,
        name,
        role,
        pin_hash,
        created_at,
        active,
    })
}

fn to_staff(r: &rusqlite::Row<'_>) -> rusqlite::Result<StaffColumns> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn load_donor(tx: &Connection, donor_id: Uuid) -> Result<Option<DonorState>> {
    let row: Option<(String, String, String)> = tx
        .query_row(
            "SELECT body, field_clocks, hlc FROM donor_state WHERE donor_id = ?1",
            [donor_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    row.map(|(body, clocks, hlc)| {
        Ok(DonorState {
            body,
            field_clocks: serde_json::from_str(&clocks)?,
            hlc: parse_hlc(&hlc)?,
        })
    })
    .transpose()
}

fn lease_tx(conn: &mut Connection, device_id: Uuid, after: u64, need: &LeaseNeed) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let dev = device_id.to_string();
    let in_flight: i64 = tx.query_row(
        "SELECT COALESCE(SUM(last_seq - first_seq + 1), 0) FROM din_lease
         WHERE device_id = ?1 AND station_seq > ?2",
        (&dev, clamp(after)),
        |r| r.get(0),
    )?;
    let count = lease_count(
        &need.policy,
        need.unused,
        u64::try_from(in_flight).unwrap_or(0),
    );
    if count == 0 {
        return Ok(());
    }
    let facility = need.policy.facility.as_str();
    tx.execute(
        "INSERT INTO din_counter (facility, year, next_seq) VALUES (?1, ?2, ?3)
         ON CONFLICT (facility, year) DO NOTHING",
        (facility, need.year, need.policy.start_sequence),
    )?;
    let next: i64 = tx.query_row(
        "UPDATE din_counter SET next_seq = next_seq + ?3 WHERE facility = ?1 AND year = ?2
         RETURNING next_seq - ?3",
        (facility, need.year, count),
        |r| r.get(0),
    )?;
    let range = lease_range(&need.policy.facility, need.year, next as u64, count)?;
    let lease_id = Uuid::now_v7();
    let item = lease_item(
        station_id(&tx)?,
        device_id,
        lease_id,
        range.clone(),
        need.now,
    )?;
    insert_feed(&tx, std::slice::from_ref(&item))?;
    let seq: i64 = tx.query_row(
        "SELECT value FROM station_counter WHERE name = 'feed'",
        [],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT INTO din_lease (device_id, lease_id, facility, year, first_seq, last_seq,
                                station_seq, granted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        (
            &dev,
            lease_id.to_string(),
            facility,
            need.year,
            range.first(),
            range.last(),
            seq,
            need.now.to_rfc3339(),
        ),
    )?;
    tx.commit()?;
    tracing::info!(%device_id, facility, year = need.year, first = range.first(), last = range.last(), "leased DIN range");
    Ok(())
}

fn pull_page(conn: &Connection, device_id: Uuid, after: u64, limit: u32) -> Result<PullPage> {
    let dev = device_id.to_string();
    // Scan a window of the feed, not just matching rows, so the cursor can move past
    // long runs of this device's own records.
    let mut stmt = conn.prepare_cached(
        "SELECT station_seq, kind, record_id, origin_device, target_device, hlc, body, field_clocks
         FROM feed WHERE station_seq > ?1 AND (target_device IS NULL OR target_device = ?2)
         ORDER BY station_seq LIMIT ?3",
    )?;
    let rows = stmt
        .query_map((clamp(after), &dev, limit + 1), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let more = rows.len() > limit as usize;
    let mut cursor = after;
    let mut records = Vec::new();
    for (seq, kind, id, origin, _target, hlc, body, clocks) in rows.into_iter().take(limit as usize)
    {
        cursor = seq as u64;
        let kind = parse_kind(&kind)?;
        let origin = parse_uuid(&origin)?;
        if origin == device_id && own_record_skipped(kind) {
            continue;
        }
        records.push(RemoteRecord {
            kind,
            id: parse_uuid(&id)?,
            origin_device: origin,
            hlc: parse_hlc(&hlc)?,
            body,
            field_clocks: parse_clocks(clocks.as_deref())?,
        });
    }
    Ok(PullPage {
        records,
        cursor,
        more,
    })
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn station_id(&self) -> Result<Uuid> {
        self.run(|c| station_id(c)).await
    }

    async fn ping(&self) -> Result<()> {
        self.run(|c| {
            c.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }

    async fn create_enrollment(
        &self,
        name: &str,
        code_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let (name, code_hash) = (name.to_owned(), code_hash.to_owned());
        self.run(move |c| {
            c.execute(
                "INSERT INTO enrollment (code_hash, name, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                (code_hash, name, now.to_rfc3339(), expires_at.to_rfc3339()),
            )?;
            Ok(())
        })
        .await
    }

    async fn redeem_enrollment(
        &self,
        code_hash: &str,
        device_id: Uuid,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DeviceRecord>> {
        let (code_hash, token_hash) = (code_hash.to_owned(), token_hash.to_owned());
        self.run(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let name: Option<String> = tx
                .query_row(
                    "UPDATE enrollment SET used_at = ?2, device_id = ?3
                     WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2
                     RETURNING name",
                    (&code_hash, now.to_rfc3339(), device_id.to_string()),
                    |r| r.get(0),
                )
                .optional()?;
            let Some(name) = name else { return Ok(None) };
            let inserted = tx.execute(
                "INSERT INTO device (device_id, name, token_hash, enrolled_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (device_id) DO NOTHING",
                (device_id.to_string(), &name, &token_hash, now.to_rfc3339()),
            )?;
            if inserted == 0 {
                return Ok(None);
            }
            tx.commit()?;
            Ok(Some(DeviceRecord {
                device_id,
                name,
                enrolled_at: now.to_rfc3339(),
                revoked_at: None,
                held_seq: 0,
            }))
        })
        .await
    }

    async fn device_by_token(&self, token_hash: &str) -> Result<Option<DeviceRecord>> {
        let token_hash = token_hash.to_owned();
        self.run(move |c| {
            c.query_row(
                &format!(
                    "SELECT {DEVICE_COLS} FROM device WHERE token_hash = ?1 AND revoked_at IS NULL"
                ),
                [token_hash],
                device_row,
            )
            .optional()?
            .map(to_device)
            .transpose()
        })
        .await
    }

    async fn devices(&self) -> Result<Vec<DeviceRecord>> {
        self.run(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {DEVICE_COLS} FROM device ORDER BY enrolled_at"
            ))?;
            let rows = stmt
                .query_map([], device_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(to_device).collect()
        })
        .await
    }

    async fn revoke_device(
        &self,
        id_or_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DeviceRecord>> {
        let who = id_or_name.to_owned();
        self.run(move |c| {
            let row = c
                .query_row(
                    &format!(
                        "UPDATE device SET revoked_at = ?2
                         WHERE (device_id = ?1 OR name = ?1) AND revoked_at IS NULL
                         RETURNING {DEVICE_COLS}"
                    ),
                    (who, now.to_rfc3339()),
                    device_row,
                )
                .optional()?;
            row.map(to_device).transpose()
        })
        .await
    }

    async fn push(
        &self,
        device_id: Uuid,
        entries: &[LocalChange],
        now: DateTime<Utc>,
    ) -> Result<PushOutcome> {
        let entries = entries.to_vec();
        self.run(move |c| push_tx(c, device_id, &entries, now))
            .await
    }

    async fn pull(
        &self,
        device_id: Uuid,
        after: u64,
        limit: u32,
        lease: Option<LeaseNeed>,
    ) -> Result<PullPage> {
        self.run(move |c| {
            if let Some(need) = &lease {
                lease_tx(c, device_id, after, need)?;
            }
            pull_page(c, device_id, after, limit)
        })
        .await
    }

    async fn publish_reference(
        &self,
        kind: &str,
        version: &str,
        document: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let (kind, version) = (kind.to_owned(), version.to_owned());
        let document = document.clone();
        self.run(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let inserted = tx.execute(
                "INSERT INTO reference_document (kind, version, body, published_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (kind, version) DO NOTHING",
                (&kind, &version, document.to_string(), now.to_rfc3339()),
            )?;
            if inserted == 0 {
                return Ok(false);
            }
            let station = station_id(&tx)?;
            let item = super::reference_item(station, &kind, &version, &document, now)?;
            insert_feed(&tx, &[item])?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn publish_appointments(
        &self,
        appointments: &[Appointment],
        now: DateTime<Utc>,
    ) -> Result<u32> {
        let appointments = appointments.to_vec();
        self.run(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let station = station_id(&tx)?;
            let held = appointment_rows(&tx)?;
            let items = super::changed_appointment_items(held, &appointments, station, now)?;
            insert_feed(&tx, &items)?;
            tx.commit()?;
            Ok(u32::try_from(items.len()).unwrap_or(u32::MAX))
        })
        .await
    }

    async fn appointments_on(&self, date: NaiveDate) -> Result<Vec<Appointment>> {
        self.run(move |c| super::latest_appointments(appointment_rows(c)?, date))
            .await
    }

    async fn counts(&self) -> Result<Counts> {
        self.run(|c| {
            let n = |sql: &str| -> Result<u64> {
                let v: i64 = c.query_row(sql, [], |r| r.get(0))?;
                Ok(u64::try_from(v).unwrap_or(0))
            };
            Ok(Counts {
                devices: n("SELECT COUNT(*) FROM device WHERE revoked_at IS NULL")?,
                revoked_devices: n("SELECT COUNT(*) FROM device WHERE revoked_at IS NOT NULL")?,
                change_entries: n("SELECT COUNT(*) FROM change_entry")?,
                feed_records: n("SELECT COUNT(*) FROM feed")?,
                donors: n("SELECT COUNT(*) FROM donor_state")?,
                din_leases: n("SELECT COUNT(*) FROM din_lease")?,
            })
        })
        .await
    }

    async fn entries(&self, device_id: Uuid) -> Result<Vec<StoredEntry>> {
        self.run(move |c| {
            let mut stmt = c.prepare(
                "SELECT seq, digest FROM change_entry WHERE device_id = ?1 ORDER BY seq",
            )?;
            let rows = stmt
                .query_map([device_id.to_string()], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows
                .into_iter()
                .map(|(seq, digest)| StoredEntry {
                    seq: seq as u64,
                    digest,
                })
                .collect())
        })
        .await
    }

    async fn donor(&self, donor_id: Uuid) -> Result<Option<String>> {
        self.run(move |c| {
            Ok(c.query_row(
                "SELECT body FROM donor_state WHERE donor_id = ?1",
                [donor_id.to_string()],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    async fn put_manifest_qr(
        &self,
        manifest: &Manifest,
        now: DateTime<Utc>,
    ) -> Result<ManifestRow> {
        let manifest = manifest.clone();
        let body = serde_json::to_string(&manifest)?;
        self.run(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let held = load_manifest(&tx, manifest.id)?;
            let row = super::merge_manifest(held, &manifest, &body, true, now);
            save_manifest(&tx, &row)?;
            tx.commit()?;
            Ok(row)
        })
        .await
    }

    async fn manifest_row(&self, manifest_id: Uuid) -> Result<Option<ManifestRow>> {
        self.run(move |c| load_manifest(c, manifest_id)).await
    }

    async fn manifest_rows(&self, limit: u32) -> Result<Vec<ManifestRow>> {
        self.run(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {MANIFEST_COLS} FROM manifest ORDER BY dispatched_at DESC, manifest_id LIMIT ?1"
            ))?;
            let rows = stmt
                .query_map([i64::from(limit)], manifest_from)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(to_manifest_row).collect()
        })
        .await
    }

    async fn add_staff(&self, staff: &StaffRow) -> Result<bool> {
        let staff = staff.clone();
        self.run(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "INSERT INTO station_staff (staff_id, name, role, pin_hash, created_at, active)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO NOTHING",
                (
                    staff.staff_id.to_string(),
                    &staff.name,
                    &staff.role,
                    &staff.pin_hash,
                    &staff.created_at,
                    staff.active,
                ),
            )?;
            if n > 0
                && let Some(item) =
                    super::staff_item(station_id(&tx)?, &staff, parse_time(&staff.created_at)?)?
            {
                insert_feed(&tx, &[item])?;
            }
            tx.commit()?;
            Ok(n > 0)
        })
        .await
    }

    async fn staff_by_name(&self, name: &str) -> Result<Option<StaffRow>> {
        let name = name.to_owned();
        self.run(move |c| {
            c.query_row(
                &format!("SELECT {STAFF_COLUMNS} FROM station_staff WHERE name = ?1"),
                [&name],
                to_staff,
            )
            .optional()?
            .map(staff_row)
            .transpose()
        })
        .await
    }

    async fn staff_list(&self) -> Result<Vec<StaffRow>> {
        self.run(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {STAFF_COLUMNS} FROM station_staff ORDER BY name"
            ))?;
            let rows = stmt
                .query_map([], to_staff)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(staff_row).collect()
        })
        .await
    }

    async fn update_staff(&self, staff: &StaffRow, now: DateTime<Utc>) -> Result<bool> {
        let staff = staff.clone();
        self.run(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE station_staff SET pin_hash = ?2, active = ?3, role = ?4 WHERE staff_id = ?1",
                (
                    staff.staff_id.to_string(),
                    &staff.pin_hash,
                    staff.active,
                    &staff.role,
                ),
            )?;
            if n > 0
                && let Some(item) = super::staff_item(station_id(&tx)?, &staff, now)?
            {
                insert_feed(&tx, &[item])?;
            }
            tx.commit()?;
            Ok(n > 0)
        })
        .await
    }

    async fn open_receipt(&self, receipt: &ReceiptRow) -> Result<()> {
        let receipt = receipt.clone();
        self.run(move |c| {
            c.execute(
                "INSERT INTO receipt (receipt_id, manifest_ids, opened_by, opened_at) VALUES (?1, ?2, ?3, ?4)",
                (
                    receipt.receipt_id.to_string(),
                    serde_json::to_string(&receipt.manifest_ids)?,
                    receipt.opened_by.to_string(),
                    receipt.opened_at.to_rfc3339(),
                ),
            )?;
            Ok(())
        })
        .await
    }

    async fn receipt(&self, receipt_id: Uuid) -> Result<Option<ReceiptRow>> {
        self.run(move |c| {
            let id = receipt_id.to_string();
            let row: Option<(String, String, String, Option<String>)> = c
                .query_row(
                    "SELECT manifest_ids, opened_by, opened_at, signed_at FROM receipt WHERE receipt_id = ?1",
                    [&id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let Some((manifest_ids, opened_by, opened_at, signed_at)) = row else {
                return Ok(None);
            };
            let mut stmt = c.prepare(
                "SELECT din, box_code, scanned_at, piece, manual FROM desk_scan WHERE receipt_id = ?1
                 ORDER BY scanned_at, scan_id",
            )?;
            let scans = stmt
                .query_map([&id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let scans = scans
                .into_iter()
                .map(|(din, box_code, at, piece, manual)| {
                    Ok(DeskScan {
                        din: din
                            .parse()
                            .map_err(|e| StorageError::Corrupt(format!("desk scan DIN {din:?}: {e}")))?,
                        box_code,
                        scanned_at: parse_time(&at)?,
                        piece: super::parse_piece(piece.as_deref())?,
                        manual: super::parse_manual(manual.as_deref())?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Some(ReceiptRow {
                receipt_id,
                manifest_ids: serde_json::from_str(&manifest_ids)?,
                opened_by: parse_uuid(&opened_by)?,
                opened_at: parse_time(&opened_at)?,
                signed_at,
                scans,
            }))
        })
        .await
    }

    async fn add_desk_scan(
        &self,
        receipt_id: Uuid,
        scan_id: Uuid,
        scan: &DeskScan,
        scanned_by: Uuid,
    ) -> Result<bool> {
        let scan = scan.clone();
        self.run(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let open: Option<Option<String>> = tx
                .query_row(
                    "SELECT signed_at FROM receipt WHERE receipt_id = ?1",
                    [receipt_id.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            if !matches!(open, Some(None)) {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO desk_scan (receipt_id, scan_id, din, box_code, scanned_at, scanned_by, piece, manual)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                (
                    receipt_id.to_string(),
                    scan_id.to_string(),
                    scan.din.as_str(),
                    &scan.box_code,
                    scan.scanned_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                    scanned_by.to_string(),
                    super::piece_text(&scan)?,
                    super::manual_text(&scan)?,
                ),
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn sign_receipt(&self, receipt_id: Uuid, record: &HandoffRecord) -> Result<bool> {
        let record = record.clone();
        self.run(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let signed_at = record.signed_at.to_rfc3339();
            let n = tx.execute(
                "UPDATE receipt SET signed_at = ?2 WHERE receipt_id = ?1 AND signed_at IS NULL",
                (receipt_id.to_string(), &signed_at),
            )?;
            if n == 0 {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO handoff (handoff_id, receipt_id, signed_at, body) VALUES (?1, ?2, ?3, ?4)",
                (
                    record.id.to_string(),
                    receipt_id.to_string(),
                    &signed_at,
                    serde_json::to_string(&record)?,
                ),
            )?;
            let station = station_id(&tx)?;
            insert_feed(&tx, &super::handoff_items(station, &record)?)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn handoff_of(&self, receipt_id: Uuid) -> Result<Option<String>> {
        self.run(move |c| {
            Ok(c.query_row(
                "SELECT body FROM handoff WHERE receipt_id = ?1",
                [receipt_id.to_string()],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    async fn statistics_sources(&self) -> Result<StatisticsSources> {
        self.run(|c| {
            let latest = |entity: &str| -> Result<Vec<String>> {
                let mut stmt = c.prepare(
                    "SELECT entity_id, body FROM change_entry WHERE entity = ?1 ORDER BY device_id, seq",
                )?;
                let rows = stmt
                    .query_map([entity], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(super::latest_bodies(rows))
            };
            let mut stmt = c.prepare("SELECT body FROM donor_state ORDER BY donor_id")?;
            let donors = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(StatisticsSources {
                donations: latest("donation")?,
                screenings: latest("screening")?,
                drives: latest("drive")?,
                donors,
            })
        })
        .await
    }

    async fn latest_reference(&self, kind: &str) -> Result<Option<String>> {
        let kind = kind.to_owned();
        self.run(move |c| {
            Ok(c.query_row(
                "SELECT body FROM reference_document WHERE kind = ?1
                 ORDER BY published_at DESC, version DESC LIMIT 1",
                [&kind],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }
}
