//! Hard stops, waivers, matching deferrals, product-scoped restrictions and check-in
//! warnings, against real SQLCipher files.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Duration, Months};
use lifebridge_domain::entities::{
    Arm, BagSet, BagSetKind, Outcome, PhysicianDecision, RapidTests, Role, SiteKind,
};
use lifebridge_domain::measurements::{TestResult, Vitals};
use lifebridge_domain::product::ProductClass;
use lifebridge_domain::questionnaire::built_in;
use lifebridge_domain::resident_id::IdentityDocument;
use lifebridge_domain::{Procedure, Sex};
use lifebridge_store::records::{DonorDetails, NewDonation, NewDonor, NewDrive, NewStaff};
use lifebridge_store::screening::{NewDeferral, NewScreening, ScreeningCorrection, ScreeningForm};
use lifebridge_store::{Actor, Store, StoreError, StoreKey, china_today, demo};
use serde_json::{Value, json};

const PIN: &str = "246813";

struct Crew {
    nurse: Actor,
    physician: Actor,
    phlebotomist: Actor,
    phlebotomist_id: uuid::Uuid,
    drive_id: uuid::Uuid,
}

fn store(dir: &Path) -> (Store, Crew) {
    let key = StoreKey::new("correct horse battery").unwrap();
    let mut store = Store::create(&dir.join("device.db"), &key, "BUS-07").unwrap();
    let mut add = |name: &str, role| {
        store
            .add_staff(
                Actor::system(),
                NewStaff {
                    display_name: name.into(),
                    roles: vec![role],
                    pin: PIN.into(),
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
    let range = lifebridge_domain::DinRange::new("Z9999".parse().unwrap(), 26, 1, 100).unwrap();
    store
        .register_din_range(
            Actor::system(),
            range,
            lifebridge_domain::entities::DinRangeSource::Training,
        )
        .unwrap();
    (
        store,
        Crew {
            nurse: Actor::staff(nurse),
            physician: Actor::staff(physician),
            phlebotomist: Actor::staff(phlebotomist),
            phlebotomist_id: phlebotomist,
            drive_id: drive.id,
        },
    )
}

fn donor(store: &mut Store, crew: &Crew, n: u64) -> uuid::Uuid {
    let number = demo::synthetic_resident_id(n, china_today());
    let donor = store
        .register_donor(
            crew.nurse,
            NewDonor {
                document: IdentityDocument::parse("resident_id", &number, china_today()).unwrap(),
                details: DonorDetails::named(format!("献血者{n}")),
            },
        )
        .unwrap();
    registered(&donor);
    donor.id
}
thread_local! {
    /// Each donor's sex as registered, so the screening helpers answer the questions
    /// the questionnaire asks of them (each test runs on its own thread).
    static SEXES: std::cell::RefCell<std::collections::HashMap<uuid::Uuid, Sex>> =
        Default::default();
}

/// The answers of a donor with nothing to declare, for the built-in questionnaire.
fn declared_nothing(donor_id: uuid::Uuid) -> BTreeMap<String, Value> {
    let sex = SEXES.with(|s| s.borrow().get(&donor_id).copied().unwrap_or(Sex::Male));
    built_in().nothing_to_declare(sex)
}

fn registered(donor: &lifebridge_domain::entities::Donor) {
    SEXES.with(|s| s.borrow_mut().insert(donor.id, donor.sex));
}

fn minor(store: &mut Store, crew: &Crew) -> uuid::Uuid {
    let birth = china_today() - Duration::days(17 * 365);
    store
        .register_donor(
            crew.nurse,
            NewDonor {
                document: IdentityDocument::parse("passport", "E12345678", china_today()).unwrap(),
                details: DonorDetails {
                    name: "小明".into(),
                    sex: Some(Sex::Male),
                    birth_date: Some(birth),
                    phone: None,
                    address: None,
                    rural: None,
                },
            },
        )
        .unwrap()
        .id
}

fn vitals() -> Vitals {
    Vitals {
        weight_kg: 70.0,
        systolic_mmhg: 120.0,
        diastolic_mmhg: 80.0,
        pulse_bpm: 72.0,
        temperature_c: 36.6,
    }
}

fn tests(hbsag: TestResult) -> RapidTests {
    RapidTests {
        hemoglobin_g_l: Some(140.0),
        alt_u_l: Some(20.0),
        hbsag: Some(hbsag),
        hematocrit: Some(0.42),
        platelet_count_10e9_l: Some(250.0),
        ..RapidTests::default()
    }
}

fn form(crew: &Crew, donor_id: uuid::Uuid, decision: PhysicianDecision) -> NewScreening {
    ScreeningForm {
        donor_id,
        drive_id: crew.drive_id,
        procedure: Procedure::WholeBlood,
        planned_volume_ml: Some(400),
        questionnaire_version: lifebridge_store::screens::BUILT_IN_QUESTIONNAIRE.into(),
        answers: declared_nothing(donor_id),
        vitals: vitals(),
        tests: tests(TestResult::Negative),
        athlete: false,
        restrictions: Vec::new(),
        review_findings: Default::default(),
        consent: Some(lifebridge_store::demo::signed_consent(
            &built_in().consent.version,
        )),
        witness_pin: None,
        abo_rh_note: None,
    }
    .into_new(decision, None)
}

fn apheresis(mut f: NewScreening) -> NewScreening {
    f.form.procedure = Procedure::ApheresisPlatelets;
    f.form.planned_volume_ml = None;
    f
}

fn waiver(codes: &[&str]) -> PhysicianDecision {
    PhysicianDecision::Override {
        overridden_codes: codes.iter().map(|c| (*c).to_owned()).collect(),
        reason: "special matching for an HLA-matched patient".into(),
    }
}

fn collect(
    store: &mut Store,
    crew: &Crew,
    screening_id: uuid::Uuid,
    procedure: Procedure,
    started_at: chrono::DateTime<chrono::Utc>,
) -> Result<lifebridge_domain::entities::Donation, StoreError> {
    let (kind, volume) = match procedure {
        Procedure::WholeBlood => (BagSetKind::Double, 400),
        _ => (BagSetKind::ApheresisKit, 250),
    };
    store.record_donation(
        crew.phlebotomist,
        NewDonation {
            screening_id,
            bag_set: BagSet {
                kind,
                lot: "LOT-1".into(),
            },
            planned_volume_ml: volume,
            collected_volume_ml: Some(volume),
            started_at,
            ended_at: Some(started_at + Duration::minutes(9)),
            phlebotomist_id: crew.phlebotomist_id,
            arm: Arm::Left,
            reactions: vec![],
            outcome: Outcome::Complete,
        },
    )
}

fn screenings(store: &Store) -> i64 {
    store
        .connection()
        .query_row("SELECT COUNT(*) FROM screening", [], |r| r.get(0))
        .unwrap()
}

fn last_audit(store: &Store) -> (String, String) {
    store
        .connection()
        .query_row(
            "SELECT action, detail FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

/// Accepting and waiving are both refused as hard stops, even with every code named, a
/// reason and the right PIN, and nothing is written.
fn assert_hard_stop(store: &mut Store, crew: &Crew, f: NewScreening, code: &str) {
    let before = screenings(store);
    let mut accept = f.clone();
    accept.decision = PhysicianDecision::Accept;
    match store.record_screening(crew.physician, accept) {
        Err(StoreError::HardStop { codes, .. }) => assert!(codes.contains(&code.to_owned())),
        other => panic!("accept of {code}: expected a hard stop, got {other:?}"),
    }
    let decision = store
        .evaluate_screening(
            f.form.donor_id,
            china_today(),
            f.form.procedure,
            f.form.planned_volume_ml,
            &f.form.vitals,
            &f.form.tests,
            false,
            &f.form.restrictions,
            Some(&f.form.questionnaire()),
        )
        .unwrap();
    let named: Vec<&str> = decision.reasons.iter().map(|r| r.code.as_str()).collect();
    let mut waive = f;
    waive.decision = waiver(&named);
    waive.waiver_pin = Some(PIN.into());
    match store.record_screening(crew.physician, waive) {
        Err(StoreError::HardStop { codes, message }) => {
            assert!(codes.contains(&code.to_owned()), "{codes:?}");
            assert!(message.contains("cannot be waived"), "{message}");
        }
        other => panic!("waiver of {code}: expected a hard stop, got {other:?}"),
    }
    assert_eq!(
        screenings(store),
        before,
        "a refused decision writes nothing"
    );
}

#[test]
fn every_hard_stop_is_refused_even_with_a_reason_and_pin() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());

    // HBsAg positive.
    let d = donor(&mut store, &crew, 1);
    let mut f = form(&crew, d, PhysicianDecision::Accept);
    f.form.tests = tests(TestResult::Positive);
    assert_hard_stop(&mut store, &crew, f, "HBSAG_POSITIVE");

    // Under age.
    let d = minor(&mut store, &crew);
    assert_hard_stop(
        &mut store,
        &crew,
        form(&crew, d, PhysicianDecision::Accept),
        "AGE_BELOW_MIN",
    );

    // Out-of-range vitals: the old override is gone too.
    let d = donor(&mut store, &crew, 2);
    let mut f = form(&crew, d, PhysicianDecision::Accept);
    f.form.vitals.systolic_mmhg = 150.0;
    assert_hard_stop(&mut store, &crew, f, "SYSTOLIC_HIGH");

    // A permanent deferral on record (HIV).
    let d = donor(&mut store, &crew, 3);
    store
        .record_deferral(
            crew.physician,
            NewDeferral {
                donor_id: d,
                code: "HIV_RISK".into(),
                reason: "questionnaire".into(),
                start: china_today(),
                until: None,
            },
        )
        .unwrap();
    assert_hard_stop(
        &mut store,
        &crew,
        form(&crew, d, PhysicianDecision::Accept),
        "DEFERRAL_PERMANENT",
    );

    // A donation interval: 400 mL of whole blood earlier today.
    let d = donor(&mut store, &crew, 4);
    let s = store
        .record_screening(crew.physician, form(&crew, d, PhysicianDecision::Accept))
        .unwrap();
    collect(
        &mut store,
        &crew,
        s.id,
        Procedure::WholeBlood,
        chrono::Utc::now(),
    )
    .unwrap();
    assert_hard_stop(
        &mut store,
        &crew,
        form(&crew, d, PhysicianDecision::Accept),
        "INTERVAL_NOT_MET",
    );
    // … and apheresis platelets after whole blood the same day (3 months).
    assert_hard_stop(
        &mut store,
        &crew,
        apheresis(form(&crew, d, PhysicianDecision::Accept)),
        "INTERVAL_NOT_MET",
    );
}

#[test]
fn the_apheresis_platelet_interval_is_waived_only_after_a_week_with_reason_and_pin() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor(&mut store, &crew, 7);
    let first = store
        .record_screening(
            crew.physician,
            apheresis(form(&crew, d, PhysicianDecision::Accept)),
        )
        .unwrap();
    // Collected 8 days ago (the history counts the collection's own date).
    collect(
        &mut store,
        &crew,
        first.id,
        Procedure::ApheresisPlatelets,
        chrono::Utc::now() - Duration::days(8),
    )
    .unwrap();

    let again = || apheresis(form(&crew, d, waiver(&["INTERVAL_NOT_MET"])));
    // No PIN: refused, nothing written.
    let before = screenings(&store);
    let err = store.record_screening(crew.physician, again()).unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "waiver_pin"),
        "{err}"
    );
    // A wrong PIN: refused.
    let mut wrong = again();
    wrong.waiver_pin = Some("9999".into());
    let err = store.record_screening(crew.physician, wrong).unwrap_err();
    assert!(err.to_string().contains("not signed"), "{err}");
    // No reason: refused.
    let mut no_reason = again();
    no_reason.decision = PhysicianDecision::Override {
        overridden_codes: vec!["INTERVAL_NOT_MET".into()],
        reason: " ".into(),
    };
    no_reason.waiver_pin = Some(PIN.into());
    assert!(store.record_screening(crew.physician, no_reason).is_err());
    assert_eq!(screenings(&store), before);

    // Reason and the physician's own PIN: recorded, audited with the rules version.
    let mut signed = again();
    signed.waiver_pin = Some(PIN.into());
    let s = store.record_screening(crew.physician, signed).unwrap();
    assert_eq!(s.failed_rules, ["INTERVAL_NOT_MET"]);
    let (action, detail) = last_audit(&store);
    assert_eq!(action, "screening.record");
    assert!(detail.contains("special matching"), "{detail}");
    assert!(detail.contains(&store.rules().unwrap().version), "{detail}");
    assert!(!detail.contains(PIN), "the PIN is never stored: {detail}");
}

