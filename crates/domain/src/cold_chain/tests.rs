use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::*;
use crate::common::Procedure;
use crate::entities::AboRh;
use crate::entities::{Arm, BagSet, BagSetKind, Donation, Drive, Outcome, SiteKind};
use crate::rules::{RuleSet, UnitAction};
use chrono::{Duration, TimeZone};
use proptest::prelude::*;

fn next_id() -> Uuid {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    Uuid::from_u128(u128::from(
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
    ))
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 1, 0, 0).unwrap()
}

fn donation(procedure: Procedure, kind: BagSetKind, minutes: Option<i64>) -> Donation {
    Donation {
        id: next_id(),
        donor_id: next_id(),
        drive_id: next_id(),
        screening_id: next_id(),
        din: "A999926000017".parse().unwrap(),
        procedure,
        bag_set: BagSet {
            kind,
            lot: "L1".into(),
        },
        planned_volume_ml: 400,
        collected_volume_ml: Some(400),
        started_at: t0(),
        ended_at: minutes.map(|m| t0() + Duration::minutes(m)),
        phlebotomist_id: next_id(),
        arm: Arm::Left,
        reactions: vec![],
        outcome: Outcome::Complete,
        recorded_at: t0(),
        supersedes: None,
        correction_reason: None,
        excluded_products: Vec::new(),
    }
}

fn rules() -> RuleSet {
    RuleSet::gb18467_2011()
}

