//! The store against real SQLCipher files on disk.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use chrono::Duration;
use lifebridge_domain::entities::{
    Arm, BagSet, BagSetKind, EntityKind, Outcome, PhysicianDecision, RapidTests, Role, SiteKind,
};
use lifebridge_domain::measurements::{TestResult, Vitals};
use lifebridge_domain::resident_id::IdentityDocument;
use lifebridge_domain::{Procedure, Sex};
use lifebridge_store::records::{
    DonationCorrection, DonorDetails, NewDonation, NewDonor, NewDrive, NewStaff,
};
use lifebridge_store::screening::{NewScreening, ScreeningForm};
use lifebridge_store::{Actor, Store, StoreError, StoreKey, china_today, demo};
use rusqlite::Connection;

fn key() -> StoreKey {
    StoreKey::new("correct horse battery").unwrap()
}

struct Crew {
    nurse: Actor,
    physician: Actor,
    phlebotomist: Actor,
    phlebotomist_id: uuid::Uuid,
    drive_id: uuid::Uuid,
}

fn crew(store: &mut Store) -> Crew {
    let mut add = |name: &str, role| {
        store
            .add_staff(
                Actor::system(),
                NewStaff {
                    display_name: name.into(),
                    roles: vec![role],
                    pin: "246813".into(),
                },
            )
            .unwrap()
            .id
    };
    let nurse = add("李敏", Role::Registration);
    let physician = add("王强", Role::Physician);
    let phlebotomist = add("张静", Role::Phlebotomist);
    let drive = store
        .start_drive(
            Actor::staff(nurse),
            NewDrive {
                site_name: "城关中学".into(),
                site_kind: SiteKind::Vehicle,
                vehicle: Some("BUS-07".into()),
                date: china_today(),
                crew: vec![physician, phlebotomist],
            },
        )
        .unwrap();
    Crew {
        nurse: Actor::staff(nurse),
        physician: Actor::staff(physician),
        phlebotomist: Actor::staff(phlebotomist),
        phlebotomist_id: phlebotomist,
        drive_id: drive.id,
    }
}

fn donor(store: &mut Store, crew: &Crew, n: u64) -> lifebridge_domain::entities::Donor {
    let number = demo::synthetic_resident_id(n, china_today());
    let donor = store
        .register_donor(
            crew.nurse,
            NewDonor {
                document: IdentityDocument::parse("resident_id", &number, china_today()).unwrap(),
                details: DonorDetails {
                    name: format!("献血者{n}"),
                    sex: None,
                    birth_date: None,
                    phone: Some(format!("1390000{n:04}")),
                    address: None,
                    rural: Some(true),
                },
            },
        )
        .unwrap();
    registered(&donor);
    donor
}

thread_local! {
    /// Each donor's sex as registered, so the screening helpers answer the questions
    /// the questionnaire asks of them (each test runs on its own thread).
    static SEXES: std::cell::RefCell<std::collections::HashMap<uuid::Uuid, Sex>> =
        Default::default();
}

/// The answers of a donor with nothing to declare, for the built-in questionnaire.
fn declared_nothing(donor_id: uuid::Uuid) -> std::collections::BTreeMap<String, serde_json::Value> {
    let sex = SEXES.with(|s| s.borrow().get(&donor_id).copied().unwrap_or(Sex::Male));
    lifebridge_domain::questionnaire::built_in().nothing_to_declare(sex)
}

fn registered(donor: &lifebridge_domain::entities::Donor) {
    SEXES.with(|s| s.borrow_mut().insert(donor.id, donor.sex));
}

fn good_vitals() -> Vitals {
    Vitals {
        weight_kg: 70.0,
        systolic_mmhg: 120.0,
        diastolic_mmhg: 80.0,
        pulse_bpm: 72.0,
        temperature_c: 36.6,
    }
}

fn good_tests() -> RapidTests {
    RapidTests {
        hemoglobin_g_l: Some(140.0),
        alt_u_l: Some(20.0),
        hbsag: Some(TestResult::Negative),
        ..RapidTests::default()
    }
}

