use chrono::{DateTime, Utc};

use crate::cold_chain::{Manifest, Signatory, UnitAssessment, UnitFinding, UnitStatus};
use crate::din::Din;
use crate::entities::RecordId;
use crate::label_piece::{LabelKind, LabelPiece};
use crate::labels::LabelScanError;
use crate::product::{ProductClass, TemperatureRange};
use crate::rules::RuleSet;

use super::*;
use crate::cold_chain::{Excursion, ManifestBag, ManifestBox};
use crate::common::Procedure;
use crate::din::FacilityId;
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
        line(4).unit.message().to_string().contains("no platelets"),
        "{}",
        line(4).unit.message().to_string()
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
    assert!(r.lines[0].unit.message().to_string().contains("slow draw"));
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
