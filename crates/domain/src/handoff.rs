//! The hand-off at the station's receiving desk: the driver's manifest(s) against the
//! bags the receiving staff scan, one line per bag, and the record both parties sign.
//!
//! Pure: the desk's scans, the time and the rules are arguments. Whatever the desk
//! shows and whatever is signed comes from [`reconcile`], so the screen and the record
//! cannot disagree.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::cold_chain::{
    Manifest, ProductClass, Signatory, TemperatureRange, UnitAssessment, UnitFinding, UnitStatus,
    excursion_finding, is_sample_tube, time_findings,
};
use crate::din::Din;
use crate::entities::RecordId;
use crate::labels::{LabelPiece, LabelScanError, ScannedLabel, read_label_scan};
use crate::messages::Message;
use crate::rules::RuleSet;

/// One label scanned at the desk: a bag, or one of its sample tubes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskScan {
    pub din: Din,
    /// The code of the box the bag was taken out of, when the desk scanned the box first.
    pub box_code: Option<String>,
    pub scanned_at: DateTime<Utc>,
    /// The piece the label's flags name (a container, a sample tube); `None` when the
    /// scan named none, which counts as the bag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub piece: Option<LabelPiece>,
    /// Set when the piece's DIN was typed at the desk (with its check character) instead
    /// of scanned: the exception path, with the reason and the second station account
    /// whose PIN confirmed it. Absent on scans, so records written before it read as
    /// before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<DeskManual>,
}

/// Why a label was typed at the desk instead of scanned, and who confirmed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskManual {
    pub reason: String,
    /// A second station account (not the signed-in receiver) who typed their PIN.
    pub authorised_by: Signatory,
}

/// One label of a bag verified at the desk by manual entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeskManualPiece {
    pub piece: LabelPiece,
    pub reason: String,
    pub authorised_by: Signatory,
}

/// A received bag some of whose labels were typed rather than scanned, as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignedManualLabels {
    pub din: Din,
    /// Typed before dispatch (at the chair or at packing), from the manifest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub before_dispatch: Vec<LabelPiece>,
    /// Typed at this desk.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub at_desk: Vec<DeskManualPiece>,
}

impl DeskScan {
    /// Whether this scan stands for the bag itself (not a tube or the record sheet).
    fn is_bag(&self) -> bool {
        self.piece.is_none_or(|p| {
            matches!(
                p.kind,
                crate::entities::LabelKind::Bag | crate::entities::LabelKind::Satellite
            )
        })
    }
}

/// Reads a hand-scanner's text (a bag or tube label's DIN barcode or QR, or a typed
/// DIN): the DIN and the piece its flags name.
pub fn read_bag_scan(raw: &str) -> Result<ScannedLabel, LabelScanError> {
    read_label_scan(raw)
}

/// Where a bag stands at the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum BagStatus {
    /// On a manifest and scanned.
    Received,
    /// On a manifest, not scanned (yet).
    Missing,
    /// Scanned, on no manifest loaded at the desk.
    Extra,
}

/// Something the receiving staff must explain before signing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Discrepancy {
    Missing,
    Extra,
    /// Found in another box than the manifest lists.
    WrongBox {
        expected: String,
        found: String,
    },
    /// The bag's box left its temperature range in transit. Hand-offs signed before
    /// the box decision carry it per bag; [`reconcile`] now reports it once per box
    /// ([`BoxExcursion`]) and as the unit's status.
    Excursion {
        box_code: String,
        extreme_c: f64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    /// Collected longer ago than its product class may wait for processing.
    OverTimeLimit {
        class: ProductClass,
        limit_hours: u32,
        elapsed_minutes: i64,
    },
    /// Received without sample tubes the manifest lists with it.
    TubesMissing {
        pieces: Vec<LabelPiece>,
    },
}