fn screening(
    crew: &Crew,
    donor_id: uuid::Uuid,
    vitals: Vitals,
    decision: PhysicianDecision,
) -> NewScreening {
    ScreeningForm {
        donor_id,
        drive_id: crew.drive_id,
        procedure: Procedure::WholeBlood,
        planned_volume_ml: Some(400),
        questionnaire_version: lifebridge_store::screens::BUILT_IN_QUESTIONNAIRE.into(),
        answers: declared_nothing(donor_id),
        vitals,
        tests: good_tests(),
        athlete: false,
        restrictions: Vec::new(),
        review_findings: Default::default(),
        consent: Some(lifebridge_store::demo::signed_consent(
            &lifebridge_domain::questionnaire::built_in().consent.version,
        )),
        witness_pin: None,
        abo_rh_note: None,
    }
    .into_new(decision, None)
}

fn collect(
    store: &mut Store,
    crew: &Crew,
    screening_id: uuid::Uuid,
) -> Result<lifebridge_domain::entities::Donation, StoreError> {
    let start = chrono::Utc::now();
    store.record_donation(
        crew.phlebotomist,
        NewDonation {
            screening_id,
            bag_set: BagSet {
                kind: BagSetKind::Double,
                lot: "LOT-1".into(),
            },
            planned_volume_ml: 400,
            collected_volume_ml: Some(395),
            started_at: start,
            ended_at: Some(start + Duration::minutes(9)),
            phlebotomist_id: crew.phlebotomist_id,
            arm: Arm::Left,
            reactions: vec![],
            outcome: Outcome::Complete,
        },
    )
}

fn training_range(store: &mut Store, first: u32, last: u32) {
    let range =
        lifebridge_domain::DinRange::new("Z9999".parse().unwrap(), 26, first, last).unwrap();
    store
        .register_din_range(
            Actor::system(),
            range,
            lifebridge_domain::entities::DinRangeSource::Training,
        )
        .unwrap();
}

fn new_store(dir: &Path) -> Store {
    Store::create(&dir.join("device.db"), &key(), "BUS-07").unwrap()
}

#[test]
fn wrong_key_is_a_clear_error_and_the_file_is_not_plain_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.db");
    let mut store = Store::create(&path, &key(), "BUS-07").unwrap();
    let crew = crew(&mut store);
    donor(&mut store, &crew, 1);
    drop(store);

    let err = Store::open(&path, &StoreKey::new("wrong passphrase").unwrap())
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::WrongKey(_)), "{err}");
    assert!(err.to_string().contains("key is wrong"), "{err}");

    // Without the key, the file is noise: no SQLite header, no donor names in clear.
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes.starts_with(b"SQLite format 3"));
    let wal = std::fs::read(dir.path().join("device.db-wal")).unwrap_or_default();
    for haystack in [&bytes, &wal] {
        assert!(
            !haystack
                .windows("献血者1".len())
                .any(|w| w == "献血者1".as_bytes())
        );
    }
    assert!(Store::open(&path, &key()).is_ok());
}

#[test]
fn opening_sets_wal_full_sync_and_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    let conn = store.connection();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    let sync: i64 = conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    let fk: i64 = conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!((mode.as_str(), sync, fk), ("wal", 2, 1));
}

#[test]
fn the_connection_handed_out_is_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let crew = crew(&mut store);
    let before = count(store.connection(), "change_log");
    // Writes go through actions (change log + audit) only; the handle refuses them.
    let forged = store.connection().execute(
        "INSERT INTO change_log (seq, device_id, hlc, entity, entity_id, body, audit_seq)
         VALUES (999, 'x', 'x', 'donor', 'x', '{}', 0)",
        [],
    );
    assert!(
        matches!(
            &forged,
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ReadOnly
        ),
        "{forged:?}"
    );
    // Actions still write, and leave it read-only behind them.
    donor(&mut store, &crew, 3);
    assert_eq!(count(store.connection(), "change_log"), before + 1);
    assert!(
        store
            .connection()
            .execute("DELETE FROM change_log", [])
            .is_err()
    );
    assert_eq!(count(store.connection(), "change_log"), before + 1);
}

