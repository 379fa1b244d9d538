//! The manifest the driver signs at dispatch: a snapshot that is never edited, and the
//! one document the station's receiving desk works from.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::*;
use crate::common::Procedure;
use crate::din::Din;
use crate::entities::{AboRh, RecordId};
use crate::label_piece::LabelPiece;
use crate::rules::RuleSet;

/// One bag as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ManifestBag {
    pub din: Din,
    pub donation_id: RecordId,
    pub procedure: Procedure,
    pub collected_volume_ml: Option<u32>,
    /// Known only when typed at registration or from a bedside rapid test.
    pub abo_rh: Option<AboRh>,
    /// End of collection (start, if the end was never recorded): the time limits to
    /// processing run from here.
    pub collected_at: DateTime<Utc>,
    /// The sample tubes released with the bag, which travel with it and are scanned at
    /// the desk. Empty on manifests written before tubes were listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tubes: Vec<LabelPiece>,
    /// What the unit may still become at dispatch, and why (slow draw, products excluded
    /// at screening, the box's excursion, a time limit already missed). Omitted when
    /// suitable, so manifests written before it keep their bytes.
    #[serde(default, skip_serializing_if = "UnitAssessment::is_suitable")]
    pub unit: UnitAssessment,
    /// Labels of this unit verified by manual entry (DIN typed with its check character,
    /// a reason and a second crew member's PIN) instead of a scan: at the chair, or the
    /// bag's own label at packing. Omitted when every label was scanned, so manifests
    /// written before it keep their bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manual_labels: Vec<LabelPiece>,
}

/// One measured temperature, as the manifest carries it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ManifestReading {
    pub at: DateTime<Utc>,
    pub celsius: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ManifestBox {
    pub box_id: RecordId,
    pub code: String,
    pub class: ProductClass,
    pub range: TemperatureRange,
    /// In DIN order.
    pub bags: Vec<ManifestBag>,
    /// The earliest `collected_at` of its bags.
    pub first_collection_at: Option<DateTime<Utc>>,
    /// In time order.
    pub readings: Vec<ManifestReading>,
    pub excursions: Vec<Excursion>,
}

/// The transport manifest the driver signs at dispatch. Read-only once written; the
/// same record replicates to the station and is encoded into the manifest QR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Manifest {
    pub id: RecordId,
    pub drive_id: RecordId,
    /// The device that wrote it, so the hand-off result can be sent back to it.
    pub device_id: Uuid,
    pub site_name: String,
    pub vehicle: Option<String>,
    pub drive_date: chrono::NaiveDate,
    pub driver: Signatory,
    pub dispatched_at: DateTime<Utc>,
    /// In box-code order.
    pub boxes: Vec<ManifestBox>,
    /// The rules table version whose ranges and limits applied.
    pub rules_version: String,
}

/// One box with what is in it, for [`build_manifest`].
#[derive(Debug, Clone)]
pub struct BoxContents {
    pub transport_box: TransportBox,
    pub bags: Vec<PackedUnit>,
    pub readings: Vec<TemperatureReading>,
}

/// A packed bag for [`build_manifest`]: its current donation record, the donor's ABO/RhD
/// if known, and the label pieces released with it (its sample tubes travel with it).
#[derive(Debug, Clone)]
pub struct PackedUnit {
    pub donation: crate::entities::Donation,
    pub abo_rh: Option<AboRh>,
    pub released_pieces: Vec<LabelPiece>,
    /// Pieces verified by manual entry instead of a scan: the release's `manual_pieces`
    /// and, when the bag was packed by typing its DIN, its primary bag label.
    pub manual_pieces: Vec<LabelPiece>,
}

/// Who, when and where, for [`build_manifest`].
#[derive(Debug, Clone)]
pub struct ManifestHeader {
    pub id: RecordId,
    pub drive: crate::entities::Drive,
    pub device_id: Uuid,
    pub driver: Signatory,
    pub dispatched_at: DateTime<Utc>,
    pub rules_version: String,
}

