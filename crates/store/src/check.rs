//! `lifebridge store check`: everything that must hold in a store, verified from the
//! file itself.

use lifebridge_domain::entities::EntityKind;
use rusqlite::OptionalExtension;
use serde::Serialize;

use crate::audit;
use crate::{Result, Store};

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// SQLite's `PRAGMA integrity_check`: "ok" or the first problems it found.
    pub integrity: Vec<String>,
    pub foreign_key_faults: Vec<String>,
    pub change_log_entries: i64,
    pub change_log_faults: Vec<String>,
    pub audit_entries: i64,
    pub audit_fault: Option<String>,
    /// The chain no longer holds the head the station acknowledged (it was cut, or the
    /// store was restored from an older copy).
    pub audit_behind_station: Option<String>,
    /// Rows whose stored body differs from their latest change-log entry.
    pub rows_out_of_step: Vec<String>,
}

impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.integrity == ["ok"]
            && self.foreign_key_faults.is_empty()
            && self.change_log_faults.is_empty()
            && self.audit_fault.is_none()
            && self.audit_behind_station.is_none()
            && self.rows_out_of_step.is_empty()
    }
}

fn table_of(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Staff => "staff",
        EntityKind::Drive => "drive",
        EntityKind::Donor => "donor",
        EntityKind::Screening => "screening",
        EntityKind::Deferral => "deferral",
        EntityKind::Donation => "donation",
        EntityKind::DinRange => "din_range",
        EntityKind::LabelPrint => "label_print",
        EntityKind::LabelScan => "label_scan",
        EntityKind::Visit => "visit",
        EntityKind::DonationRelease => "donation_release",
        EntityKind::TransportBox => "transport_box",
        EntityKind::BoxPacking => "box_packing",
        EntityKind::TemperatureReading => "temperature_reading",
        EntityKind::Manifest => "manifest",
    }
}

