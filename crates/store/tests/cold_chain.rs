//! The cold chain on a real store file: boxes, packing by label scan, temperatures,
//! dispatch signed with the driver's PIN, and read-only afterwards.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use lifebridge_domain::cold_chain::{PackingRefusal, ReadingSource};
use lifebridge_domain::entities::Donation;
use lifebridge_domain::label_piece::{LabelKind, LabelPiece};
use lifebridge_domain::product::ProductClass;
use lifebridge_store::cold_chain::ColdChainError;
use lifebridge_store::session::SignInError;
use lifebridge_store::{Actor, Store, StoreKey, demo};
use uuid::Uuid;

/// A refusal as the app shows it in each language: "中文 / English".
fn said(err: &ColdChainError) -> String {
    use lifebridge_domain::messages::Lang;
    let m = err.message();
    format!("{} / {}", m.render(Lang::ZhCn), m.render(Lang::En))
}

struct Bus {
    _dir: tempfile::TempDir,
    store: Store,
    driver: Actor,
    driver_id: Uuid,
    phleb: Actor,
    drive: Uuid,
    /// Labelled and released by the demo.
    released: Vec<Donation>,
    /// Collected, labels never printed: still at the chair.
    unreleased: Vec<Donation>,
}

fn bus(released: u32, unreleased: u32) -> Bus {
    let dir = tempfile::tempdir().unwrap();
    let key = StoreKey::new("correct horse battery").unwrap();
    let mut store = Store::create(&dir.path().join("device.db"), &key, "BUS-07").unwrap();
    let mut ids = Vec::new();
    demo::seed(&mut store, released, |id| {
        ids.push(id);
        Ok(())
    })
    .unwrap();
    let mut later = Vec::new();
    demo::seed_collected(&mut store, unreleased, |id| {
        later.push(id);
        Ok(())
    })
    .unwrap();
    let load = |store: &Store, ids: &[Uuid]| {
        ids.iter()
            .map(|id| store.donation(*id).unwrap().unwrap())
            .collect::<Vec<_>>()
    };
    let released = load(&store, &ids);
    let unreleased = load(&store, &later);
    let driver_id = store.staff_by_name("司机 刘洋").unwrap().unwrap().id;
    let phleb = Actor::staff(store.staff_by_name("采血护士 张静").unwrap().unwrap().id);
    Bus {
        drive: released[0].drive_id,
        _dir: dir,
        store,
        driver: Actor::staff(driver_id),
        driver_id,
        phleb,
        released,
        unreleased,
    }
}

/// What the scanner sends for the primary bag label of a donation.
fn bag_scan(d: &Donation) -> String {
    format!(
        "]C0={}{}\r\n",
        d.din.as_str(),
        LabelPiece::new(LabelKind::Bag, 1).flags()
    )
}

/// Change-log and audit entries and cold-chain rows: a refusal moves none of them.
fn footprint(store: &Store) -> Vec<i64> {
    [
        "SELECT COUNT(*) FROM change_log",
        "SELECT COUNT(*) FROM audit_log",
        "SELECT COUNT(*) FROM transport_box",
        "SELECT COUNT(*) FROM box_packing",
        "SELECT COUNT(*) FROM temperature_reading",
        "SELECT COUNT(*) FROM manifest",
        "SELECT COUNT(*) FROM manifest_box",
    ]
    .iter()
    .map(|sql| store.connection().query_row(sql, [], |r| r.get(0)).unwrap())
    .collect()
}

/// Runs a call that must be refused and checks that it wrote nothing.
macro_rules! assert_unchanged {
    ($store:expr, $before:expr, $call:expr $(,)?) => {{
        let err = $call.unwrap_err();
        assert_eq!(
            &footprint($store)[..],
            &$before[..],
            "a refusal wrote something: {err}"
        );
        err
    }};
}