/// The snapshot the driver signs: boxes in code order, bags in DIN order, readings in
/// time order, excursions against each box's own range, and each unit's status at
/// dispatch (collection findings, the box's excursion, time limits already missed).
pub fn build_manifest(
    header: ManifestHeader,
    boxes: Vec<BoxContents>,
    rules: &RuleSet,
) -> Manifest {
    let dispatched_at = header.dispatched_at;
    let mut out: Vec<ManifestBox> = boxes
        .into_iter()
        .map(|b| {
            let class = b.transport_box.class;
            let mut bags: Vec<ManifestBag> = b
                .bags
                .into_iter()
                .map(|u| {
                    let d = u.donation;
                    let collected_at = d.ended_at.unwrap_or(d.started_at);
                    let mut findings = collection_findings(&d, rules);
                    findings.extend(time_findings(class, collected_at, dispatched_at, rules));
                    let mut tubes: Vec<LabelPiece> = u
                        .released_pieces
                        .into_iter()
                        .filter(|p| is_sample_tube(*p))
                        .collect();
                    tubes.sort();
                    tubes.dedup();
                    let mut manual_labels = u.manual_pieces;
                    manual_labels.sort();
                    manual_labels.dedup();
                    ManifestBag {
                        manual_labels,
                        collected_at,
                        din: d.din,
                        donation_id: d.id,
                        procedure: d.procedure,
                        collected_volume_ml: d.collected_volume_ml,
                        abo_rh: u.abo_rh,
                        tubes,
                        unit: UnitAssessment::new(findings),
                    }
                })
                .collect();
            bags.sort_by(|a, b| a.din.cmp(&b.din));
            let mut readings: Vec<ManifestReading> = b
                .readings
                .iter()
                .map(|r| ManifestReading {
                    at: r.measured_at,
                    celsius: r.celsius,
                })
                .collect();
            readings.sort_by_key(|r| r.at);
            let range = b.transport_box.range;
            let mut bx = ManifestBox {
                box_id: b.transport_box.id,
                code: b.transport_box.code,
                class,
                range,
                first_collection_at: bags.iter().map(|g| g.collected_at).min(),
                bags: Vec::new(),
                excursions: excursions(&readings, range),
                readings,
            };
            if let Some(finding) = excursion_finding(&bx) {
                for bag in &mut bags {
                    let mut findings = std::mem::take(&mut bag.unit.findings);
                    findings.push(finding.clone());
                    bag.unit = UnitAssessment::new(findings);
                }
            }
            bx.bags = bags;
            bx
        })
        .collect();
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Manifest {
        id: header.id,
        drive_id: header.drive.id,
        device_id: header.device_id,
        site_name: header.drive.site_name,
        vehicle: header.drive.vehicle,
        drive_date: header.drive.date,
        driver: header.driver,
        dispatched_at: header.dispatched_at,
        boxes: out,
        rules_version: header.rules_version,
    }
}

/// ABO/RhD as printed (`A+`…`O-`), or `None` for unknown.
pub fn abo_rh_label(abo_rh: Option<AboRh>) -> &'static str {
    abo_rh.map_or("unknown", crate::blood_group::name)
}

const ABO_RH_ORDER: [Option<AboRh>; 9] = [
    Some(AboRh::APos),
    Some(AboRh::ANeg),
    Some(AboRh::BPos),
    Some(AboRh::BNeg),
    Some(AboRh::AbPos),
    Some(AboRh::AbNeg),
    Some(AboRh::OPos),
    Some(AboRh::ONeg),
    None,
];

/// How many bags of each kind a manifest carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ManifestCounts {
    pub bags: u32,
    pub boxes: u32,
    /// Classes with at least one bag, in [`ProductClass::ALL`] order.
    pub by_class: Vec<ClassCount>,
    /// Groups with at least one bag, A+ … O-, then `unknown`.
    pub by_abo_rh: Vec<GroupCount>,
    /// Boxes with at least one reading outside their range.
    pub boxes_with_excursions: u32,
    /// Units downgraded or quarantined at dispatch.
    pub downgraded: u32,
    pub quarantined: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ClassCount {
    pub class: ProductClass,
    pub bags: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GroupCount {
    /// `A+` … `O-`, or `unknown`.
    pub abo_rh: String,
    pub bags: u32,
}

impl Manifest {
    /// Counts by product class and by ABO/RhD (unknown counted as unknown): what the
    /// driver's screen, the printed manifest and the receiving desk all show.
    pub fn counts(&self) -> ManifestCounts {
        let bags_of = |class: ProductClass| -> u32 {
            self.boxes
                .iter()
                .filter(|b| b.class == class)
                .map(|b| b.bags.len() as u32)
                .sum()
        };
        let all_bags = || self.boxes.iter().flat_map(|b| b.bags.iter());
        ManifestCounts {
            bags: all_bags().count() as u32,
            boxes: self.boxes.len() as u32,
            by_class: ProductClass::ALL
                .into_iter()
                .map(|class| ClassCount {
                    class,
                    bags: bags_of(class),
                })
                .filter(|c| c.bags > 0)
                .collect(),
            by_abo_rh: ABO_RH_ORDER
                .into_iter()
                .map(|group| GroupCount {
                    abo_rh: abo_rh_label(group).to_owned(),
                    bags: all_bags().filter(|b| b.abo_rh == group).count() as u32,
                })
                .filter(|g| g.bags > 0)
                .collect(),
            boxes_with_excursions: self
                .boxes
                .iter()
                .filter(|b| !b.excursions.is_empty())
                .count() as u32,
            downgraded: all_bags()
                .filter(|b| b.unit.status == UnitStatus::Downgraded)
                .count() as u32,
            quarantined: all_bags()
                .filter(|b| b.unit.status == UnitStatus::Quarantined)
                .count() as u32,
        }
    }
}
