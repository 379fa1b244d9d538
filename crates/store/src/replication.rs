//! The device side of replication: what the replicator reads from the store and how it
//! writes back what the station sends.
//!
//! Outgoing: this device's own change log, in `seq` order, after the cursor the station
//! has acknowledged. Incoming: records written by *other* devices (or by the station),
//! applied in one transaction per page together with the new pull cursor, so a
//! replicator killed at any point resumes exactly where the last committed page ended.
//! Incoming records never enter this device's change log (they are not its changes and
//! must not be pushed back), but every page is audited.

use lifebridge_domain::entities::{
    Deferral, DinRangeRecord, DinRangeSource, Donation, Donor, EntityKind, RecordId,
};
use lifebridge_domain::hlc::Hlc;
use lifebridge_domain::merge::{FieldClocks, max_clocks, merge_fields, uniform_clocks};
use lifebridge_protocol::records::{
    LocalChange, ReferenceDocumentBody, RemoteKind, RemoteRecord, StaffAccount,
};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use uuid::Uuid;

use crate::{Result, Store, StoreError, audit};

/// `sync_state` key of the highest own `seq` the station has acknowledged.
pub const PUSH_CURSOR_KEY: &str = "push.acked_seq";
/// `sync_state` key of the station change sequence this device has applied up to.
pub const PULL_CURSOR_KEY: &str = "pull.cursor";

/// How far ahead of this device's wall clock a remote clock stamp may be and still be
/// observed (a day: more than any honest drift, less than a mistyped date).
pub const MAX_OBSERVED_LEAD_MS: u64 = 24 * 3600 * 1000;

/// What applying one page of pulled records did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// Records written or merged into a row.
    pub applied: u32,
    /// Records the device already had in the same state.
    pub unchanged: u32,
    /// Records that could not be applied, with the reason (also in the audit entry).
    pub skipped: Vec<String>,
}

fn parse_object(text: &str, what: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_str::<serde_json::Value>(text)? {
        serde_json::Value::Object(map) => Ok(map),
        _ => Err(StoreError::invalid(what, "must be a JSON object")),
    }
}

fn parse_hlc(text: &str) -> Result<Hlc> {
    text.parse()
        .map_err(|e| StoreError::Corrupt(format!("change log clock: {e}")))
}

