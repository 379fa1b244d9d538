//! One receipt as the desk page shows it: its manifests, boxes and reconciliation.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use lifebridge_domain::cold_chain::Manifest;
use lifebridge_domain::handoff::{self, Reconciliation};
use lifebridge_domain::messages::Message;
use serde::Serialize;
use uuid::Uuid;

use super::manifests::{ManifestSummary, summary};
use super::{Desk, DeskError, DeskResult, session};
use crate::desk::receipts::ReceiptRow;
use crate::manifests::ManifestRow;
use crate::storage::StorageError;

/// Everything the desk page shows for one receiving.
#[derive(Debug, Serialize)]
pub struct ReceiptView {
    pub receipt_id: Uuid,
    pub manifests: Vec<ManifestSummary>,
    /// Box codes on the loaded manifests, so the page knows a box scan from a bag scan.
    pub boxes: Vec<BoxView>,
    pub reconciliation: Reconciliation,
    /// Each line's discrepancies described (same order as the lines).
    pub descriptions: Vec<Vec<Message>>,
    /// Each line's unit status described (same order as the lines).
    pub unit_descriptions: Vec<Message>,
    /// Each box excursion described (same order as `reconciliation.box_excursions`):
    /// one decision per box.
    pub box_descriptions: Vec<Message>,
    pub signed: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
pub struct BoxView {
    pub code: String,
    /// The product class's code; the page names it from the catalogue (`product_class.*`).
    pub class: String,
    pub range: String,
    pub bags: usize,
    pub excursions: usize,
}

pub(super) struct Loaded {
    pub(super) receipt: ReceiptRow,
    pub(super) manifests: Vec<Manifest>,
    pub(super) rows: Vec<ManifestRow>,
}

pub(super) async fn load(desk: &Desk, id: Uuid) -> DeskResult<Loaded> {
    let Some(receipt) = desk.app.storage.receipt(id).await? else {
        return Err(DeskError::new(
            StatusCode::NOT_FOUND,
            "unknown_receipt",
            Message::new("receiving.unknown_receipt").with("id", id.to_string()),
        ));
    };
    let mut manifests = Vec::new();
    let mut rows = Vec::new();
    for mid in &receipt.manifest_ids {
        let row =
            desk.app.storage.manifest_row(*mid).await?.ok_or_else(|| {
                StorageError::Corrupt(format!("receipt {id} names manifest {mid}"))
            })?;
        manifests.push(row.manifest()?);
        rows.push(row);
    }
    Ok(Loaded {
        receipt,
        manifests,
        rows,
    })
}

pub(super) async fn view(desk: &Desk, loaded: &Loaded) -> DeskResult<ReceiptView> {
    let rules = desk.rules().await?;
    let reconciliation =
        handoff::reconcile(&loaded.manifests, &loaded.receipt.scans, Utc::now(), &rules);
    let descriptions = reconciliation
        .lines
        .iter()
        .map(|l| l.discrepancies.iter().map(|d| d.message()).collect())
        .collect();
    let unit_descriptions = reconciliation
        .lines
        .iter()
        .map(|l| l.unit.message())
        .collect();
    let box_descriptions = reconciliation
        .box_excursions
        .iter()
        .map(|b| b.message())
        .collect();
    let signed = match desk
        .app
        .storage
        .handoff_of(loaded.receipt.receipt_id)
        .await?
    {
        Some(body) => Some(serde_json::from_str(&body).map_err(StorageError::from)?),
        None => None,
    };
    Ok(ReceiptView {
        receipt_id: loaded.receipt.receipt_id,
        manifests: loaded.rows.iter().map(summary).collect::<DeskResult<_>>()?,
        boxes: loaded
            .manifests
            .iter()
            .flat_map(|m| &m.boxes)
            .map(|b| BoxView {
                code: b.code.clone(),
                class: b.class.as_str().to_owned(),
                range: b.range.to_string(),
                bags: b.bags.len(),
                excursions: b.excursions.len(),
            })
            .collect(),
        reconciliation,
        descriptions,
        unit_descriptions,
        box_descriptions,
        signed,
    })
}

pub(super) async fn receipt(
    State(desk): State<Arc<Desk>>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> DeskResult<Response> {
    session(&desk, &headers)?;
    let loaded = load(&desk, id).await?;
    Ok(axum::Json(view(&desk, &loaded).await?).into_response())
}