#[test]
fn a_deferral_must_use_the_code_of_the_failing_rule() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor(&mut store, &crew, 8);
    let positive = |decision| {
        let mut f = form(&crew, d, decision);
        f.form.tests = tests(TestResult::Positive);
        f
    };
    let err = store
        .record_screening(
            crew.physician,
            positive(PhysicianDecision::Defer {
                code: "COMMON_COLD".into(),
                until: None,
            }),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("HBSAG_POSITIVE"), "{err}");
    assert_eq!(screenings(&store), 0);
    store
        .record_screening(
            crew.physician,
            positive(PhysicianDecision::Defer {
                code: "HBSAG_POSITIVE".into(),
                until: None,
            }),
        )
        .unwrap();
    let history = store.donor_history(d).unwrap().unwrap();
    assert_eq!(history.deferrals.len(), 1);
    assert_eq!(history.deferrals[0].code, "HBSAG_POSITIVE");
    assert_eq!(history.deferrals[0].until, None, "permanent");
    let (_, detail) = last_audit(&store);
    assert!(detail.contains("HBSAG_POSITIVE"), "{detail}");

    // A finding of the physician's own, for a donor who passes, stays possible.
    let d2 = donor(&mut store, &crew, 9);
    store
        .record_screening(
            crew.physician,
            form(
                &crew,
                d2,
                PhysicianDecision::Defer {
                    code: "TATTOO".into(),
                    until: None,
                },
            ),
        )
        .unwrap();
}