impl Discrepancy {
    pub fn code(&self) -> &'static str {
        match self {
            Discrepancy::Missing => "missing",
            Discrepancy::Extra => "extra",
            Discrepancy::WrongBox { .. } => "wrong_box",
            Discrepancy::Excursion { .. } => "excursion",
            Discrepancy::OverTimeLimit { .. } => "over_time_limit",
            Discrepancy::TubesMissing { .. } => "tubes_missing",
        }
    }

    /// What the desk shows (`handoff.discrepancy.*`).
    pub fn message(&self) -> Message {
        match self {
            Discrepancy::Missing => Message::new("handoff.discrepancy.missing"),
            Discrepancy::Extra => Message::new("handoff.discrepancy.extra"),
            Discrepancy::WrongBox { expected, found } => {
                Message::new("handoff.discrepancy.wrong_box")
                    .with("expected", expected.as_str())
                    .with("found", found.as_str())
            }
            Discrepancy::Excursion {
                box_code,
                extreme_c,
                ..
            } => Message::new("handoff.discrepancy.excursion")
                .with("box_code", box_code.as_str())
                .with("extreme_c", extreme_c.to_string()),
            Discrepancy::OverTimeLimit {
                limit_hours,
                elapsed_minutes,
                ..
            } => Message::new("handoff.discrepancy.over_time_limit")
                .with("hours", (elapsed_minutes / 60).to_string())
                .with("minutes", (elapsed_minutes % 60).to_string())
                .with("minutes_padded", format!("{:02}", elapsed_minutes % 60))
                .with("limit_hours", limit_hours.to_string()),
            Discrepancy::TubesMissing { pieces } => {
                Message::new("handoff.discrepancy.tubes_missing").with(
                    "pieces",
                    pieces.iter().map(|p| p.name()).collect::<Vec<_>>(),
                )
            }
        }
    }
}

/// One bag's line at the desk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BagLine {
    pub din: Din,
    pub status: BagStatus,
    /// The manifest that lists it, if any.
    pub manifest_id: Option<RecordId>,
    /// The box the manifest lists it in.
    pub manifest_box: Option<String>,
    pub class: Option<ProductClass>,
    /// The box the desk found it in, when scanned with one.
    pub found_box: Option<String>,
    pub collected_at: Option<DateTime<Utc>>,
    pub scanned_at: Option<DateTime<Utc>>,
    pub discrepancies: Vec<Discrepancy>,
    /// The sample tubes the manifest lists with the bag, and those scanned at the desk.
    pub tubes: Vec<LabelPiece>,
    pub tubes_received: Vec<LabelPiece>,
    /// What the unit may still become: the bus's findings (slow draw, exclusions) with
    /// the box's excursion, the time limits at the desk and missing tubes.
    pub unit: UnitAssessment,
    /// Labels typed instead of scanned before dispatch (the manifest's `manual_labels`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manual_labels: Vec<LabelPiece>,
    /// Labels typed instead of scanned at this desk, each with its reason and witness.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manual_at_desk: Vec<DeskManualPiece>,
}

/// A box that left its range in transit: one decision at the desk for all its bags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BoxExcursion {
    pub box_code: String,
    pub class: ProductClass,
    pub range: TemperatureRange,
    pub extreme_c: f64,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The box's bags received at the desk (they are quarantined), in DIN order.
    pub bags: Vec<Din>,
}

impl BoxExcursion {
    /// What the desk shows for the box (`handoff.box_excursion`).
    pub fn message(&self) -> Message {
        Message::new("handoff.box_excursion")
            .with("box_code", self.box_code.as_str())
            .with("range", self.range.to_string())
            .with("extreme_c", self.extreme_c.to_string())
            .with("bags", self.bags.len().to_string())
    }
}

/// Counts the desk shows at the top, one per kind of line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Tally {
    pub expected: u32,
    pub received: u32,
    pub missing: u32,
    pub extra: u32,
    pub wrong_box: u32,
    /// Received bags whose box left its range.
    pub excursion: u32,
    pub over_time_limit: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tubes_missing: u32,
    /// Received units by status.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub downgraded: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub quarantined: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The desk's whole picture: lines in manifest order (box, then DIN), extras last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reconciliation {
    pub lines: Vec<BagLine>,
    /// Boxes with an excursion and at least one received bag, in manifest order: each
    /// needs one decision.
    pub box_excursions: Vec<BoxExcursion>,
    pub tally: Tally,
}