#[test]
fn whole_blood_goes_to_red_cell_boxes() {
    let d = donation(Procedure::WholeBlood, BagSetKind::Double, Some(8));
    assert_eq!(
        check_packing(&d, ProductClass::RedCellWholeBlood, &rules()),
        Ok(())
    );
    let err = check_packing(&d, ProductClass::PlateletWholeBlood, &rules()).unwrap_err();
    match &err {
        PackingRefusal::WrongClass { allowed, .. } => {
            assert_eq!(allowed, &vec![ProductClass::RedCellWholeBlood])
        }
        other => panic!("unexpected {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("A999926000017"), "{text}");
    assert!(text.contains("triple or quadruple"), "{text}");
    // The classes by their catalogue names, in the reader's language.
    assert!(
        text.contains("a box of whole blood for platelets"),
        "{text}"
    );
    assert!(
        text.ends_with("allowed: whole blood for red cells"),
        "{text}"
    );
    let zh = err.message().render(crate::messages::Lang::ZhCn);
    assert!(zh.contains("不能装入全血（制备血小板）箱"), "{zh}");
    assert!(
        check_packing(&d, ProductClass::ApheresisPlatelets, &rules())
            .unwrap_err()
            .to_string()
            .contains("never goes into an apheresis platelet box")
    );
}

fn drawn(volume_ml: u32, seconds: i64) -> Donation {
    let mut d = donation(Procedure::WholeBlood, BagSetKind::Triple, None);
    d.planned_volume_ml = volume_ml;
    d.collected_volume_ml = Some(volume_ml);
    d.ended_at = Some(t0() + Duration::seconds(seconds));
    d
}

#[test]
fn slow_draw_limits_depend_on_volume_at_the_boundary() {
    let r = rules();
    // 200 mL over 5 min, 300 mL over 7.5 min, 400 mL over 10 min.
    for (volume, limit_seconds) in [(200, 300), (300, 450), (400, 600)] {
        let at_limit = drawn(volume, limit_seconds);
        assert_eq!(slow_draw(&at_limit, &r), None, "{volume} mL at the limit");
        assert_eq!(
            check_packing(&at_limit, ProductClass::PlateletWholeBlood, &r),
            Ok(())
        );
        let over = drawn(volume, limit_seconds + 1);
        let slow = slow_draw(&over, &r).unwrap();
        assert_eq!(slow.volume_ml, volume);
        assert_eq!(
            excluded_products(&over, &r),
            vec![ProductClass::PlateletWholeBlood]
        );
        let err = check_packing(&over, ProductClass::PlateletWholeBlood, &r).unwrap_err();
        assert!(matches!(err, PackingRefusal::Excluded { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("slow draw"), "{text}");
        assert!(text.contains(&format!("{volume} mL")), "{text}");
        // The slow bag still goes cold.
        assert_eq!(
            check_packing(&over, ProductClass::RedCellWholeBlood, &r),
            Ok(())
        );
    }
    // A 400 mL draw of 6 minutes is quick; a 200 mL draw of 6 minutes is slow.
    assert_eq!(slow_draw(&drawn(400, 360), &r), None);
    assert!(slow_draw(&drawn(200, 360), &r).is_some());
    // Between steps the next step up applies; above the table, its largest step.
    assert_eq!(r.collection.slow_draw_limit(250).unwrap().max_minutes, 7.5);
    assert_eq!(r.collection.slow_draw_limit(450).unwrap().max_minutes, 10.0);
    // Apheresis is never a slow draw, nor a draw with no recorded end.
    let mut apheresis = drawn(400, 3600);
    apheresis.procedure = Procedure::ApheresisPlatelets;
    assert_eq!(slow_draw(&apheresis, &r), None);
    let mut open = drawn(400, 3600);
    open.ended_at = None;
    assert_eq!(slow_draw(&open, &r), None);
}

#[test]
fn a_table_with_the_old_single_limit_keeps_its_meaning() {
    let mut v: serde_json::Value = serde_json::from_str(crate::rules::GB18467_2011_JSON).unwrap();
    v["collection"] =
        serde_json::json!({"grams_per_ml": 1.05, "whole_blood_platelet_max_minutes": 15});
    let r = RuleSet::from_json(&v.to_string()).unwrap();
    assert_eq!(slow_draw(&drawn(200, 15 * 60), &r), None);
    assert!(slow_draw(&drawn(200, 15 * 60 + 1), &r).is_some());
}

#[test]
fn products_excluded_at_screening_are_never_packed() {
    let r = rules();
    let mut d = drawn(400, 300);
    d.excluded_products = vec![ProductClass::PlateletWholeBlood];
    assert_eq!(
        allowed_classes(&d, &r),
        Ok(vec![ProductClass::RedCellWholeBlood])
    );
    let text = check_packing(&d, ProductClass::PlateletWholeBlood, &r)
        .unwrap_err()
        .to_string();
    assert!(text.contains("excluded at screening"), "{text}");
    assert!(text.contains("A999926000017"), "{text}");
    assert_eq!(
        check_packing(&d, ProductClass::RedCellWholeBlood, &r),
        Ok(())
    );
    let findings = collection_findings(&d, &r);
    assert_eq!(
        findings,
        vec![UnitFinding::Excluded {
            classes: vec![ProductClass::PlateletWholeBlood]
        }]
    );
    assert_eq!(UnitAssessment::new(findings).status, UnitStatus::Downgraded);
    // Everything excluded: no box at all, and the refusal says so.
    d.excluded_products = vec![
        ProductClass::PlateletWholeBlood,
        ProductClass::RedCellWholeBlood,
    ];
    assert_eq!(allowed_classes(&d, &r), Ok(vec![]));
    assert!(
        check_packing(&d, ProductClass::RedCellWholeBlood, &r)
            .unwrap_err()
            .to_string()
            .contains("allowed: none")
    );
}

#[test]
fn unit_status_is_the_worst_finding() {
    let r = rules();
    assert_eq!(UnitAssessment::new(vec![]).status, UnitStatus::Suitable);
    assert!(UnitAssessment::default().is_suitable());
    let slow = collection_findings(&drawn(400, 601), &r);
    assert_eq!(
        UnitAssessment::new(slow.clone()).status,
        UnitStatus::Downgraded
    );
    let mut hot = slow;
    hot.push(UnitFinding::Excursion {
        box_code: "BOX-1".into(),
        range: TemperatureRange {
            min_c: 2.0,
            max_c: 10.0,
        },
        extreme_c: 12.0,
    });
    let a = UnitAssessment::new(hot);
    assert_eq!(a.status, UnitStatus::Quarantined);
    let zh = a.message().render(crate::messages::Lang::ZhCn);
    assert!(zh.starts_with("隔离"), "{zh}");
    assert!(
        a.message().to_string().contains("slow draw"),
        "{}",
        a.message()
    );
}

#[test]
fn time_limits_per_class_at_the_boundary() {
    let r = rules();
    let at = |class, minutes| time_findings(class, t0(), t0() + Duration::minutes(minutes), &r);
    // Whole blood for platelets: 8 h to processing (downgrade: no platelets), 8 h FFP.
    assert!(at(ProductClass::PlateletWholeBlood, 8 * 60).is_empty());
    let over = at(ProductClass::PlateletWholeBlood, 8 * 60 + 1);
    assert!(matches!(
        over[..],
        [
            UnitFinding::OverTimeLimit {
                action: UnitAction::Downgrade,
                limit_hours: 8,
                ..
            },
            UnitFinding::FfpWindowMissed { limit_hours: 8, .. }
        ]
    ));
    // Red cells: plasma past FFP after 8 h (downgrade), quarantined after 24 h.
    let red = at(ProductClass::RedCellWholeBlood, 9 * 60);
    assert_eq!(UnitAssessment::new(red).status, UnitStatus::Downgraded);
    let red = at(ProductClass::RedCellWholeBlood, 24 * 60 + 1);
    assert_eq!(UnitAssessment::new(red).status, UnitStatus::Quarantined);
    // Apheresis plasma: frozen within 6 h or it is not FFP.
    assert!(at(ProductClass::ApheresisPlasma, 6 * 60).is_empty());
    let plasma = at(ProductClass::ApheresisPlasma, 6 * 60 + 1);
    assert_eq!(
        UnitAssessment::new(plasma.clone()).status,
        UnitStatus::Downgraded
    );
    assert!(
        plasma[0]
            .message()
            .to_string()
            .contains("not fresh frozen plasma")
    );
}

#[test]
fn platelet_whole_blood_needs_a_complete_timed_collection() {
    let mut partial = donation(Procedure::WholeBlood, BagSetKind::Triple, Some(8));
    partial.outcome = Outcome::Partial;
    assert!(
        check_packing(&partial, ProductClass::PlateletWholeBlood, &rules())
            .unwrap_err()
            .to_string()
            .contains("partial")
    );
    assert_eq!(
        check_packing(&partial, ProductClass::RedCellWholeBlood, &rules()),
        Ok(())
    );
    let untimed = donation(Procedure::WholeBlood, BagSetKind::Triple, None);
    assert!(
        check_packing(&untimed, ProductClass::PlateletWholeBlood, &rules())
            .unwrap_err()
            .to_string()
            .contains("end of collection was not recorded")
    );
}

#[test]
fn apheresis_products_only_in_their_own_boxes() {
    let d = donation(
        Procedure::ApheresisPlatelets,
        BagSetKind::ApheresisKit,
        Some(60),
    );
    assert_eq!(
        check_packing(&d, ProductClass::ApheresisPlatelets, &rules()),
        Ok(())
    );
    for class in [
        ProductClass::RedCellWholeBlood,
        ProductClass::PlateletWholeBlood,
        ProductClass::ApheresisPlasma,
    ] {
        assert!(matches!(
            check_packing(&d, class, &rules()),
            Err(PackingRefusal::WrongClass { ref allowed, .. })
                if allowed == &vec![ProductClass::ApheresisPlatelets]
        ));
    }
    let plasma = donation(
        Procedure::ApheresisPlasma,
        BagSetKind::ApheresisKit,
        Some(40),
    );
    assert_eq!(
        allowed_classes(&plasma, &rules()),
        Ok(vec![ProductClass::ApheresisPlasma])
    );
    for class in ProductClass::ALL {
        let result = check_packing(&plasma, class, &rules());
        if class == ProductClass::ApheresisPlasma {
            assert_eq!(result, Ok(()));
        } else {
            assert!(
                result
                    .unwrap_err()
                    .to_string()
                    .contains("apheresis plasma boxes"),
                "{class}"
            );
        }
    }
    // Whole blood never goes into an apheresis plasma box either.
    let wb = donation(Procedure::WholeBlood, BagSetKind::Triple, Some(5));
    assert!(
        check_packing(&wb, ProductClass::ApheresisPlasma, &rules())
            .unwrap_err()
            .to_string()
            .contains("never goes into an apheresis plasma box")
    );
}

#[test]
fn aborted_and_on_chair_are_refused() {
    let mut d = donation(Procedure::WholeBlood, BagSetKind::Triple, Some(5));
    d.outcome = Outcome::Aborted;
    assert!(matches!(
        check_packing(&d, ProductClass::RedCellWholeBlood, &rules()),
        Err(PackingRefusal::Aborted { .. })
    ));
    d.outcome = Outcome::InProgress;
    assert!(matches!(
        check_packing(&d, ProductClass::RedCellWholeBlood, &rules()),
        Err(PackingRefusal::StillOnChair { .. })
    ));
}

fn reading(minute: i64, celsius: f64) -> ManifestReading {
    ManifestReading {
        at: t0() + Duration::minutes(minute),
        celsius,
    }
}

#[test]
fn range_bounds_are_inclusive() {
    let red = rules()
        .cold_chain
        .class(ProductClass::RedCellWholeBlood)
        .unwrap()
        .range;
    assert!(red.contains(10.0));
    assert!(!red.contains(10.1));
    assert!(red.contains(2.0));
    assert!(!red.contains(1.9));
    assert!(excursions(&[reading(0, 10.0), reading(5, 2.0)], red).is_empty());
    assert_eq!(excursions(&[reading(0, 10.1)], red).len(), 1);
}

#[test]
fn excursions_group_consecutive_readings_and_keep_the_extreme() {
    let range = TemperatureRange {
        min_c: 2.0,
        max_c: 10.0,
    };
    // Out of order on purpose: a logger import and typed readings interleave.
    let readings = [
        reading(30, 5.0),
        reading(10, 11.0),
        reading(0, 4.0),
        reading(20, 12.5),
        reading(40, 1.0),
    ];
    let found = excursions(&readings, range);
    assert_eq!(
        found,
        vec![
            Excursion {
                from: t0() + Duration::minutes(10),
                to: t0() + Duration::minutes(20),
                extreme_c: 12.5,
                readings: 2,
            },
            Excursion {
                from: t0() + Duration::minutes(40),
                to: t0() + Duration::minutes(40),
                extreme_c: 1.0,
                readings: 1,
            },
        ]
    );
}

#[test]
fn logger_csv_english_with_offsets() {
    let rows = parse_logger_csv(
        "Logger,Time,Temperature (°C)\nT1,2026-05-01T09:00:00+08:00,4.5\nT1,2026-05-01T01:05:00Z,10.1\n",
    )
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].at, t0());
    assert_eq!(rows[0].celsius, 4.5);
    assert_eq!(rows[0].line, 2);
    assert_eq!(rows[1].at, t0() + Duration::minutes(5));
}

#[test]
fn logger_times_with_any_usual_offset_form() {
    for text in [
        "2026-05-01T09:00:00+08:00",
        "2026-05-01T09:00:00+0800",
        "2026-05-01 09:00:00+08:00",
        "2026-05-01T09:00+08:00",
        "2026-05-01T01:00:00Z",
        "2026-05-01T01:00:00.000Z",
        "2026-05-01 09:00",
        "2026-05-01 09:00:00",
        "2026/05/01 09:00:00",
        "2026-05-01T09:00:00",
    ] {
        assert_eq!(parse_logger_time(text), Some(t0()), "{text}");
    }
    for text in ["", "09:00", "2026-05-01", "2026-05-01 25:00", "yesterday"] {
        assert_eq!(parse_logger_time(text), None, "{text}");
    }
}

#[test]
fn logger_csv_chinese_local_time_is_china_standard_time() {
    let rows = parse_logger_csv(
        "\u{feff}序号;记录时间;温度(℃)\n1;2026-05-01 09:00;22.0\n2;2026/05/01 09:10:30;23.5℃\n",
    )
    .unwrap();
    assert_eq!(rows[0].at, t0());
    assert_eq!(rows[1].at, t0() + Duration::seconds(630));
    assert_eq!(rows[1].celsius, 23.5);
}

#[test]
fn logger_csv_errors_name_line_and_column() {
    let e = parse_logger_csv("time,temp\n2026-05-01 09:00,4\n2026-13-01 09:00,4\n").unwrap_err();
    assert_eq!(e.line, Some(3));
    assert_eq!(e.column.as_deref(), Some("time"));
    let e = parse_logger_csv("time,temp\n2026-05-01 09:00,warm\n").unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(2), Some("temp")));
    assert!(e.to_string().contains("line 2"), "{e}");
    let e = parse_logger_csv("time,temp\n2026-05-01 09:00,400\n").unwrap_err();
    assert!(e.problem.to_string().contains("between -50 and 80"), "{e}");
    // Where and what, in the driver's language (the catalogue's `logger_csv.*`).
    let e = parse_logger_csv("time,temp\n2026-05-01 09:00,warm\n").unwrap_err();
    assert_eq!(
        e.problem,
        crate::messages::Message::new("logger_csv.bad_number").with("value", "warm")
    );
    assert_eq!(
        e.message().render(crate::messages::Lang::ZhCn),
        "第 2 行“temp”列：“warm”不是摄氏温度数值"
    );
    let e = parse_logger_csv("when,how hot\n1,2\n").unwrap_err();
    assert!(e.problem.to_string().contains("time column"), "{e}");
    assert!(parse_logger_csv("time,temp\n").is_err());
    assert!(parse_logger_csv("").is_err());
}