#[test]
fn a_screening_without_an_hbsag_answer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor(&mut store, &crew, 10);
    let mut f = form(&crew, d, PhysicianDecision::Accept);
    f.form.tests.hbsag = None;
    let err = store
        .record_screening(crew.physician, f.clone())
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "tests.hbsag"),
        "{err}"
    );
    f.form.tests.hbsag = Some(TestResult::NotDone);
    let s = store.record_screening(crew.physician, f).unwrap();
    assert_eq!(s.tests.hbsag, Some(TestResult::NotDone));
}

#[test]
fn antiplatelet_drugs_exclude_platelets_from_the_bag_and_refuse_apheresis_platelets() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor(&mut store, &crew, 11);
    store.check_in(crew.nurse, crew.drive_id, d).unwrap();
    let mut f = form(&crew, d, PhysicianDecision::Accept);
    f.form.restrictions = vec!["ANTIPLATELET_DRUG".into()];
    let s = store.record_screening(crew.physician, f).unwrap();
    let history = store.donor_history(d).unwrap().unwrap();
    assert_eq!(history.deferrals.len(), 1);
    assert_eq!(
        history.deferrals[0].until,
        Some(china_today() + Duration::days(5))
    );
    let queue = store.chair_queue(crew.drive_id).unwrap();
    let entry = queue.iter().find(|e| e.donor.id == d).unwrap();
    assert_eq!(
        entry.excluded_products,
        [
            ProductClass::PlateletWholeBlood,
            ProductClass::ApheresisPlatelets
        ]
    );
    let donation = collect(
        &mut store,
        &crew,
        s.id,
        Procedure::WholeBlood,
        chrono::Utc::now(),
    )
    .unwrap();
    assert_eq!(
        donation.excluded_products,
        [
            ProductClass::PlateletWholeBlood,
            ProductClass::ApheresisPlatelets
        ]
    );

    // Apheresis platelets with the restriction: a hard stop at screening…
    let d2 = donor(&mut store, &crew, 12);
    let mut f = apheresis(form(&crew, d2, PhysicianDecision::Accept));
    f.form.restrictions = vec!["ANTIPLATELET_DRUG".into()];
    assert_hard_stop(&mut store, &crew, f, "DEFERRAL_ACTIVE");
    // … and at collection, when the drug is reported after the screening.
    let s2 = store
        .record_screening(
            crew.physician,
            apheresis(form(&crew, d2, PhysicianDecision::Accept)),
        )
        .unwrap();
    store
        .record_deferral(
            crew.physician,
            NewDeferral {
                donor_id: d2,
                code: "ANTIPLATELET_DRUG".into(),
                reason: "aspirin yesterday".into(),
                start: china_today(),
                until: None,
            },
        )
        .unwrap();
    let err = collect(
        &mut store,
        &crew,
        s2.id,
        Procedure::ApheresisPlatelets,
        chrono::Utc::now(),
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::HardStop { .. }), "{err}");
    assert!(err.to_string().contains("ANTIPLATELET_DRUG"), "{err}");

    // A whole-donation code is not a restriction.
    let mut f = form(
        &crew,
        donor(&mut store, &crew, 13),
        PhysicianDecision::Accept,
    );
    f.form.restrictions = vec!["COMMON_COLD".into()];
    let err = store.record_screening(crew.physician, f).unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "restrictions[0]"),
        "{err}"
    );
}

#[test]
fn check_in_knows_what_eligibility_knows() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor(&mut store, &crew, 14);
    store.check_in(crew.nurse, crew.drive_id, d).unwrap();
    let s = store
        .record_screening(crew.physician, form(&crew, d, PhysicianDecision::Accept))
        .unwrap();
    collect(
        &mut store,
        &crew,
        s.id,
        Procedure::WholeBlood,
        chrono::Utc::now(),
    )
    .unwrap();

    // Gave 400 mL today: red, with the date.
    let status = store.check_in_status(d, china_today()).unwrap();
    assert!(!status.eligible_today);
    let six_months = china_today()
        .checked_add_months(chrono::Months::new(6))
        .unwrap();
    assert_eq!(status.next_eligible, Some(six_months));
    assert_eq!(status.reasons[0].code.as_str(), "INTERVAL_NOT_MET");
    // Checking in again needs an explicit confirmation…
    let err = store.check_in(crew.nurse, crew.drive_id, d).unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "confirmation"),
        "{err}"
    );
    assert!(err.to_string().contains(&six_months.to_string()), "{err}");
    // … which is audited with the failing rules.
    store
        .check_in_confirmed(
            crew.nurse,
            crew.drive_id,
            d,
            Some("came back for a blood-group card only"),
        )
        .unwrap();
    let (action, detail) = last_audit(&store);
    assert_eq!(action, "visit.check_in");
    assert!(detail.contains("INTERVAL_NOT_MET"), "{detail}");
    assert!(detail.contains("blood-group card"), "{detail}");

    // A deferred donor is red too.
    let d2 = donor(&mut store, &crew, 15);
    store
        .record_deferral(
            crew.physician,
            NewDeferral {
                donor_id: d2,
                code: "TATTOO".into(),
                reason: "tattoo last month".into(),
                start: china_today() - Duration::days(30),
                until: None,
            },
        )
        .unwrap();
    let status = store.check_in_status(d2, china_today()).unwrap();
    assert!(!status.eligible_today);
    assert_eq!(status.reasons[0].code.as_str(), "DEFERRAL_ACTIVE");
}

