//! The hand-off at the station's receiving desk: the driver's manifest(s) against the
//! bags the receiving staff scan, one line per bag, and the record both parties sign.
//!
//! Pure: the desk's scans, the time and the rules are arguments. Whatever the desk
//! shows and whatever is signed comes from [`reconcile`], so the screen and the record
//! cannot disagree.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::cold_chain::{Manifest, ProductClass, Signatory};
use crate::din::Din;
use crate::entities::RecordId;
use crate::labels::{ScanError, read_label_scan};
use crate::rules::RuleSet;

/// One bag scanned at the desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskScan {
    pub din: Din,
    /// The code of the box the bag was taken out of, when the desk scanned the box first.
    pub box_code: Option<String>,
    pub scanned_at: DateTime<Utc>,
}

/// Reads a hand-scanner's text (a bag label's DIN barcode or QR, or a typed DIN).
pub fn read_bag_scan(raw: &str) -> Result<Din, ScanError> {
    read_label_scan(raw).map(|s| s.din)
}

/// Where a bag stands at the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Discrepancy {
    Missing,
    Extra,
    /// Found in another box than the manifest lists.
    WrongBox {
        expected: String,
        found: String,
    },
    /// The bag's box left its temperature range in transit.
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
}

impl Discrepancy {
    pub fn code(&self) -> &'static str {
        match self {
            Discrepancy::Missing => "missing",
            Discrepancy::Extra => "extra",
            Discrepancy::WrongBox { .. } => "wrong_box",
            Discrepancy::Excursion { .. } => "excursion",
            Discrepancy::OverTimeLimit { .. } => "over_time_limit",
        }
    }

    /// What the desk shows, zh-CN first.
    pub fn describe(&self) -> String {
        match self {
            Discrepancy::Missing => "清单上有但未扫描 / on the manifest, not scanned".into(),
            Discrepancy::Extra => "不在任何清单上 / not on any manifest".into(),
            Discrepancy::WrongBox { expected, found } => {
                format!(
                    "装错箱：清单为 {expected}，实际在 {found} / wrong box: manifest says {expected}, found in {found}"
                )
            }
            Discrepancy::Excursion {
                box_code,
                extreme_c,
                ..
            } => format!(
                "{box_code} 运输中温度超范围（最值 {extreme_c} °C） / box {box_code} left its range in transit (extreme {extreme_c} °C)"
            ),
            Discrepancy::OverTimeLimit {
                limit_hours,
                elapsed_minutes,
                ..
            } => format!(
                "采集后已 {}小时{}分，超过 {limit_hours} 小时时限 / {}h{:02}m since collection, over the {limit_hours} h limit",
                elapsed_minutes / 60,
                elapsed_minutes % 60,
                elapsed_minutes / 60,
                elapsed_minutes % 60
            ),
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
}

/// Counts the desk shows at the top, one per kind of line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub expected: u32,
    pub received: u32,
    pub missing: u32,
    pub extra: u32,
    pub wrong_box: u32,
    pub excursion: u32,
    pub over_time_limit: u32,
}

/// The desk's whole picture: lines in manifest order (box, then DIN), extras last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reconciliation {
    pub lines: Vec<BagLine>,
    pub tally: Tally,
}

/// Lines up the manifests against the desk's scans at `now`.
///
/// A DIN scanned more than once counts once; the latest scan decides the box it was
/// found in (a rescan corrects a slip). The time limit runs from the bag's end of
/// collection to `now` (the desk is where processing starts), by its box's class.
pub fn reconcile(
    manifests: &[Manifest],
    scans: &[DeskScan],
    now: DateTime<Utc>,
    rules: &RuleSet,
) -> Reconciliation {
    let mut latest: BTreeMap<&Din, &DeskScan> = BTreeMap::new();
    for scan in scans {
        match latest.get(&scan.din) {
            Some(prev) if prev.scanned_at > scan.scanned_at => {}
            _ => {
                latest.insert(&scan.din, scan);
            }
        }
    }
    let mut lines = Vec::new();
    let mut listed: BTreeMap<&Din, ()> = BTreeMap::new();
    for manifest in manifests {
        for bx in &manifest.boxes {
            for bag in &bx.bags {
                if listed.insert(&bag.din, ()).is_some() {
                    // The same bag on two manifests: the first listing stands.
                    continue;
                }
                let scan = latest.get(&bag.din);
                let mut discrepancies = Vec::new();
                let status = if scan.is_some() {
                    BagStatus::Received
                } else {
                    discrepancies.push(Discrepancy::Missing);
                    BagStatus::Missing
                };
                if let Some(scan) = scan {
                    if let Some(found) = &scan.box_code
                        && *found != bx.code
                    {
                        discrepancies.push(Discrepancy::WrongBox {
                            expected: bx.code.clone(),
                            found: found.clone(),
                        });
                    }
                    if let Some(worst) = bx.excursions.iter().max_by(|a, b| {
                        bx.range
                            .distance_outside(a.extreme_c)
                            .total_cmp(&bx.range.distance_outside(b.extreme_c))
                    }) {
                        discrepancies.push(Discrepancy::Excursion {
                            box_code: bx.code.clone(),
                            extreme_c: worst.extreme_c,
                            from: bx
                                .excursions
                                .iter()
                                .map(|e| e.from)
                                .min()
                                .unwrap_or(worst.from),
                            to: bx.excursions.iter().map(|e| e.to).max().unwrap_or(worst.to),
                        });
                    }
                    if let Some(rule) = rules.cold_chain.class(bx.class) {
                        let elapsed = (now - bag.collected_at).num_minutes();
                        if elapsed > i64::from(rule.processing_limit_hours) * 60 {
                            discrepancies.push(Discrepancy::OverTimeLimit {
                                class: bx.class,
                                limit_hours: rule.processing_limit_hours,
                                elapsed_minutes: elapsed,
                            });
                        }
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
                });
            }
        }
    }
    let mut extras: Vec<&DeskScan> = latest
        .values()
        .filter(|s| !listed.contains_key(&s.din))
        .copied()
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
        });
    }
    let mut tally = Tally::default();
    for line in &lines {
        match line.status {
            BagStatus::Received => {
                tally.expected += 1;
                tally.received += 1;
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
                Discrepancy::Missing | Discrepancy::Extra => {}
            }
        }
    }
    Reconciliation { lines, tally }
}