proptest! {
    #[test]
    fn logger_csv_never_panics(text in "\\PC*") {
        let _ = parse_logger_csv(&text);
    }

    #[test]
    fn logger_csv_never_panics_on_near_misses(
        rows in proptest::collection::vec(("[0-9 :/T+-]{0,25}", "[-0-9.,℃°C ]{0,8}"), 0..6)
    ) {
        let mut text = "时间,温度\n".to_owned();
        for (t, c) in rows {
            text.push_str(&format!("{t},{c}\n"));
        }
        let _ = parse_logger_csv(&text);
    }
}

fn unit(donation: Donation, abo_rh: Option<AboRh>) -> PackedUnit {
    PackedUnit {
        donation,
        abo_rh,
        released_pieces: crate::labels::label_set(BagSetKind::Triple, 2).unwrap(),
        manual_pieces: Vec::new(),
    }
}

fn manifest() -> Manifest {
    let drive = Drive {
        id: next_id(),
        site_name: "人民广场".into(),
        site_kind: SiteKind::Vehicle,
        vehicle: Some("BUS-1".into()),
        date: chrono::NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
        crew: vec![],
        started_at: t0(),
        ended_at: None,
    };
    let open = |code: &str, class: ProductClass, min_c, max_c| TransportBox {
        id: next_id(),
        code: code.into(),
        class,
        range: TemperatureRange { min_c, max_c },
        drive_id: drive.id,
        opened_by: next_id(),
        opened_at: t0(),
    };
    let mut a = donation(Procedure::WholeBlood, BagSetKind::Triple, Some(8));
    a.din = "A999926000025".parse().unwrap();
    let mut b = donation(Procedure::WholeBlood, BagSetKind::Double, Some(9));
    b.started_at = t0() - Duration::hours(1);
    b.ended_at = None;
    let c = donation(
        Procedure::ApheresisPlatelets,
        BagSetKind::ApheresisKit,
        Some(50),
    );
    let red = open("BOX-2", ProductClass::RedCellWholeBlood, 2.0, 10.0);
    let plt = open("BOX-1", ProductClass::ApheresisPlatelets, 20.0, 24.0);
    let reading = |box_id, minute, celsius| TemperatureReading {
        id: next_id(),
        box_id,
        measured_at: t0() + Duration::minutes(minute),
        celsius,
        source: ReadingSource::Manual,
        recorded_by: next_id(),
        recorded_at: t0(),
    };
    build_manifest(
        ManifestHeader {
            id: next_id(),
            drive,
            device_id: next_id(),
            driver: Signatory {
                staff_id: next_id(),
                name: "司机".into(),
            },
            dispatched_at: t0() + Duration::hours(2),
            rules_version: "GB18467-2011/1".into(),
        },
        vec![
            BoxContents {
                readings: vec![reading(red.id, 20, 11.0), reading(red.id, 10, 6.0)],
                transport_box: red,
                bags: vec![unit(a, Some(AboRh::APos)), unit(b, None)],
            },
            BoxContents {
                readings: vec![reading(plt.id, 10, 22.0)],
                transport_box: plt,
                bags: vec![unit(c, Some(AboRh::APos))],
            },
        ],
        &rules(),
    )
}