#[test]
fn one_donor_is_in_one_drive_queue_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor(&mut store, &crew, 16);
    store.check_in(crew.nurse, crew.drive_id, d).unwrap();
    let other = store
        .start_drive(
            crew.nurse,
            NewDrive {
                site_name: "献血屋 · 人民广场".into(),
                site_kind: SiteKind::DonationHouse,
                vehicle: None,
                date: china_today(),
                crew: vec![],
            },
        )
        .unwrap();
    let err = store.check_in(crew.nurse, other.id, d).unwrap_err();
    assert!(err.to_string().contains("another drive"), "{err}");
    // Once that drive has ended, the donor may check in elsewhere.
    store.end_drive(crew.physician, crew.drive_id).unwrap();
    store.check_in(crew.nurse, other.id, d).unwrap();
}

#[test]
fn a_rules_table_waits_for_its_effective_date() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _crew) = store(dir.path());
    let example = include_str!("../../../docs/rules/provincial-example.json");
    let mut future: serde_json::Value = serde_json::from_str(example).unwrap();
    future["version"] = "CN-ZJ-FUTURE/1".into();
    future["effective_from"] = (china_today() + Duration::days(1)).to_string().into();
    let mut current: serde_json::Value = serde_json::from_str(example).unwrap();
    current["effective_from"] = china_today().to_string().into();
    let adopt = |v: &serde_json::Value, at: &str| {
        store
            .raw_write_for_tests(|c| {
            c.execute(
                "INSERT INTO reference_document (kind, version, body, adopted_at) VALUES ('rules', ?1, ?2, ?3)",
                (v["version"].as_str().unwrap(), v.to_string(), at),
            )
            })
            .unwrap();
    };
    assert_eq!(store.rules().unwrap().region, "CN");
    adopt(&current, "2026-01-01T00:00:00Z");
    assert_eq!(store.rules().unwrap().version, "CN-ZJ-EXAMPLE-2026/1");
    // Adopted later but not yet in force: the current table stays.
    adopt(&future, "2026-01-02T00:00:00Z");
    assert_eq!(store.rules().unwrap().version, "CN-ZJ-EXAMPLE-2026/1");
    assert_eq!(store.rules().unwrap().region, "CN-ZJ");
}

// The health questionnaire at the screening: answers count in eligibility, a deferral
// for an answer ends when the answer's does, answers under review need the physician's
// finding, and screenings answered against an older version (or before the
// questionnaire was data) still evaluate.

/// A donor of `sex` (typed details: a passport carries neither sex nor birth date).
fn donor_of(store: &mut Store, crew: &Crew, sex: Sex, number: &str) -> uuid::Uuid {
    store
        .register_donor(
            crew.nurse,
            NewDonor {
                document: IdentityDocument::parse("passport", number, china_today()).unwrap(),
                details: DonorDetails {
                    name: "赵云".into(),
                    sex: Some(sex),
                    birth_date: Some(china_today() - Duration::days(30 * 365)),
                    phone: None,
                    address: None,
                    rural: None,
                },
            },
        )
        .unwrap()
        .id
}

/// The screening form of a donor who passes every rule, with these answers.
fn answered_form(
    crew: &Crew,
    donor_id: uuid::Uuid,
    answers: BTreeMap<String, Value>,
) -> ScreeningForm {
    let mut f = form(crew, donor_id, PhysicianDecision::Accept).form;
    f.answers = answers;
    f
}

fn answered(sex: Sex, changes: Value) -> BTreeMap<String, Value> {
    let mut answers = built_in().nothing_to_declare(sex);
    for (k, v) in changes.as_object().unwrap() {
        answers.insert(k.clone(), v.clone());
    }
    answers
}

fn rows(store: &Store, table: &str) -> i64 {
    store
        .connection()
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn codes(decision: &lifebridge_domain::eligibility::Decision) -> Vec<&str> {
    decision.reasons.iter().map(|r| r.code.as_str()).collect()
}

#[test]
fn a_tattoo_three_months_ago_defers_until_a_year_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor_of(&mut store, &crew, Sex::Male, "E10000001");
    let f = answered_form(
        &crew,
        d,
        answered(
            Sex::Male,
            json!({"tattoo": true, "tattoo_when": {"ago": 3, "unit": "months"}}),
        ),
    );
    let today = china_today();
    let tattooed = today.checked_sub_months(Months::new(3)).unwrap();
    let until = tattooed.checked_add_months(Months::new(12)).unwrap();

    let view = store.screening_view(&f).unwrap();
    assert_eq!(codes(&view.decision), ["QUESTIONNAIRE_DEFERRAL"]);
    assert_eq!(view.decision.eligible_from, Some(until));
    assert!(!view.waivable, "a tattoo is not waived");

    // Accepting is a hard stop and writes nothing.
    let before = rows(&store, "screening");
    let err = store
        .record_screening(
            crew.physician,
            f.clone().into_new(PhysicianDecision::Accept, None),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::HardStop { .. }), "{err}");
    assert_eq!(rows(&store, "screening"), before);

    // Deferred under the answer's own code: the deferral ends a year after the tattoo,
    // not a year after today.
    let screening = store
        .record_screening(
            crew.physician,
            f.into_new(
                PhysicianDecision::Defer {
                    code: "TATTOO".into(),
                    until: None,
                },
                None,
            ),
        )
        .unwrap();
    assert_eq!(screening.failed_rules, ["QUESTIONNAIRE_DEFERRAL"]);
    assert_eq!(screening.answers["tattoo"], json!(true));
    assert_eq!(
        screening.answers["tattoo_when"],
        json!({"ago": 3, "unit": "months"})
    );
    let history = store.donor_history(d).unwrap().unwrap();
    let deferral = history
        .active_deferrals(today)
        .into_iter()
        .find(|x| x.screening_id == Some(screening.id))
        .cloned()
        .unwrap();
    assert_eq!(deferral.code, "TATTOO");
    assert_eq!(deferral.until, Some(until));
    // Reopened from the file: what was written is what was shown.
    drop(store);
    let key = StoreKey::new("correct horse battery").unwrap();
    let store = Store::open(&dir.path().join("device.db"), &key).unwrap();
    assert_eq!(
        store.screening(screening.id).unwrap().unwrap().answers,
        screening.answers
    );
    assert!(store.check().unwrap().is_ok());
}

