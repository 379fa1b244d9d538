//! Enrolled devices: enrollment codes and bearer tokens (stored only as SHA-256
//! hashes), the device list and revocation.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::params;
use crate::storage::sql::{Row, Tx};
use crate::storage::{Result, StorageError, parse_uuid};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceRecord {
    pub device_id: Uuid,
    pub name: String,
    pub enrolled_at: String,
    pub revoked_at: Option<String>,
    pub held_seq: u64,
    /// The highest feed cursor this station handed the device ([`crate::restore`]).
    pub pulled_seq: u64,
}

const DEVICE_COLS: &str = "device_id, name, enrolled_at, revoked_at, held_seq, pulled_seq";

fn to_device(mut r: Row) -> Result<DeviceRecord> {
    Ok(DeviceRecord {
        device_id: parse_uuid(r.str(0)?)?,
        held_seq: r.count(4)?,
        pulled_seq: r.count(5)?,
        name: r.text(1)?,
        enrolled_at: r.text(2)?,
        revoked_at: r.opt_text(3)?,
    })
}

pub async fn create_enrollment(
    tx: &mut dyn Tx,
    name: &str,
    code_hash: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO enrollment (code_hash, name, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![code_hash, name, now.to_rfc3339(), expires_at.to_rfc3339()],
    )
    .await?;
    Ok(())
}

/// What [`redeem_enrollment`] fails with when the device id is enrolled already: the
/// transaction rolls back, so the code stays unused.
pub const ALREADY_ENROLLED: &str = "already enrolled";

/// Uses up an enrollment code and enrolls the device; `None` when the code is unknown,
/// used or expired; [`ALREADY_ENROLLED`] when the device id is enrolled already.
pub async fn redeem_enrollment(
    tx: &mut dyn Tx,
    code_hash: &str,
    device_id: Uuid,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<DeviceRecord>> {
    let at = now.to_rfc3339();
    let Some(mut row) = tx
        .query_opt(
            "UPDATE enrollment SET used_at = ?2, device_id = ?3
             WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2
             RETURNING name",
            params![code_hash, &at, device_id],
        )
        .await?
    else {
        return Ok(None);
    };
    let name = row.text(0)?;
    let inserted = tx
        .execute(
            "INSERT INTO device (device_id, name, token_hash, enrolled_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (device_id) DO NOTHING",
            params![device_id, &name, token_hash, &at],
        )
        .await?;
    if inserted == 0 {
        return Err(StorageError::Invalid(ALREADY_ENROLLED.into()));
    }
    Ok(Some(DeviceRecord {
        device_id,
        name,
        enrolled_at: at,
        revoked_at: None,
        held_seq: 0,
        pulled_seq: 0,
    }))
}

/// The enrolled, unrevoked device with this credential.
pub async fn by_token(tx: &mut dyn Tx, token_hash: &str) -> Result<Option<DeviceRecord>> {
    tx.query_opt(
        &format!("SELECT {DEVICE_COLS} FROM device WHERE token_hash = ?1 AND revoked_at IS NULL"),
        params![token_hash],
    )
    .await?
    .map(to_device)
    .transpose()
}

pub async fn all(tx: &mut dyn Tx) -> Result<Vec<DeviceRecord>> {
    tx.query(
        &format!("SELECT {DEVICE_COLS} FROM device ORDER BY enrolled_at"),
        &[],
    )
    .await?
    .into_iter()
    .map(to_device)
    .collect()
}

/// Revokes by device id or name; `None` when no such active device exists.
pub async fn revoke(
    tx: &mut dyn Tx,
    id_or_name: &str,
    now: DateTime<Utc>,
) -> Result<Option<DeviceRecord>> {
    tx.query_opt(
        &format!(
            "UPDATE device SET revoked_at = ?2
             WHERE (device_id = ?1 OR name = ?1) AND revoked_at IS NULL
             RETURNING {DEVICE_COLS}"
        ),
        params![id_or_name, now.to_rfc3339()],
    )
    .await?
    .map(to_device)
    .transpose()
}