/// Lines up the manifests against the desk's scans at `now`.
///
/// A DIN scanned more than once counts once; the latest scan of the bag (a container
/// label, or a scan naming no piece) decides the box it was found in (a rescan corrects
/// a slip). Tube scans count towards the bag's tubes, not as the bag. The time limit
/// runs from the bag's end of collection to `now` (the desk is where processing starts),
/// by its box's class. A box's excursion is one decision for the box, not a reason per
/// bag; its bags are quarantined.
pub fn reconcile(
    manifests: &[Manifest],
    scans: &[DeskScan],
    now: DateTime<Utc>,
    rules: &RuleSet,
) -> Reconciliation {
    let mut latest: BTreeMap<&Din, &DeskScan> = BTreeMap::new();
    let mut tubes_scanned: BTreeMap<&Din, BTreeSet<LabelPiece>> = BTreeMap::new();
    let mut any_scan: BTreeMap<&Din, &DeskScan> = BTreeMap::new();
    let mut manual_at_desk: BTreeMap<&Din, Vec<DeskManualPiece>> = BTreeMap::new();
    for scan in scans {
        if let (Some(manual), Some(piece)) = (&scan.manual, scan.piece) {
            let list = manual_at_desk.entry(&scan.din).or_default();
            if !list.iter().any(|m| m.piece == piece) {
                list.push(DeskManualPiece {
                    piece,
                    reason: manual.reason.clone(),
                    authorised_by: manual.authorised_by.clone(),
                });
                list.sort_by_key(|m| m.piece);
            }
        }
        match any_scan.get(&scan.din) {
            Some(prev) if prev.scanned_at > scan.scanned_at => {}
            _ => {
                any_scan.insert(&scan.din, scan);
            }
        }
        if !scan.is_bag() {
            if let Some(piece) = scan.piece.filter(|p| is_sample_tube(*p)) {
                tubes_scanned.entry(&scan.din).or_default().insert(piece);
            }
            continue;
        }
        match latest.get(&scan.din) {
            Some(prev) if prev.scanned_at > scan.scanned_at => {}
            _ => {
                latest.insert(&scan.din, scan);
            }
        }
    }
    let mut lines = Vec::new();
    let mut box_excursions = Vec::new();
    let mut listed: BTreeMap<&Din, ()> = BTreeMap::new();
    for manifest in manifests {
        for bx in &manifest.boxes {
            let excursion = excursion_finding(bx);
            let mut received_in_box = Vec::new();
            for bag in &bx.bags {
                if listed.insert(&bag.din, ()).is_some() {
                    // The same bag on two manifests: the first listing stands.
                    continue;
                }
                let scan = latest.get(&bag.din);
                let got_tubes: Vec<LabelPiece> = tubes_scanned
                    .get(&bag.din)
                    .map(|t| t.iter().copied().collect())
                    .unwrap_or_default();
                let mut discrepancies = Vec::new();
                // What the bus knew about the collection travels with the bag; the rest
                // is judged here and now.
                let mut findings: Vec<UnitFinding> = bag
                    .unit
                    .findings
                    .iter()
                    .filter(|f| {
                        matches!(
                            f,
                            UnitFinding::SlowDraw { .. } | UnitFinding::Excluded { .. }
                        )
                    })
                    .cloned()
                    .collect();
                let status = if scan.is_some() {
                    BagStatus::Received
                } else {
                    discrepancies.push(Discrepancy::Missing);
                    BagStatus::Missing
                };
                if let Some(scan) = scan {
                    received_in_box.push(bag.din.clone());
                    if let Some(found) = &scan.box_code
                        && *found != bx.code
                    {
                        discrepancies.push(Discrepancy::WrongBox {
                            expected: bx.code.clone(),
                            found: found.clone(),
                        });
                    }
                    if let Some(e) = &excursion {
                        findings.push(e.clone());
                    }
                    let timed = time_findings(bx.class, bag.collected_at, now, rules);
                    for f in &timed {
                        if let UnitFinding::OverTimeLimit {
                            class,
                            limit_hours,
                            elapsed_minutes,
                            ..
                        } = f
                        {
                            discrepancies.push(Discrepancy::OverTimeLimit {
                                class: *class,
                                limit_hours: *limit_hours,
                                elapsed_minutes: *elapsed_minutes,
                            });
                        }
                    }
                    findings.extend(timed);
                    let missing_tubes: Vec<LabelPiece> = bag
                        .tubes
                        .iter()
                        .filter(|t| !got_tubes.contains(t))
                        .copied()
                        .collect();
                    if !missing_tubes.is_empty() {
                        discrepancies.push(Discrepancy::TubesMissing {
                            pieces: missing_tubes.clone(),
                        });
                        findings.push(UnitFinding::TubesMissing {
                            pieces: missing_tubes,
                        });
                    }
                }
                lines.push(BagLine {
                    din: bag.din.clone(),
                    status,
                    manifest_id: Some(manifest.id),
                    manifest_box: Some(bx.code.clone()),
                    class: Some(bx.class),
                    found_box: scan.and_then(|s| s.box_code.clone()),
                    collected_at: Some(bag.collected_at),
                    scanned_at: scan.map(|s| s.scanned_at),
                    discrepancies,
                    tubes: bag.tubes.clone(),
                    tubes_received: got_tubes,
                    unit: UnitAssessment::new(findings),
                    manual_labels: bag.manual_labels.clone(),
                    manual_at_desk: manual_at_desk.get(&bag.din).cloned().unwrap_or_default(),
                });
            }
            if let (Some(UnitFinding::Excursion { extreme_c, .. }), false) =
                (&excursion, received_in_box.is_empty())
            {
                received_in_box.sort();
                box_excursions.push(BoxExcursion {
                    box_code: bx.code.clone(),
                    class: bx.class,
                    range: bx.range,
                    extreme_c: *extreme_c,
                    from: bx.excursions.iter().map(|e| e.from).min().unwrap_or(now),
                    to: bx.excursions.iter().map(|e| e.to).max().unwrap_or(now),
                    bags: received_in_box,
                });
            }
        }
    }
    let mut extras: Vec<&DeskScan> = any_scan
        .values()
        .filter(|s| !listed.contains_key(&s.din))
        .map(|s| latest.get(&s.din).copied().unwrap_or(s))
        .collect();
    extras.sort_by(|a, b| a.scanned_at.cmp(&b.scanned_at).then(a.din.cmp(&b.din)));
    for scan in extras {
        lines.push(BagLine {
            din: scan.din.clone(),
            status: BagStatus::Extra,
            manifest_id: None,
            manifest_box: None,
            class: None,
            found_box: scan.box_code.clone(),
            collected_at: None,
            scanned_at: Some(scan.scanned_at),
            discrepancies: vec![Discrepancy::Extra],
            tubes: Vec::new(),
            tubes_received: tubes_scanned
                .get(&scan.din)
                .map(|t| t.iter().copied().collect())
                .unwrap_or_default(),
            unit: UnitAssessment::default(),
            manual_labels: Vec::new(),
            manual_at_desk: manual_at_desk.get(&scan.din).cloned().unwrap_or_default(),
        });
    }
    let mut tally = Tally::default();
    for line in &lines {
        match line.status {
            BagStatus::Received => {
                tally.expected += 1;
                tally.received += 1;
                match line.unit.status {
                    UnitStatus::Suitable => {}
                    UnitStatus::Downgraded => tally.downgraded += 1,
                    UnitStatus::Quarantined => tally.quarantined += 1,
                }
                if line
                    .unit
                    .findings
                    .iter()
                    .any(|f| matches!(f, UnitFinding::Excursion { .. }))
                {
                    tally.excursion += 1;
                }
            }
            BagStatus::Missing => {
                tally.expected += 1;
                tally.missing += 1;
            }
            BagStatus::Extra => tally.extra += 1,
        }
        for d in &line.discrepancies {
            match d {
                Discrepancy::WrongBox { .. } => tally.wrong_box += 1,
                Discrepancy::Excursion { .. } => tally.excursion += 1,
                Discrepancy::OverTimeLimit { .. } => tally.over_time_limit += 1,
                Discrepancy::TubesMissing { .. } => tally.tubes_missing += 1,
                Discrepancy::Missing | Discrepancy::Extra => {}
            }
        }
    }
    Reconciliation {
        lines,
        box_excursions,
        tally,
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cold_chain::{Excursion, ManifestBag, ManifestBox, TemperatureRange};
    use crate::common::Procedure;
    use crate::din::FacilityId;
    use crate::entities::LabelKind;
    use crate::messages::Lang;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, 1, 0, 0).unwrap()
    }

    fn din(n: u32) -> Din {
        let f: FacilityId = "A9999".parse().unwrap();
        Din::new(&f, 26, n).unwrap()
    }

    fn uid(n: u128) -> RecordId {
        uuid::Uuid::from_u128(n)
    }

    fn tube(n: u8) -> LabelPiece {
        LabelPiece::new(LabelKind::Tube, n)
    }

    fn bx(code: &str, class: ProductClass, bags: &[u32], hot: bool) -> ManifestBox {
        let range = match class {
            ProductClass::RedCellWholeBlood => TemperatureRange {
                min_c: 2.0,
                max_c: 10.0,
            },
            _ => TemperatureRange {
                min_c: 20.0,
                max_c: 24.0,
            },
        };
        ManifestBox {
            box_id: uid(u128::from(bags[0]) + 10_000),
            code: code.into(),
            class,
            range,
            bags: bags
                .iter()
                .map(|&n| ManifestBag {
                    din: din(n),
                    donation_id: uid(u128::from(n)),
                    procedure: Procedure::WholeBlood,
                    collected_volume_ml: Some(400),
                    abo_rh: None,
                    collected_at: t0(),
                    tubes: Vec::new(),
                    unit: UnitAssessment::default(),
                    manual_labels: Vec::new(),
                })
                .collect(),
            first_collection_at: Some(t0()),
            readings: vec![],
            excursions: if hot {
                vec![Excursion {
                    from: t0() + Duration::hours(1),
                    to: t0() + Duration::hours(2),
                    extreme_c: 12.5,
                    readings: 3,
                }]
            } else {
                vec![]
            },
        }
    }

    fn manifest_of(boxes: Vec<ManifestBox>) -> Manifest {
        Manifest {
            id: uid(1),
            drive_id: uid(2),
            device_id: uid(3),
            site_name: "人民广场".into(),
            vehicle: None,
            drive_date: t0().date_naive(),
            driver: Signatory {
                staff_id: uid(4),
                name: "李司机".into(),
            },
            dispatched_at: t0() + Duration::hours(3),
            boxes,
            rules_version: "x".into(),
        }
    }

    fn manifest() -> Manifest {
        manifest_of(vec![
            bx("BOX-1", ProductClass::RedCellWholeBlood, &[1, 2, 3], true),
            bx("BOX-2", ProductClass::PlateletWholeBlood, &[4, 5], false),
        ])
    }

    fn scan(n: u32, box_code: &str, minute: i64) -> DeskScan {
        DeskScan {
            din: din(n),
            box_code: Some(box_code.into()),
            scanned_at: t0() + Duration::hours(4) + Duration::minutes(minute),
            piece: None,
            manual: None,
        }
    }

    fn tube_scan(n: u32, piece: LabelPiece, minute: i64) -> DeskScan {
        DeskScan {
            piece: Some(piece),
            ..scan(n, "BOX-1", minute)
        }
    }

    fn rules() -> RuleSet {
        RuleSet::gb18467_2011()
    }

    fn people() -> (Signatory, Signatory) {
        (
            Signatory {
                staff_id: uid(50),
                name: "赵敏".into(),
            },
            manifest().driver,
        )
    }

    #[test]
    fn every_kind_of_line() {
        let m = manifest();
        let scans = vec![
            scan(1, "BOX-1", 0),
            scan(2, "BOX-2", 1), // wrong box
            scan(4, "BOX-2", 2),
            scan(5, "BOX-2", 3),
            scan(9, "BOX-2", 4), // extra
            scan(4, "BOX-2", 5), // duplicate
        ];
        // 9 h after collection: over the 8 h platelet limit, inside 24 h for red cells.
        let r = reconcile(&[m], &scans, t0() + Duration::hours(9), &rules());
        assert_eq!(
            r.tally,
            Tally {
                expected: 5,
                received: 4,
                missing: 1,
                extra: 1,
                wrong_box: 1,
                excursion: 2,
                over_time_limit: 2,
                tubes_missing: 0,
                // The platelet bags lose their platelets (and their plasma is past FFP);
                // the red-cell bags of the hot box are held.
                downgraded: 2,
                quarantined: 2,
            }
        );
        let line = |n| r.lines.iter().find(|l| l.din == din(n)).unwrap();
        assert_eq!(line(3).status, BagStatus::Missing);
        assert_eq!(line(3).discrepancies, vec![Discrepancy::Missing]);
        assert_eq!(line(9).status, BagStatus::Extra);
        assert_eq!(r.lines.last().unwrap().din, din(9));
        assert!(matches!(
            line(2).discrepancies[0],
            Discrepancy::WrongBox { ref expected, ref found } if expected == "BOX-1" && found == "BOX-2"
        ));
        // The excursion is the box's, decided once; the bag carries it as its status.
        assert!(line(1).discrepancies.is_empty());
        assert_eq!(line(1).unit.status, UnitStatus::Quarantined);
        assert!(matches!(
            line(1).unit.findings[..],
            [UnitFinding::Excursion { extreme_c, .. }, ..] if extreme_c == 12.5
        ));
        assert_eq!(r.box_excursions.len(), 1);
        assert_eq!(r.box_excursions[0].box_code, "BOX-1");
        assert_eq!(r.box_excursions[0].bags, vec![din(1), din(2)]);
        assert!(matches!(
            line(4).discrepancies[..],
            [Discrepancy::OverTimeLimit {
                limit_hours: 8,
                elapsed_minutes: 540,
                ..
            }]
        ));
        assert_eq!(line(4).unit.status, UnitStatus::Downgraded);
        assert!(
            line(4).unit.describe().contains("no platelets"),
            "{}",
            line(4).unit.describe()
        );
    }

    #[test]
    fn time_limit_boundary_is_inclusive() {
        let m = manifest();
        let at = |minutes| {
            reconcile(
                std::slice::from_ref(&m),
                &[scan(4, "BOX-2", 0)],
                t0() + Duration::minutes(minutes),
                &rules(),
            )
        };
        let exactly = at(8 * 60);
        assert_eq!(exactly.tally.over_time_limit, 0);
        assert_eq!(exactly.lines[3].unit.status, UnitStatus::Suitable);
        let over = at(8 * 60 + 1);
        assert_eq!(over.tally.over_time_limit, 1);
        assert_eq!(over.lines[3].unit.status, UnitStatus::Downgraded);
    }

    #[test]
    fn a_hot_box_is_one_decision_not_one_reason_per_bag() {
        let bags: Vec<u32> = (1..=19).collect();
        let m = manifest_of(vec![bx(
            "BOX-1",
            ProductClass::RedCellWholeBlood,
            &bags,
            true,
        )]);
        let scans: Vec<DeskScan> = bags.iter().map(|&n| scan(n, "BOX-1", 0)).collect();
        let r = reconcile(
            std::slice::from_ref(&m),
            &scans,
            t0() + Duration::hours(5),
            &rules(),
        );
        assert_eq!(r.box_excursions.len(), 1);
        assert_eq!(r.box_excursions[0].bags.len(), 19);
        assert!(r.lines.iter().all(|l| l.discrepancies.is_empty()));
        assert_eq!(r.tally.quarantined, 19);
        let (receiver, driver) = people();
        let mut reasons = Reasons::default();
        let err = sign(
            std::slice::from_ref(&m),
            &r,
            &reasons,
            receiver.clone(),
            driver.clone(),
            uid(99),
            t0(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            HandoffError::BoxDecisionMissing {
                box_code: "BOX-1".into(),
                bags: 19
            }
        );
        reasons.boxes.insert("BOX-2".into(), "?".into());
        reasons.boxes.insert(
            "BOX-1".into(),
            "整箱隔离待质控 / box quarantined for QA".into(),
        );
        assert_eq!(
            sign(
                std::slice::from_ref(&m),
                &r,
                &reasons,
                receiver.clone(),
                driver.clone(),
                uid(99),
                t0()
            ),
            Err(HandoffError::BoxDecisionWithoutExcursion {
                box_code: "BOX-2".into()
            })
        );
        reasons.boxes.remove("BOX-2");
        let record = sign(
            std::slice::from_ref(&m),
            &r,
            &reasons,
            receiver,
            driver,
            uid(99),
            t0(),
        )
        .unwrap();
        assert_eq!(record.box_decisions.len(), 1);
        assert_eq!(record.box_decisions[0].excursion.bags.len(), 19);
        assert!(record.discrepancies.is_empty());
        assert_eq!(record.units.len(), 19);
        assert!(
            record
                .units
                .iter()
                .all(|u| u.unit.status == UnitStatus::Quarantined)
        );
    }

    #[test]
    fn a_bag_without_its_tubes_is_a_discrepancy() {
        let mut m = manifest_of(vec![bx(
            "BOX-1",
            ProductClass::RedCellWholeBlood,
            &[1, 2],
            false,
        )]);
        for bag in &mut m.boxes[0].bags {
            bag.tubes = vec![tube(1), tube(2)];
        }
        let now = t0() + Duration::hours(5);
        let scans = vec![
            scan(1, "BOX-1", 0),
            tube_scan(1, tube(1), 1),
            tube_scan(1, tube(2), 2),
            scan(2, "BOX-1", 3),
            tube_scan(2, tube(1), 4),
        ];
        let r = reconcile(std::slice::from_ref(&m), &scans, now, &rules());
        assert_eq!(r.tally.received, 2);
        assert_eq!(r.tally.extra, 0);
        assert_eq!(r.tally.tubes_missing, 1);
        assert!(r.lines[0].discrepancies.is_empty());
        assert_eq!(r.lines[0].tubes_received, vec![tube(1), tube(2)]);
        assert_eq!(
            r.lines[1].discrepancies,
            vec![Discrepancy::TubesMissing {
                pieces: vec![tube(2)]
            }]
        );
        assert_eq!(r.lines[1].unit.status, UnitStatus::Quarantined);
        let said = r.lines[1].discrepancies[0].message();
        assert_eq!(
            format!("{} / {}", said.render(Lang::ZhCn), said.render(Lang::En)),
            "缺少标本管 2 / missing sample tube 2"
        );
        // A tube alone does not receive its bag.
        let r = reconcile(
            std::slice::from_ref(&m),
            &[tube_scan(1, tube(1), 0)],
            now,
            &rules(),
        );
        assert_eq!(r.lines[0].status, BagStatus::Missing);
        assert_eq!(r.tally.extra, 0);
        // Reasons: the tube discrepancy needs one like any other.
        let r = reconcile(std::slice::from_ref(&m), &scans, now, &rules());
        let (receiver, driver) = people();
        let mut reasons = Reasons::default();
        assert!(matches!(
            sign(
                std::slice::from_ref(&m),
                &r,
                &reasons,
                receiver.clone(),
                driver.clone(),
                uid(9),
                now
            ),
            Err(HandoffError::ReasonMissing { ref what, .. }) if what == "tubes_missing"
        ));
        reasons
            .bags
            .insert(din(2), "标本管留在车上 / tube left on the bus".into());
        let record = sign(
            std::slice::from_ref(&m),
            &r,
            &reasons,
            receiver,
            driver,
            uid(9),
            now,
        )
        .unwrap();
        assert_eq!(record.units.len(), 1);
        assert_eq!(record.units[0].din, din(2));
    }

    #[test]
    fn the_bus_findings_travel_to_the_desk() {
        let mut m = manifest();
        m.boxes[0].bags[0].unit = UnitAssessment::new(vec![UnitFinding::SlowDraw {
            volume_ml: 400,
            seconds: 660,
            limit_minutes: 10.0,
        }]);
        m.boxes[1].excursions.clear();
        m.boxes[0].excursions.clear();
        let r = reconcile(
            std::slice::from_ref(&m),
            &[scan(1, "BOX-1", 0)],
            t0() + Duration::hours(5),
            &rules(),
        );
        assert_eq!(r.lines[0].unit.status, UnitStatus::Downgraded);
        assert!(r.lines[0].unit.describe().contains("slow draw"));
        assert!(r.lines[0].discrepancies.is_empty());
    }

    #[test]
    fn signing_needs_a_reason_for_every_discrepancy() {
        let m = manifest();
        let scans: Vec<DeskScan> = [1, 2, 4, 5]
            .into_iter()
            .map(|n| scan(n, if n < 4 { "BOX-1" } else { "BOX-2" }, 0))
            .collect();
        let r = reconcile(
            std::slice::from_ref(&m),
            &scans,
            t0() + Duration::hours(5),
            &rules(),
        );
        let (receiver, driver) = people();
        let mut reasons = Reasons::default();
        reasons
            .boxes
            .insert("BOX-1".into(), "冷藏箱已复测 / rechecked".to_owned());
        let err = sign(
            std::slice::from_ref(&m),
            &r,
            &reasons,
            receiver.clone(),
            driver.clone(),
            uid(99),
            t0(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            HandoffError::ReasonMissing {
                din: din(3).to_string(),
                what: "missing".into()
            }
        );
        assert!(err.to_string().contains(&din(3).to_string()));
        reasons.bags.insert(din(3), "  ".into());
        assert!(matches!(
            sign(
                std::slice::from_ref(&m),
                &r,
                &reasons,
                receiver.clone(),
                driver.clone(),
                uid(99),
                t0()
            ),
            Err(HandoffError::ReasonMissing { .. })
        ));
        reasons
            .bags
            .insert(din(3), "留在车上 / left on the bus".into());
        reasons.bags.insert(din(4), "无 / none".into());
        assert_eq!(
            sign(
                std::slice::from_ref(&m),
                &r,
                &reasons,
                receiver.clone(),
                driver.clone(),
                uid(99),
                t0()
            ),
            Err(HandoffError::ReasonWithoutDiscrepancy {
                din: din(4).to_string()
            })
        );
        reasons.bags.remove(&din(4));
        assert!(matches!(
            sign(
                std::slice::from_ref(&m),
                &r,
                &reasons,
                receiver.clone(),
                receiver.clone(),
                uid(99),
                t0()
            ),
            Err(HandoffError::SameSignatory { .. })
        ));
        let record = sign(
            std::slice::from_ref(&m),
            &r,
            &reasons,
            receiver,
            driver,
            uid(99),
            t0(),
        )
        .unwrap();
        assert_eq!(record.received.len(), 4);
        assert_eq!(record.discrepancies.len(), 1);
        assert_eq!(record.box_decisions.len(), 1);
        assert_eq!(record.device_ids, vec![m.device_id]);
        assert_eq!(record.discrepancies[0].reason, "留在车上 / left on the bus");
    }

    #[test]
    fn a_record_signed_before_box_decisions_still_reads() {
        let (receiver, driver) = people();
        let old = serde_json::json!({
            "id": uid(1), "manifest_ids": [uid(2)], "device_ids": [uid(3)], "site_name": "x",
            "receiver": receiver, "driver": driver, "signed_at": t0(),
            "tally": {"expected": 1, "received": 1, "missing": 0, "extra": 0, "wrong_box": 0,
                      "excursion": 1, "over_time_limit": 0},
            "received": [din(1)],
            "discrepancies": [{"din": din(1), "status": "received", "manifest_box": "BOX-1",
                "found_box": "BOX-1", "reason": "ok",
                "discrepancies": [{"kind": "excursion", "box_code": "BOX-1", "extreme_c": 12.5,
                    "from": t0(), "to": t0()}]}]
        });
        let record: HandoffRecord = serde_json::from_value(old.clone()).unwrap();
        assert!(record.box_decisions.is_empty());
        // And it writes back the same bytes: nothing new is added to an old record.
        assert_eq!(serde_json::to_value(&record).unwrap(), old);
    }

    #[test]
    fn bag_scans_read_label_text() {
        let d = din(7);
        assert_eq!(
            read_bag_scan(&format!("]C0{}\r\n", d.barcode_data()))
                .unwrap()
                .din,
            d
        );
        assert!(read_bag_scan("BOX-1").is_err());
        // Data content without the scanner's symbology identifier, and the DIN typed
        // with its check character, are refused: at the desk typing is manual entry.
        assert!(matches!(
            read_bag_scan(&d.barcode_data()),
            Err(LabelScanError::Unprefixed { .. })
        ));
        let typed = format!("{} {}", d.as_str(), d.check_char());
        assert!(matches!(
            read_bag_scan(&typed),
            Err(LabelScanError::Typed { .. })
        ));
    }

    #[test]
    fn desk_manual_entries_show_on_the_line_and_in_the_signed_record() {
        let rules = rules();
        let mut m = manifest_of(vec![bx(
            "BOX-1",
            ProductClass::RedCellWholeBlood,
            &[1, 2],
            false,
        )]);
        m.boxes[0].bags[1].manual_labels = vec![LabelPiece::new(LabelKind::Tube, 1)];
        let witness = Signatory {
            staff_id: uid(900),
            name: "Driver Li".into(),
        };
        let mut typed = scan(1, "BOX-1", 5);
        typed.piece = Some(LabelPiece::new(LabelKind::Bag, 1));
        typed.manual = Some(DeskManual {
            reason: "label smudged".into(),
            authorised_by: witness.clone(),
        });
        let scans = vec![typed, scan(2, "BOX-1", 6)];
        let r = reconcile(
            std::slice::from_ref(&m),
            &scans,
            t0() + Duration::hours(5),
            &rules,
        );
        let line1 = r.lines.iter().find(|l| l.din == din(1)).unwrap();
        assert_eq!(line1.status, BagStatus::Received);
        assert_eq!(line1.manual_at_desk.len(), 1);
        assert_eq!(line1.manual_at_desk[0].authorised_by, witness);
        let line2 = r.lines.iter().find(|l| l.din == din(2)).unwrap();
        assert_eq!(
            line2.manual_labels,
            vec![LabelPiece::new(LabelKind::Tube, 1)]
        );
        assert!(line2.manual_at_desk.is_empty());
        let record = sign(
            &[m],
            &r,
            &Reasons::default(),
            Signatory {
                staff_id: uid(901),
                name: "Nurse Wang".into(),
            },
            witness,
            uid(902),
            t0() + Duration::hours(5),
        )
        .unwrap();
        assert_eq!(record.manual_labels.len(), 2);
        assert_eq!(record.manual_labels[0].din, din(1));
        assert_eq!(record.manual_labels[0].at_desk[0].reason, "label smudged");
        assert_eq!(
            record.manual_labels[1].before_dispatch,
            vec![LabelPiece::new(LabelKind::Tube, 1)]
        );
    }
}