/// Field clocks of a donor as this device's own change log tells them, up to `upto_seq`:
/// a field is stamped with the clock of the last entry that changed it.
fn logged_donor_clocks(conn: &Connection, donor_id: &str, upto_seq: i64) -> Result<FieldClocks> {
    let mut stmt = conn.prepare_cached(
        "SELECT hlc, body FROM change_log
         WHERE entity = 'donor' AND entity_id = ?1 AND seq <= ?2 ORDER BY seq",
    )?;
    let rows = stmt
        .query_map((donor_id, upto_seq), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut clocks = FieldClocks::new();
    let mut prev: Option<serde_json::Map<String, serde_json::Value>> = None;
    for (hlc, body) in rows {
        let hlc = parse_hlc(&hlc)?;
        let map = parse_object(&body, "change_log.body")?;
        let prev_map = prev.unwrap_or_default();
        for key in map.keys().chain(prev_map.keys()) {
            if map.get(key) != prev_map.get(key) {
                clocks.insert(key.clone(), hlc);
            }
        }
        prev = Some(map);
    }
    Ok(clocks)
}

impl Store {
    /// Up to `limit` of this device's change-log entries after `after`, in `seq` order.
    pub fn changes_after(&self, after: u64, limit: u32) -> Result<Vec<LocalChange>> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, hlc, entity, entity_id, body FROM change_log
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt
            .query_map((after, limit), |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for (seq, hlc, entity, entity_id, body) in rows {
            let kind = EntityKind::parse(&entity).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "change log entry {seq} has unknown entity {entity:?}"
                ))
            })?;
            let field_clocks = if kind == EntityKind::Donor {
                Some(logged_donor_clocks(&self.conn, &entity_id, seq)?)
            } else {
                None
            };
            out.push(LocalChange {
                seq: u64::try_from(seq)
                    .map_err(|_| StoreError::Corrupt(format!("change log seq {seq}")))?,
                hlc: parse_hlc(&hlc)?,
                entity: kind,
                entity_id: Uuid::parse_str(&entity_id).map_err(|e| {
                    StoreError::Corrupt(format!("change log entry {seq} id {entity_id:?}: {e}"))
                })?,
                body,
                field_clocks,
            });
        }
        Ok(out)
    }

    /// The highest `seq` in this device's change log (0 when empty).
    pub fn last_change_seq(&self) -> Result<u64> {
        let max: i64 =
            self.conn
                .query_row("SELECT COALESCE(MAX(seq), 0) FROM change_log", [], |r| {
                    r.get(0)
                })?;
        Ok(u64::try_from(max).unwrap_or(0))
    }

    /// A small replication setting (cursor, credential, station address), as JSON.
    pub fn sync_value(&self, key: &str) -> Result<Option<serde_json::Value>> {
        let text: Option<String> = self
            .conn
            .query_row("SELECT value FROM sync_state WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?;
        text.map(|t| serde_json::from_str(&t).map_err(Into::into))
            .transpose()
    }

    pub fn set_sync_value(&mut self, key: &str, value: &serde_json::Value) -> Result<()> {
        self.conn.execute(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value.to_string()),
        )?;
        Ok(())
    }

    fn cursor(&self, key: &str) -> Result<u64> {
        match self.sync_value(key)? {
            None => Ok(0),
            Some(v) => v.as_u64().ok_or_else(|| {
                StoreError::Corrupt(format!("sync_state {key} is not a sequence number: {v}"))
            }),
        }
    }

    /// The highest own `seq` the station acknowledged holding.
    pub fn push_cursor(&self) -> Result<u64> {
        self.cursor(PUSH_CURSOR_KEY)
    }

    /// Records the station's acknowledgement. It may move back when a station restored
    /// from a backup asks for entries again; it can never pass the end of the log.
    pub fn set_push_cursor(&mut self, seq: u64) -> Result<()> {
        let last = self.last_change_seq()?;
        if seq > last {
            return Err(StoreError::invalid(
                "push cursor",
                format!(
                    "the station acknowledged seq {seq} but this device's change log ends at {last}; \
                     the station holds entries this device never wrote"
                ),
            ));
        }
        self.set_sync_value(PUSH_CURSOR_KEY, &serde_json::json!(seq))
    }

    pub fn pull_cursor(&self) -> Result<u64> {
        self.cursor(PULL_CURSOR_KEY)
    }

    /// Own changes the station has not acknowledged yet.
    pub fn pending_changes(&self) -> Result<u64> {
        Ok(self.last_change_seq()?.saturating_sub(self.push_cursor()?))
    }

    /// Unissued DINs left in ranges the station leased (training ranges do not count),
    /// reported to the station so it leases more before they run out.
    pub fn unused_leased_dins(&self) -> Result<u64> {
        Ok(self
            .din_usage()?
            .iter()
            .filter(|u| u.record.source == DinRangeSource::Leased)
            .map(|u| u64::from(u.unused))
            .sum())
    }

    /// Applies one page of pulled records and moves the pull cursor to `cursor`, in one
    /// transaction with one audit entry. Records this device cannot use (a donation for
    /// a donor it does not hold, a range leased to another device, a malformed rules
    /// table) are skipped and named in the report and the audit entry.
    pub fn apply_remote(&mut self, records: &[RemoteRecord], cursor: u64) -> Result<ApplyReport> {
        let device_id = self.device_id;
        let now = crate::now();
        let now_ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        let mut clock = self.clock;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut report = ApplyReport::default();
        let mut touched = Vec::new();
        for record in records {
            let outcome = apply_one(&tx, device_id, record, now);
            match outcome {
                Ok(true) => report.applied += 1,
                Ok(false) => report.unchanged += 1,
                Err(Fail::Skip(why)) => {
                    report
                        .skipped
                        .push(format!("{} {}: {why}", record.kind.as_str(), record.id))
                }
                Err(Fail::Store(e)) => return Err(e),
            }
            touched.push(serde_json::json!({"kind": record.kind, "id": record.id}));
            // Whatever this device does next must order after what it has seen; but a
            // stamp from a clock set days ahead would drag this device's clock with it
            // for good, and a counter at its limit must not stop the sync: such stamps
            // are applied without being observed.
            if record.hlc.wall_ms <= now_ms.saturating_add(MAX_OBSERVED_LEAD_MS) {
                let _ = clock.observe(record.hlc, now_ms);
            }
        }
        tx.execute(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (PULL_CURSOR_KEY, cursor.to_string()),
        )?;
        let audit_seq: i64 =
            tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log", [], |r| {
                r.get(0)
            })?;
        audit::append(
            &tx,
            audit::NewEntry {
                seq: audit_seq,
                at: now,
                device_id,
                staff_id: None,
                action: "replication.pull",
                detail: serde_json::json!({
                    "records": touched,
                    "detail": {"cursor": cursor, "applied": report.applied,
                               "unchanged": report.unchanged, "skipped": report.skipped},
                }),
            },
        )?;
        tx.execute(
            "UPDATE device SET last_hlc = ?1 WHERE singleton = 1",
            [clock.last().to_string()],
        )?;
        tx.commit()?;
        self.clock = clock;
        Ok(report)
    }

    /// The merged per-field clocks of a donor as this device holds it.
    pub fn donor_field_clocks(&self, donor_id: RecordId) -> Result<Option<FieldClocks>> {
        donor_clocks(&self.conn, &donor_id.to_string())
    }
}

