//! Signing the hand-off: reasons before PINs, then the receiver's and the driver's.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use lifebridge_domain::cold_chain::Signatory;
use lifebridge_domain::din::Din;
use lifebridge_domain::entities::Role;
use lifebridge_domain::handoff::{self, Reasons};
use lifebridge_domain::messages::Message;
use serde::Deserialize;
use uuid::Uuid;

use super::receipt::load;
use super::sign_in::{Who, check_pin};
use super::{Desk, DeskError, DeskResult, handoff_error, session};
use crate::staff::StaffRole;

#[derive(Deserialize)]
pub(super) struct SignRequest {
    /// The signed-in receiver's PIN, again: signing is a deliberate act.
    receiver_pin: String,
    driver_name: String,
    driver_pin: String,
    /// Reason per DIN, for every bag with a discrepancy.
    #[serde(default)]
    reasons: BTreeMap<String, String>,
    /// One decision per box code, for every box that left its range.
    #[serde(default)]
    box_reasons: BTreeMap<String, String>,
}

pub(super) async fn sign(
    State(desk): State<Arc<Desk>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: Result<axum::Json<SignRequest>, JsonRejection>,
) -> DeskResult<Response> {
    let receiver = session(&desk, &headers)?;
    let axum::Json(req) = body?;
    let mut reasons = Reasons {
        bags: BTreeMap::new(),
        boxes: req.box_reasons,
    };
    for (din, reason) in req.reasons {
        let parsed: Din = din.parse().map_err(|e: lifebridge_domain::DinError| {
            DeskError::invalid(
                "malformed_body",
                Message::new("receiving.reason_not_a_din")
                    .with("din", format!("{din:?}"))
                    .with("detail", e.to_string()),
            )
        })?;
        reasons.bags.insert(parsed, reason);
    }
    let loaded = load(&desk, id).await?;
    if loaded.receipt.signed_at.is_some() {
        return Err(DeskError::new(
            StatusCode::CONFLICT,
            "already_signed",
            Message::new("receiving.already_signed"),
        ));
    }
    let now = Utc::now();
    let rules = desk.rules().await?;
    let reconciliation = handoff::reconcile(&loaded.manifests, &loaded.receipt.scans, now, &rules);
    // Reasons are checked before PINs, so the desk learns what is missing without
    // spending PIN attempts.
    let unsigned = Signatory {
        staff_id: Uuid::nil(),
        name: String::new(),
    };
    if let Err(e) = handoff::sign(
        &loaded.manifests,
        &reconciliation,
        &reasons,
        receiver.clone(),
        unsigned,
        Uuid::nil(),
        now,
    ) {
        return Err(handoff_error(e));
    }
    let me = check_pin(
        &desk,
        from.ip(),
        &receiver.name,
        &req.receiver_pin,
        Who::Receiver,
        None,
    )
    .await?;
    if me.staff_id != receiver.staff_id {
        return Err(DeskError::new(
            StatusCode::UNAUTHORIZED,
            "wrong_pin",
            Message::new("receiving.pin_not_receivers"),
        ));
    }
    let driver = check_pin(
        &desk,
        from.ip(),
        &req.driver_name,
        &req.driver_pin,
        Who::Driver,
        Some(StaffRole::Device(Role::Driver)),
    )
    .await?;
    let record = handoff::sign(
        &loaded.manifests,
        &reconciliation,
        &reasons,
        receiver,
        Signatory {
            staff_id: driver.staff_id,
            name: driver.name,
        },
        Uuid::now_v7(),
        now,
    )
    .map_err(handoff_error)?;
    if !desk.app.storage.sign_receipt(id, &record).await? {
        return Err(DeskError::new(
            StatusCode::CONFLICT,
            "already_signed",
            Message::new("receiving.already_signed"),
        ));
    }
    tracing::info!(receipt_id = %id, handoff_id = %record.id, discrepancies = record.discrepancies.len(), "hand-off signed");
    Ok(axum::Json(record).into_response())
}
