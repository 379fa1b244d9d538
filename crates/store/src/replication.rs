//! The device side of replication: what the replicator reads from the store and how it
//! writes back what the station sends.
//!
//! Outgoing: this device's own change log, in `seq` order, after the cursor the station
//! has acknowledged. Incoming: records written by *other* devices (or by the station),
//! applied in one transaction per page together with the new pull cursor, so a
//! replicator killed at any point resumes exactly where the last committed page ended.
//! Incoming records never enter this device's change log (they are not its changes and
//! must not be pushed back), but every page is audited.

use lifebridge_domain::entities::{DinRangeSource, EntityKind, RecordId};
use lifebridge_domain::hlc::Hlc;
use lifebridge_domain::merge::{FieldClocks, max_clocks};
use lifebridge_protocol::records::{HeldLease, LocalChange};
use lifebridge_protocol::wire::AuditHead;
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use uuid::Uuid;

use crate::{Result, Store, StoreError};

mod apply;

/// `sync_state` key of the highest own `seq` the station has acknowledged.
pub const PUSH_CURSOR_KEY: &str = "push.acked_seq";
/// `sync_state` key of the audit head (seq and hash) the station last acknowledged.
pub const AUDIT_HEAD_KEY: &str = "audit.acked_head";
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
        self.write_setting(key, value)
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

    /// The head of this device's audit chain (its last entry), if it has one.
    pub fn audit_head(&self) -> Result<Option<AuditHead>> {
        let head: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(head.map(|(seq, hash)| AuditHead {
            seq: u64::try_from(seq).unwrap_or(0),
            hash,
        }))
    }

    /// The audit head the station last acknowledged with a push (`store check` verifies
    /// the chain still holds it).
    pub fn acked_audit_head(&self) -> Result<Option<AuditHead>> {
        self.sync_value(AUDIT_HEAD_KEY)?
            .map(serde_json::from_value)
            .transpose()
            .map_err(Into::into)
    }

    /// Keeps the audit head the station acknowledged.
    pub fn set_acked_audit_head(&mut self, head: &AuditHead) -> Result<()> {
        self.set_sync_value(AUDIT_HEAD_KEY, &serde_json::to_value(head)?)
    }

    /// The DIN ranges the station leased this device in the last `days` days, reported
    /// with every pull so a station restored from a backup learns the leases it lost.
    pub fn held_leases(&self, days: i64) -> Result<Vec<HeldLease>> {
        let since = chrono::Utc::now() - chrono::Duration::days(days);
        Ok(self
            .din_usage()?
            .into_iter()
            .filter(|u| u.record.source == DinRangeSource::Leased && u.record.granted_at >= since)
            .map(|u| HeldLease {
                lease_id: u.record.id,
                range: u.record.range,
            })
            .collect())
    }

    /// The merged per-field clocks of a donor as this device holds it.
    pub fn donor_field_clocks(&self, donor_id: RecordId) -> Result<Option<FieldClocks>> {
        donor_clocks(&self.conn, &donor_id.to_string())
    }
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
