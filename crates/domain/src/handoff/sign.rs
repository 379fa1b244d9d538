//! The hand-off record both parties sign, and the checks that must hold before it is
//! signed (every discrepancy answered, one person never both parties).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::cold_chain::{Manifest, Signatory, UnitAssessment};
use crate::din::Din;
use crate::entities::RecordId;
use crate::messages::Message;

use super::*;

/// One bag with discrepancies, as signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignedDiscrepancy {
    pub din: Din,
    pub status: BagStatus,
    pub manifest_box: Option<String>,
    pub found_box: Option<String>,
    pub discrepancies: Vec<Discrepancy>,
    pub reason: String,
}

/// What the station keeps and sends back to the vehicle once both parties signed.
/// Never edited: a correction is a new hand-off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HandoffRecord {
    pub id: RecordId,
    pub manifest_ids: Vec<RecordId>,
    /// The devices that wrote the manifests: where the record goes back to.
    pub device_ids: Vec<uuid::Uuid>,
    pub site_name: String,
    pub receiver: Signatory,
    pub driver: Signatory,
    pub signed_at: DateTime<Utc>,
    pub tally: Tally,
    /// Every received bag, so the vehicle can show which of its bags the station holds.
    pub received: Vec<Din>,
    pub discrepancies: Vec<SignedDiscrepancy>,
    /// One decision per box that left its range.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub box_decisions: Vec<BoxDecision>,
    /// Received units that are not suitable as collected, with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<SignedUnit>,
    /// Received bags with labels typed instead of scanned (before dispatch or at the
    /// desk). Omitted when every label was scanned, so older records keep their bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manual_labels: Vec<SignedManualLabels>,
}

/// The desk's decision on a box's excursion, as signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BoxDecision {
    pub excursion: BoxExcursion,
    pub reason: String,
}

/// A received unit's status at signing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignedUnit {
    pub din: Din,
    pub unit: UnitAssessment,
}

/// What the desk typed before signing: a reason per bag with a discrepancy, and one
/// decision per box with an excursion (keyed by box code).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Reasons {
    pub bags: BTreeMap<Din, String>,
    pub boxes: BTreeMap<String, String>,
}

/// Why a hand-off could not be signed. `Display` is the English text of
/// [`HandoffError::message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandoffError {
    #[error("{}", self.message())]
    ReasonMissing { din: String, what: String },
    #[error("{}", self.message())]
    ReasonWithoutDiscrepancy { din: String },
    #[error("{}", self.message())]
    BoxDecisionMissing { box_code: String, bags: usize },
    #[error("{}", self.message())]
    BoxDecisionWithoutExcursion { box_code: String },
    #[error("{}", self.message())]
    SameSignatory { name: String },
    #[error("{}", self.message())]
    NoManifest,
}

impl HandoffError {
    /// The refusal for the desk (`handoff.*`).
    pub fn message(&self) -> Message {
        match self {
            HandoffError::ReasonMissing { din, what } => Message::new("handoff.reason_missing")
                .with("din", din.as_str())
                .with("what", what.as_str()),
            HandoffError::ReasonWithoutDiscrepancy { din } => {
                Message::new("handoff.reason_without_discrepancy").with("din", din.as_str())
            }
            HandoffError::BoxDecisionMissing { box_code, bags } => {
                Message::new("handoff.box_decision_missing")
                    .with("box_code", box_code.as_str())
                    .with("bags", bags.to_string())
            }
            HandoffError::BoxDecisionWithoutExcursion { box_code } => {
                Message::new("handoff.box_decision_without_excursion")
                    .with("box_code", box_code.as_str())
            }
            HandoffError::SameSignatory { name } => {
                Message::new("handoff.same_signatory").with("name", name.as_str())
            }
            HandoffError::NoManifest => Message::new("handoff.no_manifest"),
        }
    }
}

/// Builds the record both parties sign, or names the first box still lacking a decision
/// or bag still lacking a reason. Blank text counts as missing.
pub fn sign(
    manifests: &[Manifest],
    reconciliation: &Reconciliation,
    reasons: &Reasons,
    receiver: Signatory,
    driver: Signatory,
    id: RecordId,
    signed_at: DateTime<Utc>,
) -> Result<HandoffRecord, HandoffError> {
    let Some(first) = manifests.first() else {
        return Err(HandoffError::NoManifest);
    };
    if receiver.staff_id == driver.staff_id {
        return Err(HandoffError::SameSignatory {
            name: receiver.name,
        });
    }
    let mut box_decisions = Vec::new();
    for excursion in &reconciliation.box_excursions {
        let reason = reasons
            .boxes
            .get(&excursion.box_code)
            .map(|r| r.trim())
            .unwrap_or_default();
        if reason.is_empty() {
            return Err(HandoffError::BoxDecisionMissing {
                box_code: excursion.box_code.clone(),
                bags: excursion.bags.len(),
            });
        }
        box_decisions.push(BoxDecision {
            excursion: excursion.clone(),
            reason: reason.to_owned(),
        });
    }
    for (code, reason) in &reasons.boxes {
        if !reason.trim().is_empty()
            && !reconciliation
                .box_excursions
                .iter()
                .any(|e| e.box_code == *code)
        {
            return Err(HandoffError::BoxDecisionWithoutExcursion {
                box_code: code.clone(),
            });
        }
    }
    let mut discrepancies = Vec::new();
    let mut received = Vec::new();
    let mut units = Vec::new();
    let mut manual_labels = Vec::new();
    for line in &reconciliation.lines {
        if line.status == BagStatus::Received {
            received.push(line.din.clone());
            if !line.manual_labels.is_empty() || !line.manual_at_desk.is_empty() {
                manual_labels.push(SignedManualLabels {
                    din: line.din.clone(),
                    before_dispatch: line.manual_labels.clone(),
                    at_desk: line.manual_at_desk.clone(),
                });
            }
            if !line.unit.is_suitable() {
                units.push(SignedUnit {
                    din: line.din.clone(),
                    unit: line.unit.clone(),
                });
            }
        }
        let reason = reasons
            .bags
            .get(&line.din)
            .map(|r| r.trim())
            .unwrap_or_default();
        if line.discrepancies.is_empty() {
            if !reason.is_empty() {
                return Err(HandoffError::ReasonWithoutDiscrepancy {
                    din: line.din.to_string(),
                });
            }
            continue;
        }
        if reason.is_empty() {
            return Err(HandoffError::ReasonMissing {
                din: line.din.to_string(),
                what: line
                    .discrepancies
                    .iter()
                    .map(Discrepancy::code)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        discrepancies.push(SignedDiscrepancy {
            din: line.din.clone(),
            status: line.status,
            manifest_box: line.manifest_box.clone(),
            found_box: line.found_box.clone(),
            discrepancies: line.discrepancies.clone(),
            reason: reason.to_owned(),
        });
    }
    let mut device_ids: Vec<uuid::Uuid> = manifests.iter().map(|m| m.device_id).collect();
    device_ids.sort();
    device_ids.dedup();
    Ok(HandoffRecord {
        id,
        manifest_ids: manifests.iter().map(|m| m.id).collect(),
        device_ids,
        site_name: first.site_name.clone(),
        receiver,
        driver,
        signed_at,
        tally: reconciliation.tally,
        received,
        discrepancies,
        manual_labels,
        box_decisions,
        units,
    })
}