#[test]
fn an_answer_the_questionnaire_does_not_have_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor_of(&mut store, &crew, Sex::Female, "E10000002");
    let before = (rows(&store, "screening"), rows(&store, "change_log"));
    for (changes, field) in [
        (json!({"haircut": true}), "questionnaire.answers.haircut"),
        (json!({"tattoo": "maybe"}), "questionnaire.answers.tattoo"),
        // The old checkbox is not an answer to today's questionnaire.
        (
            json!({"no_findings": true}),
            "questionnaire.answers.no_findings",
        ),
    ] {
        let f = answered_form(&crew, d, answered(Sex::Female, changes));
        match store.screening_view(&f) {
            Err(StoreError::Invalid { field: got, .. }) => assert_eq!(got, field),
            other => panic!("{field}: expected a refusal, got {other:?}"),
        }
        match store.record_screening(crew.physician, f.into_new(PhysicianDecision::Accept, None)) {
            Err(StoreError::Invalid { field: got, .. }) => assert_eq!(got, field),
            other => panic!("{field}: expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(
        (rows(&store, "screening"), rows(&store, "change_log")),
        before
    );
    // A question for the other sex is refused the same way.
    let m = donor_of(&mut store, &crew, Sex::Male, "E10000003");
    let mut answers = answered(Sex::Male, json!({}));
    answers.insert("pregnant".into(), json!(false));
    let err = store
        .screening_view(&answered_form(&crew, m, answers))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "questionnaire.answers.pregnant"),
        "{err}"
    );
}

#[test]
fn an_incomplete_questionnaire_cannot_be_accepted_or_waived() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor_of(&mut store, &crew, Sex::Female, "E10000004");
    let mut answers = answered(Sex::Female, json!({}));
    answers.remove("pregnant");
    let f = answered_form(&crew, d, answers);
    let view = store.screening_view(&f).unwrap();
    assert_eq!(codes(&view.decision), ["QUESTIONNAIRE_INCOMPLETE"]);
    let err = store
        .record_screening(
            crew.physician,
            f.clone().into_new(PhysicianDecision::Accept, None),
        )
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::HardStop { codes, .. } if codes == &["QUESTIONNAIRE_INCOMPLETE"]),
        "{err}"
    );
    let err = store
        .record_screening(
            crew.physician,
            f.into_new(
                PhysicianDecision::Override {
                    overridden_codes: vec!["QUESTIONNAIRE_INCOMPLETE".into()],
                    reason: "she said no".into(),
                },
                Some(PIN.into()),
            ),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::HardStop { .. }), "{err}");
    assert_eq!(rows(&store, "screening"), 0);
    // The sex-specific question answered: accepted.
    let f = answered_form(&crew, d, answered(Sex::Female, json!({})));
    store
        .record_screening(crew.physician, f.into_new(PhysicianDecision::Accept, None))
        .unwrap();
}

#[test]
fn an_answer_under_review_needs_the_physicians_finding_before_accepting() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor_of(&mut store, &crew, Sex::Male, "E10000005");
    let mut f = answered_form(&crew, d, answered(Sex::Male, json!({"feel_well": false})));
    let view = store.screening_view(&f).unwrap();
    assert!(view.decision.eligible, "{:?}", view.decision.reasons);
    let review: Vec<&str> = view
        .decision
        .review
        .iter()
        .map(|r| r.question.as_str())
        .collect();
    assert_eq!(review, ["feel_well"]);

    let refused = |store: &mut Store, f: &ScreeningForm| match store.record_screening(
        crew.physician,
        f.clone().into_new(PhysicianDecision::Accept, None),
    ) {
        Err(StoreError::Invalid { field, .. }) => field,
        // In the catalogue's words, naming the question and the answer.
        Err(StoreError::Refused { field, message }) => {
            assert!(
                [
                    "eligibility.review_finding_missing",
                    "eligibility.review_finding_not_under_review"
                ]
                .contains(&message.code.as_str()),
                "{message:?}"
            );
            field
        }
        other => panic!("expected a refusal, got {other:?}"),
    };
    let missing = store
        .record_screening(
            crew.physician,
            f.clone().into_new(PhysicianDecision::Accept, None),
        )
        .unwrap_err();
    let StoreError::Refused { message, .. } = &missing else {
        panic!("{missing:?}")
    };
    let zh = message.render(lifebridge_domain::messages::Lang::ZhCn);
    assert!(
        zh.contains("您今天身体状况良好吗？") && zh.contains("（否）"),
        "{zh}"
    );
    assert_eq!(refused(&mut store, &f), "review_findings.feel_well");
    f.review_findings.insert("feel_well".into(), "   ".into());
    assert_eq!(refused(&mut store, &f), "review_findings.feel_well");
    f.review_findings
        .insert("feel_well".into(), "x".repeat(501));
    assert_eq!(refused(&mut store, &f), "review_findings.feel_well");
    // A finding for an answer nobody asked to review is not recorded.
    let mut stray = f.clone();
    stray.review_findings.clear();
    stray
        .review_findings
        .insert("tattoo".into(), "no tattoo seen".into());
    assert_eq!(refused(&mut store, &stray), "review_findings.tattoo");
    assert_eq!(rows(&store, "screening"), 0);

    f.review_findings.insert(
        "feel_well".into(),
        " slept badly; rested 20 min, BP and pulse normal ".into(),
    );
    let s = store
        .record_screening(crew.physician, f.into_new(PhysicianDecision::Accept, None))
        .unwrap();
    assert_eq!(
        s.review_findings["feel_well"],
        "slept badly; rested 20 min, BP and pulse normal"
    );
    assert_eq!(store.screening(s.id).unwrap().unwrap(), s);

    // A deferral is decided without a finding.
    let d2 = donor_of(&mut store, &crew, Sex::Male, "E10000006");
    let f = answered_form(&crew, d2, answered(Sex::Male, json!({"feel_well": false})));
    let s = store
        .record_screening(
            crew.physician,
            f.into_new(
                PhysicianDecision::Defer {
                    code: "COMMON_COLD".into(),
                    until: None,
                },
                None,
            ),
        )
        .unwrap();
    assert!(s.review_findings.is_empty());
}