#[test]
fn every_action_writes_rows_change_log_and_one_audit_entry_together() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let crew = crew(&mut store);
    let audit_before = count(store.connection(), "audit_log");
    let log_before = count(store.connection(), "change_log");
    let d = donor(&mut store, &crew, 7);
    assert_eq!(count(store.connection(), "audit_log"), audit_before + 1);
    assert_eq!(count(store.connection(), "change_log"), log_before + 1);
    let (entity, id, body, staff): (String, String, String, Option<String>) = store
        .connection()
        .query_row(
            "SELECT c.entity, c.entity_id, c.body, a.staff_id FROM change_log c
             JOIN audit_log a ON a.seq = c.audit_seq ORDER BY c.seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(entity, EntityKind::Donor.as_str());
    assert_eq!(id, d.id.to_string());
    assert_eq!(
        serde_json::from_str::<lifebridge_domain::entities::Donor>(&body).unwrap(),
        d
    );
    assert_eq!(staff, crew.nurse.staff_id.map(|s| s.to_string()));
    assert!(store.check().unwrap().is_ok());
}

#[test]
fn a_refused_action_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let crew = crew(&mut store);
    let d = donor(&mut store, &crew, 3);
    let before = (
        count(store.connection(), "audit_log"),
        count(store.connection(), "change_log"),
    );

    // Same document again: refused, naming the field.
    let again = store.register_donor(
        crew.nurse,
        NewDonor {
            document: d.document.clone(),
            details: DonorDetails::named("someone else"),
        },
    );
    let err = again.err().unwrap().to_string();
    assert!(err.starts_with("document:"), "{err}");

    // A physician cannot register donors: the role is checked by the store itself.
    let err = store
        .register_donor(
            crew.physician,
            NewDonor {
                document: IdentityDocument::parse("passport", "E1234567", china_today()).unwrap(),
                details: DonorDetails {
                    name: "Anna".into(),
                    sex: Some(Sex::Female),
                    birth_date: Some(chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap()),
                    phone: None,
                    address: None,
                    rural: None,
                },
            },
        )
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::NotPermitted { .. }), "{err}");

    // No DIN range yet: the donation is refused and no DIN is consumed.
    let s = store
        .record_screening(
            crew.physician,
            screening(&crew, d.id, good_vitals(), PhysicianDecision::Accept),
        )
        .unwrap();
    let mid = (
        count(store.connection(), "audit_log"),
        count(store.connection(), "change_log"),
    );
    assert_eq!(mid, (before.0 + 1, before.1 + 1));
    let err = collect(&mut store, &crew, s.id).err().unwrap();
    assert!(matches!(err, StoreError::DinsExhausted), "{err}");
    assert_eq!(
        mid,
        (
            count(store.connection(), "audit_log"),
            count(store.connection(), "change_log")
        )
    );
    assert!(store.issued_dins().unwrap().is_empty());
}

#[test]
fn dins_come_from_ranges_in_order_and_never_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let crew = crew(&mut store);
    training_range(&mut store, 10, 12);
    let mut dins = Vec::new();
    for n in 0..4 {
        let d = donor(&mut store, &crew, n);
        let s = store
            .record_screening(
                crew.physician,
                screening(&crew, d.id, good_vitals(), PhysicianDecision::Accept),
            )
            .unwrap();
        match collect(&mut store, &crew, s.id) {
            Ok(donation) => {
                // One screening, one donation.
                assert!(collect(&mut store, &crew, s.id).is_err());
                dins.push(donation.din.as_str().to_owned())
            }
            Err(e) => {
                assert!(matches!(e, StoreError::DinsExhausted), "{e}");
                assert_eq!(n, 3);
            }
        }
    }
    assert_eq!(dins, ["Z999926000010", "Z999926000011", "Z999926000012"]);
    assert_eq!(store.issued_dins().unwrap(), dins);
    let usage = store.din_usage().unwrap();
    assert_eq!(
        (usage[0].issued, usage[0].unused, usage[0].next.clone()),
        (3, 0, None)
    );

    // An overlapping range is refused; a fresh one is used next.
    let overlap = lifebridge_domain::DinRange::new("Z9999".parse().unwrap(), 26, 12, 20).unwrap();
    assert!(
        store
            .register_din_range(
                Actor::system(),
                overlap,
                lifebridge_domain::entities::DinRangeSource::Training
            )
            .is_err()
    );
    training_range(&mut store, 500, 600);
    assert_eq!(
        store.din_usage().unwrap()[1]
            .next
            .as_ref()
            .unwrap()
            .as_str(),
        "Z999926000500"
    );

    // The database itself refuses a second row for an issued DIN.
    let dup = store.raw_write_for_tests(|c| {
        c.execute(
            "INSERT INTO din_issued SELECT din, range_id, sequence, donation_id, issued_at FROM din_issued LIMIT 1",
            [],
        )
    });
    assert!(
        matches!(
            &dup,
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation
        ),
        "{dup:?}"
    );
}