fn failed_attempts(store: &Store, staff: Uuid) -> u32 {
    store
        .connection()
        .query_row(
            "SELECT failed_attempts FROM staff_credential WHERE staff_id = ?1",
            [staff.to_string()],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn pack_log_and_dispatch_a_drive_then_its_boxes_are_read_only() {
    let mut b = bus(3, 0);
    let (drive, driver) = (b.drive, b.driver);
    let red = b
        .store
        .open_box(driver, drive, "BOX-R1", ProductClass::RedCellWholeBlood)
        .unwrap();
    assert_eq!((red.range.min_c, red.range.max_c), (2.0, 10.0));
    // A scanned box code loses the scanner's AIM prefix and line end.
    let scanned = b
        .store
        .open_box(
            driver,
            drive,
            "]C0BOX-S1\r\n",
            ProductClass::RedCellWholeBlood,
        )
        .unwrap();
    assert_eq!(scanned.code, "BOX-S1");
    let plt = b
        .store
        .open_box(driver, drive, "BOX-P1", ProductClass::PlateletWholeBlood)
        .unwrap();
    assert_eq!((plt.range.min_c, plt.range.max_c), (20.0, 24.0));

    let view = b.store.transport_view(drive).unwrap();
    assert_eq!(
        view.unpacked.len(),
        3,
        "every released bag waits to be packed"
    );
    assert!(view.preview.is_none(), "nothing packed, nothing to sign");

    b.store
        .pack_bag(driver, red.id, &bag_scan(&b.released[0]))
        .unwrap();
    b.store
        .pack_bag(driver, red.id, &bag_scan(&b.released[1]))
        .unwrap();
    // Triple set, complete, drawn in 6 minutes: it may make platelets.
    b.store
        .pack_bag(driver, plt.id, &bag_scan(&b.released[2]))
        .unwrap();

    let now = Utc::now();
    b.store
        .record_temperature(driver, red.id, now - Duration::minutes(30), 6.0)
        .unwrap();
    // Exactly the upper bound is in range; a tenth over is an excursion.
    b.store
        .record_temperature(driver, red.id, now - Duration::minutes(20), 10.0)
        .unwrap();
    b.store
        .record_temperature(driver, red.id, now - Duration::minutes(10), 10.1)
        .unwrap();
    let at = |m: i64| {
        (now - Duration::minutes(m))
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let csv = format!(
        "时间,温度(℃)\n{},22.0\n{},22.5\n{},22.5\n",
        at(50),
        at(40),
        at(40)
    );
    let import = b
        .store
        .import_logger_csv(driver, plt.id, "logger-07.csv", &csv)
        .unwrap();
    assert_eq!((import.imported, import.skipped), (2, 1));
    let again = b
        .store
        .import_logger_csv(driver, plt.id, "logger-07.csv", &csv)
        .unwrap();
    assert_eq!(
        (again.imported, again.skipped),
        (0, 3),
        "readings already held are skipped"
    );

    let view = b.store.transport_view(drive).unwrap();
    assert!(view.unpacked.is_empty());
    let red_view = view
        .boxes
        .iter()
        .find(|x| x.transport_box.code == "BOX-R1")
        .unwrap();
    assert_eq!(red_view.bags.len(), 2);
    assert_eq!(red_view.excursions.len(), 1);
    assert_eq!(red_view.excursions[0].extreme_c, 10.1);
    let preview = view.preview.unwrap();
    assert_eq!(preview.counts.bags, 3);

    // A wrong PIN signs nothing and counts toward the driver's lock-out.
    let before = footprint(&b.store);
    let err = b.store.dispatch(b.phleb, drive, b.driver_id, "0000");
    let err = err.unwrap_err();
    assert!(
        matches!(
            err,
            ColdChainError::SignIn(SignInError::WrongPin { remaining: 4 })
        ),
        "{err}"
    );
    let after = footprint(&b.store);
    assert_eq!(after[2..], before[2..], "no manifest, no rows");
    assert_eq!(failed_attempts(&b.store, b.driver_id), 1);

    let signed = b
        .store
        .dispatch(b.phleb, drive, b.driver_id, demo::DEMO_PIN)
        .unwrap();
    assert_eq!(failed_attempts(&b.store, b.driver_id), 0);
    let m = &signed.manifest;
    assert_eq!(m.driver.name, "司机 刘洋");
    assert_eq!(m.drive_id, drive);
    assert_eq!(m.device_id, b.store.device_id());
    assert_eq!(
        m.boxes.iter().map(|x| x.code.as_str()).collect::<Vec<_>>(),
        ["BOX-P1", "BOX-R1"]
    );
    assert_eq!(m.boxes[1].readings.len(), 3);
    assert_eq!(m.boxes[1].excursions.len(), 1);
    assert_eq!(m.boxes[0].readings.len(), 2);
    assert!(m.boxes.iter().all(|x| x.first_collection_at.is_some()));
    assert_eq!(signed.counts.bags, 3);
    assert_eq!(signed.counts.by_abo_rh[0].abo_rh, "unknown");
    assert_eq!(signed.counts.boxes_with_excursions, 1);

    // The manifest replicates: its change-log body is the stored row, and the dispatch
    // is audited as the driver's.
    let (logged, audit_staff): (String, Option<String>) = b
        .store
        .connection()
        .query_row(
            "SELECT c.body, a.staff_id FROM change_log c JOIN audit_log a ON a.seq = c.audit_seq
             WHERE c.entity = 'manifest'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let replicated: lifebridge_domain::cold_chain::Manifest =
        serde_json::from_str(&logged).unwrap();
    assert_eq!(&replicated, m);
    assert_eq!(audit_staff, Some(b.driver_id.to_string()));
    assert_eq!(b.store.manifest(m.id).unwrap().unwrap().manifest, *m);

    // Read-only from now on, with the reason in words.
    let before = footprint(&b.store);
    let packing = b
        .store
        .transport_view(drive)
        .unwrap()
        .boxes
        .iter()
        .find(|x| x.manifest_id.is_some())
        .unwrap()
        .bags[0]
        .packing
        .clone();
    for err in [
        assert_unchanged!(
            &b.store,
            &before,
            b.store.record_temperature(driver, red.id, now, 5.0),
        ),
        assert_unchanged!(
            &b.store,
            &before,
            b.store.import_logger_csv(driver, plt.id, "again.csv", &csv),
        ),
        assert_unchanged!(&b.store, &before, b.store.unpack_bag(driver, packing.id)),
    ] {
        assert!(matches!(err, ColdChainError::BoxDispatched { .. }), "{err}");
        assert!(said(&err).contains("read-only"), "{err}");
    }
    let err = assert_unchanged!(
        &b.store,
        &before,
        b.store.pack_bag(driver, red.id, &bag_scan(&b.released[0])),
    );
    assert!(matches!(err, ColdChainError::BoxDispatched { .. }), "{err}");
    // Nothing left to dispatch: a second dispatch is refused before asking for a PIN.
    let err = assert_unchanged!(
        &b.store,
        &before,
        b.store.dispatch(driver, drive, b.driver_id, demo::DEMO_PIN),
    );
    assert!(
        matches!(err, ColdChainError::NothingToDispatch { .. }),
        "{err}"
    );
    assert!(b.store.bags_not_dispatched(drive).unwrap().is_empty());
    assert!(b.store.check().unwrap().is_ok(), "{:?}", b.store.check());
}

#[test]
fn every_refusal_names_the_bag_and_changes_nothing() {
    let mut b = bus(2, 1);
    let (drive, driver) = (b.drive, b.driver);
    let red = b
        .store
        .open_box(driver, drive, "BOX-R1", ProductClass::RedCellWholeBlood)
        .unwrap();
    let apheresis = b
        .store
        .open_box(driver, drive, "BOX-A1", ProductClass::ApheresisPlatelets)
        .unwrap();
    b.store
        .pack_bag(driver, red.id, &bag_scan(&b.released[0]))
        .unwrap();
    let before = footprint(&b.store);

    let err = assert_unchanged!(
        &b.store,
        &before,
        b.store
            .pack_bag(driver, apheresis.id, &bag_scan(&b.released[1])),
    );
    match &err {
        ColdChainError::Packing(PackingRefusal::WrongClass {
            din,
            box_class,
            allowed,
            ..
        }) => {
            assert_eq!(din, &b.released[1].din.to_string());
            assert_eq!(*box_class, ProductClass::ApheresisPlatelets);
            assert!(allowed.contains(&ProductClass::RedCellWholeBlood));
        }
        other => panic!("expected a wrong-class refusal, got {other}"),
    }
    assert!(said(&err).contains("单采血小板"), "{err}");

    let err = assert_unchanged!(
        &b.store,
        &before,
        b.store.pack_bag(driver, red.id, &bag_scan(&b.released[0])),
    );
    assert!(
        matches!(&err, ColdChainError::AlreadyPacked { box_code, dispatched: false, .. } if box_code == "BOX-R1"),
        "{err}"
    );
    let err = assert_unchanged!(
        &b.store,
        &before,
        b.store
            .pack_bag(driver, red.id, &bag_scan(&b.unreleased[0])),
    );
    assert!(matches!(err, ColdChainError::NotReleased { .. }), "{err}");
    let err = assert_unchanged!(
        &b.store,
        &before,
        b.store.pack_bag(driver, red.id, "]C0=Z99992699999990"),
    );
    assert!(
        matches!(
            err,
            ColdChainError::UnknownDin { .. } | ColdChainError::Unreadable(_)
        ),
        "{err}"
    );
    let err = assert_unchanged!(&b.store, &before, b.store.pack_bag(driver, red.id, "hello"),);
    assert!(matches!(err, ColdChainError::Unreadable(_)), "{err}");
    let err = assert_unchanged!(
        &b.store,
        &before,
        b.store
            .open_box(driver, drive, "BOX-R1", ProductClass::PlateletWholeBlood),
    );
    assert!(
        matches!(err, ColdChainError::DuplicateBoxCode { .. }),
        "{err}"
    );
    let err = assert_unchanged!(
        &b.store,
        &before,
        b.store
            .open_box(driver, drive, "BOX 2", ProductClass::PlateletWholeBlood),
    );
    assert!(said(&err).contains("code"), "{err}");
    let err = assert_unchanged!(
        &b.store,
        &before,
        b.store
            .open_box(b.phleb, drive, "BOX-9", ProductClass::PlateletWholeBlood),
    );
    assert!(said(&err).contains("driver"), "{err}");
    for bad in [f64::NAN, 120.0, -60.0] {
        let err = assert_unchanged!(
            &b.store,
            &before,
            b.store.record_temperature(driver, red.id, Utc::now(), bad),
        );
        assert!(said(&err).contains("celsius"), "{err}");
    }
    let err = assert_unchanged!(
        &b.store,
        &before,
        b.store
            .record_temperature(driver, red.id, Utc::now() + Duration::hours(3), 5.0),
    );
    assert!(said(&err).contains("future"), "{err}");
    // A logger file with one bad row imports nothing.
    let err = assert_unchanged!(
        &b.store,
        &before,
        b.store.import_logger_csv(
            driver,
            red.id,
            "bad.csv",
            "time,temperature\n2026-05-01 08:00,5.0\n2026-05-01 08:05,five\n",
        ),
    );
    assert!(
        said(&err).contains("line 3") && said(&err).contains("temperature"),
        "{err}"
    );
    // Only a driver (or supervisor) signs a dispatch.
    let phleb_id = b.phleb.staff_id.unwrap();
    let err = assert_unchanged!(
        &b.store,
        &before,
        b.store.dispatch(driver, drive, phleb_id, demo::DEMO_PIN),
    );
    assert!(said(&err).contains("driver"), "{err}");
    assert!(b.store.check().unwrap().is_ok());
}

#[test]
fn unpack_before_dispatch_and_dispatch_again_later() {
    let mut b = bus(2, 0);
    let (drive, driver) = (b.drive, b.driver);
    let first = b
        .store
        .open_box(driver, drive, "BOX-1", ProductClass::PlateletWholeBlood)
        .unwrap();
    let empty = b
        .store
        .open_box(driver, drive, "BOX-EMPTY", ProductClass::RedCellWholeBlood)
        .unwrap();
    let err = b
        .store
        .dispatch(driver, drive, b.driver_id, demo::DEMO_PIN)
        .unwrap_err();
    assert!(said(&err).contains("BOX-1, BOX-EMPTY"), "{err}");
    assert_eq!(failed_attempts(&b.store, b.driver_id), 0);

    let packing = b
        .store
        .pack_bag(driver, first.id, &bag_scan(&b.released[0]))
        .unwrap();
    // Wrong box: take it out again, and it may go elsewhere.
    let undo = b.store.unpack_bag(driver, packing.id).unwrap();
    assert_eq!(undo.removes, Some(packing.id));
    assert!(b.store.unpack_bag(driver, packing.id).is_err());
    assert!(b.store.unpack_bag(driver, undo.id).is_err());
    b.store
        .pack_bag(driver, empty.id, &bag_scan(&b.released[0]))
        .unwrap();
    assert_eq!(
        b.store.bags_not_dispatched(drive).unwrap(),
        vec![b.released[0].din.clone(), b.released[1].din.clone()]
    );
    let one = b
        .store
        .dispatch(driver, drive, b.driver_id, demo::DEMO_PIN)
        .unwrap();
    assert_eq!(one.manifest.boxes.len(), 1, "the empty box stays open");
    assert_eq!(one.manifest.boxes[0].code, "BOX-EMPTY");
    assert_eq!(
        b.store.bags_not_dispatched(drive).unwrap(),
        vec![b.released[1].din.clone()]
    );

    // The other bag goes later in the box left open: a second manifest.
    b.store
        .pack_bag(driver, first.id, &bag_scan(&b.released[1]))
        .unwrap();
    let two = b
        .store
        .dispatch(driver, drive, b.driver_id, demo::DEMO_PIN)
        .unwrap();
    assert_eq!(two.manifest.boxes.len(), 1);
    assert_eq!(two.manifest.boxes[0].code, "BOX-1");
    assert_eq!(b.store.drive_manifests(drive).unwrap().len(), 2);
    assert!(b.store.bags_not_dispatched(drive).unwrap().is_empty());
    let err = b
        .store
        .pack_bag(driver, first.id, &bag_scan(&b.released[0]))
        .unwrap_err();
    assert!(said(&err).contains("BOX-1") || said(&err).contains("BOX-EMPTY"));
    assert!(b.store.check().unwrap().is_ok());
}

#[test]
fn wrong_pins_at_dispatch_lock_the_driver_out() {
    let mut b = bus(1, 0);
    let (drive, driver) = (b.drive, b.driver);
    let bx = b
        .store
        .open_box(driver, drive, "BOX-1", ProductClass::RedCellWholeBlood)
        .unwrap();
    b.store
        .pack_bag(driver, bx.id, &bag_scan(&b.released[0]))
        .unwrap();
    for _ in 0..lifebridge_domain::pin::MAX_FAILED_ATTEMPTS {
        assert!(
            b.store
                .dispatch(driver, drive, b.driver_id, "9999")
                .is_err()
        );
    }
    // Locked out: even the right PIN is refused now, and nothing was signed.
    let err = b
        .store
        .dispatch(driver, drive, b.driver_id, demo::DEMO_PIN)
        .unwrap_err();
    assert!(
        matches!(err, ColdChainError::SignIn(SignInError::LockedOut { .. })),
        "{err}"
    );
    assert!(b.store.drive_manifests(drive).unwrap().is_empty());
    let view = b.store.transport_view(drive).unwrap();
    assert!(view.boxes[0].manifest_id.is_none());
    assert!(matches!(
        view.boxes[0].readings.first().map(|r| &r.source),
        None | Some(ReadingSource::Manual)
    ));
}

#[test]
fn cold_chain_records_are_in_the_export() {
    let mut b = bus(1, 0);
    let (drive, driver) = (b.drive, b.driver);
    let bx = b
        .store
        .open_box(driver, drive, "BOX-1", ProductClass::RedCellWholeBlood)
        .unwrap();
    b.store
        .pack_bag(driver, bx.id, &bag_scan(&b.released[0]))
        .unwrap();
    b.store
        .record_temperature(driver, bx.id, Utc::now(), 4.0)
        .unwrap();
    let signed = b
        .store
        .dispatch(driver, drive, b.driver_id, demo::DEMO_PIN)
        .unwrap();
    let mut json = Vec::new();
    b.store.export_json(&mut json).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    for (table, rows) in [
        ("transport_boxes", 1),
        ("box_packings", 1),
        ("temperature_readings", 1),
        ("manifests", 1),
    ] {
        assert_eq!(
            v["tables"][table].as_array().unwrap().len(),
            rows,
            "{table}"
        );
    }
    assert_eq!(
        v["tables"]["manifests"][0]["id"],
        signed.manifest.id.to_string()
    );
    let mut csv = Vec::new();
    b.store
        .export_csv(
            lifebridge_store::export::ExportTable::parse("temperature_readings").unwrap(),
            &mut csv,
        )
        .unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.contains("celsius") && csv.contains("source.kind"),
        "{csv}"
    );
}

/// A screened donor of the demo drive on the chair, for collections the test times.
fn on_the_chair(b: &mut Bus, n: u64) -> Donation {
    use lifebridge_domain::entities::{
        Arm, BagSet, BagSetKind, PhysicianDecision, RapidTests, Role,
    };
    use lifebridge_domain::measurements::Vitals;
    let find = |store: &Store, role: Role| {
        store
            .staff_list()
            .unwrap()
            .into_iter()
            .find(|s| s.roles == [role])
            .unwrap()
            .id
    };
    let nurse = Actor::staff(find(&b.store, Role::Registration));
    let physician = Actor::staff(find(&b.store, Role::Physician));
    let today = lifebridge_store::china_today();
    let donor = b
        .store
        .register_donor(
            nurse,
            lifebridge_store::records::NewDonor {
                document: lifebridge_domain::IdentityDocument::parse(
                    "resident_id",
                    &demo::synthetic_resident_id(50_000 + n, today),
                    today,
                )
                .unwrap(),
                details: lifebridge_store::records::DonorDetails::named("赵丽"),
            },
        )
        .unwrap();
    b.store.check_in(nurse, b.drive, donor.id).unwrap();
    let vitals = Vitals {
        weight_kg: 60.0,
        systolic_mmhg: 118.0,
        diastolic_mmhg: 76.0,
        pulse_bpm: 70.0,
        temperature_c: 36.5,
    };
    let screening = b
        .store
        .record_screening(
            physician,
            lifebridge_store::screening::ScreeningForm {
                donor_id: donor.id,
                drive_id: b.drive,
                procedure: lifebridge_domain::Procedure::WholeBlood,
                planned_volume_ml: Some(200),
                questionnaire_version: lifebridge_store::screens::BUILT_IN_QUESTIONNAIRE.into(),
                answers: lifebridge_domain::questionnaire::built_in().nothing_to_declare(donor.sex),
                vitals,
                tests: RapidTests {
                    hemoglobin_g_l: Some(130.0),
                    hbsag: Some(lifebridge_domain::measurements::TestResult::Negative),
                    ..Default::default()
                },
                athlete: false,
                restrictions: Vec::new(),
                review_findings: Default::default(),
                consent: Some(lifebridge_store::demo::signed_consent(
                    &lifebridge_domain::questionnaire::built_in().consent.version,
                )),
                witness_pin: None,
                abo_rh_note: None,
            }
            .into_new(PhysicianDecision::Accept, None),
        )
        .unwrap();
    let phleb_id = find(&b.store, Role::Phlebotomist);
    b.store
        .start_collection(
            Actor::staff(phleb_id),
            lifebridge_store::drive_day::StartCollection {
                screening_id: screening.id,
                bag_set: BagSet {
                    kind: BagSetKind::Triple,
                    lot: "L1".into(),
                },
                planned_volume_ml: 200,
                phlebotomist_id: phleb_id,
                arm: Arm::Left,
            },
        )
        .unwrap()
}

/// The chair's form leaves `ended_at` empty: the collection ends when it is recorded.
#[test]
fn a_collection_finished_without_an_end_time_ends_now() {
    use lifebridge_domain::entities::Outcome;
    use lifebridge_store::drive_day::FinishCollection;
    let mut b = bus(1, 0);
    let phleb = b.phleb;
    let donation = on_the_chair(&mut b, 1);
    let before = chrono::Utc::now();
    let done = b
        .store
        .finish_collection(
            phleb,
            FinishCollection {
                donation_id: donation.id,
                ended_at: None,
                collected_volume_ml: 200,
                reactions: vec![],
                outcome: Outcome::Complete,
            },
        )
        .unwrap();
    let ended = done.ended_at.unwrap();
    assert!(ended >= before && ended <= chrono::Utc::now(), "{ended}");
    assert_eq!(
        b.store.donation(done.id).unwrap().unwrap().ended_at,
        Some(ended)
    );
}

#[test]
fn a_slow_draw_excludes_platelets_when_the_collection_is_finished() {
    use lifebridge_domain::entities::Outcome;
    use lifebridge_store::drive_day::FinishCollection;
    let mut b = bus(1, 0);
    let phleb = b.phleb;
    // 200 mL: 5 minutes is the limit, itself included.
    let quick = on_the_chair(&mut b, 1);
    let quick = b
        .store
        .finish_collection(
            phleb,
            FinishCollection {
                donation_id: quick.id,
                ended_at: Some(quick.started_at + Duration::minutes(5)),
                collected_volume_ml: 200,
                reactions: vec![],
                outcome: Outcome::Complete,
            },
        )
        .unwrap();
    assert!(quick.excluded_products.is_empty());
    let slow = on_the_chair(&mut b, 2);
    let slow = b
        .store
        .finish_collection(
            phleb,
            FinishCollection {
                donation_id: slow.id,
                ended_at: Some(slow.started_at + Duration::seconds(5 * 60 + 1)),
                collected_volume_ml: 200,
                reactions: vec![],
                outcome: Outcome::Complete,
            },
        )
        .unwrap();
    assert_eq!(
        slow.excluded_products,
        vec![ProductClass::PlateletWholeBlood]
    );
    // As stored and as replicated.
    let stored = b.store.donation(slow.id).unwrap().unwrap();
    assert_eq!(stored.excluded_products, slow.excluded_products);
    let body: String = b
        .store
        .connection()
        .query_row(
            "SELECT body FROM donation WHERE id = ?1",
            [slow.id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        body.contains("\"excluded_products\":[\"platelet_whole_blood\"]"),
        "{body}"
    );
    assert!(b.store.check().unwrap().is_ok());
}

#[test]
fn an_excluded_bag_is_never_packed_into_a_platelet_box() {
    let mut b = bus(2, 0);
    let (drive, driver) = (b.drive, b.driver);
    let plt = b
        .store
        .open_box(driver, drive, "BOX-P1", ProductClass::PlateletWholeBlood)
        .unwrap();
    let red = b
        .store
        .open_box(driver, drive, "BOX-R1", ProductClass::RedCellWholeBlood)
        .unwrap();
    // The second demo bag's draw is corrected to 11 minutes: a slow 400 mL draw.
    let bag = b.released[1].clone();
    assert_eq!(bag.planned_volume_ml, 400);
    let corrected = b
        .store
        .correct_donation(
            b.phleb,
            bag.id,
            lifebridge_store::records::DonationCorrection {
                ended_at: Some(bag.started_at + Duration::minutes(11)),
                ..Default::default()
            },
            "采血结束时间记错 / end time typed wrong",
        )
        .unwrap();
    assert_eq!(
        corrected.excluded_products,
        vec![ProductClass::PlateletWholeBlood]
    );
    let view = b.store.transport_view(drive).unwrap();
    let waiting = view
        .unpacked
        .iter()
        .find(|u| u.donation.din == bag.din)
        .unwrap();
    assert_eq!(waiting.allowed, vec![ProductClass::RedCellWholeBlood]);
    assert!(waiting.unit.message().to_string().contains("slow draw"));
    assert_eq!(
        view.classes.iter().map(|c| c.class).collect::<Vec<_>>(),
        ProductClass::ALL.to_vec()
    );
    let before = footprint(&b.store);
    let err = assert_unchanged!(
        &b.store,
        &before,
        b.store.pack_bag(driver, plt.id, &bag_scan(&bag)),
    );
    assert!(
        matches!(
            &err,
            ColdChainError::Packing(PackingRefusal::Excluded { din, box_class: ProductClass::PlateletWholeBlood, .. })
                if *din == bag.din.to_string()
        ),
        "{err}"
    );
    let text = said(&err);
    assert!(
        text.contains("slow draw: 400 mL took 11:00, over 10 min"),
        "{text}"
    );
    assert!(text.contains("采血慢"), "{text}");
    // It goes cold, and the manifest says why it is in the red-cell box.
    b.store.pack_bag(driver, red.id, &bag_scan(&bag)).unwrap();
    b.store
        .pack_bag(driver, plt.id, &bag_scan(&b.released[0]))
        .unwrap();
    let signed = b
        .store
        .dispatch(driver, drive, b.driver_id, demo::DEMO_PIN)
        .unwrap();
    let boxed = signed
        .manifest
        .boxes
        .iter()
        .find(|x| x.code == "BOX-R1")
        .unwrap();
    let unit = &boxed.bags[0].unit;
    assert_eq!(
        unit.status,
        lifebridge_domain::cold_chain::UnitStatus::Downgraded
    );
    assert!(
        unit.message().to_string().contains("no platelets"),
        "{}",
        unit.message().to_string()
    );
    // The tubes released with each bag are on the manifest.
    assert_eq!(boxed.bags[0].tubes.len(), 2);
    assert_eq!(signed.counts.downgraded, 1);
    assert!(b.store.check().unwrap().is_ok());
}

#[test]
fn apheresis_plasma_has_its_own_box_class() {
    let mut b = bus(1, 0);
    let (drive, driver) = (b.drive, b.driver);
    let plasma = b
        .store
        .open_box(driver, drive, "BOX-PL1", ProductClass::ApheresisPlasma)
        .unwrap();
    let rules = b.store.rules().unwrap();
    assert_eq!(
        plasma.range,
        rules
            .cold_chain
            .class(ProductClass::ApheresisPlasma)
            .unwrap()
            .range
    );
    // Whole blood never goes into it.
    let err = b
        .store
        .pack_bag(driver, plasma.id, &bag_scan(&b.released[0]))
        .unwrap_err();
    assert!(said(&err).contains("apheresis plasma box"), "{err}");
}

/// The DIN as a person types it from the eye-readable text: with its check character.
fn typed_din(d: &Donation) -> String {
    format!("{} {}", d.din.as_str(), d.din.check_char())
}

fn manual(
    typed: &str,
    reason: &str,
    witness: Uuid,
    pin: &str,
) -> lifebridge_store::cold_chain::ManualPackEntry {
    lifebridge_store::cold_chain::ManualPackEntry {
        typed: typed.to_owned(),
        reason: reason.to_owned(),
        witness,
        witness_pin: pin.to_owned(),
    }
}

#[test]
fn packing_takes_only_a_scan_of_the_bag_label() {
    let mut b = bus(2, 0);
    let (drive, driver) = (b.drive, b.driver);
    let red = b
        .store
        .open_box(driver, drive, "BOX-R1", ProductClass::RedCellWholeBlood)
        .unwrap();
    let before = footprint(&b.store);
    let d = b.released[0].clone();
    // The bag label's data without the scanner's symbology identifier: typed, maybe.
    let unprefixed = format!("={}01", d.din.as_str());
    let err = assert_unchanged!(
        &b.store,
        &before,
        b.store.pack_bag(driver, red.id, &unprefixed)
    );
    assert!(matches!(err, ColdChainError::NotScanned(_)), "{err}");
    assert!(said(&err).contains("NOT A SCAN"), "{err}");
    // The DIN typed with its check character, in the scan field: refused, names manual entry.
    let err = assert_unchanged!(
        &b.store,
        &before,
        b.store.pack_bag(driver, red.id, &typed_din(&d))
    );
    assert!(said(&err).contains("TYPED, NOT SCANNED"), "{err}");
    assert!(said(&err).contains("manual entry"), "{err}");
    // Full-width, as a Chinese IME types it: the same refusal.
    let full_width: String = typed_din(&d)
        .chars()
        .map(|c| match c {
            '0'..='9' | 'A'..='Z' => char::from_u32(c as u32 + 0xFEE0).unwrap(),
            other => other,
        })
        .collect();
    let err = assert_unchanged!(
        &b.store,
        &before,
        b.store.pack_bag(driver, red.id, &full_width)
    );
    assert!(said(&err).contains("TYPED, NOT SCANNED"), "{err}");
    // A scan of one of its tubes is not the bag.
    let tube = format!(
        "]C0={}{}",
        d.din.as_str(),
        LabelPiece::new(LabelKind::Tube, 1).flags()
    );
    let err = assert_unchanged!(&b.store, &before, b.store.pack_bag(driver, red.id, &tube));
    assert!(matches!(err, ColdChainError::NotABagLabel { .. }), "{err}");
    // A scan packs it, not marked manual.
    let packing = b.store.pack_bag(driver, red.id, &bag_scan(&d)).unwrap();
    assert!(packing.manual.is_none());
}

#[test]
fn a_bag_is_packed_by_typing_only_with_check_character_reason_and_a_second_pin() {
    let mut b = bus(2, 0);
    let (drive, driver) = (b.drive, b.driver);
    let red = b
        .store
        .open_box(driver, drive, "BOX-R1", ProductClass::RedCellWholeBlood)
        .unwrap();
    let nurse = b.store.staff_by_name("采血护士 张静").unwrap().unwrap().id;
    let d = b.released[0].clone();
    let before = footprint(&b.store);
    let good = typed_din(&d);

    // No reason.
    let err = assert_unchanged!(
        &b.store,
        &before,
        b.store
            .pack_bag_manual(driver, red.id, &manual(&good, "  ", nurse, demo::DEMO_PIN))
    );
    assert!(said(&err).contains("reason"), "{err}");
    // No PIN, and a wrong one: refused, and counted towards the witness's lock-out
    // (sign-in audits the failure; no packing is written).
    let err = b
        .store
        .pack_bag_manual(driver, red.id, &manual(&good, "label torn", nurse, ""))
        .unwrap_err();
    assert!(matches!(err, ColdChainError::ManualRefused(_)), "{err}");
    let failed = failed_attempts(&b.store, nurse);
    let err = b
        .store
        .pack_bag_manual(driver, red.id, &manual(&good, "label torn", nurse, "9999"))
        .unwrap_err();
    assert!(said(&err).contains("PIN"), "{err}");
    assert_eq!(failed_attempts(&b.store, nurse), failed + 1);
    // The signed-in driver cannot witness their own entry.
    let before = footprint(&b.store);
    let err = assert_unchanged!(
        &b.store,
        &before,
        b.store.pack_bag_manual(
            driver,
            red.id,
            &manual(&good, "label torn", b.driver_id, demo::DEMO_PIN)
        )
    );
    assert!(said(&err).contains("someone other"), "{err}");
    // The DIN without its check character, or as scanner data, is not a typed DIN.
    for bad in [d.din.as_str().to_owned(), format!("={}01", d.din.as_str())] {
        let err = b
            .store
            .pack_bag_manual(
                driver,
                red.id,
                &manual(&bad, "label torn", nurse, demo::DEMO_PIN),
            )
            .unwrap_err();
        assert!(
            matches!(err, ColdChainError::ManualRefused(_)),
            "{bad}: {err}"
        );
    }
    assert_eq!(
        b.store
            .connection()
            .query_row("SELECT COUNT(*) FROM box_packing", [], |r| r
                .get::<_, i64>(0))
            .unwrap(),
        0,
        "no refused manual entry packed anything"
    );

    // With all of it: packed, marked manual with the reason and the witness.
    let packing = b
        .store
        .pack_bag_manual(
            driver,
            red.id,
            &manual(&good, "label torn", nurse, demo::DEMO_PIN),
        )
        .unwrap();
    let m = packing.manual.clone().unwrap();
    assert_eq!((m.reason.as_str(), m.authorised_by), ("label torn", nurse));
    // Every packing check still applies: the same bag again is already packed.
    let err = b
        .store
        .pack_bag_manual(
            driver,
            red.id,
            &manual(&good, "label torn", nurse, demo::DEMO_PIN),
        )
        .unwrap_err();
    assert!(matches!(err, ColdChainError::AlreadyPacked { .. }), "{err}");
    b.store
        .pack_bag(driver, red.id, &bag_scan(&b.released[1]))
        .unwrap();

    // The manifest lists the typed bag label; the scanned bag has none.
    let signed = b
        .store
        .dispatch(driver, drive, b.driver_id, demo::DEMO_PIN)
        .unwrap();
    let bags = &signed.manifest.boxes[0].bags;
    let typed_bag = bags.iter().find(|x| x.din == d.din).unwrap();
    assert_eq!(
        typed_bag.manual_labels,
        vec![LabelPiece::new(LabelKind::Bag, 1)]
    );
    let scanned_bag = bags.iter().find(|x| x.din == b.released[1].din).unwrap();
    assert!(scanned_bag.manual_labels.is_empty());
    let json = serde_json::to_value(&signed.manifest).unwrap();
    let scanned_json = json["boxes"][0]["bags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["din"] == b.released[1].din.as_str())
        .unwrap();
    assert!(
        scanned_json.get("manual_labels").is_none(),
        "a bag with every label scanned keeps the old manifest bytes"
    );
}

#[test]
fn labels_typed_at_the_chair_are_listed_on_the_manifest() {
    let mut b = bus(1, 1);
    let driver = b.driver;
    let d = b.unreleased[0].clone();
    let nurse = b.store.staff_by_name("登记护士 李敏").unwrap().unwrap().id;
    let prints = b.store.print_label_set(b.phleb, d.id, 2).unwrap();
    let tube = LabelPiece::new(LabelKind::Tube, 2);
    b.store
        .record_manual_label_entry(
            b.phleb,
            d.id,
            &lifebridge_store::labels::ManualLabelEntry {
                piece: tube,
                typed: typed_din(&d),
                reason: "tube label wet".into(),
                witness: nurse,
                witness_pin: demo::DEMO_PIN.into(),
            },
        )
        .unwrap();
    for p in prints
        .iter()
        .map(|p| LabelPiece::new(p.kind, p.piece))
        .filter(|p| *p != tube)
    {
        b.store
            .record_label_scan(
                b.phleb,
                d.id,
                &format!("]C0={}{}\r\n", d.din.as_str(), p.flags()),
            )
            .unwrap();
    }
    b.store.release_donation(b.phleb, d.id).unwrap();
    let red = b
        .store
        .open_box(
            driver,
            d.drive_id,
            "BOX-R1",
            ProductClass::RedCellWholeBlood,
        )
        .unwrap();
    b.store.pack_bag(driver, red.id, &bag_scan(&d)).unwrap();
    let signed = b
        .store
        .dispatch(driver, d.drive_id, b.driver_id, demo::DEMO_PIN)
        .unwrap();
    let bag = signed
        .manifest
        .boxes
        .iter()
        .flat_map(|x| &x.bags)
        .find(|x| x.din == d.din)
        .unwrap();
    assert_eq!(
        bag.manual_labels,
        vec![tube],
        "the chair's manual entry travels"
    );
}