#[test]
fn a_screening_answered_against_an_older_version_still_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor_of(&mut store, &crew, Sex::Male, "E10000007");
    // Answered against the built-in version while it is current.
    let f = answered_form(&crew, d, answered(Sex::Male, json!({"feel_well": true})));
    let first = store
        .record_screening(
            crew.physician,
            f.clone().into_new(PhysicianDecision::Accept, None),
        )
        .unwrap();
    assert_eq!(store.questionnaire_version().unwrap(), built_in().version);

    // The station sends a new version that drops a question and asks another.
    let mut next: Value =
        serde_json::from_str(lifebridge_domain::questionnaire::BUILT_IN_JSON).unwrap();
    next["version"] = json!("GB18467-2011-Q2");
    let today = next["sections"][0]["questions"].as_array_mut().unwrap();
    today.retain(|q| q["id"] != "slept_ate");
    today.push(json!({"id": "fasting", "type": "yes_no",
        "text": {"zh": "您今天空腹吗？", "en": "Have you not eaten today?"},
        "yes": {"review": true}}));
    store
        .raw_write_for_tests(|c| {
            c.execute(
                "INSERT INTO reference_document (kind, version, body, adopted_at)
                 VALUES ('questionnaire', 'GB18467-2011-Q2', ?1, '2026-01-01T00:00:00Z')",
                [next.to_string()],
            )
        })
        .unwrap();
    assert_eq!(store.questionnaire_version().unwrap(), "GB18467-2011-Q2");
    assert_eq!(store.questionnaire().unwrap().version, "GB18467-2011-Q2");
    let versions: Vec<String> = store
        .questionnaires()
        .unwrap()
        .into_iter()
        .map(|q| q.version)
        .collect();
    assert_eq!(versions, ["GB18467-2011-Q2", "GB18467-2011-Q1"]);

    // The old answers are still read against the old version (they answer slept_ate,
    // which the new one does not have) ...
    assert!(store.screening_view(&f).unwrap().decision.eligible);
    // ... and a correction of the old screening is judged by them.
    let corrected = store
        .correct_screening(
            crew.physician,
            first.id,
            ScreeningCorrection {
                answers: Some(answered(
                    Sex::Male,
                    json!({"ill_recently": true, "illness": "cold",
                           "illness_recovered": {"ago": 2, "unit": "days"}}),
                )),
                ..Default::default()
            },
            "she had a cold, told us after",
        )
        .unwrap_err();
    assert!(
        matches!(&corrected, StoreError::HardStop { codes, .. } if codes == &["QUESTIONNAIRE_DEFERRAL"]),
        "{corrected}"
    );
    // The same answers against the new version miss its new question.
    let mut g = f.clone();
    g.questionnaire_version = "GB18467-2011-Q2".into();
    g.answers.remove("slept_ate");
    let view = store.screening_view(&g).unwrap();
    assert_eq!(codes(&view.decision), ["QUESTIONNAIRE_INCOMPLETE"]);
    // An unknown version is refused naming it.
    g.questionnaire_version = "Q-NEVER-SENT".into();
    let err = store.screening_view(&g).unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "questionnaire.version"),
        "{err}"
    );
}

#[test]
fn a_screening_from_before_the_questionnaire_can_still_be_corrected() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor_of(&mut store, &crew, Sex::Male, "E10000008");
    let mut f = answered_form(&crew, d, answered(Sex::Male, json!({})));
    f.athlete = true;
    let recorded = store
        .record_screening(crew.physician, f.into_new(PhysicianDecision::Accept, None))
        .unwrap();
    assert_eq!(recorded.answers["endurance_athlete"], json!(true));
    // Forge what a screening recorded before the questionnaire holds: the old checkbox
    // and the athlete declaration, nothing else.
    let legacy = json!({"no_findings": true, "endurance_athlete": true});
    store
        .raw_write_for_tests(|c| {
            c.execute(
                "UPDATE screening SET body = json_set(body, '$.answers', json(?1)) WHERE id = ?2",
                (legacy.to_string(), recorded.id.to_string()),
            )
        })
        .unwrap();
    let old = store.screening(recorded.id).unwrap().unwrap();
    assert_eq!(serde_json::to_value(&old.answers).unwrap(), legacy);
    let mut vitals = old.vitals.clone();
    vitals.weight_kg = 72.0;
    let corrected = store
        .correct_screening(
            crew.physician,
            old.id,
            ScreeningCorrection {
                vitals: Some(vitals),
                ..Default::default()
            },
            "weight mistyped",
        )
        .unwrap();
    assert_eq!(corrected.vitals.weight_kg, 72.0);
    assert_eq!(corrected.answers, old.answers);
    // Its measurements are still judged: a weight below the minimum is refused.
    let mut light = corrected.vitals.clone();
    light.weight_kg = 40.0;
    let err = store
        .correct_screening(
            crew.physician,
            corrected.id,
            ScreeningCorrection {
                vitals: Some(light),
                ..Default::default()
            },
            "weight mistyped again",
        )
        .unwrap_err();
    assert!(err.to_string().contains("WEIGHT_BELOW_MIN"), "{err}");
}

#[test]
fn a_new_screening_with_no_answers_is_incomplete_not_legacy() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor_of(&mut store, &crew, Sex::Male, "E10000009");
    let f = answered_form(&crew, d, BTreeMap::new());
    let err = store
        .record_screening(crew.physician, f.into_new(PhysicianDecision::Accept, None))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::HardStop { codes, .. } if codes == &["QUESTIONNAIRE_INCOMPLETE"]),
        "{err}"
    );
}

#[test]
fn nothing_to_declare_is_complete_and_means_nothing_for_either_sex() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    for (sex, number) in [(Sex::Male, "E10000010"), (Sex::Female, "E10000011")] {
        let d = donor_of(&mut store, &crew, sex, number);
        let view = store
            .screening_view(&answered_form(&crew, d, built_in().nothing_to_declare(sex)))
            .unwrap();
        assert!(
            view.decision.eligible,
            "{sex:?}: {:?}",
            view.decision.reasons
        );
        assert!(view.decision.review.is_empty());
    }
}

#[test]
fn a_pulled_questionnaire_is_current_unless_the_device_cannot_read_it() {
    use lifebridge_domain::hlc::Hlc;
    use lifebridge_protocol::records::{ReferenceDocumentBody, RemoteKind, RemoteRecord};
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _crew) = store(dir.path());
    let station = uuid::Uuid::now_v7();
    let sent = |version: &str, document: Value, wall_ms: u64| RemoteRecord {
        kind: RemoteKind::ReferenceDocument,
        id: uuid::Uuid::now_v7(),
        origin_device: station,
        hlc: Hlc {
            wall_ms,
            counter: 0,
            node: station,
        },
        body: serde_json::to_string(&ReferenceDocumentBody {
            kind: "questionnaire".into(),
            version: version.into(),
            document,
        })
        .unwrap(),
        field_clocks: None,
        target_device: None,
    };
    let mut next: Value =
        serde_json::from_str(lifebridge_domain::questionnaire::BUILT_IN_JSON).unwrap();
    next["version"] = json!("GB18467-2011-Q2");
    // A question without its text, and a document sent under another version's name.
    let mut broken = next.clone();
    broken["version"] = json!("GB18467-2011-Q3");
    broken["sections"][0]["questions"][0]
        .as_object_mut()
        .unwrap()
        .remove("text");
    let report = store
        .apply_remote(
            &[
                sent("GB18467-2011-Q2", next, 1),
                sent("GB18467-2011-Q3", broken, 2),
                sent("GB18467-2011-Q4", json!(built_in()), 3),
            ],
            3,
        )
        .unwrap();
    assert_eq!(report.applied, 1, "{report:?}");
    assert_eq!(report.skipped.len(), 2, "{report:?}");
    assert!(report.skipped[0].contains("GB18467-2011-Q3"), "{report:?}");
    assert!(
        report.skipped[1].contains("says it is version GB18467-2011-Q1"),
        "{report:?}"
    );
    assert_eq!(store.questionnaire_version().unwrap(), "GB18467-2011-Q2");
    assert_eq!(
        store.screen_options().unwrap().questionnaire_version,
        "GB18467-2011-Q2"
    );
}