#[test]
fn failing_donor_cannot_be_accepted_or_waived_but_can_be_deferred() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let crew = crew(&mut store);
    training_range(&mut store, 1, 100);
    let d = donor(&mut store, &crew, 11);
    let high_bp = Vitals {
        systolic_mmhg: 150.0,
        ..good_vitals()
    };
    let err = store
        .record_screening(
            crew.physician,
            screening(&crew, d.id, high_bp.clone(), PhysicianDecision::Accept),
        )
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("SYSTOLIC_HIGH"), "{err}");

    // Blood pressure is a hard stop (GB 18467-2011 clause 4 is mandatory): no waiver,
    // whatever the reason and even with the physician's PIN.
    let mut waive = screening(
        &crew,
        d.id,
        high_bp.clone(),
        PhysicianDecision::Override {
            overridden_codes: vec!["SYSTOLIC_HIGH".into()],
            reason: "white-coat hypertension, rechecked at 138".into(),
        },
    );
    waive.waiver_pin = Some("246813".into());
    let err = store.record_screening(crew.physician, waive).err().unwrap();
    assert!(matches!(err, StoreError::HardStop { .. }), "{err}");
    assert!(err.to_string().contains("SYSTOLIC_HIGH"), "{err}");

    // Deferral: recorded with the screening, and the next screening sees it.
    let d2 = donor(&mut store, &crew, 12);
    store
        .record_screening(
            crew.physician,
            screening(
                &crew,
                d2.id,
                good_vitals(),
                PhysicianDecision::Defer {
                    code: store
                        .rules()
                        .unwrap()
                        .deferrals
                        .iter()
                        .find(|k| !k.is_permanent() && k.until(china_today()).is_some())
                        .unwrap()
                        .code
                        .clone(),
                    until: None,
                },
            ),
        )
        .unwrap();
    let history = store.donor_history(d2.id).unwrap().unwrap();
    assert_eq!(history.deferrals.len(), 1);
    let decision = store
        .evaluate_eligibility(
            d2.id,
            china_today(),
            Procedure::WholeBlood,
            Some(400),
            &good_vitals(),
            &good_tests(),
            false,
        )
        .unwrap();
    assert!(!decision.eligible);
    assert!(
        decision
            .reasons
            .iter()
            .any(|r| r.code.as_str() == "DEFERRAL_ACTIVE"),
        "{decision:?}"
    );
    assert_eq!(decision.eligible_from, history.deferrals[0].until);
}

#[test]
fn history_blocks_a_second_whole_blood_donation_within_six_months() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let crew = crew(&mut store);
    training_range(&mut store, 1, 100);
    let d = donor(&mut store, &crew, 21);
    let s = store
        .record_screening(
            crew.physician,
            screening(&crew, d.id, good_vitals(), PhysicianDecision::Accept),
        )
        .unwrap();
    collect(&mut store, &crew, s.id).unwrap();
    let decision = store
        .evaluate_eligibility(
            d.id,
            china_today(),
            Procedure::WholeBlood,
            Some(400),
            &good_vitals(),
            &good_tests(),
            false,
        )
        .unwrap();
    assert!(!decision.eligible);
    assert_eq!(
        decision.eligible_from,
        china_today().checked_add_months(chrono::Months::new(6))
    );
}