impl Store {
    pub fn check(&self) -> Result<CheckReport> {
        let conn = &self.conn;
        let integrity = {
            let mut stmt = conn.prepare("PRAGMA integrity_check")?;
            stmt.query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?
        };
        let foreign_key_faults = {
            let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
            stmt.query_map([], |r| {
                Ok(format!(
                    "{} row {} references a missing {}",
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?
        };

        let (count, min, max): (i64, Option<i64>, Option<i64>) = conn.query_row(
            "SELECT COUNT(*), MIN(seq), MAX(seq) FROM change_log",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let mut change_log_faults = Vec::new();
        if count > 0 && (min != Some(1) || max != Some(count)) {
            let first_gap: Option<i64> = conn.query_row(
                "SELECT MIN(seq) + 1 FROM change_log c
                 WHERE NOT EXISTS (SELECT 1 FROM change_log n WHERE n.seq = c.seq + 1)
                 AND c.seq < (SELECT MAX(seq) FROM change_log)",
                [],
                |r| r.get(0),
            )?;
            change_log_faults.push(match (min, first_gap) {
                (Some(m), _) if m != 1 => format!("change log starts at {m}, not 1"),
                (_, Some(g)) => format!("change log entry {g} is missing"),
                _ => "change log sequence has a gap".to_owned(),
            });
        }
        let orphans: i64 = conn.query_row(
            "SELECT COUNT(*) FROM change_log c
             WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.seq = c.audit_seq)",
            [],
            |r| r.get(0),
        )?;
        if orphans > 0 {
            change_log_faults.push(format!("{orphans} change-log entries have no audit entry"));
        }

        let (audit_entries, audit_fault) = match audit::verify_chain(conn)? {
            Ok(n) => (n, None),
            Err(fault) => {
                let n = conn.query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0))?;
                (n, Some(fault.to_string()))
            }
        };

        let audit_behind_station = self.behind_acked_head()?;

        let mut rows_out_of_step = Vec::new();
        for kind in EntityKind::ALL {
            let table = table_of(kind);
            // A kind newer than this store's schema has no table yet; entries of it
            // would then be rows with nowhere to live.
            let has_table: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
                [table],
                |r| r.get(0),
            )?;
            if !has_table {
                let orphans: i64 = conn.query_row(
                    "SELECT COUNT(*) FROM change_log WHERE entity = ?1",
                    [kind.as_str()],
                    |r| r.get(0),
                )?;
                if orphans > 0 {
                    rows_out_of_step.push(format!(
                        "{orphans} change-log entries of kind {} but no {table} table",
                        kind.as_str()
                    ));
                }
                continue;
            }
            let mut stmt = conn.prepare(&format!(
                "SELECT c.entity_id, c.body, t.body FROM change_log c
                 LEFT JOIN {table} t ON t.id = c.entity_id
                 WHERE c.entity = ?1
                   AND c.seq = (SELECT MAX(seq) FROM change_log l
                                WHERE l.entity = c.entity AND l.entity_id = c.entity_id)
                   AND (t.body IS NULL OR t.body != c.body)"
            ))?;
            let candidates = stmt
                .query_map([kind.as_str()], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut ids = Vec::new();
            for (id, logged, stored) in candidates {
                let merged = kind == EntityKind::Donor
                    && stored.is_some()
                    && self.donor_merged_from_elsewhere(&id, &logged, stored.as_deref())?;
                if !merged {
                    ids.push(id);
                }
            }
            rows_out_of_step.extend(ids.into_iter().map(|id| format!("{table} {id}")));
        }

        Ok(CheckReport {
            integrity,
            foreign_key_faults,
            change_log_entries: count,
            change_log_faults,
            audit_entries,
            audit_fault,
            audit_behind_station,
            rows_out_of_step,
        })
    }

    /// Whether the audit chain still holds the head the station acknowledged at the last
    /// push: an entry with that seq and that hash. A chain cut after it, or a store
    /// restored from a copy older than the push, does not.
    fn behind_acked_head(&self) -> Result<Option<String>> {
        let Some(acked) = self.acked_audit_head()? else {
            return Ok(None);
        };
        let seq = i64::try_from(acked.seq).unwrap_or(i64::MAX);
        let hash: Option<String> = self
            .conn
            .query_row("SELECT hash FROM audit_log WHERE seq = ?1", [seq], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(match hash {
            None => {
                let last: i64 = self.conn.query_row(
                    "SELECT COALESCE(MAX(seq), 0) FROM audit_log",
                    [],
                    |r| r.get(0),
                )?;
                Some(format!(
                    "the audit chain ends at entry {last}, but the station acknowledged it up to entry {}: entries were cut, or the store was restored from an older copy",
                    acked.seq
                ))
            }
            Some(h) if h != acked.hash => Some(format!(
                "audit entry {} differs from the one the station acknowledged: the chain was rewritten",
                acked.seq
            )),
            Some(_) => None,
        })
    }
}

impl Store {
    /// A donor edited on another vehicle is merged in by replication, which rewrites the
    /// row (with per-field clocks) but, rightly, not this device's change log. Such a row
    /// is in step when every field that differs from our last logged version carries a
    /// clock from another node: those fields are someone else's later edit.
    fn donor_merged_from_elsewhere(
        &self,
        id: &str,
        logged: &str,
        stored: Option<&str>,
    ) -> Result<bool> {
        let Some(stored) = stored else {
            return Ok(false);
        };
        let clocks: Option<String> =
            self.conn
                .query_row("SELECT field_clocks FROM donor WHERE id = ?1", [id], |r| {
                    r.get(0)
                })?;
        let parse =
            |text: &str| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text);
        let (Ok(logged), Ok(stored)) = (parse(logged), parse(stored)) else {
            return Ok(false);
        };
        let clocks: std::collections::BTreeMap<String, lifebridge_domain::hlc::Hlc> =
            match clocks.as_deref().map(serde_json::from_str) {
                Some(Ok(c)) => c,
                _ => return Ok(false),
            };
        let keys: std::collections::BTreeSet<&String> =
            logged.keys().chain(stored.keys()).collect();
        Ok(keys.into_iter().all(|key| {
            logged.get(key) == stored.get(key)
                || clocks.get(key).is_some_and(|c| c.node != self.device_id)
        }))
    }
}