fn refused_code(err: StoreError) -> (String, String) {
    match err {
        StoreError::Refused { field, message } => (field, message.code),
        other => panic!("expected a refusal in the catalogue's words, got {other:?}"),
    }
}

#[test]
fn accepting_or_waiving_needs_the_donors_consent_and_deferring_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor(&mut store, &crew, 21);
    for decision in [PhysicianDecision::Accept, waiver(&["HB_LOW"])] {
        let mut f = form(&crew, d, decision);
        f.form.consent = None;
        f.waiver_pin = Some(PIN.into());
        let before = screenings(&store);
        let (field, code) = refused_code(store.record_screening(crew.physician, f).unwrap_err());
        assert_eq!(
            (field.as_str(), code.as_str()),
            ("consent", "donor_consent.missing")
        );
        assert_eq!(screenings(&store), before, "nothing is written");
    }
    // A donor deferred before signing is recorded without a consent.
    let mut low = form(
        &crew,
        d,
        PhysicianDecision::Defer {
            code: "HBSAG_POSITIVE".into(),
            until: None,
        },
    );
    low.form.tests = tests(TestResult::Positive);
    low.form.consent = None;
    let s = store.record_screening(crew.physician, low).unwrap();
    assert!(s.consent.is_none());
}

#[test]
fn a_blank_signature_or_another_consent_version_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor(&mut store, &crew, 22);
    // A dot.
    let mut f = form(&crew, d, PhysicianDecision::Accept);
    f.form.consent.as_mut().unwrap().signature =
        lifebridge_domain::consent::ConsentSignature::Signed {
            strokes: vec![vec![[500, 200]; 30]],
        };
    let (field, code) = refused_code(store.record_screening(crew.physician, f).unwrap_err());
    assert_eq!(field, "consent.signature.strokes");
    assert_eq!(code, "donor_consent.too_small");
    // The built-in questionnaire's consent is GB18467-2011-C1: a consent to another
    // text is refused.
    let mut f = form(&crew, d, PhysicianDecision::Accept);
    f.form.questionnaire_version = "GB18467-2011-Q1".into();
    f.form.consent = Some(demo::signed_consent("GB18467-2011-C0"));
    let (field, code) = refused_code(store.record_screening(crew.physician, f).unwrap_err());
    assert_eq!(
        (field.as_str(), code.as_str()),
        ("consent.version", "donor_consent.wrong_version")
    );
    assert_eq!(
        store.consent_text().unwrap().version,
        "GB18467-2011-C1",
        "the consent screen shows the text in force"
    );
    let mut f = form(&crew, d, PhysicianDecision::Accept);
    f.form.questionnaire_version = "GB18467-2011-Q1".into();
    f.form.consent = Some(demo::signed_consent("GB18467-2011-C1"));
    let s = store.record_screening(crew.physician, f).unwrap();
    assert_eq!(s.consent.unwrap().version, "GB18467-2011-C1");
    // A questionnaire the station published carries its own consent version.
    let mut published = lifebridge_domain::questionnaire::built_in().clone();
    published.version = "ST-Q7".into();
    published.consent.version = "ST-C7".into();
    store
        .raw_write_for_tests(|c| {
            c.execute(
                "INSERT INTO reference_document (kind, version, body, adopted_at)
                 VALUES ('questionnaire', 'ST-Q7', ?1, '2026-01-01T00:00:00Z')",
                [serde_json::to_string(&published).unwrap()],
            )
        })
        .unwrap();
    assert_eq!(
        store.consent_version_in_force("ST-Q7").unwrap().as_deref(),
        Some("ST-C7")
    );
    let text = store.consent_text().unwrap();
    assert_eq!(
        text.version, "ST-C7",
        "the text of the questionnaire in force"
    );
    assert_eq!(text.text.zh, published.consent.text.zh);
}

#[test]
fn a_donor_who_cannot_sign_consents_before_a_crew_witness_with_their_pin() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor(&mut store, &crew, 23);
    let witnessed = |witness: uuid::Uuid, pin: &str| {
        let mut f = form(&crew, d, PhysicianDecision::Accept);
        f.form.consent = Some(lifebridge_domain::consent::Consent {
            version: built_in().consent.version.clone(),
            signed_at: chrono::Utc::now(),
            signature: lifebridge_domain::consent::ConsentSignature::Witnessed {
                witness_id: witness,
                reason: "右手骨折，无法签名".into(),
            },
        });
        f.form.witness_pin = Some(pin.into());
        f
    };
    let physician_id = crew.physician.staff_id.unwrap();
    let nurse_id = crew.nurse.staff_id.unwrap();
    let before = screenings(&store);
    let (field, code) = refused_code(
        store
            .record_screening(crew.physician, witnessed(physician_id, PIN))
            .unwrap_err(),
    );
    assert_eq!(field, "consent.signature.witness_id");
    assert_eq!(code, "donor_consent.witness_same_person");
    let (field, code) = refused_code(
        store
            .record_screening(crew.physician, witnessed(uuid::Uuid::now_v7(), PIN))
            .unwrap_err(),
    );
    assert_eq!(
        (field.as_str(), code.as_str()),
        (
            "consent.signature.witness_id",
            "donor_consent.witness_not_crew"
        )
    );
    let (field, code) = refused_code(
        store
            .record_screening(crew.physician, witnessed(nurse_id, "000000"))
            .unwrap_err(),
    );
    assert_eq!(
        (field.as_str(), code.as_str()),
        ("witness_pin", "donor_consent.witness_pin")
    );
    assert_eq!(screenings(&store), before);
    let s = store
        .record_screening(crew.physician, witnessed(nurse_id, PIN))
        .unwrap();
    assert_eq!(s.consent.as_ref().unwrap().witness(), Some(nurse_id));
    let (action, detail) = last_audit(&store);
    assert_eq!(action, "screening.record");
    assert!(detail.contains(&nurse_id.to_string()), "{detail}");
    // The PIN is never stored with the screening.
    let body: String = store
        .connection()
        .query_row(
            "SELECT body FROM screening WHERE id = ?1",
            [s.id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        !body.contains(PIN) && !body.contains("witness_pin"),
        "{body}"
    );
    collect(
        &mut store,
        &crew,
        s.id,
        Procedure::WholeBlood,
        chrono::Utc::now(),
    )
    .unwrap();
}