#[test]
fn a_correction_is_a_new_record_and_the_original_stays() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let crew = crew(&mut store);
    training_range(&mut store, 1, 100);
    let d = donor(&mut store, &crew, 31);
    let s = store
        .record_screening(
            crew.physician,
            screening(&crew, d.id, good_vitals(), PhysicianDecision::Accept),
        )
        .unwrap();
    let original = collect(&mut store, &crew, s.id).unwrap();
    assert!(
        store
            .correct_donation(
                crew.phlebotomist,
                original.id,
                DonationCorrection::default(),
                "typo"
            )
            .is_err()
    );
    assert!(
        store
            .correct_donation(
                crew.phlebotomist,
                original.id,
                DonationCorrection {
                    collected_volume_ml: Some(250),
                    outcome: Some(Outcome::Partial),
                    ..Default::default()
                },
                "  "
            )
            .is_err()
    );
    let corrected = store
        .correct_donation(
            crew.phlebotomist,
            original.id,
            DonationCorrection {
                collected_volume_ml: Some(250),
                outcome: Some(Outcome::Partial),
                ..Default::default()
            },
            "scale re-read: bag under-filled",
        )
        .unwrap();
    assert_eq!(corrected.supersedes, Some(original.id));
    assert_eq!(corrected.din, original.din);
    assert_eq!(store.donation(original.id).unwrap().unwrap(), original);
    let history = store.donor_history(d.id).unwrap().unwrap();
    assert_eq!(history.donations, vec![corrected.clone()]);
    assert_eq!(history.cumulative_volume_ml(), 250);
    // Correcting the old version again is refused.
    assert!(
        store
            .correct_donation(
                crew.phlebotomist,
                original.id,
                DonationCorrection {
                    collected_volume_ml: Some(300),
                    ..Default::default()
                },
                "again"
            )
            .is_err()
    );
}

#[test]
fn crew_queries_find_donors_by_document_name_and_phone() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let crew = crew(&mut store);
    let d = donor(&mut store, &crew, 41);
    donor(&mut store, &crew, 42);
    let found = store
        .donor_by_document("resident_id", d.document.number())
        .unwrap()
        .unwrap();
    assert_eq!(found, d);
    assert_eq!(
        store.search_donors("献血者41", 10).unwrap(),
        vec![d.clone()]
    );
    assert_eq!(store.search_donors("00041", 10).unwrap(), vec![d.clone()]);
    assert_eq!(store.search_donors("%", 10).unwrap(), vec![]);
    assert_eq!(store.drives_on(china_today()).unwrap().len(), 1);
}

#[test]
fn check_names_a_tampered_audit_entry_and_a_change_log_gap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.db");
    let mut store = Store::create(&path, &key(), "BUS-07").unwrap();
    demo::seed(&mut store, 3, |_| Ok(())).unwrap();
    assert!(store.check().unwrap().is_ok());

    store
        .raw_write_for_tests(|c| {
            c.execute(
                "UPDATE audit_log SET action = 'donor.forget' WHERE seq = 5",
                [],
            )
        })
        .unwrap();
    let report = store.check().unwrap();
    assert!(!report.is_ok());
    assert_eq!(
        report.audit_fault.as_deref(),
        Some("audit entry 5 was altered after it was written")
    );

    store
        .raw_write_for_tests(|c| c.execute("DELETE FROM change_log WHERE seq = 4", []))
        .unwrap();
    let report = store.check().unwrap();
    assert_eq!(report.change_log_faults, ["change log entry 4 is missing"]);
}

#[test]
fn check_reports_a_chain_cut_before_the_head_the_station_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.db");
    let mut store = Store::create(&path, &key(), "BUS-07").unwrap();
    demo::seed(&mut store, 3, |_| Ok(())).unwrap();
    let head = store.audit_head().unwrap().unwrap();
    store.set_acked_audit_head(&head).unwrap();
    let report = store.check().unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.audit_behind_station, None);

    // The newest entries cut off: the chain still verifies on its own, but it no
    // longer reaches the head the station acknowledged.
    let seq = i64::try_from(head.seq).unwrap();
    store
        .raw_write_for_tests(|c| c.execute("DELETE FROM audit_log WHERE seq >= ?1", [seq - 1]))
        .unwrap();
    let report = store.check().unwrap();
    assert_eq!(report.audit_fault, None, "what is left still chains");
    assert!(!report.is_ok());
    let why = report.audit_behind_station.unwrap();
    assert!(
        why.contains(&format!("ends at entry {}", seq - 2))
            && why.contains(&format!("up to entry {seq}")),
        "{why}"
    );

    // The same length with another last entry: rewritten.
    let mut forked = store.audit_head().unwrap().unwrap();
    forked.hash = "0".repeat(64);
    store.set_acked_audit_head(&forked).unwrap();
    let why = store.check().unwrap().audit_behind_station.unwrap();
    assert!(why.contains("rewritten"), "{why}");
}

