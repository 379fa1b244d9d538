//! Manifests as the receiving desk knows them (table `manifest`): a pushed `manifest`
//! entry is projected here inside the push transaction, and a manifest scanned from its
//! QR lands in the same row; whichever copy comes second is compared with the first.

use chrono::{DateTime, Utc};
use lifebridge_domain::cold_chain::Manifest;
use lifebridge_domain::entities::EntityKind;
use lifebridge_protocol::records::LocalChange;
use serde::Serialize;
use uuid::Uuid;

use crate::params;
use crate::storage::sql::{Row, Tx};
use crate::storage::{Result, StorageError, parse_uuid};

/// A manifest as the desk knows it (table `manifest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestRow {
    pub manifest_id: Uuid,
    pub device_id: Uuid,
    pub site_name: String,
    pub dispatched_at: String,
    pub replicated_body: Option<String>,
    pub qr_body: Option<String>,
    pub qr_matches: Option<bool>,
    pub first_seen_at: String,
}

impl ManifestRow {
    /// The manifest to work from: the replicated copy when present (it is what the
    /// device holds), else the one from the QR.
    pub fn manifest(&self) -> Result<Manifest> {
        let body = self
            .replicated_body
            .as_deref()
            .or(self.qr_body.as_deref())
            .ok_or_else(|| {
                StorageError::Corrupt(format!("manifest {} has no body", self.manifest_id))
            })?;
        Ok(serde_json::from_str(body)?)
    }
}

/// Folds one arrival of a manifest (by replication or by QR) into what the desk held.
/// The first copy of each kind stands: a manifest is never edited once signed, so a
/// second, different copy is exactly what `qr_matches = false` reports.
pub fn merge_manifest(
    held: Option<ManifestRow>,
    manifest: &Manifest,
    body: &str,
    by_qr: bool,
    now: DateTime<Utc>,
) -> ManifestRow {
    let mut row = held.unwrap_or_else(|| ManifestRow {
        manifest_id: manifest.id,
        device_id: manifest.device_id,
        site_name: manifest.site_name.clone(),
        dispatched_at: manifest.dispatched_at.to_rfc3339(),
        replicated_body: None,
        qr_body: None,
        qr_matches: None,
        first_seen_at: now.to_rfc3339(),
    });
    let slot = if by_qr {
        &mut row.qr_body
    } else {
        &mut row.replicated_body
    };
    if slot.is_none() {
        *slot = Some(body.to_owned());
    }
    row.qr_matches = match (&row.replicated_body, &row.qr_body) {
        (Some(a), Some(b)) => Some(
            // Compared as manifests, not text: key order or number formatting may differ.
            match (
                serde_json::from_str::<Manifest>(a),
                serde_json::from_str::<Manifest>(b),
            ) {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            },
        ),
        _ => None,
    };
    row
}

/// The manifest a pushed change entry carries, if it is one the station can read.
pub fn pushed(entry: &LocalChange) -> Option<Manifest> {
    if entry.entity != EntityKind::Manifest {
        return None;
    }
    match serde_json::from_str::<Manifest>(&entry.body) {
        Ok(m) if m.id == entry.entity_id => Some(m),
        Ok(m) => {
            tracing::warn!(entity_id = %entry.entity_id, body_id = %m.id, "manifest entry names another id; not projected");
            None
        }
        Err(e) => {
            tracing::warn!(entity_id = %entry.entity_id, error = %e, "manifest entry body unreadable; not projected");
            None
        }
    }
}

const MANIFEST_COLS: &str = "manifest_id, device_id, site_name, dispatched_at, replicated_body, qr_body, qr_matches, first_seen_at";

fn to_row(mut r: Row) -> Result<ManifestRow> {
    Ok(ManifestRow {
        manifest_id: parse_uuid(r.str(0)?)?,
        device_id: parse_uuid(r.str(1)?)?,
        qr_matches: r.opt_int(6)?.map(|v| v != 0),
        site_name: r.text(2)?,
        dispatched_at: r.text(3)?,
        replicated_body: r.opt_text(4)?,
        qr_body: r.opt_text(5)?,
        first_seen_at: r.text(7)?,
    })
}

/// The row of one manifest; `lock` when the transaction will write it.
pub async fn load(tx: &mut dyn Tx, id: Uuid, lock: bool) -> Result<Option<ManifestRow>> {
    let sql = format!(
        "SELECT {MANIFEST_COLS} FROM manifest WHERE manifest_id = ?1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    tx.query_opt(&sql, params![id])
        .await?
        .map(to_row)
        .transpose()
}

/// The latest manifests by dispatch time, newest first.
pub async fn latest(tx: &mut dyn Tx, limit: u32) -> Result<Vec<ManifestRow>> {
    tx.query(
        &format!(
            "SELECT {MANIFEST_COLS} FROM manifest ORDER BY dispatched_at DESC, manifest_id LIMIT ?1"
        ),
        params![limit],
    )
    .await?
    .into_iter()
    .map(to_row)
    .collect()
}

async fn save(tx: &mut dyn Tx, row: &ManifestRow) -> Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO manifest ({MANIFEST_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (manifest_id) DO UPDATE SET replicated_body = excluded.replicated_body,
                 qr_body = excluded.qr_body, qr_matches = excluded.qr_matches"
        ),
        params![
            row.manifest_id,
            row.device_id,
            &row.site_name,
            &row.dispatched_at,
            row.replicated_body.as_deref(),
            row.qr_body.as_deref(),
            row.qr_matches,
            &row.first_seen_at,
        ],
    )
    .await?;
    Ok(())
}

/// Records one arrival of a manifest (pushed, or loaded from its QR at the desk) and
/// returns the row as it now stands.
pub async fn arrive(
    tx: &mut dyn Tx,
    manifest: &Manifest,
    body: &str,
    by_qr: bool,
    now: DateTime<Utc>,
) -> Result<ManifestRow> {
    let held = load(tx, manifest.id, true).await?;
    let row = merge_manifest(held, manifest, body, by_qr, now);
    save(tx, &row).await?;
    Ok(row)
}