#[test]
fn the_chair_does_not_start_a_collection_from_a_screening_without_consent() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor(&mut store, &crew, 24);
    let s = store
        .record_screening(crew.physician, form(&crew, d, PhysicianDecision::Accept))
        .unwrap();
    // An acceptance recorded before consent was asked (or pulled from an older tablet).
    store
        .raw_write_for_tests(|c| {
            c.execute(
                "UPDATE screening SET body = json_remove(body, '$.consent') WHERE id = ?1",
                [s.id.to_string()],
            )
        })
        .unwrap();
    let start = lifebridge_store::drive_day::StartCollection {
        screening_id: s.id,
        bag_set: BagSet {
            kind: BagSetKind::Double,
            lot: "LOT-1".into(),
        },
        planned_volume_ml: 400,
        phlebotomist_id: crew.phlebotomist_id,
        arm: Arm::Left,
    };
    let err = store
        .start_collection(crew.phlebotomist, start)
        .unwrap_err();
    let (field, code) = refused_code(err);
    assert_eq!(
        (field.as_str(), code.as_str()),
        ("screening_id", "chair.no_consent")
    );
    let message = lifebridge_domain::messages::Message::new("chair.no_consent");
    assert!(
        message
            .render(lifebridge_domain::messages::Lang::ZhCn)
            .starts_with("献血者没有签署知情同意书")
    );
}

/// A donor whose group is on record (typed at the station).
fn donor_of_group(
    store: &mut Store,
    crew: &Crew,
    n: u64,
    group: lifebridge_domain::entities::AboRh,
) -> uuid::Uuid {
    let id = donor(store, crew, n);
    store
        .edit_donor(
            crew.nurse,
            id,
            lifebridge_store::records::DonorEdit {
                abo_rh: Some(Some(group)),
                ..Default::default()
            },
        )
        .unwrap();
    id
}

/// Collects from `screening_id` and returns the groups its label set carries, each
/// group once.
fn collected_groups(
    store: &mut Store,
    crew: &Crew,
    screening_id: uuid::Uuid,
) -> Vec<Option<lifebridge_domain::entities::AboRh>> {
    let donation = collect(
        store,
        crew,
        screening_id,
        Procedure::WholeBlood,
        chrono::Utc::now(),
    )
    .unwrap();
    let mut groups: Vec<_> = store
        .donation_label_contents(donation.id, "市中心血站", None)
        .unwrap()
        .into_iter()
        .map(|l| l.abo_rh)
        .collect();
    groups.dedup();
    groups
}

#[test]
fn a_rapid_group_differing_from_the_record_is_flagged_needs_a_note_and_leaves_the_bag_unknown() {
    use lifebridge_domain::entities::AboRh;
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let known = donor_of_group(&mut store, &crew, 25, AboRh::APos);
    let mut f = form(&crew, known, PhysicianDecision::Accept);
    f.form.tests.abo_rh = Some(AboRh::BPos);
    let view = store.screening_view(&f.form).unwrap();
    let flag = view
        .abo_rh_mismatch
        .expect("the physician sees the mismatch");
    assert_eq!(flag.code, "rapid_abo.mismatch");
    assert!(
        flag.render(lifebridge_domain::messages::Lang::En)
            .contains("B+ differs from the group on record A+")
    );
    let (field, code) = refused_code(
        store
            .record_screening(crew.physician, f.clone())
            .unwrap_err(),
    );
    assert_eq!(
        (field.as_str(), code.as_str()),
        ("abo_rh_note", "rapid_abo.note_required")
    );
    f.form.abo_rh_note = Some("  复测仍为 B+，留样送检验科  ".into());
    let s = store.record_screening(crew.physician, f).unwrap();
    assert_eq!(s.abo_rh_note.as_deref(), Some("复测仍为 B+，留样送检验科"));
    assert_eq!(
        collected_groups(&mut store, &crew, s.id),
        [None],
        "unknown: the laboratory decides"
    );
    // A correction that makes today's group differ needs the note too.
    let other = donor_of_group(&mut store, &crew, 27, AboRh::APos);
    let s = store
        .record_screening(
            crew.physician,
            form(&crew, other, PhysicianDecision::Accept),
        )
        .unwrap();
    let mut corrected = s.tests.clone();
    corrected.abo_rh = Some(AboRh::ONeg);
    let fix = |note: Option<&str>| lifebridge_store::screening::ScreeningCorrection {
        tests: Some(corrected.clone()),
        abo_rh_note: note.map(str::to_owned),
        ..Default::default()
    };
    let (field, code) = refused_code(
        store
            .correct_screening(
                crew.physician,
                s.id,
                fix(None),
                "ABO typed on the wrong row",
            )
            .unwrap_err(),
    );
    assert_eq!(
        (field.as_str(), code.as_str()),
        ("abo_rh_note", "rapid_abo.note_required")
    );
    let fixed = store
        .correct_screening(
            crew.physician,
            s.id,
            fix(Some("复测 O-")),
            "ABO typed on the wrong row",
        )
        .unwrap();
    assert_eq!(fixed.abo_rh_note.as_deref(), Some("复测 O-"));

    // A first-time donor: today's rapid group goes on the label; no flag, no note.
    let new = donor(&mut store, &crew, 26);
    let mut f = form(&crew, new, PhysicianDecision::Accept);
    f.form.tests.abo_rh = Some(AboRh::ONeg);
    assert!(
        store
            .screening_view(&f.form)
            .unwrap()
            .abo_rh_mismatch
            .is_none()
    );
    let s = store.record_screening(crew.physician, f).unwrap();
    assert_eq!(
        collected_groups(&mut store, &crew, s.id),
        [Some(AboRh::ONeg)]
    );
    assert!(
        store
            .screen_options()
            .unwrap()
            .abo_rh_groups
            .contains(&AboRh::ONeg)
    );
}