#[test]
fn an_edited_migration_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.db");
    drop(Store::create(&path, &key(), "BUS-07").unwrap());
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "key", "correct horse battery")
            .unwrap();
        conn.execute(
            "UPDATE schema_migration SET sha256 = 'x' WHERE version = 1",
            [],
        )
        .unwrap();
    }
    let err = Store::open(&path, &key()).err().unwrap();
    assert!(
        matches!(err, StoreError::MigrationTampered { version: 1, .. }),
        "{err}"
    );
}

#[test]
fn the_hybrid_clock_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.db");
    let mut store = Store::create(&path, &key(), "BUS-07").unwrap();
    let crew = crew(&mut store);
    donor(&mut store, &crew, 1);
    let last = |s: &Store| -> String {
        s.connection()
            .query_row("SELECT MAX(hlc) FROM change_log", [], |r| r.get(0))
            .unwrap()
    };
    let before = last(&store);
    drop(store);
    let mut store = Store::open(&path, &key()).unwrap();
    donor(&mut store, &crew, 2);
    assert!(last(&store) > before);
}

fn count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_mistyped_screening_is_corrected_by_a_new_record_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let crew = crew(&mut store);
    let d = donor(&mut store, &crew, 51);
    let original = store
        .record_screening(
            crew.physician,
            screening(&crew, d.id, good_vitals(), PhysicianDecision::Accept),
        )
        .unwrap();
    let fix = |weight| lifebridge_store::screening::ScreeningCorrection {
        vitals: Some(Vitals {
            weight_kg: weight,
            ..good_vitals()
        }),
        ..Default::default()
    };
    // A correction that would make an accepted donor fail is refused.
    let err = store
        .correct_screening(crew.physician, original.id, fix(40.0), "weight mistyped")
        .unwrap_err()
        .to_string();
    assert!(err.contains("WEIGHT_BELOW_MIN"), "{err}");
    assert!(
        store
            .correct_screening(crew.physician, original.id, fix(72.0), " ")
            .is_err()
    );
    assert!(
        store
            .correct_screening(crew.nurse, original.id, fix(72.0), "typo")
            .is_err()
    );
    let corrected = store
        .correct_screening(
            crew.physician,
            original.id,
            fix(72.0),
            "weight mistyped: 70 → 72",
        )
        .unwrap();
    assert_eq!(corrected.supersedes, Some(original.id));
    assert_eq!(
        corrected.correction_reason.as_deref(),
        Some("weight mistyped: 70 → 72")
    );
    assert_eq!(store.screening(original.id).unwrap().unwrap(), original);
    let history = store.donor_history(d.id).unwrap().unwrap();
    assert_eq!(history.screenings, vec![corrected.clone()]);
    assert!(
        store
            .correct_screening(crew.physician, original.id, fix(73.0), "again")
            .is_err()
    );
    assert!(store.check().unwrap().is_ok());
}

#[test]
fn check_names_a_row_edited_behind_the_change_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let crew = crew(&mut store);
    let d = donor(&mut store, &crew, 61);
    assert!(store.check().unwrap().is_ok());
    store
        .raw_write_for_tests(|c| {
            c.execute(
                "UPDATE donor SET body = json_set(body, '$.name', '别人') WHERE id = ?1",
                [d.id.to_string()],
            )
        })
        .unwrap();
    let report = store.check().unwrap();
    assert_eq!(report.rows_out_of_step, [format!("donor {}", d.id)]);
}