/// Why a pulled record was not applied: `Skip` is about the record (it is named in the
/// report and the page goes on); `Store` is about this device (the whole page is rolled
/// back and pulled again later).
enum Fail {
    Skip(String),
    Store(StoreError),
}

fn skip(why: impl Into<String>) -> Fail {
    Fail::Skip(why.into())
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Fail {
        Fail::Store(e)
    }
}

impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Fail {
        Fail::Store(e.into())
    }
}

impl From<serde_json::Error> for Fail {
    fn from(e: serde_json::Error) -> Fail {
        Fail::Skip(format!("malformed body: {e}"))
    }
}

fn object(text: &str) -> std::result::Result<serde_json::Map<String, serde_json::Value>, Fail> {
    match serde_json::from_str::<serde_json::Value>(text)? {
        serde_json::Value::Object(map) => Ok(map),
        _ => Err(skip("body must be a JSON object")),
    }
}

fn exists(conn: &Connection, table: &'static str, id: &str) -> std::result::Result<bool, Fail> {
    Ok(conn
        .query_row(
            &format!("SELECT 1 FROM {table} WHERE id = ?1"),
            [id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The donor's clocks: what the local change log says, raised by what replication stored.
fn donor_clocks(conn: &Connection, donor_id: &str) -> Result<Option<FieldClocks>> {
    let stored: Option<String> = conn
        .query_row(
            "SELECT field_clocks FROM donor WHERE id = ?1",
            [donor_id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(stored) = stored else {
        return Ok(None);
    };
    let stored: FieldClocks = serde_json::from_str(&stored)?;
    let logged = logged_donor_clocks(conn, donor_id, i64::MAX)?;
    Ok(Some(max_clocks(&logged, &stored)))
}

/// Merges another version of donor `id` into its row, field by field; `Ok(true)` when
/// the row changed.
fn merge_into_donor(
    tx: &Connection,
    id: &str,
    local_clocks: FieldClocks,
    remote_map: &serde_json::Map<String, serde_json::Value>,
    remote_clocks: &FieldClocks,
) -> std::result::Result<bool, Fail> {
    let local_body: String =
        tx.query_row("SELECT body FROM donor WHERE id = ?1", [id], |r| r.get(0))?;
    let local_map = object(&local_body)?;
    let (merged, clocks) = merge_fields(&local_map, &local_clocks, remote_map, remote_clocks);
    let donor: Donor = serde_json::from_value(serde_json::Value::Object(merged))?;
    let body = serde_json::to_string(&donor)?;
    if body == local_body && clocks == local_clocks {
        return Ok(false);
    }
    tx.execute(
        "UPDATE donor SET doc_kind = ?2, doc_number = ?3, name = ?4,
             birth_date = ?5, phone = ?6, field_clocks = ?7, body = ?8
         WHERE id = ?1",
        (
            id,
            donor.document.kind().as_str(),
            donor.document.number(),
            &donor.name,
            donor.birth_date.to_string(),
            &donor.phone,
            serde_json::to_string(&clocks)?,
            body,
        ),
    )?;
    Ok(true)
}

/// The same person registered on another vehicle under `twin_id` while this device
/// holds them as `holder` (two offline registrations of one identity document). The
/// twin's id is noted so that its donations and deferrals count in the holder's
/// history; its demographics merge into the holder like any other version, except the
/// id and registration time, which stay the holder's.
fn merge_twin(
    tx: &Connection,
    twin_id: &str,
    holder: &str,
    mut remote_map: serde_json::Map<String, serde_json::Value>,
    mut remote_clocks: FieldClocks,
    now: chrono::DateTime<chrono::Utc>,
) -> std::result::Result<bool, Fail> {
    let noted = tx.execute(
        "INSERT INTO donor_alias (alias_id, donor_id, noted_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (alias_id) DO NOTHING",
        (twin_id, holder, now.to_rfc3339()),
    )? > 0;
    for own in ["id", "registered_at"] {
        remote_map.remove(own);
        remote_clocks.remove(own);
    }
    let local_clocks = donor_clocks(tx, holder)?.unwrap_or_default();
    let merged = merge_into_donor(tx, holder, local_clocks, &remote_map, &remote_clocks)?;
    Ok(noted || merged)
}

/// The donor row that a pulled record's donor id stands for on this device: the donor
/// itself, or the donor holding the same identity document under another id.
fn local_donor(tx: &Connection, donor_id: &str) -> std::result::Result<Option<String>, Fail> {
    if exists(tx, "donor", donor_id)? {
        return Ok(Some(donor_id.to_owned()));
    }
    Ok(tx
        .query_row(
            "SELECT donor_id FROM donor_alias WHERE alias_id = ?1",
            [donor_id],
            |r| r.get(0),
        )
        .optional()?)
}

/// A record whose body names another id than the record is refused: applying it would
/// write one record under the other's id.
fn same_id(body_id: RecordId, record: &RemoteRecord) -> std::result::Result<(), Fail> {
    if body_id == record.id {
        return Ok(());
    }
    Err(skip(format!(
        "the body names id {body_id}, the record {}",
        record.id
    )))
}

/// Applies one record; `Ok(true)` when it changed the store.
fn apply_one(
    tx: &Connection,
    device_id: Uuid,
    record: &RemoteRecord,
    now: chrono::DateTime<chrono::Utc>,
) -> std::result::Result<bool, Fail> {
    let id = record.id.to_string();
    match record.kind {
        RemoteKind::Donor => {
            let remote_map = object(&record.body)?;
            let remote: Donor =
                serde_json::from_value(serde_json::Value::Object(remote_map.clone()))?;
            same_id(remote.id, record)?;
            let remote_clocks = record
                .field_clocks
                .clone()
                .unwrap_or_else(|| uniform_clocks(&remote_map, record.hlc));
            match donor_clocks(tx, &id)? {
                Some(local_clocks) => {
                    merge_into_donor(tx, &id, local_clocks, &remote_map, &remote_clocks)
                }
                None => {
                    let same_document: Option<String> = tx
                        .query_row(
                            "SELECT id FROM donor WHERE doc_kind = ?1 AND doc_number = ?2",
                            (remote.document.kind().as_str(), remote.document.number()),
                            |r| r.get(0),
                        )
                        .optional()?;
                    if let Some(holder) = same_document {
                        return merge_twin(tx, &id, &holder, remote_map, remote_clocks, now);
                    }
                    tx.execute(
                        "INSERT INTO donor (id, doc_kind, doc_number, name, birth_date, phone,
                                            field_clocks, body)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        (
                            &id,
                            remote.document.kind().as_str(),
                            remote.document.number(),
                            &remote.name,
                            remote.birth_date.to_string(),
                            &remote.phone,
                            serde_json::to_string(&remote_clocks)?,
                            serde_json::to_string(&remote)?,
                        ),
                    )?;
                    Ok(true)
                }
            }
        }
        RemoteKind::Deferral => {
            let deferral: Deferral = serde_json::from_str(&record.body)?;
            same_id(deferral.id, record)?;
            if exists(tx, "deferral", &id)? {
                return Ok(false);
            }
            let Some(donor_id) = local_donor(tx, &deferral.donor_id.to_string())? else {
                return Err(skip(format!(
                    "donor {} is not on this device",
                    deferral.donor_id
                )));
            };
            if let Some(lifted) = deferral.lifts
                && !exists(tx, "deferral", &lifted.to_string())?
            {
                return Err(skip(format!(
                    "lifts deferral {lifted}, which is not on this device"
                )));
            }
            tx.execute(
                "INSERT INTO deferral (id, donor_id, code, start, until, lifts, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                (
                    &id,
                    donor_id,
                    &deferral.code,
                    deferral.start.to_string(),
                    deferral.until.map(|d| d.to_string()),
                    deferral.lifts.map(|d| d.to_string()),
                    serde_json::to_string(&deferral)?,
                ),
            )?;
            Ok(true)
        }
        RemoteKind::Donation => {
            let donation: Donation = serde_json::from_str(&record.body)?;
            same_id(donation.id, record)?;
            if exists(tx, "donation", &id)? {
                return Ok(false);
            }
            if record.origin_device == device_id {
                return Err(skip(
                    "claims to come from this device, which has no such donation",
                ));
            }
            let Some(donor_id) = local_donor(tx, &donation.donor_id.to_string())? else {
                return Err(skip(format!(
                    "donor {} is not on this device",
                    donation.donor_id
                )));
            };
            if let Some(old) = donation.supersedes
                && !exists(tx, "donation", &old.to_string())?
            {
                return Err(skip(format!(
                    "supersedes donation {old}, which is not on this device"
                )));
            }
            // The drive usually lives only on the other vehicle; the summary needs none.
            let drive = donation.drive_id.to_string();
            let drive = exists(tx, "drive", &drive)?.then_some(drive);
            tx.execute(
                "INSERT INTO donation (id, donor_id, drive_id, din, procedure, started_at,
                                       supersedes, origin_device, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                (
                    &id,
                    donor_id,
                    drive,
                    donation.din.as_str(),
                    donation.procedure.as_str(),
                    donation.started_at.to_rfc3339(),
                    donation.supersedes.map(|s| s.to_string()),
                    record.origin_device.to_string(),
                    serde_json::to_string(&donation)?,
                ),
            )?;
            Ok(true)
        }
        RemoteKind::DinRange => {
            let lease: DinRangeRecord = serde_json::from_str(&record.body)?;
            same_id(lease.id, record)?;
            if lease.device_id != device_id {
                return Err(skip(format!(
                    "leased to device {}, not this one",
                    lease.device_id
                )));
            }
            if lease.source == DinRangeSource::Training {
                return Err(skip("a station never leases training ranges"));
            }
            if exists(tx, "din_range", &id)? {
                return Ok(false);
            }
            let overlapping: Option<String> = tx
                .query_row(
                    "SELECT id FROM din_range WHERE facility = ?1 AND year = ?2
                     AND first_seq <= ?4 AND last_seq >= ?3",
                    (
                        lease.range.facility().as_str(),
                        lease.range.year(),
                        lease.range.first(),
                        lease.range.last(),
                    ),
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(other) = overlapping {
                return Err(skip(format!("overlaps range {other} this device holds")));
            }
            let source = serde_json::to_value(lease.source)?;
            tx.execute(
                "INSERT INTO din_range (id, facility, year, first_seq, last_seq, source, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                (
                    &id,
                    lease.range.facility().as_str(),
                    lease.range.year(),
                    lease.range.first(),
                    lease.range.last(),
                    source.as_str().unwrap_or("leased"),
                    serde_json::to_string(&lease)?,
                ),
            )?;
            Ok(true)
        }
        RemoteKind::ReferenceDocument => {
            let doc: ReferenceDocumentBody = serde_json::from_str(&record.body)?;
            let text = serde_json::to_string(&doc.document)?;
            if doc.kind == "rules" {
                // A table the device cannot read would stop every screening: keep the
                // one in force instead.
                lifebridge_domain::rules::RuleSet::from_json(&text)
                    .map_err(|e| skip(format!("rules table {} is invalid: {e}", doc.version)))?;
            }
            let changed = tx.execute(
                "INSERT INTO reference_document (kind, version, body, adopted_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (kind, version) DO NOTHING",
                (&doc.kind, &doc.version, text, now.to_rfc3339()),
            )?;
            Ok(changed > 0)
        }
        RemoteKind::Appointment => {
            let appointment: lifebridge_domain::entities::Appointment =
                serde_json::from_str(&record.body)?;
            same_id(appointment.id, record)?;
            // Pages arrive in station order, so the record pulled last is the station's
            // latest word on this appointment.
            let changed = tx.execute(
                "INSERT INTO appointment (id, date, site_name, body) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET date = excluded.date,
                   site_name = excluded.site_name, body = excluded.body
                 WHERE appointment.body IS NOT excluded.body",
                (
                    &id,
                    appointment.date.to_string(),
                    &appointment.site_name,
                    &record.body,
                ),
            )?;
            Ok(changed > 0)
        }
        RemoteKind::Handoff => {
            let handoff: lifebridge_domain::handoff::HandoffRecord =
                serde_json::from_str(&record.body)?;
            same_id(handoff.id, record)?;
            let changed = tx.execute(
                "INSERT INTO handoff (id, signed_at, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO NOTHING",
                (&id, handoff.signed_at.to_rfc3339(), &record.body),
            )?;
            for manifest_id in &handoff.manifest_ids {
                tx.execute(
                    "INSERT INTO handoff_manifest (manifest_id, handoff_id) VALUES (?1, ?2)
                     ON CONFLICT DO NOTHING",
                    (manifest_id.to_string(), &id),
                )?;
            }
            Ok(changed > 0)
        }
        RemoteKind::Staff => {
            let account: StaffAccount = serde_json::from_str(&record.body)?;
            same_id(account.staff.id, record)?;
            if account.staff.roles.is_empty() {
                return Err(skip("a staff account needs at least one role"));
            }
            if !account.pin_hash.starts_with("$argon2id$") {
                return Err(skip("the PIN hash is not an argon2id hash"));
            }
            let made_here: bool = tx
                .query_row(
                    "SELECT 1 FROM change_log WHERE entity = 'staff' AND entity_id = ?1",
                    [&id],
                    |_| Ok(true),
                )
                .optional()?
                .unwrap_or(false);
            if made_here {
                return Err(skip("names an account this device made"));
            }
            let body = serde_json::to_string(&account.staff)?;
            let changed = tx.execute(
                "INSERT INTO staff (id, display_name, active, body) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,
                   active = excluded.active, body = excluded.body
                 WHERE staff.body IS NOT excluded.body",
                (
                    &id,
                    &account.staff.display_name,
                    account.staff.active,
                    &body,
                ),
            )?;
            // A new hash (the PIN was reset at the station) also lifts a lock-out.
            let credential = tx.execute(
                "INSERT INTO staff_credential (staff_id, pin_hash) VALUES (?1, ?2)
                 ON CONFLICT (staff_id) DO UPDATE SET pin_hash = excluded.pin_hash,
                   failed_attempts = 0, locked_until = NULL
                 WHERE staff_credential.pin_hash IS NOT excluded.pin_hash",
                (&id, &account.pin_hash),
            )?;
            Ok(changed + credential > 0)
        }
    }
}
