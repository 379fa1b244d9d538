//! Sign-in, check-in, the chair queue and collection from start to finish.
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use lifebridge_domain::entities::{Arm, BagSet, BagSetKind, Outcome, Role};
use lifebridge_domain::pin::MAX_FAILED_ATTEMPTS;
use lifebridge_store::drive_day::{FinishCollection, QueueStatus, StartCollection};
use lifebridge_store::session::SignInError;
use lifebridge_store::{Actor, Store, StoreKey, demo};

fn seeded() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(
        &dir.path().join("d.db"),
        &StoreKey::new("key-key-key").unwrap(),
        "BUS",
    )
    .unwrap();
    demo::seed_collected(&mut store, 1, |_| Ok(())).unwrap();
    (dir, store)
}

fn staff_with(store: &Store, role: Role) -> uuid::Uuid {
    store
        .staff_list()
        .unwrap()
        .into_iter()
        .find(|s| s.roles == [role])
        .unwrap()
        .id
}

#[test]
fn wrong_pins_lock_a_staff_member_out_and_every_attempt_is_audited() {
    let (_dir, mut store) = seeded();
    let nurse = staff_with(&store, Role::Registration);
    assert!(store.sign_in(nurse, demo::DEMO_PIN).unwrap().is_ok());
    for attempt in 1..MAX_FAILED_ATTEMPTS {
        let err = store.sign_in(nurse, "0000").unwrap().unwrap_err();
        assert_eq!(
            err,
            SignInError::WrongPin {
                remaining: MAX_FAILED_ATTEMPTS - attempt
            }
        );
    }
    let err = store.sign_in(nurse, "0000").unwrap().unwrap_err();
    assert!(matches!(err, SignInError::LockedOut { .. }), "{err}");
    // Even the right PIN is refused while locked out.
    let err = store.sign_in(nurse, demo::DEMO_PIN).unwrap().unwrap_err();
    assert!(matches!(err, SignInError::LockedOut { .. }), "{err}");
    let failures: i64 = store
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'staff.sign_in_failed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(failures, i64::from(MAX_FAILED_ATTEMPTS));
    assert!(store.check().unwrap().is_ok());
}

#[test]
fn the_queue_follows_a_donor_from_check_in_to_done() {
    let (_dir, mut store) = seeded();
    let nurse = Actor::staff(staff_with(&store, Role::Registration));
    let physician = Actor::staff(staff_with(&store, Role::Physician));
    let phleb_id = staff_with(&store, Role::Phlebotomist);
    let phleb = Actor::staff(phleb_id);
    let drive = store
        .drives_on(lifebridge_store::china_today())
        .unwrap()
        .remove(0);
    let donor = store
        .register_donor(
            nurse,
            lifebridge_store::records::NewDonor {
                document: lifebridge_domain::IdentityDocument::parse(
                    "resident_id",
                    &demo::synthetic_resident_id(9_999, lifebridge_store::china_today()),
                    lifebridge_store::china_today(),
                )
                .unwrap(),
                details: lifebridge_store::records::DonorDetails::named("赵丽"),
            },
        )
        .unwrap();
    store.check_in(nurse, drive.id, donor.id).unwrap();
    assert!(
        store.check_in(nurse, drive.id, donor.id).is_err(),
        "checked in twice"
    );
    let status = |s: &Store| {
        s.chair_queue(drive.id)
            .unwrap()
            .into_iter()
            .find(|e| e.donor.id == donor.id)
            .unwrap()
            .status
    };
    assert_eq!(status(&store), QueueStatus::Waiting);

    let decision = store
        .evaluate_eligibility(
            donor.id,
            drive.date,
            lifebridge_domain::Procedure::WholeBlood,
            Some(400),
            &lifebridge_domain::measurements::Vitals {
                weight_kg: 60.0,
                systolic_mmhg: 118.0,
                diastolic_mmhg: 76.0,
                pulse_bpm: 70.0,
                temperature_c: 36.5,
            },
            &lifebridge_domain::entities::RapidTests {
                hemoglobin_g_l: Some(130.0),
                ..Default::default()
            },
            false,
        )
        .unwrap();
    assert!(decision.eligible, "{decision:?}");
    let screening = store
        .record_screening(
            physician,
            lifebridge_store::screening::ScreeningForm {
                donor_id: donor.id,
                drive_id: drive.id,
                procedure: lifebridge_domain::Procedure::WholeBlood,
                planned_volume_ml: Some(400),
                questionnaire_version: lifebridge_store::screens::BUILT_IN_QUESTIONNAIRE.into(),
                answers: lifebridge_domain::questionnaire::built_in().nothing_to_declare(donor.sex),
                vitals: lifebridge_domain::measurements::Vitals {
                    weight_kg: 60.0,
                    systolic_mmhg: 118.0,
                    diastolic_mmhg: 76.0,
                    pulse_bpm: 70.0,
                    temperature_c: 36.5,
                },
                tests: lifebridge_domain::entities::RapidTests {
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
            .into_new(lifebridge_domain::entities::PhysicianDecision::Accept, None),
        )
        .unwrap();
    assert_eq!(status(&store), QueueStatus::Screened);
    let donation = store
        .start_collection(
            phleb,
            StartCollection {
                screening_id: screening.id,
                bag_set: BagSet {
                    kind: BagSetKind::Double,
                    lot: "L1".into(),
                },
                planned_volume_ml: 400,
                phlebotomist_id: phleb_id,
                arm: Arm::Right,
            },
        )
        .unwrap();
    assert_eq!(status(&store), QueueStatus::OnChair);
    let err = store.end_drive(nurse, drive.id).unwrap_err().to_string();
    assert!(err.contains("still on the chair"), "{err}");

    let finish = |volume, outcome| FinishCollection {
        donation_id: donation.id,
        ended_at: Some(Utc::now()),
        collected_volume_ml: volume,
        reactions: vec![],
        outcome,
    };
    let err = store
        .finish_collection(phleb, finish(300, Outcome::Complete))
        .unwrap_err()
        .to_string();
    assert!(err.contains("partial"), "{err}");
    let done = store
        .finish_collection(phleb, finish(300, Outcome::Partial))
        .unwrap();
    assert_eq!(
        (done.din.clone(), done.collected_volume_ml),
        (donation.din.clone(), Some(300))
    );
    assert!(
        store
            .finish_collection(phleb, finish(400, Outcome::Complete))
            .is_err()
    );
    assert_eq!(status(&store), QueueStatus::Done);

    let summary = store.drive_summary(drive.id).unwrap();
    let wb = &summary.by_procedure["whole_blood"];
    assert_eq!(wb.units, 2, "{summary:?}");
    assert_eq!(summary.still_on_chair, 0);
    // The bag's labels were never printed and scanned back: the drive cannot end.
    let err = store.end_drive(nurse, drive.id).unwrap_err().to_string();
    assert!(err.contains(done.din.as_str()), "{err}");
    // Label and scan back every bag of the drive (the demo's too), then it may end.
    for d in store.drive_donations(drive.id).unwrap() {
        for print in store.print_label_set(phleb, d.id, 1).unwrap() {
            let piece = lifebridge_domain::label_piece::LabelPiece::new(print.kind, print.piece);
            let scan = format!("]C0={}{}", d.din.as_str(), piece.flags());
            store.record_label_scan(phleb, d.id, &scan).unwrap();
        }
        store.release_donation(phleb, d.id).unwrap();
    }
    store.end_drive(nurse, drive.id).unwrap();
    assert!(store.check_in(nurse, drive.id, donor.id).is_err());
    assert!(store.check().unwrap().is_ok());
}