/// One bag with discrepancies, as signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

/// Why a hand-off could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandoffError {
    #[error(
        "{din} 有差异（{what}），签收前须填写原因 / {din} has a discrepancy ({what}): enter a reason before signing"
    )]
    ReasonMissing { din: String, what: String },
    #[error(
        "{din} 没有差异，不需要原因 / {din} has no discrepancy, so no reason is recorded for it; clear the reason"
    )]
    ReasonWithoutDiscrepancy { din: String },
    #[error(
        "接收人与司机须为两个人 / the receiver and the driver must be two different people ({name} signed as both)"
    )]
    SameSignatory { name: String },
    #[error(
        "没有加载任何运输清单 / no manifest is loaded: load the manifest (replicated or by QR) first"
    )]
    NoManifest,
}

/// Builds the record both parties sign, or names the first bag still lacking a reason.
/// Reasons are keyed by DIN; blank reasons count as missing.
pub fn sign(
    manifests: &[Manifest],
    reconciliation: &Reconciliation,
    reasons: &BTreeMap<Din, String>,
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
    let mut discrepancies = Vec::new();
    let mut received = Vec::new();
    for line in &reconciliation.lines {
        if line.status == BagStatus::Received {
            received.push(line.din.clone());
        }
        let reason = reasons.get(&line.din).map(|r| r.trim()).unwrap_or_default();
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cold_chain::{Excursion, ManifestBag, ManifestBox, TemperatureRange};
    use crate::common::Procedure;
    use crate::din::FacilityId;
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

    fn manifest() -> Manifest {
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
            boxes: vec![
                bx("BOX-1", ProductClass::RedCellWholeBlood, &[1, 2, 3], true),
                bx("BOX-2", ProductClass::PlateletWholeBlood, &[4, 5], false),
            ],
            rules_version: "x".into(),
        }
    }

    fn scan(n: u32, box_code: &str, minute: i64) -> DeskScan {
        DeskScan {
            din: din(n),
            box_code: Some(box_code.into()),
            scanned_at: t0() + Duration::hours(4) + Duration::minutes(minute),
        }
    }

    fn rules() -> RuleSet {
        RuleSet::gb18467_2011()
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
        assert!(
            matches!(line(1).discrepancies[..], [Discrepancy::Excursion { extreme_c, .. }] if extreme_c == 12.5)
        );
        assert!(matches!(
            line(4).discrepancies[..],
            [Discrepancy::OverTimeLimit {
                limit_hours: 8,
                elapsed_minutes: 540,
                ..
            }]
        ));
    }

    #[test]
    fn time_limit_boundary_is_inclusive() {
        let m = manifest();
        let at = |h| {
            reconcile(
                std::slice::from_ref(&m),
                &[scan(4, "BOX-2", 0)],
                t0() + Duration::hours(h),
                &rules(),
            )
        };
        assert_eq!(at(8).tally.over_time_limit, 0);
        let r = reconcile(
            std::slice::from_ref(&m),
            &[scan(4, "BOX-2", 0)],
            t0() + Duration::hours(8) + Duration::minutes(1),
            &rules(),
        );
        assert_eq!(r.tally.over_time_limit, 1);
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
        let receiver = Signatory {
            staff_id: uid(50),
            name: "赵敏".into(),
        };
        let driver = m.driver.clone();
        let mut reasons = BTreeMap::new();
        reasons.insert(din(1), "冷藏箱已复测 / rechecked".to_owned());
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
                din: din(2).to_string(),
                what: "excursion".into()
            }
        );
        assert!(err.to_string().contains(&din(2).to_string()));
        reasons.insert(din(2), "  ".into());
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
        reasons.insert(din(2), "同箱 / same box".into());
        reasons.insert(din(3), "留在车上 / left on the bus".into());
        reasons.insert(din(4), "无 / none".into());
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
        reasons.remove(&din(4));
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
        assert_eq!(record.discrepancies.len(), 3);
        assert_eq!(record.device_ids, vec![m.device_id]);
        assert_eq!(record.discrepancies[2].reason, "留在车上 / left on the bus");
    }

    #[test]
    fn bag_scans_read_label_text() {
        let d = din(7);
        assert_eq!(
            read_bag_scan(&format!("{}\r\n", d.barcode_data())).unwrap(),
            d
        );
        assert!(read_bag_scan("BOX-1").is_err());
    }
}
