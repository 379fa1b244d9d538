//! The desk's scans against the manifest(s): one line per bag, its tubes, one decision per
//! box excursion, and each unit's status at the desk.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::cold_chain::{
    Manifest, Signatory, UnitAssessment, UnitFinding, UnitStatus, excursion_finding,
    is_sample_tube, time_findings,
};
use crate::din::Din;
use crate::entities::RecordId;
use crate::label_piece::LabelPiece;
use crate::labels::{LabelScanError, ScannedLabel, read_label_scan};
use crate::messages::Message;
use crate::product::{ProductClass, TemperatureRange};
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
                crate::label_piece::LabelKind::Bag | crate::label_piece::LabelKind::Satellite
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