/// A first start that died half-way (power cut, full disk) leaves only a file beside the
/// store, never a half-made store: the next start creates the store as if nothing had
/// happened, and nothing but the store's own files is left in the folder.
#[test]
fn a_first_start_that_died_half_way_does_not_block_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.db");
    std::fs::write(dir.path().join("device.db.creating"), b"half a database").unwrap();
    std::fs::write(dir.path().join("device.db.creating-wal"), b"half a log").unwrap();
    assert!(!path.exists(), "nothing stands at the store's own path");

    let store = Store::open_or_create(&path, &key(), "BUS-07").unwrap();
    assert_eq!(store.device_name().unwrap(), "BUS-07");
    let device_id = store.device_id();
    drop(store);
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".creating"))
        .collect();
    left.sort();
    assert!(left.is_empty(), "left behind: {left:?}");

    let reopened = Store::open(&path, &key()).unwrap();
    assert_eq!(reopened.device_id(), device_id);
    assert!(reopened.check().unwrap().is_ok());
    assert!(matches!(
        Store::create(&path, &key(), "BUS-08").err().unwrap(),
        StoreError::AlreadyExists(_)
    ));
}

/// On the tablet only a supervisor adds accounts, each name once (staff pick themselves
/// by name); a refusal changes nothing, and the new account signs in with its own PIN.
#[test]
fn supervisors_add_colleagues_with_unique_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let crew = crew(&mut store);
    let supervisor = store
        .add_staff(
            Actor::system(),
            NewStaff {
                display_name: "护士长 孙艳".into(),
                roles: vec![Role::Supervisor],
                pin: "753186".into(),
            },
        )
        .unwrap();
    let newcomer = |name: &str| NewStaff {
        display_name: name.into(),
        roles: vec![Role::Registration, Role::Phlebotomist],
        pin: "246813".into(),
    };
    let before = store.last_change_seq().unwrap();
    let err = store.add_staff(crew.nurse, newcomer("吴静")).err().unwrap();
    assert!(
        matches!(
            err,
            StoreError::NotPermitted {
                role: "supervisor",
                ..
            }
        ),
        "{err}"
    );
    let err = store
        .add_staff(Actor::staff(supervisor.id), newcomer("李敏"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("already has an account"), "{err}");
    assert_eq!(
        store.last_change_seq().unwrap(),
        before,
        "refusals write nothing"
    );

    let added = store
        .add_staff(Actor::staff(supervisor.id), newcomer("吴静"))
        .unwrap();
    assert!(store.sign_in(added.id, "246813").unwrap().is_ok());
    assert!(added.has_role(Role::Phlebotomist) && !added.has_role(Role::Physician));
}

/// The domain's PIN policy holds on the tablet too: an account whose role signs (a
/// dispatch, a medical decision, a new account) needs 6 digits, others 4 to 8; the
/// refusal is the catalogue's, names the field and what is allowed, and writes nothing.
#[test]
fn a_tablet_account_that_signs_needs_six_digits() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(dir.path());
    let before = store.last_change_seq().unwrap();
    let account = |roles: Vec<Role>, pin: &str| NewStaff {
        display_name: "司机 陈刚".into(),
        roles,
        pin: pin.into(),
    };
    for role in [Role::Driver, Role::Physician, Role::Supervisor] {
        let err = store
            .add_staff(
                Actor::system(),
                account(vec![Role::Registration, role], "2468"),
            )
            .err()
            .unwrap();
        match &err {
            StoreError::Refused { field, message } => {
                assert_eq!(field, "pin");
                assert_eq!(message.code, "staff_account.pin_too_short_to_sign");
            }
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains("at least 6 digits"), "{err}");
        assert!(err.to_string().contains(role.as_str()), "{err}");
    }
    let err = store
        .add_staff(Actor::system(), account(vec![Role::Registration], "24a8"))
        .err()
        .unwrap();
    assert!(
        matches!(&err, StoreError::Refused { field, message }
            if field == "pin" && message.code == "staff_account.pin_format"),
        "{err}"
    );
    assert_eq!(
        store.last_change_seq().unwrap(),
        before,
        "refusals write nothing"
    );

    // Roles that do not sign keep 4 digits; a signing role with 6 signs in.
    let nurse = store
        .add_staff(Actor::system(), account(vec![Role::Registration], "2468"))
        .unwrap();
    assert!(store.sign_in(nurse.id, "2468").unwrap().is_ok());
    let driver = store
        .add_staff(
            Actor::system(),
            NewStaff {
                display_name: "司机 赵勇".into(),
                ..account(vec![Role::Driver], "246813")
            },
        )
        .unwrap();
    assert!(store.sign_in(driver.id, "246813").unwrap().is_ok());
}
