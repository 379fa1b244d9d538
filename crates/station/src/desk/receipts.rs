//! What the receiving desk stores: receipts, their scans in scan order, and the signed
//! hand-off, which goes back to each manifest's device as a feed record. The pages and
//! the reconciliation are `desk::api`.

use chrono::{DateTime, Utc};
use lifebridge_domain::handoff::{DeskManual, DeskScan, HandoffRecord};
use lifebridge_domain::label_piece::LabelPiece;
use lifebridge_protocol::records::RemoteKind;
use uuid::Uuid;

use crate::feed::{self, FeedItem};
use crate::params;
use crate::storage::sql::Tx;
use crate::storage::{Result, StorageError, parse_time, parse_uuid};

/// One receiving at the desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRow {
    pub receipt_id: Uuid,
    pub manifest_ids: Vec<Uuid>,
    pub opened_by: Uuid,
    pub opened_at: DateTime<Utc>,
    pub signed_at: Option<String>,
    pub scans: Vec<DeskScan>,
}

/// The feed items that send a signed hand-off to each device whose manifest it covers.
pub fn handoff_items(station_id: Uuid, record: &HandoffRecord) -> Result<Vec<FeedItem>> {
    let body = serde_json::to_string(record)?;
    Ok(record
        .device_ids
        .iter()
        .map(|device| {
            feed::station_item(
                station_id,
                RemoteKind::Handoff,
                record.id,
                Some(*device),
                body.clone(),
                record.signed_at,
            )
        })
        .collect())
}

/// A desk scan's label piece as stored (`desk_scan.piece`: the piece's JSON, or NULL).
pub fn piece_text(scan: &DeskScan) -> Result<Option<String>> {
    Ok(scan.piece.map(|p| serde_json::to_string(&p)).transpose()?)
}

/// A desk scan's manual entry as stored (`desk_scan.manual`: its JSON, or NULL for a scan).
pub fn manual_text(scan: &DeskScan) -> Result<Option<String>> {
    Ok(scan
        .manual
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?)
}

/// Reads `desk_scan.manual` back.
pub fn parse_manual(text: Option<&str>) -> Result<Option<DeskManual>> {
    text.map(|t| {
        serde_json::from_str(t)
            .map_err(|e| StorageError::Corrupt(format!("desk scan manual entry {t:?}: {e}")))
    })
    .transpose()
}

/// Reads `desk_scan.piece` back.
pub fn parse_piece(text: Option<&str>) -> Result<Option<LabelPiece>> {
    text.map(|t| {
        serde_json::from_str(t)
            .map_err(|e| StorageError::Corrupt(format!("desk scan piece {t:?}: {e}")))
    })
    .transpose()
}

pub async fn open_receipt(tx: &mut dyn Tx, receipt: &ReceiptRow) -> Result<()> {
    tx.execute(
        "INSERT INTO receipt (receipt_id, manifest_ids, opened_by, opened_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            receipt.receipt_id,
            serde_json::to_string(&receipt.manifest_ids)?,
            receipt.opened_by,
            receipt.opened_at.to_rfc3339(),
        ],
    )
    .await?;
    Ok(())
}

/// The receipt with its scans in scan order.
pub async fn receipt(tx: &mut dyn Tx, receipt_id: Uuid) -> Result<Option<ReceiptRow>> {
    let Some(mut row) = tx
        .query_opt(
            "SELECT manifest_ids, opened_by, opened_at, signed_at FROM receipt WHERE receipt_id = ?1",
            params![receipt_id],
        )
        .await?
    else {
        return Ok(None);
    };
    let scans = tx
        .query(
            "SELECT din, box_code, scanned_at, piece, manual FROM desk_scan WHERE receipt_id = ?1
             ORDER BY scanned_at, scan_id",
            params![receipt_id],
        )
        .await?
        .into_iter()
        .map(|mut r| {
            let din = r.str(0)?;
            Ok(DeskScan {
                din: din
                    .parse()
                    .map_err(|e| StorageError::Corrupt(format!("desk scan DIN {din:?}: {e}")))?,
                scanned_at: parse_time(r.str(2)?)?,
                piece: parse_piece(r.opt_str(3)?)?,
                manual: parse_manual(r.opt_str(4)?)?,
                box_code: r.opt_text(1)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(ReceiptRow {
        receipt_id,
        manifest_ids: serde_json::from_str(row.str(0)?)?,
        opened_by: parse_uuid(row.str(1)?)?,
        opened_at: parse_time(row.str(2)?)?,
        signed_at: row.opt_text(3)?,
        scans,
    }))
}

/// `false` when the receipt is unknown or already signed (nothing is written).
pub async fn add_scan(
    tx: &mut dyn Tx,
    receipt_id: Uuid,
    scan_id: Uuid,
    scan: &DeskScan,
    scanned_by: Uuid,
) -> Result<bool> {
    let open = tx
        .query_opt(
            "SELECT signed_at FROM receipt WHERE receipt_id = ?1 FOR UPDATE",
            params![receipt_id],
        )
        .await?;
    let open = match open {
        Some(r) => r.opt_str(0)?.is_none(),
        None => false,
    };
    if !open {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO desk_scan (receipt_id, scan_id, din, box_code, scanned_at, scanned_by, piece, manual)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            receipt_id,
            scan_id,
            scan.din.as_str(),
            scan.box_code.as_deref(),
            scan.scanned_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            scanned_by,
            piece_text(scan)?,
            manual_text(scan)?,
        ],
    )
    .await?;
    Ok(true)
}

/// Stores the signed hand-off and sends it to each manifest's device; `false` when the
/// receipt was signed already (nothing is written).
pub async fn sign(tx: &mut dyn Tx, receipt_id: Uuid, record: &HandoffRecord) -> Result<bool> {
    let signed_at = record.signed_at.to_rfc3339();
    let n = tx
        .execute(
            "UPDATE receipt SET signed_at = ?2 WHERE receipt_id = ?1 AND signed_at IS NULL",
            params![receipt_id, &signed_at],
        )
        .await?;
    if n == 0 {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO handoff (handoff_id, receipt_id, signed_at, body) VALUES (?1, ?2, ?3, ?4)",
        params![
            record.id,
            receipt_id,
            &signed_at,
            serde_json::to_string(record)?
        ],
    )
    .await?;
    let station = feed::station_id(tx).await?;
    feed::append(tx, &handoff_items(station, record)?).await?;
    Ok(true)
}

/// The signed hand-off of a receipt, as stored.
pub async fn handoff_of(tx: &mut dyn Tx, receipt_id: Uuid) -> Result<Option<String>> {
    tx.query_opt(
        "SELECT body FROM handoff WHERE receipt_id = ?1",
        params![receipt_id],
    )
    .await?
    .map(|mut r| r.text(0))
    .transpose()
}
