//! The manifests the desk can receive: listed, loaded from the driver's QR, opened as a receipt.

use std::sync::Arc;

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use lifebridge_domain::handoff::HandoffError;
use lifebridge_domain::messages::Message;
use lifebridge_protocol::manifest_code::{self, ManifestCodeError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::{Desk, DeskError, DeskResult, session};
use crate::desk::receipts::ReceiptRow;
use crate::manifests::ManifestRow;

/// A manifest as the desk lists it.
#[derive(Debug, Serialize)]
pub struct ManifestSummary {
    pub manifest_id: Uuid,
    pub device_id: Uuid,
    pub site_name: String,
    pub vehicle: Option<String>,
    pub driver: String,
    pub dispatched_at: String,
    pub boxes: usize,
    pub bags: usize,
    pub replicated: bool,
    pub by_qr: bool,
    /// Whether the QR copy and the replicated copy are the same manifest, once both are in.
    pub qr_matches: Option<bool>,
}

pub(super) fn summary(row: &ManifestRow) -> DeskResult<ManifestSummary> {
    let m = row.manifest()?;
    Ok(ManifestSummary {
        manifest_id: row.manifest_id,
        device_id: row.device_id,
        site_name: row.site_name.clone(),
        vehicle: m.vehicle.clone(),
        driver: m.driver.name.clone(),
        dispatched_at: row.dispatched_at.clone(),
        boxes: m.boxes.len(),
        bags: m.boxes.iter().map(|b| b.bags.len()).sum(),
        replicated: row.replicated_body.is_some(),
        by_qr: row.qr_body.is_some(),
        qr_matches: row.qr_matches,
    })
}

pub(super) async fn manifests(
    State(desk): State<Arc<Desk>>,
    headers: HeaderMap,
) -> DeskResult<Response> {
    session(&desk, &headers)?;
    let rows = desk.app.storage.manifest_rows(50).await?;
    let list = rows.iter().map(summary).collect::<DeskResult<Vec<_>>>()?;
    Ok(axum::Json(list).into_response())
}

#[derive(Deserialize)]
pub(super) struct QrRequest {
    /// The scanned QR part(s), in any order.
    parts: Vec<String>,
}

pub(super) async fn load_qr(
    State(desk): State<Arc<Desk>>,
    headers: HeaderMap,
    body: Result<axum::Json<QrRequest>, JsonRejection>,
) -> DeskResult<Response> {
    session(&desk, &headers)?;
    let axum::Json(req) = body?;
    let manifest = manifest_code::decode(&req.parts).map_err(|e| {
        let mut err = DeskError::invalid("manifest_qr", e.message());
        if let ManifestCodeError::MissingParts { missing, .. } = e {
            err.error = "manifest_qr_incomplete";
            err.missing_parts = Some(missing);
        }
        err
    })?;
    let row = desk
        .app
        .storage
        .put_manifest_qr(&manifest, Utc::now())
        .await?;
    tracing::info!(manifest_id = %row.manifest_id, qr_matches = ?row.qr_matches, "manifest loaded from QR");
    Ok(axum::Json(summary(&row)?).into_response())
}

#[derive(Deserialize)]
pub(super) struct OpenRequest {
    manifest_ids: Vec<Uuid>,
}

pub(super) async fn open_receipt(
    State(desk): State<Arc<Desk>>,
    headers: HeaderMap,
    body: Result<axum::Json<OpenRequest>, JsonRejection>,
) -> DeskResult<Response> {
    let staff = session(&desk, &headers)?;
    let axum::Json(req) = body?;
    if req.manifest_ids.is_empty() {
        return Err(DeskError::invalid(
            "no_manifest",
            HandoffError::NoManifest.message(),
        ));
    }
    for id in &req.manifest_ids {
        if desk.app.storage.manifest_row(*id).await?.is_none() {
            return Err(DeskError::new(
                StatusCode::NOT_FOUND,
                "unknown_manifest",
                Message::new("receiving.unknown_manifest").with("id", id.to_string()),
            ));
        }
    }
    let receipt = ReceiptRow {
        receipt_id: Uuid::now_v7(),
        manifest_ids: req.manifest_ids,
        opened_by: staff.staff_id,
        opened_at: Utc::now(),
        signed_at: None,
        scans: vec![],
    };
    desk.app.storage.open_receipt(&receipt).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"receipt_id": receipt.receipt_id})),
    )
        .into_response())
}
