//! Scanning bags (and boxes) into a receipt, and typing a DIN that cannot be scanned.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use lifebridge_domain::cold_chain::Signatory;
use lifebridge_domain::handoff::{self, DeskManual, DeskScan};
use lifebridge_domain::label_piece::{LabelKind, LabelPiece};
use lifebridge_domain::labels::{LabelScanError, read_typed};
use lifebridge_domain::messages::Message;
use serde::Deserialize;
use uuid::Uuid;

use super::receipt::{Loaded, load, view};
use super::sign_in::{Who, check_pin};
use super::{Desk, DeskError, DeskResult, session};

#[derive(Deserialize)]
pub(super) struct ScanRequest {
    /// What the hand scanner typed (a bag label's DIN barcode or QR, or a typed DIN).
    text: String,
    /// The box the bag came out of, when the desk scanned the box first.
    box_code: Option<String>,
}

pub(super) async fn scan(
    State(desk): State<Arc<Desk>>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: Result<axum::Json<ScanRequest>, JsonRejection>,
) -> DeskResult<Response> {
    let staff = session(&desk, &headers)?;
    let axum::Json(req) = body?;
    let label = handoff::read_bag_scan(&req.text).map_err(|e| {
        let (code, text) = match &e {
            LabelScanError::Unreadable(_) => (
                "unreadable_scan",
                Message::new("receiving.scan_not_a_din").with("detail", e.to_string()),
            ),
            LabelScanError::Typed { .. } => ("typed_not_scanned", e.message()),
            LabelScanError::Unprefixed { .. } => ("not_a_scan", e.message()),
        };
        let mut err = DeskError::invalid(code, text);
        if let LabelScanError::Typed { din } | LabelScanError::Unprefixed { din } = &e {
            err.din = Some(din.to_string());
        }
        err
    })?;
    let loaded = load(&desk, id).await?;
    let box_code = known_box(&loaded, req.box_code)?;
    let scan = DeskScan {
        din: label.din,
        box_code,
        scanned_at: Utc::now(),
        piece: label.piece,
        manual: None,
    };
    add_scan(&desk, id, &scan, staff.staff_id).await
}

/// The box code the desk scanned first, if any, when it is on a loaded manifest.
pub(super) fn known_box(loaded: &Loaded, box_code: Option<String>) -> DeskResult<Option<String>> {
    let box_code = box_code
        .map(|b| b.trim().to_owned())
        .filter(|b| !b.is_empty());
    if let Some(code) = &box_code
        && !loaded
            .manifests
            .iter()
            .flat_map(|m| &m.boxes)
            .any(|b| b.code == *code)
    {
        return Err(DeskError::invalid(
            "unknown_box",
            Message::new("receiving.unknown_box").with("code", code.as_str()),
        ));
    }
    Ok(box_code)
}

pub(super) async fn add_scan(
    desk: &Desk,
    id: Uuid,
    scan: &DeskScan,
    staff_id: Uuid,
) -> DeskResult<Response> {
    if !desk
        .app
        .storage
        .add_desk_scan(id, Uuid::now_v7(), scan, staff_id)
        .await?
    {
        return Err(DeskError::new(
            StatusCode::CONFLICT,
            "already_signed",
            Message::new("receiving.signed_no_scan"),
        ));
    }
    let loaded = load(desk, id).await?;
    Ok(axum::Json(view(desk, &loaded).await?).into_response())
}

#[derive(Deserialize)]
pub(super) struct ManualRequest {
    /// The label piece whose DIN is typed: the bag (`{"kind":"bag","piece":1}`) or one
    /// of the sample tubes the manifest lists with it.
    piece: LabelPiece,
    /// The DIN as printed under the barcode, with its boxed check character.
    typed: String,
    reason: String,
    /// A second station account (not the signed-in receiver), e.g. the driver who
    /// hands over, and their PIN.
    witness_name: String,
    witness_pin: String,
    box_code: Option<String>,
}

/// The exception path for a label that cannot be scanned: its DIN typed with the check
/// character, a reason, and a second station account's PIN. Recorded as a desk scan
/// marked manual; shown as manual on the reconciliation and in the signed hand-off.
/// A refusal writes nothing (a wrong PIN counts towards that name's lock-out).
pub(super) async fn manual_entry(
    State(desk): State<Arc<Desk>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: Result<axum::Json<ManualRequest>, JsonRejection>,
) -> DeskResult<Response> {
    let staff = session(&desk, &headers)?;
    let axum::Json(req) = body?;
    let reason = req.reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(DeskError::invalid(
            "reason_missing",
            Message::new("receiving.manual_reason_missing"),
        ));
    }
    let typed = read_typed(&req.typed).map_err(|e| {
        DeskError::invalid(
            "typed_din",
            Message::new("receiving.typed_din").with("detail", e.to_string()),
        )
    })?;
    let loaded = load(&desk, id).await?;
    if loaded.receipt.signed_at.is_some() {
        return Err(DeskError::new(
            StatusCode::CONFLICT,
            "already_signed",
            Message::new("receiving.signed_no_manual"),
        ));
    }
    let Some(bag) = loaded
        .manifests
        .iter()
        .flat_map(|m| &m.boxes)
        .flat_map(|b| &b.bags)
        .find(|b| b.din == typed.din)
    else {
        let mut err = DeskError::invalid(
            "not_on_manifest",
            Message::new("receiving.manual_not_on_manifest").with("din", typed.din.to_string()),
        );
        err.din = Some(typed.din.to_string());
        return Err(err);
    };
    let is_bag = req.piece == LabelPiece::new(LabelKind::Bag, 1);
    if !is_bag && !bag.tubes.contains(&req.piece) {
        let mut allowed = vec![LabelPiece::new(LabelKind::Bag, 1).name()];
        allowed.extend(bag.tubes.iter().map(|t| t.name()));
        let mut err = DeskError::invalid(
            "piece_not_listed",
            Message::new("receiving.piece_not_listed")
                .with("piece", req.piece.name())
                .with("din", typed.din.to_string())
                .with("allowed", allowed),
        );
        err.din = Some(typed.din.to_string());
        return Err(err);
    }
    let box_code = known_box(&loaded, req.box_code)?;
    let witness = check_pin(
        &desk,
        from.ip(),
        &req.witness_name,
        &req.witness_pin,
        Who::SecondPerson,
        None,
    )
    .await?;
    if witness.staff_id == staff.staff_id {
        return Err(DeskError::invalid(
            "same_person",
            Message::new("receiving.same_person"),
        ));
    }
    let scan = DeskScan {
        din: typed.din,
        box_code,
        scanned_at: Utc::now(),
        piece: Some(req.piece),
        manual: Some(DeskManual {
            reason: reason.to_owned(),
            authorised_by: Signatory {
                staff_id: witness.staff_id,
                name: witness.name,
            },
        }),
    };
    tracing::info!(receipt_id = %id, din = %scan.din, piece = %req.piece, "label entered by hand at the desk");
    add_scan(&desk, id, &scan, staff.staff_id).await
}