#[test]
fn manifest_orders_and_derives() {
    let m = manifest();
    assert_eq!(
        m.boxes.iter().map(|b| b.code.as_str()).collect::<Vec<_>>(),
        ["BOX-1", "BOX-2"]
    );
    let red = &m.boxes[1];
    assert_eq!(
        red.bags
            .iter()
            .map(|b| b.din.to_string())
            .collect::<Vec<_>>(),
        ["A999926000017", "A999926000025"]
    );
    // The bag with no recorded end counts from its start.
    assert_eq!(red.first_collection_at, Some(t0() - Duration::hours(1)));
    assert_eq!(red.readings[0].celsius, 6.0);
    assert_eq!(red.excursions.len(), 1);
    assert_eq!(red.excursions[0].extreme_c, 11.0);
    assert!(m.boxes[0].excursions.is_empty());
    // The tubes released with each bag travel on the manifest (not its containers
    // or record sheet).
    assert_eq!(red.bags[0].tubes.len(), 2);
    assert!(red.bags[0].tubes.iter().all(|p| is_sample_tube(*p)));
    // Every bag of the hot box is quarantined at dispatch, with why.
    assert!(
        red.bags
            .iter()
            .all(|b| b.unit.status == UnitStatus::Quarantined)
    );
    assert_eq!(m.boxes[0].bags[0].unit.status, UnitStatus::Suitable);
    let json = serde_json::to_value(&m.boxes[0].bags[0]).unwrap();
    assert!(json.get("unit").is_none(), "{json}");
}

#[test]
fn manifest_counts_by_class_and_group() {
    let counts = manifest().counts();
    assert_eq!(counts.bags, 3);
    assert_eq!(counts.boxes, 2);
    assert_eq!(counts.boxes_with_excursions, 1);
    assert_eq!((counts.quarantined, counts.downgraded), (2, 0));
    assert_eq!(
        counts.by_class,
        vec![
            ClassCount {
                class: ProductClass::RedCellWholeBlood,
                bags: 2
            },
            ClassCount {
                class: ProductClass::ApheresisPlatelets,
                bags: 1
            },
        ]
    );
    assert_eq!(
        counts.by_abo_rh,
        vec![
            GroupCount {
                abo_rh: "A+".into(),
                bags: 2
            },
            GroupCount {
                abo_rh: "unknown".into(),
                bags: 1
            },
        ]
    );
}
