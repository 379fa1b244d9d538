//! The health questionnaire at the screening, against real SQLCipher files: answers
//! count in eligibility, a deferral for an answer ends when the answer's does, answers
//! under review need the physician's finding, and screenings answered against an older
//! version (or before the questionnaire was data) still evaluate.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

use chrono::Months;
use lifebridge_domain::entities::{PhysicianDecision, RapidTests, Role, SiteKind};
use lifebridge_domain::measurements::{TestResult, Vitals};
use lifebridge_domain::questionnaire::built_in;
use lifebridge_domain::resident_id::IdentityDocument;
use lifebridge_domain::{Procedure, Sex};
use lifebridge_store::demo::nothing_to_declare;
use lifebridge_store::records::{DonorDetails, NewDonor, NewDrive, NewStaff};
use lifebridge_store::screening::{ScreeningCorrection, ScreeningForm};
use lifebridge_store::{Actor, Store, StoreError, StoreKey, china_today};
use serde_json::{Value, json};

const PIN: &str = "246813";

struct Crew {
    nurse: Actor,
    physician: Actor,
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
    let drive = store
        .start_drive(
            Actor::staff(nurse),
            NewDrive {
                site_name: "城关中学".into(),
                site_kind: SiteKind::Vehicle,
                vehicle: Some("BUS-07".into()),
                date: china_today(),
                crew: vec![physician],
            },
        )
        .unwrap();
    (
        store,
        Crew {
            nurse: Actor::staff(nurse),
            physician: Actor::staff(physician),
            drive_id: drive.id,
        },
    )
}

/// A donor of `sex` (typed details: a passport carries neither sex nor birth date).
fn donor(store: &mut Store, crew: &Crew, sex: Sex, number: &str) -> uuid::Uuid {
    store
        .register_donor(
            crew.nurse,
            NewDonor {
                document: IdentityDocument::parse("passport", number, china_today()).unwrap(),
                details: DonorDetails {
                    name: "赵云".into(),
                    sex: Some(sex),
                    birth_date: Some(china_today() - chrono::Duration::days(30 * 365)),
                    phone: None,
                    address: None,
                    rural: None,
                },
            },
        )
        .unwrap()
        .id
}

fn form(crew: &Crew, donor_id: uuid::Uuid, answers: BTreeMap<String, Value>) -> ScreeningForm {
    ScreeningForm {
        donor_id,
        drive_id: crew.drive_id,
        procedure: Procedure::WholeBlood,
        planned_volume_ml: Some(400),
        questionnaire_version: built_in().version.clone(),
        answers,
        vitals: Vitals {
            weight_kg: 70.0,
            systolic_mmhg: 120.0,
            diastolic_mmhg: 80.0,
            pulse_bpm: 72.0,
            temperature_c: 36.6,
        },
        tests: RapidTests {
            hemoglobin_g_l: Some(140.0),
            alt_u_l: Some(20.0),
            hbsag: Some(TestResult::Negative),
            ..RapidTests::default()
        },
        athlete: false,
        restrictions: Vec::new(),
        review_findings: BTreeMap::new(),
    }
}

fn answered(sex: Sex, changes: Value) -> BTreeMap<String, Value> {
    let mut answers = nothing_to_declare(built_in(), sex);
    for (k, v) in changes.as_object().unwrap() {
        answers.insert(k.clone(), v.clone());
    }
    answers
}

fn count(store: &Store, table: &str) -> i64 {
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
    let d = donor(&mut store, &crew, Sex::Male, "E10000001");
    let f = form(
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
    let before = count(&store, "screening");
    let err = store
        .record_screening(
            crew.physician,
            f.clone().into_new(PhysicianDecision::Accept, None),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::HardStop { .. }), "{err}");
    assert_eq!(count(&store, "screening"), before);

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
    let d = donor(&mut store, &crew, Sex::Female, "E10000002");
    let before = (count(&store, "screening"), count(&store, "change_log"));
    for (changes, field) in [
        (json!({"haircut": true}), "questionnaire.answers.haircut"),
        (json!({"tattoo": "maybe"}), "questionnaire.answers.tattoo"),
        // The old checkbox is not an answer to today's questionnaire.
        (
            json!({"no_findings": true}),
            "questionnaire.answers.no_findings",
        ),
    ] {
        let f = form(&crew, d, answered(Sex::Female, changes));
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
        (count(&store, "screening"), count(&store, "change_log")),
        before
    );
    // A question for the other sex is refused the same way.
    let m = donor(&mut store, &crew, Sex::Male, "E10000003");
    let mut answers = answered(Sex::Male, json!({}));
    answers.insert("pregnant".into(), json!(false));
    let err = store.screening_view(&form(&crew, m, answers)).unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field, .. } if field == "questionnaire.answers.pregnant"),
        "{err}"
    );
}

#[test]
fn an_incomplete_questionnaire_cannot_be_accepted_or_waived() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor(&mut store, &crew, Sex::Female, "E10000004");
    let mut answers = answered(Sex::Female, json!({}));
    answers.remove("pregnant");
    let f = form(&crew, d, answers);
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
    assert_eq!(count(&store, "screening"), 0);
    // The sex-specific question answered: accepted.
    let f = form(&crew, d, answered(Sex::Female, json!({})));
    store
        .record_screening(crew.physician, f.into_new(PhysicianDecision::Accept, None))
        .unwrap();
}

#[test]
fn an_answer_under_review_needs_the_physicians_finding_before_accepting() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, crew) = store(dir.path());
    let d = donor(&mut store, &crew, Sex::Male, "E10000005");
    let mut f = form(&crew, d, answered(Sex::Male, json!({"feel_well": false})));
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
        other => panic!("expected a refusal, got {other:?}"),
    };
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
    assert_eq!(count(&store, "screening"), 0);

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
    let d2 = donor(&mut store, &crew, Sex::Male, "E10000006");
    let f = form(&crew, d2, answered(Sex::Male, json!({"feel_well": false})));
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
    let d = donor(&mut store, &crew, Sex::Male, "E10000007");
    // Answered against the built-in version while it is current.
    let f = form(&crew, d, answered(Sex::Male, json!({"feel_well": true})));
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
    let d = donor(&mut store, &crew, Sex::Male, "E10000008");
    let mut f = form(&crew, d, answered(Sex::Male, json!({})));
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
    let d = donor(&mut store, &crew, Sex::Male, "E10000009");
    let f = form(&crew, d, BTreeMap::new());
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
        let d = donor(&mut store, &crew, sex, number);
        let view = store
            .screening_view(&form(&crew, d, nothing_to_declare(built_in(), sex)))
            .unwrap();
        assert!(
            view.decision.eligible,
            "{sex:?}: {:?}",
            view.decision.reasons
        );
        assert!(view.decision.review.is_empty());
    }
}
