//! The audit trail: every action appends one entry whose hash covers the previous
//! entry's hash, so deleting or altering any entry is detectable.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, Transaction};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::Result;

/// The hash the first entry chains from.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub(crate) struct NewEntry<'a> {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub device_id: Uuid,
    pub staff_id: Option<Uuid>,
    pub action: &'a str,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub device_id: String,
    pub staff_id: Option<String>,
    pub action: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

fn entry_hash(
    prev_hash: &str,
    seq: i64,
    at: &str,
    device_id: &str,
    staff_id: Option<&str>,
    action: &str,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    // Length-prefix every field so no two different entries hash the same text.
    for field in [
        prev_hash,
        &seq.to_string(),
        at,
        device_id,
        staff_id.unwrap_or("-"),
        action,
        detail,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

pub(crate) fn append(tx: &Transaction<'_>, entry: NewEntry<'_>) -> Result<()> {
    let prev_hash: String = tx
        .query_row(
            "SELECT hash FROM audit_log WHERE seq = ?1",
            [entry.seq - 1],
            |r| r.get(0),
        )
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows if entry.seq == 1 => Ok(GENESIS_HASH.to_owned()),
            other => Err(other),
        })?;
    let at = entry.at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let device_id = entry.device_id.to_string();
    let staff_id = entry.staff_id.map(|s| s.to_string());
    let detail = serde_json::to_string(&entry.detail)?;
    let hash = entry_hash(
        &prev_hash,
        entry.seq,
        &at,
        &device_id,
        staff_id.as_deref(),
        entry.action,
        &detail,
    );
    tx.execute(
        "INSERT INTO audit_log (seq, at, device_id, staff_id, action, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        (
            entry.seq,
            at,
            device_id,
            staff_id,
            entry.action,
            detail,
            prev_hash,
            hash,
        ),
    )?;
    Ok(())
}

/// Where the chain first breaks, if it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainFault {
    Gap { expected: i64, found: i64 },
    PrevHashMismatch { seq: i64 },
    HashMismatch { seq: i64 },
}

impl std::fmt::Display for ChainFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainFault::Gap { expected, found } => {
                write!(
                    f,
                    "audit entry {expected} is missing (next entry is {found})"
                )
            }
            ChainFault::PrevHashMismatch { seq } => write!(
                f,
                "audit entry {seq} does not chain to entry {}: an entry was removed or replaced",
                seq - 1
            ),
            ChainFault::HashMismatch { seq } => {
                write!(f, "audit entry {seq} was altered after it was written")
            }
        }
    }
}

/// Walks the whole chain. Returns the number of entries verified, or the first fault.
pub fn verify_chain(conn: &Connection) -> Result<std::result::Result<i64, ChainFault>> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, device_id, staff_id, action, detail, prev_hash, hash
         FROM audit_log ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut expected_seq = 1;
    let mut prev = GENESIS_HASH.to_owned();
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let at: String = r.get(1)?;
        let device_id: String = r.get(2)?;
        let staff_id: Option<String> = r.get(3)?;
        let action: String = r.get(4)?;
        let detail: String = r.get(5)?;
        let prev_hash: String = r.get(6)?;
        let hash: String = r.get(7)?;
        if seq != expected_seq {
            return Ok(Err(ChainFault::Gap {
                expected: expected_seq,
                found: seq,
            }));
        }
        if prev_hash != prev {
            return Ok(Err(ChainFault::PrevHashMismatch { seq }));
        }
        let recomputed = entry_hash(
            &prev_hash,
            seq,
            &at,
            &device_id,
            staff_id.as_deref(),
            &action,
            &detail,
        );
        if recomputed != hash {
            return Ok(Err(ChainFault::HashMismatch { seq }));
        }
        prev = hash;
        expected_seq += 1;
    }
    Ok(Ok(expected_seq - 1))
}

pub fn entries(conn: &Connection) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, device_id, staff_id, action, detail, prev_hash, hash
         FROM audit_log ORDER BY seq",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(AuditEntry {
            seq: r.get(0)?,
            at: r.get(1)?,
            device_id: r.get(2)?,
            staff_id: r.get(3)?,
            action: r.get(4)?,
            detail: r.get(5)?,
            prev_hash: r.get(6)?,
            hash: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
